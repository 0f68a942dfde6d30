//go:build linux

package benchdata

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"time"
)

// clockTick is the unit of /proc/stat: USER_HZ, 100 on every Linux
// architecture Go supports.
const clockTick = 10 * time.Millisecond

// MachineCPU returns the CPU time every core of the machine has spent busy
// so far, and the time they have spent busy or idle, from the first line
// of /proc/stat. Latency benchmarks report the busy share of a round:
// every process counts, the load generator's too, which is what a request
// queues behind.
func MachineCPU() (busy, total time.Duration, ok bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil {
		return 0, 0, false
	}
	return parseCPULine(line)
}

// parseCPULine reads the machine's "cpu" line of /proc/stat: user nice
// system idle iowait irq softirq, then steal and guest on newer kernels.
// Time the hypervisor gave another guest (steal) is neither busy nor idle
// here; guest time is already counted in user.
func parseCPULine(line []byte) (busy, total time.Duration, ok bool) {
	fields := bytes.Fields(line)
	if len(fields) < 8 || string(fields[0]) != "cpu" {
		return 0, 0, false
	}
	var ticks [7]int64
	for i := range ticks {
		t, err := strconv.ParseInt(string(fields[i+1]), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		ticks[i] = t
	}
	user, nice, system, idle, iowait, irq, softirq := ticks[0], ticks[1], ticks[2], ticks[3], ticks[4], ticks[5], ticks[6]
	b := user + nice + system + irq + softirq
	return time.Duration(b) * clockTick, time.Duration(b+idle+iowait) * clockTick, true
}
