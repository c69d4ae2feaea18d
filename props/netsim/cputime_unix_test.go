//go:build unix

package netsim_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used, so a benchmark can report
// throughput per core even on a loaded machine.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
