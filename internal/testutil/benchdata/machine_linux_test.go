//go:build linux

package benchdata

import (
	"testing"
	"time"
)

func TestParseCPULine(t *testing.T) {
	busy, total, ok := parseCPULine([]byte("cpu  100 5 40 800 10 3 2 50 7 0\n"))
	if !ok {
		t.Fatal("a kernel's cpu line was not read")
	}
	// user+nice+system+irq+softirq = 150 ticks busy; idle+iowait 810 more;
	// steal (50) in neither.
	if busy != 150*clockTick || total != 960*clockTick {
		t.Errorf("busy %v total %v, want %v and %v", busy, total, 150*clockTick, 960*clockTick)
	}
	for _, line := range []string{"cpu0 1 2 3 4 5 6 7 8", "cpu 1 2 3", "cpu 1 2 x 4 5 6 7 8", ""} {
		if _, _, ok := parseCPULine([]byte(line)); ok {
			t.Errorf("%q was read as the machine's cpu line", line)
		}
	}
}

func TestMachineCPU(t *testing.T) {
	busy, total, ok := MachineCPU()
	if !ok {
		t.Fatal("/proc/stat was not read")
	}
	if busy <= 0 || total < busy || total < time.Second {
		t.Errorf("busy %v of %v: not a running machine's counters", busy, total)
	}
}
