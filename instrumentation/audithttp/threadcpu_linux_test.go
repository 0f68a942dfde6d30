package audithttp_test

import (
	"syscall"
	"time"
)

// threadCPUTime returns the user and system CPU time of the calling thread:
// with the goroutine locked to it, what the caller of ServeHTTP spent,
// without the pool's work on other threads.
func threadCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
