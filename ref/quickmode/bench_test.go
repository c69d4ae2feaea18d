package quickmode

import (
	"testing"

	"github.com/hitless-ike/hitless/ref/dh"
)

// BenchmarkExchange runs complete in-memory Quick Modes, both sides, per
// iteration: Initiate, QM1, QM2, QM3.
func BenchmarkExchange(b *testing.B) {
	for _, c := range []struct {
		name string
		pfs  dh.ID
	}{{"nopfs", 0}, {"modp2048", dh.MODP2048}, {"ecp256", dh.ECP256}, {"curve25519", dh.Curve25519}} {
		b.Run(c.name, func(b *testing.B) {
			p := newPair(b, pairOpts{})
			req := simpleRequest()
			req.PFS = c.pfs
			var ev []Event
			b.ReportAllocs()
			for b.Loop() {
				var err error
				ev, _, err = p.i.Initiate(ev[:0], p.now, req)
				if err != nil {
					b.Fatal(err)
				}
				if ev, err = p.r.HandleDatagram(ev[:0], p.now, ev[0].Datagram); err != nil {
					b.Fatal(err)
				}
				if ev, err = p.i.HandleDatagram(ev[:0], p.now, ev[len(ev)-1].Datagram); err != nil {
					b.Fatal(err)
				}
				var qm3 []byte
				for _, e := range ev {
					if e.Kind == EventSend {
						qm3 = e.Datagram
					}
				}
				if ev, err = p.r.HandleDatagram(ev[:0], p.now, qm3); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
		})
	}
}
