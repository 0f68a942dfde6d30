//go:build !unix

package benchdata

import "time"

// ProcessCPU is not measured here: the benchmarks leave cpu-ns/op out.
func ProcessCPU() (time.Duration, bool) { return 0, false }
