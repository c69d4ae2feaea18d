package gateway

import (
	"testing"

	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

func benchPair(b *testing.B, tweak func(a, b *Config)) *harness {
	h := newHarness(b, 42, quickmode.Hitless, tweak)
	h.establish()
	return h
}

// benchESP measures one application packet sealed by from and opened by
// to, in steady state: two Steps per iteration.
func benchESP(b *testing.B, from, to *Gateway) {
	pkt := ipv4(1, 1400)
	send := peer.Input{Kind: peer.Send, Packet: pkt}
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		outs := from.Step(send)
		if len(outs) != 1 || outs[0].Kind != peer.Transmit {
			b.Fatalf("send: %+v", outs)
		}
		outs = to.Step(peer.Input{Kind: peer.Receive, Datagram: outs[0].Datagram})
		if len(outs) != 1 || outs[0].Kind != peer.Deliver {
			b.Fatalf("receive: %+v", outs)
		}
	}
}

func BenchmarkESPAtoB(b *testing.B) {
	h := benchPair(b, nil)
	benchESP(b, h.a.g, h.b.g)
}

func BenchmarkESPBtoA(b *testing.B) {
	h := benchPair(b, nil)
	benchESP(b, h.b.g, h.a.g)
}

// BenchmarkRekey measures a complete hitless rekey (QM1, QM2, QM3 and the
// Delete of the old pair), both sides' Steps included.
func BenchmarkRekey(b *testing.B) {
	h := benchPair(b, func(a, b *Config) { a.DeleteOldAfterRekey = true })
	var wire [2][]peer.Datagram // toward a, toward b
	pump := func(g *Gateway, in peer.Input, toward int) {
		for _, o := range g.Step(in) {
			if o.Kind == peer.Transmit {
				d := o.Datagram
				d.Bytes = append([]byte(nil), d.Bytes...)
				wire[toward] = append(wire[toward], d)
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		pump(h.a.g, peer.Input{Kind: peer.Rekey}, 1)
		for len(wire[0])+len(wire[1]) > 0 {
			if len(wire[1]) > 0 {
				d := wire[1][0]
				wire[1] = wire[1][1:]
				pump(h.b.g, peer.Input{Kind: peer.Receive, Datagram: d}, 0)
			} else {
				d := wire[0][0]
				wire[0] = wire[0][1:]
				pump(h.a.g, peer.Input{Kind: peer.Receive, Datagram: d}, 1)
			}
		}
	}
	if n := len(h.a.g.State().SAs); n != 2 {
		b.Fatalf("A holds %d SAs after the rekeys", n)
	}
}

// BenchmarkSendStep measures Step for one outbound packet alone.
func BenchmarkSendStep(b *testing.B) {
	h := benchPair(b, nil)
	send := peer.Input{Kind: peer.Send, Packet: ipv4(1, 1400)}
	b.SetBytes(1400)
	b.ReportAllocs()
	for b.Loop() {
		if outs := h.a.g.Step(send); len(outs) != 1 {
			b.Fatal(outs)
		}
	}
}
