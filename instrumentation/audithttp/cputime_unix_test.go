//go:build unix

package audithttp_test

import (
	"syscall"
	"time"
)

// cpuTime returns the user and system CPU time of the process so far, on
// every thread: work moved to other goroutines is counted too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
