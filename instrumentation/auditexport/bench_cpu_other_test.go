//go:build !unix

package auditexport

import (
	"testing"
	"time"
)

// processCPU is zero where getrusage is missing: the spool needs a unix
// system anyway (lockDir).
func processCPU(*testing.B) time.Duration { return 0 }
