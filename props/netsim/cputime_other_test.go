//go:build !unix

package netsim

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
