//go:build unix

package benchdata

import (
	"syscall"
	"time"
)

// ProcessCPU returns the CPU time (user and system, every thread) the
// process has used so far. Benchmarks report it per operation beside ns/op,
// which hides work moved to other goroutines (pools, senders, the GC).
func ProcessCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
