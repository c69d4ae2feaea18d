package simcmd

import (
	"context"
	"fmt"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/props/effect"
)

// BenchmarkScale runs the scale scenario (10 packets/s each way,
// rekey every 5 minutes ± 30 s, 10 ms ± 1 ms one way) cut to 10 minutes of
// virtual time, every profile, on all cores, for growing tunnel counts.
// ns/packet is wall time per application packet; peak-heap-B/tunnel is the
// largest live Go heap seen during the run divided by the tunnels: it
// falls as tunnels grow because only the shards being simulated hold
// gateways. The full-size run (10,000 tunnels × 1 h) is in the README.
//
//	go test -run '^$' -bench Scale -benchtime 1x ./cmd/internal/simcmd/
func BenchmarkScale(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("tunnels=%d", n), func(b *testing.B) {
			s := effect.Default()
			s.Tunnels, s.Duration = n, effect.Duration(10*time.Minute)
			s.AB, s.BA = effect.Traffic{Rate: 10, Size: 200}, effect.Traffic{Rate: 10, Size: 200}
			s.Delay, s.Jitter = effect.Duration(10*time.Millisecond), effect.Duration(time.Millisecond)
			s.Soft, s.Hard, s.RekeyFuzz = effect.Duration(5*time.Minute), effect.Duration(10*time.Minute), effect.Duration(30*time.Second)
			sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			var peak uint64
			var packets uint64
			for b.Loop() {
				rep, err := Run(context.Background(), Options{Scenario: s, Interval: 20 * time.Millisecond,
					Progress: func(float64, time.Duration) {
						metrics.Read(sample)
						peak = max(peak, sample[0].Value.Uint64())
					}})
				if err != nil {
					b.Fatal(err)
				}
				for _, o := range rep.Outcomes {
					packets += o.Result.Sent
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
			b.ReportMetric(float64(peak)/float64(n), "peak-heap-B/tunnel")
		})
	}
}
