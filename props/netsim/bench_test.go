package netsim

import (
	"runtime"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// benchPeer is a trivial Peer: it sends packets as ESP unchanged and
// delivers what arrives, allocating nothing.
type benchPeer struct{ outs [1]peer.Output }

func (p *benchPeer) Step(in peer.Input) []peer.Output {
	switch in.Kind {
	case peer.Send:
		p.outs[0] = peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.ESP, Bytes: in.Packet}}
	case peer.Receive:
		p.outs[0] = peer.Output{Kind: peer.Deliver, Packet: in.Datagram.Bytes}
	default:
		return nil
	}
	return p.outs[:]
}

func (p *benchPeer) NextTimer() (time.Duration, bool) { return 0, false }
func (p *benchPeer) State() peer.State                { return peer.State{} }

func benchPairs(int) (peer.Peer, peer.Peer) { return &benchPeer{}, &benchPeer{} }

func benchConfig(tunnels int, rate float64) Config {
	l := LinkConfig{Delay: 10 * ms, Jitter: ms, LossProb: 0.001}
	return Config{
		Seed: 1, Tunnels: tunnels, Duration: 1000 * time.Hour,
		AB: Link{ESP: l}, BA: Link{ESP: l},
		Traffic: []Traffic{{From: A, Rate: rate, Size: 200}, {From: B, Rate: rate, Size: 200}},
	}
}

// BenchmarkEvents measures simulated events (a packet generated, or a
// datagram arriving) per second on one core with 100 tunnels.
func BenchmarkEvents(b *testing.B) {
	s, err := New(benchConfig(100, 1000), benchPairs)
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
		s, err := New(benchConfig(tunnels, 100), benchPairs)
		if err != nil {
			b.Fatal(err)
		}
		s.RunUntil(100 * ms)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/tunnels, "bytes/tunnel")
		runtime.KeepAlive(s)
	}
}
