package gateway

import (
	"testing"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// retiring sets up an old and a new pair and lets A's Linger retire the
// old one: A's Delete for it is the only datagram in flight, toward B.
func retiringPair(t *testing.T) (h *harness, oldIn uint32) {
	t.Helper()
	h = newHarness(t, 21, quickmode.Hitless, func(a, b *Config) { a.Linger = 5 * time.Second })
	h.establish()
	oldIn = h.b.g.State().Flows[0].Active // B's outbound: A's inbound SPI
	h.step(h.a, peer.Input{Kind: peer.Rekey})
	h.settle()
	h.send(h.a)
	h.send(h.b)
	h.settle()
	h.now += 5 * time.Second
	h.step(h.a, peer.Input{Kind: peer.Tick})
	if len(h.b.inflight) != 1 || len(h.a.inflight) != 0 {
		t.Fatalf("in flight after Linger: to B %d, to A %d", len(h.b.inflight), len(h.a.inflight))
	}
	if h.a.g.db.Inbound(oldIn) == nil {
		t.Fatal("A removed its old inbound SA before B answered")
	}
	return h, oldIn
}

func transmitted(outs []peer.Output) int { return countKind(outs, peer.Transmit) }

func TestRetireHandshake(t *testing.T) {
	t.Run("answered", func(t *testing.T) {
		h, oldIn := retiringPair(t)
		h.settle() // Delete → B, B's answer → A
		for _, s := range []*side{h.a, h.b} {
			if n := len(s.g.State().SAs); n != 2 {
				t.Errorf("%v holds %d SAs, want the new pair only", s, n)
			}
		}
		if h.a.g.db.Inbound(oldIn) != nil || len(h.a.g.owed) != 0 {
			t.Errorf("A still holds %#x or owes %+v", oldIn, h.a.g.owed)
		}
	})
	t.Run("request lost", func(t *testing.T) {
		h, oldIn := retiringPair(t)
		h.lose(h.b, 0)
		// Retransmitted on the backoff schedule, a bounded number of times.
		sent := 1
		for range 100 {
			at, ok := h.a.g.NextTimer()
			if !ok || at > h.now+time.Hour {
				break
			}
			h.now = at
			sent += transmitted(h.step(h.a, peer.Input{Kind: peer.Tick}))
			h.b.inflight = nil // every one lost
		}
		if want := 6; sent != want {
			t.Errorf("A sent its Delete %d times, want %d (DeleteRetransmit.MaxTries)", sent, want)
		}
		if h.a.g.db.Inbound(oldIn) == nil {
			t.Error("A removed the inbound SA without the peer's Delete")
		}
	})
	t.Run("answer lost", func(t *testing.T) {
		h, oldIn := retiringPair(t)
		h.deliver(h.b, 0)
		h.lose(h.a, 0) // B's answer
		h.advance(h.now + time.Second)
		// A retransmitted, B answered again: both pairs gone.
		if h.a.g.db.Inbound(oldIn) != nil {
			t.Errorf("A still holds %#x after the repeated answer:\n%s", oldIn, h.dump())
		}
		if n := len(h.b.g.State().SAs); n != 2 {
			t.Errorf("B holds %d SAs", n)
		}
	})
	t.Run("ESP on the retiring pair", func(t *testing.T) {
		h, oldIn := retiringPair(t)
		h.lose(h.b, 0)
		// B, which never heard of the Delete, still sends on the old pair.
		h.b.g.activate(oldIn) // as if B had judged the old pair newest
		if h.b.g.db.Active(0).SPI != oldIn {
			t.Fatal("could not make B send on the old pair")
		}
		h.now += time.Second / 2
		h.send(h.b)
		outs := h.deliver(h.a, indexOf(h.a, false))
		if countKind(outs, peer.Deliver) != 1 || transmitted(outs) != 0 {
			t.Fatalf("ESP within the rate limit: %+v", outs)
		}
		h.now += time.Second / 2
		h.send(h.b)
		outs = h.deliver(h.a, indexOf(h.a, false))
		if countKind(outs, peer.Deliver) != 1 || transmitted(outs) != 1 {
			t.Fatalf("ESP on the retiring pair: want delivery and a re-sent Delete, got %+v", outs)
		}
		h.send(h.b) // in flight on the old pair while the Delete travels
		h.deliverIKE(h.b)
		if h.b.g.db.Active(0) == nil || h.b.g.db.Active(0).SPI == oldIn {
			t.Fatalf("B did not move off the old pair")
		}
		h.advance(h.now + 2*time.Second)
		h.settle()
		if h.lackDrops(h.a)+h.lackDrops(h.b) != 0 {
			t.Errorf("drops: %s", h.dump())
		}
		for _, s := range []*side{h.a, h.b} {
			if n := len(s.g.State().SAs); n != 2 {
				t.Errorf("%v holds %d SAs, want the new pair only", s, n)
			}
		}
	})
}
