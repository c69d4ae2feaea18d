package gateway

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Both gateways run in memory with a virtual clock; the test moves every
// datagram by hand, in the style of golang.org/x/net/quic's tests.

var testFlows = []Flow{{
	Local:  quickmode.Selector{Prefix: netip.MustParsePrefix("10.1.0.0/16")},
	Remote: quickmode.Selector{Prefix: netip.MustParsePrefix("10.2.0.0/16")},
}}

// ipv4 returns a minimal IPv4 packet whose identification field is id.
func ipv4(id uint16, size int) []byte {
	if size < 20 {
		size = 20
	}
	p := make([]byte, size)
	p[0], p[2], p[3] = 0x45, byte(size>>8), byte(size)
	p[4], p[5], p[8], p[9] = byte(id>>8), byte(id), 64, 59
	return p
}

func pktID(p []byte) uint16 { return uint16(p[4])<<8 | uint16(p[5]) }

type side struct {
	name  string
	g     *Gateway
	other *side
	// inflight are the datagrams travelling toward this side.
	inflight  []peer.Datagram
	delivered []uint16
	drops     map[string]int
	events    []peer.Output // SA, exchange and reject outputs
}

type harness struct {
	t      testing.TB
	now    time.Duration
	a, b   *side
	nextID uint16
}

func (s *side) String() string { return s.name }

func newHarness(t testing.TB, seed uint64, profile quickmode.Profile, tweak func(a, b *Config)) *harness {
	t.Helper()
	ca := Config{Profile: profile, Flows: testFlows, Initiator: true}
	cb := Config{Profile: profile, Flows: Mirror(testFlows)}
	if tweak != nil {
		tweak(&ca, &cb)
	}
	ga, gb, err := NewPair(seed, ca, cb)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, a: &side{name: "A", g: ga, drops: map[string]int{}}, b: &side{name: "B", g: gb, drops: map[string]int{}}}
	h.a.other, h.b.other = h.b, h.a
	return h
}

// step feeds one input and records its outputs (copied: Step reuses them).
func (h *harness) step(s *side, in peer.Input) []peer.Output {
	h.t.Helper()
	in.At = h.now
	outs := s.g.Step(in)
	var kept []peer.Output
	for _, o := range outs {
		o.Packet = slices.Clone(o.Packet)
		o.Datagram.Bytes = slices.Clone(o.Datagram.Bytes)
		kept = append(kept, o)
		switch o.Kind {
		case peer.Transmit:
			s.other.inflight = append(s.other.inflight, o.Datagram)
		case peer.Deliver:
			s.delivered = append(s.delivered, pktID(o.Packet))
		case peer.Drop:
			s.drops[o.Reason]++
		case peer.SAEvent, peer.Exchange, peer.Reject:
			s.events = append(s.events, o)
		}
	}
	return kept
}

// send makes s's application send one packet on flow 0 and returns its id.
func (h *harness) send(s *side) uint16 {
	h.nextID++
	h.step(s, peer.Input{Kind: peer.Send, Packet: ipv4(h.nextID, 60)})
	return h.nextID
}

// indexOf returns the index of the first datagram in flight toward s that
// is IKE (ike) or ESP (!ike), or -1.
func indexOf(s *side, ike bool) int {
	return slices.IndexFunc(s.inflight, func(d peer.Datagram) bool { return d.IsIKE() == ike })
}

// deliver hands s the i'th datagram in flight toward it.
func (h *harness) deliver(s *side, i int) []peer.Output {
	h.t.Helper()
	d := s.inflight[i]
	s.inflight = slices.Delete(s.inflight, i, i+1)
	return h.step(s, peer.Input{Kind: peer.Receive, Datagram: d})
}

// lose discards the i'th datagram in flight toward s.
func (h *harness) lose(s *side, i int) peer.Datagram {
	d := s.inflight[i]
	s.inflight = slices.Delete(s.inflight, i, i+1)
	return d
}

