package gateway

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// forgeQM1 returns a QM1 on g's phase-1 SA whose HASH(1) is keyed with a
// wrong SKEYID_a: the input class "bad HASH" of issue 3.
func forgeQM1(t testing.TB, g *Gateway, seed byte) peer.Datagram {
	t.Helper()
	p1 := g.cfg.Phase1
	p1.SKEYIDa = bytes.Repeat([]byte{seed}, len(p1.SKEYIDa))
	x, err := quickmode.New(p1, quickmode.Config{Profile: quickmode.Hitless, Rand: bytes.NewReader(bytes.Repeat([]byte{seed, 0x5a}, 512))})
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := x.Initiate(nil, epoch, quickmode.Request{Proposals: g.cfg.Proposals,
		Local: g.cfg.Flows[0].Remote, Remote: g.cfg.Flows[0].Local})
	if err != nil || len(evs) != 1 {
		t.Fatalf("forging QM1: %v %v", err, evs)
	}
	return peer.Datagram{Transport: peer.UDP500, Bytes: evs[0].Datagram}
}

// notifyIn decrypts the Informational d with g's keys (independently of
// receiveInfo) and returns its Notification.
func notifyIn(t *testing.T, g *Gateway, d peer.Datagram) isakmp.Notification {
	t.Helper()
	var v isakmp.View
	h, err := v.Start(d.Bytes)
	if err != nil || h.Exchange != isakmp.ExchangeInformational {
		t.Fatalf("not an Informational: %v %v", err, h.Exchange)
	}
	p1 := g.cfg.Phase1
	iv, err := ikecrypto.Phase2IV(p1.PRF, g.last, h.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := g.cipher.Decrypt(nil, iv, v.Ciphertext())
	if err != nil {
		t.Fatal(err)
	}
	v.StartPayloads(h.NextPayload, plain, isakmp.ParseOptions{})
	if !v.Next() || v.Type() != isakmp.PayloadHASH || !v.Next() || v.Type() != isakmp.PayloadN {
		t.Fatalf("want HASH, N: %v", v.Err())
	}
	n, err := v.Notification()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// transmits returns the Transmit outputs among outs.
func transmits(outs []peer.Output) []peer.Datagram {
	var ds []peer.Datagram
	for _, o := range outs {
		if o.Kind == peer.Transmit {
			ds = append(ds, o.Datagram)
		}
	}
	return ds
}

// TestNotifyRejects: with Config.NotifyRejects a Quick Mode with a bad
// HASH is answered with an INVALID-HASH-INFORMATION Notify the peer
// authenticates and accepts without any SA change, at most one per
// NotifyInterval; without it, and for rejected Informationals, nothing is
// sent.
func TestNotifyRejects(t *testing.T) {
	const interval = 5 * time.Second
	h := newHarness(t, 11, quickmode.Hitless, func(a, b *Config) {
		b.NotifyRejects, b.NotifyInterval = true, interval
	})
	h.establish()

	outs := h.step(h.b, peer.Input{Kind: peer.Receive, Datagram: forgeQM1(t, h.b.g, 1)})
	if countKind(outs, peer.Reject) != 1 || outs[0].Notify != "INVALID-HASH-INFORMATION" {
		t.Fatalf("bad HASH: %+v", outs)
	}
	ds := transmits(outs)
	if len(ds) != 1 {
		t.Fatalf("bad HASH answered with %d datagrams, want 1 Notify", len(ds))
	}
	if n := notifyIn(t, h.a.g, ds[0]); n.Notify != isakmp.NotifyInvalidHashInformation || n.Protocol != isakmp.ProtoISAKMP {
		t.Errorf("Notify carries %v protocol %v", n.Notify, n.Protocol)
	}

	// The peer authenticates it: a tampered copy is rejected, the genuine
	// one is accepted and changes no SA.
	bad := peer.Datagram{Transport: ds[0].Transport, Bytes: bytes.Clone(ds[0].Bytes)}
	bad.Bytes[len(bad.Bytes)-17] ^= 1 // inside the Notification, under HASH(1)
	before := h.a.g.State()
	if outs := h.step(h.a, peer.Input{Kind: peer.Receive, Datagram: bad}); len(outs) != 1 || outs[0].Notify != "INVALID-HASH-INFORMATION" {
		t.Errorf("tampered Notify: %+v", outs)
	}
	if outs := h.step(h.a, peer.Input{Kind: peer.Receive, Datagram: ds[0]}); len(outs) != 0 {
		t.Errorf("genuine Notify: %+v", outs)
	}
	if d := cmp.Diff(before, h.a.g.State()); d != "" {
		t.Errorf("Notify changed A's SAs:\n%s", d)
	}

	// The limit: more bad messages within the interval are rejected but
	// not answered, and a rejected Informational never is.
	start := h.now
	for i, d := range []peer.Datagram{forgeQM1(t, h.b.g, 2), forgeQM1(t, h.b.g, 3),
		forgeDelete(t, h.a.g, bytes.Repeat([]byte{9}, 32), 1234)} {
		h.now = start + time.Duration(i)*interval/2
		outs := h.step(h.b, peer.Input{Kind: peer.Receive, Datagram: d})
		if countKind(outs, peer.Reject) != 1 || len(transmits(outs)) != 0 {
			t.Errorf("bad message %d at %v: %+v", i, h.now-start, outs)
		}
	}
	h.now = start + interval
	outs = h.step(h.b, peer.Input{Kind: peer.Receive, Datagram: forgeQM1(t, h.b.g, 4)})
	if len(transmits(outs)) != 1 {
		t.Errorf("after the interval: %+v", outs)
	}

	// Off (the default), a bad HASH is only rejected.
	if outs := h.step(h.a, peer.Input{Kind: peer.Receive, Datagram: forgeQM1(t, h.a.g, 5)}); len(outs) != 1 || outs[0].Kind != peer.Reject {
		t.Errorf("NotifyRejects off: %+v", outs)
	}
}

// BenchmarkRejectNotify measures rejecting a bad-HASH QM1 and answering it
// with a Notify, the rate limit never in the way.
func BenchmarkRejectNotify(b *testing.B) {
	h := newHarness(b, 12, quickmode.Hitless, func(a, b *Config) { b.NotifyRejects = true })
	d := forgeQM1(b, h.b.g, 1)
	b.ReportAllocs()
	for b.Loop() {
		h.b.g.notified = false
		if outs := h.b.g.Step(peer.Input{Kind: peer.Receive, Datagram: d}); len(outs) != 2 {
			b.Fatalf("%+v", outs)
		}
	}
}
