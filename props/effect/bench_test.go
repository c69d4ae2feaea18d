package effect

import (
	"runtime"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/ref/quickmode"
)

// scaleScenario is the scale target cut to n tunnels and d of
// virtual time: 10 packets/s each way, rekey every 5 minutes.
func scaleScenario(n int, d time.Duration, tr string) Scenario {
	return Scenario{
		Tunnels: n, Duration: Duration(d), Seed: 1,
		AB: Traffic{Rate: 10, Size: 200}, BA: Traffic{Rate: 10, Size: 200},
		Delay: Duration(10 * time.Millisecond), Jitter: Duration(time.Millisecond),
		Soft: Duration(5 * time.Minute), Hard: Duration(10 * time.Minute), RekeyFuzz: Duration(30 * time.Second),
		Transform: tr,
	}
}

// BenchmarkPacket reports the CPU cost of one application packet carried
// end to end (generated, protected, carried, verified, delivered) by
// reference gateways in a 100-tunnel simulation, per ESP transform, with
// every packet stepped (exact) and with steady traffic coasted.
func BenchmarkPacket(b *testing.B) {
	for _, mode := range []string{"exact", "coasted"} {
		for _, tr := range Transforms {
			b.Run(mode+"/"+tr, func(b *testing.B) { benchPacket(b, tr, mode == "exact") })
		}
	}
}

func benchPacket(b *testing.B, tr string, exact bool) {
	s := scaleScenario(100, 1000*time.Hour, tr)
	s.ShardTunnels, s.Exact = 100, exact
	sh, err := s.NewShard(quickmode.Hitless, 0)
	if err != nil {
		b.Fatal(err)
	}
	sh.RunUntil(10 * time.Second) // negotiate every tunnel first
	sent0 := sh.sim.Result().Sent
	b.ReportAllocs()
	b.ResetTimer()
	// 100 tunnels × 20 packets/s = 2000 packets per virtual second.
	sh.RunUntil(10*time.Second + time.Duration(b.N)*time.Second/2000)
	b.StopTimer()
	if got := sh.sim.Result().Sent - sent0; got > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(got), "ns/packet")
	}
}

// BenchmarkMemoryPerTunnel reports the heap held per tunnel by 1000
// tunnels of reference gateways once every tunnel has negotiated and
// rekeyed once (packets in flight included).
func BenchmarkMemoryPerTunnel(b *testing.B) {
	const n = 1000
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := scaleScenario(n, time.Hour, "aes128-sha1")
		s.Soft, s.Hard, s.RekeyFuzz = Duration(20*time.Second), Duration(40*time.Second), Duration(2*time.Second)
		s.ShardTunnels = n // all n alive at once
		sh, err := s.NewShard(quickmode.Hitless, 0)
		if err != nil {
			b.Fatal(err)
		}
		sh.RunUntil(30 * time.Second)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/tunnel")
		runtime.KeepAlive(sh)
	}
}
