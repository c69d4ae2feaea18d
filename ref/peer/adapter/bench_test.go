package adapter_test

import (
	"testing"
	"time"

	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/peer/adapter"
)

// BenchmarkRoundTrip measures Step round trips through the adapter to the
// Go shim (the reference gateway behind Serve, in a child process):
// "tick" is the protocol's own cost, "send" a 100-byte packet sealed as
// ESP on an established SA (one Transmit output of ~150 bytes). Pin both
// processes to one core to measure the single-core figure:
//
//	taskset -c 0 go test -run '^$' -bench RoundTrip -benchmem ./ref/peer/adapter/
func BenchmarkRoundTrip(b *testing.B) {
	for _, kind := range []string{"tick", "send"} {
		b.Run(kind, func(b *testing.B) {
			p := start(b, "serve", adapter.Options{})
			if _, err := p.Init(initConfig(b)); err != nil {
				b.Fatal(err)
			}
			g := refB(b, gateway.Lifetimes{Soft: time.Hour, Hard: 2 * time.Hour})
			shuttle(b, p, g, 2) // the first SA pair
			pkt := make([]byte, 100)
			copy(pkt, probe(0))
			at := time.Second
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				at += time.Microsecond
				in := peer.Input{Kind: peer.Tick, At: at}
				if kind == "send" {
					in = peer.Input{Kind: peer.Send, At: at, Packet: pkt}
				}
				p.Step(in)
			}
			b.StopTimer()
			if err := p.Err(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
