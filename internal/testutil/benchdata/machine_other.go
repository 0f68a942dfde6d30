//go:build !linux

package benchdata

import "time"

// MachineCPU is not measured here: the benchmarks leave the machine's busy
// share out.
func MachineCPU() (busy, total time.Duration, ok bool) { return 0, 0, false }
