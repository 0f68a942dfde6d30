//go:build !linux

package audithttp_test

import "time"

// threadCPUTime is not measured here: caller-cpu-ns/op reads 0.
func threadCPUTime() time.Duration { return 0 }
