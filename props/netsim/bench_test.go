package netsim_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/props/netsim"
	"github.com/hitless-ike/hitless/ref/peer"
)

// benchPairs builds the trivial peers of the package example: the
// simulator is all that is measured.
func benchPairs(int) (peer.Peer, peer.Peer) { return &plainPeer{}, &plainPeer{} }

func benchConfig(tunnels int, rate float64) netsim.Config {
	l := netsim.LinkConfig{Delay: 10 * time.Millisecond, Jitter: time.Millisecond, LossProb: 0.001}
	return netsim.Config{
		Seed: 1, Tunnels: tunnels, Duration: 1000 * time.Hour,
		AB: netsim.Link{ESP: l}, BA: netsim.Link{ESP: l},
		Traffic: []netsim.Traffic{{From: netsim.A, Rate: rate, Size: 200}, {From: netsim.B, Rate: rate, Size: 200}},
	}
}

// BenchmarkEvents measures simulated events (a packet generated, or a
// datagram arriving) per second on one core with 100 tunnels.
func BenchmarkEvents(b *testing.B) {
	s, err := netsim.New(benchConfig(100, 1000), benchPairs)
	if err != nil {
		b.Fatal(err)
	}
	s.RunUntil(time.Second) // warm the free lists
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, cpuOK := cpuTime()
	for range b.N {
		if !s.Step() {
			b.Fatal("ran dry")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// Wall-clock rate suffers when other processes share the cores; CPU
	// time is what one core spent.
	if cpu1, ok := cpuTime(); ok && cpuOK && cpu1 > cpu0 {
		b.ReportMetric(float64(b.N)/(cpu1-cpu0).Seconds(), "events/cpu-s")
	}
}

// BenchmarkMemoryPerTunnel reports the heap held per tunnel by a
// simulation of 10,000 tunnels after 100 ms of virtual time at 100 packets/s
// each way (trivial peers and the 2 packets in flight each way included).
func BenchmarkMemoryPerTunnel(b *testing.B) {
	const tunnels = 10000
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, err := netsim.New(benchConfig(tunnels, 100), benchPairs)
		if err != nil {
			b.Fatal(err)
		}
		s.RunUntil(100 * time.Millisecond)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/tunnels, "bytes/tunnel")
		runtime.KeepAlive(s)
	}
}