// deliverIKE delivers the first IKE datagram in flight toward s; it
// reports whether there was one.
func (h *harness) deliverIKE(s *side) bool {
	i := indexOf(s, true)
	if i < 0 {
		return false
	}
	h.deliver(s, i)
	return true
}

// deliverESP delivers every ESP packet in flight toward s.
func (h *harness) deliverESP(s *side) {
	for i := indexOf(s, false); i >= 0; i = indexOf(s, false) {
		h.deliver(s, i)
	}
}

// settle delivers everything in flight, in order, both ways, and fires
// due timers up to now, until nothing moves.
func (h *harness) settle() {
	for range 1000 {
		switch {
		case len(h.b.inflight) > 0:
			h.deliver(h.b, 0)
		case len(h.a.inflight) > 0:
			h.deliver(h.a, 0)
		default:
			return
		}
	}
	h.t.Fatal("no quiescence")
}

// advance moves the clock to t, firing timers of both sides in order.
func (h *harness) advance(to time.Duration) {
	for {
		next, who := to, (*side)(nil)
		for _, s := range []*side{h.a, h.b} {
			if at, ok := s.g.NextTimer(); ok && at <= next {
				if who == nil || at < next {
					next, who = at, s
				}
			}
		}
		if who == nil {
			h.now = to
			return
		}
		if next > h.now {
			h.now = next
		}
		h.step(who, peer.Input{Kind: peer.Tick})
		h.settle()
	}
}

// establish runs the first negotiation to completion with one packet.
func (h *harness) establish() {
	h.t.Helper()
	h.send(h.a)
	h.settle()
	h.send(h.b) // proves the pair to a hitless responder's peer
	h.settle()
	h.send(h.a)
	h.settle()
	if h.a.g.db.Active(0) == nil || h.b.g.db.Active(0) == nil {
		h.t.Fatalf("not established: A %v B %v", h.a.g.State().Flows, h.b.g.State().Flows)
	}
	h.reset()
}

// reset forgets what was delivered and dropped so far.
func (h *harness) reset() {
	for _, s := range []*side{h.a, h.b} {
		s.delivered, s.drops, s.events = nil, map[string]int{}, nil
	}
}

func (h *harness) lackDrops(s *side) int {
	return s.drops[peer.ReasonUnknownSPI] + s.drops[peer.ReasonNoActiveSA]
}

// countEvents counts s's outputs matching f.
func countEvents(s *side, f func(o peer.Output) bool) int {
	n := 0
	for _, o := range s.events {
		if f(o) {
			n++
		}
	}
	return n
}

// agree checks that each side's active outbound SA is an installed inbound
// SA of the other with the same keys.
func (h *harness) agree() {
	h.t.Helper()
	for _, s := range []*side{h.a, h.b} {
		st, ot := s.g.State(), s.other.g.State()
		out, ok := st.Lookup(st.Flows[0].Active, peer.Outbound)
		if !ok {
			h.t.Fatalf("%v has no active SA", s)
		}
		in, ok := ot.Lookup(out.SPI, peer.Inbound)
		if !ok || in.KeyID != out.KeyID || in.MessageID != out.MessageID {
			h.t.Fatalf("%v active %#x (%s) has no matching inbound SA at %v: %+v", s, out.SPI, out.KeyID, s.other, in)
		}
	}
}

func (h *harness) dump() string {
	var b strings.Builder
	for _, s := range []*side{h.a, h.b} {
		fmt.Fprintf(&b, "%v drops %v\n", s, s.drops)
		for _, o := range s.events {
			switch o.Kind {
			case peer.SAEvent:
				fmt.Fprintf(&b, "  %v %v %#x mid %#x\n", o.Event, o.Direction, o.SPI, o.SA.MessageID)
			case peer.Exchange:
				fmt.Fprintf(&b, "  exchange %v %#x %s %s\n", o.ExchangeEvent, o.MessageID, o.Role, o.Reason)
			default:
				fmt.Fprintf(&b, "  %v %#x %s\n", o.Kind, o.MessageID, o.Reason)
			}
		}
	}
	return b.String()
}
