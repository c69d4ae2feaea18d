package netsim

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hitless-ike/hitless/ref/peer"
	"pgregory.net/rapid"
)

// seqPeer is fakePeer with sequence numbers, an anti-replay window, the
// "first packet must be stepped" rule and an optional packet budget (the
// packet after it switches SAs both ways, as an expiring lifetime would),
// implementing peer.Coaster: enough for coasting to go wrong in every way
// the reference gateway could.
type seqPeer struct {
	*fakePeer
	budget int              // packets per outbound SA before coasting must stop; 0 none
	sealed map[uint32]int   // packets sealed per outbound SPI
	win    map[uint32]*seqW // per inbound SPI
	bytes  map[uint32]int   // inner bytes opened per inbound SPI
}

type seqW struct {
	top  uint64
	bits uint64 // bit i: top-i arrived
}

const seqWindow = 64

func (w *seqW) accept(seq uint64) bool {
	switch {
	case seq > w.top:
		if seq-w.top >= 64 {
			w.bits = 0
		} else {
			w.bits <<= seq - w.top
		}
		w.top, w.bits = seq, w.bits|1
		return true
	case w.top-seq >= seqWindow || w.bits&(1<<(w.top-seq)) != 0:
		return false
	}
	w.bits |= 1 << (w.top - seq)
	return true
}

func newSeqPeer(f *fakePeer, budget int) *seqPeer {
	return &seqPeer{fakePeer: f, budget: budget, sealed: map[uint32]int{}, win: map[uint32]*seqW{}, bytes: map[uint32]int{}}
}

func (p *seqPeer) Step(in peer.Input) []peer.Output {
	switch {
	case in.Kind == peer.Send && p.out != 0:
		p.outs = p.outs[:0]
		p.last = in.At
		if p.budget > 0 && p.sealed[p.out] == p.budget {
			// As a byte lifetime would, the packet after the budget
			// changes state in both directions at once.
			p.out += 10
			p.in = nil
			p.outs = append(p.outs, peer.Output{Kind: peer.SAEvent, Event: peer.Activated, SPI: p.out})
		}
		p.sealed[p.out]++
		b := p.buf(8 + len(in.Packet))
		binary.BigEndian.PutUint32(b, p.out)
		binary.BigEndian.PutUint32(b[4:], uint32(p.sealed[p.out]))
		copy(b[8:], in.Packet)
		p.outs = append(p.outs, peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.ESP, Bytes: b}})
		return p.outs
	case in.Kind == peer.Receive && !in.Datagram.IsIKE() && len(in.Datagram.Bytes) >= 8:
		p.outs = p.outs[:0]
		p.last = in.At
		b := in.Datagram.Bytes
		spi := binary.BigEndian.Uint32(b)
		if !p.installed(spi) {
			p.outs = append(p.outs, peer.Output{Kind: peer.Drop, Direction: peer.Inbound, SPI: spi, Reason: peer.ReasonUnknownSPI})
			return p.outs
		}
		if p.win[spi] == nil {
			p.win[spi] = &seqW{}
		}
		if !p.win[spi].accept(uint64(binary.BigEndian.Uint32(b[4:]))) {
			p.outs = append(p.outs, peer.Output{Kind: peer.Drop, Direction: peer.Inbound, SPI: spi, Reason: peer.ReasonReplay})
			return p.outs
		}
		p.bytes[spi] += len(b) - 8
		p.outs = append(p.outs, peer.Output{Kind: peer.Deliver, SPI: spi, Direction: peer.Inbound, Packet: b[8:]})
		return p.outs
	}
	return p.fakePeer.Step(in)
}

func (p *seqPeer) CoastOut(flow, size int) (uint32, uint64, uint64, bool) {
	if p.out == 0 {
		return 0, 0, 0, false
	}
	n := uint64(1 << 40)
	if p.budget > 0 {
		if p.sealed[p.out] >= p.budget {
			return 0, 0, 0, false
		}
		n = uint64(p.budget - p.sealed[p.out])
	}
	return p.out, uint64(p.sealed[p.out]) + 1, n, true
}

func (p *seqPeer) CoastIn(spi uint32, size int) (uint64, int, bool) {
	if !p.installed(spi) || p.win[spi] == nil {
		return 0, 0, false // nothing seen on it yet
	}
	return 1 << 40, seqWindow, true
}

func (p *seqPeer) CoastSent(spi uint32, n uint64, size int) { p.sealed[spi] += int(n) }

func (p *seqPeer) CoastReceived(spi uint32, seq uint64, size int) string {
	if !p.win[spi].accept(seq) {
		return peer.ReasonReplay
	}
	p.bytes[spi] += size
	return ""
}

var _ peer.Coaster = (*seqPeer)(nil)

// coastRun runs cfg with and without coasting over the same scripted
// peers and returns both results and peers.
func coastRun(t interface{ Fatal(...any) }, cfg Config, slices []time.Duration, pairs func(int) (a, b *seqPeer)) (plain, coasted Result, pp, cp [][2]*seqPeer) {
	run := func(coast bool) (Result, [][2]*seqPeer) {
		var made [][2]*seqPeer
		c := cfg
		c.Coast = coast
		s, err := New(c, func(i int) (peer.Peer, peer.Peer) {
			a, b := pairs(i)
			made = append(made, [2]*seqPeer{a, b})
			return a, b
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range slices {
			s.RunUntil(at)
		}
		s.RunUntil(cfg.Duration)
		return s.Result(), made
	}
	plain, pp = run(false)
	coasted, cp = run(true)
	return plain, coasted, pp, cp
}

// switching is a newPair whose peers switch to SPIs 3 and 4 at at, A
// with the given packet budget.
func switching(at time.Duration, budget int) func(int) (*seqPeer, *seqPeer) {
	return func(int) (*seqPeer, *seqPeer) {
		a := newFake(1, []uint32{2}, step{at, activateOut, 3}, step{at, installIn, 4})
		b := newFake(2, []uint32{1}, step{at, activateOut, 4}, step{at, installIn, 3})
		return newSeqPeer(a, budget), newSeqPeer(b, 0)
	}
}

// expectExact runs cfg stepped and coasted and fails unless coasting
// happened (so the case still exercises what it is named for) and changed
// nothing.
func expectExact(t *testing.T, cfg Config, pairs func(int) (*seqPeer, *seqPeer), exercises string) Result {
	t.Helper()
	plain, coasted, pp, cp := coastRun(t, cfg, nil, pairs)
	if coasted.Coasted == 0 {
		t.Fatalf("nothing coasted: the case no longer exercises %s", exercises)
	}
	n := coasted.Coasted
	coasted.Coasted = 0
	if d := cmp.Diff(plain, coasted, cmp.AllowUnexported(Histogram{})); d != "" {
		t.Fatalf("results differ (-stepped +coasted):\n%s", d)
	}
	comparePeers(t, pp, cp)
	coasted.Coasted = n
	return coasted
}

func comparePeers(t interface{ Fatalf(string, ...any) }, pp, cp [][2]*seqPeer) {
	for i := range pp {
		for side := range 2 {
			a, b := pp[i][side], cp[i][side]
			if d := cmp.Diff([]any{a.sealed, a.bytes, a.win, a.out, a.in}, []any{b.sealed, b.bytes, b.win, b.out, b.in}, cmp.AllowUnexported(seqW{})); d != "" {
				t.Fatalf("tunnel %d side %d: peer state differs (-stepped +coasted):\n%s", i, side, d)
			}
		}
	}
}

// Input class: well-formed scenarios; coasting must be invisible.
func TestCoastMatchesStepping(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		link := func(name string) LinkConfig {
			l := LinkConfig{
				Delay:  time.Duration(rapid.IntRange(0, 30).Draw(rt, name+"delay")) * ms,
				Jitter: time.Duration(rapid.IntRange(0, 20).Draw(rt, name+"jitter")) * ms,
				Dist:   Distribution(rapid.IntRange(0, 1).Draw(rt, name+"dist")),
			}
			if rapid.Bool().Draw(rt, name+"reorder") {
				l.ReorderProb, l.ReorderDelay = 0.1, time.Duration(rapid.IntRange(1, 20).Draw(rt, name+"rdelay"))*ms
			}
			if rapid.Bool().Draw(rt, name+"loss") {
				l.LossProb = 0.1
			}
			if rapid.IntRange(0, 5).Draw(rt, name+"dup") == 0 {
				l.DupProb = 0.05 // coasting then declines
			}
			return l
		}
		ab, ba := link("ab"), link("ba")
		cfg := Config{
			Seed: rapid.Uint64().Draw(rt, "seed"), Tunnels: rapid.IntRange(1, 3).Draw(rt, "tunnels"),
			Duration: time.Duration(rapid.IntRange(100, 3000).Draw(rt, "ms")) * ms,
			AB:       Link{IKE: ab, ESP: ab}, BA: Link{IKE: ba, ESP: ba},
		}
		for _, from := range []Side{A, B} {
			if rapid.IntRange(0, 4).Draw(rt, "quiet"+from.String()) == 0 {
				continue
			}
			tr := Traffic{From: from, Rate: float64(rapid.IntRange(1, 2000).Draw(rt, "rate"+from.String())),
				Size: rapid.IntRange(MinPacketSize, 300).Draw(rt, "size"+from.String())}
			if rapid.Bool().Draw(rt, "burst"+from.String()) {
				tr.On, tr.Off = time.Duration(rapid.IntRange(1, 200).Draw(rt, "on"))*ms, time.Duration(rapid.IntRange(1, 200).Draw(rt, "off"))*ms
			}
			cfg.Traffic = append(cfg.Traffic, tr)
		}
		if rapid.Bool().Draw(rt, "action") {
			cfg.Actions = append(cfg.Actions, Action{At: time.Duration(rapid.IntRange(0, 3000).Draw(rt, "actAt")) * ms,
				Tunnel: AllTunnels, Side: A, Kind: peer.Rekey})
		}
		switchAt := time.Duration(rapid.IntRange(1, 3000).Draw(rt, "switch")) * ms
		lateIn := time.Duration(rapid.IntRange(0, 50).Draw(rt, "lateIn")) * ms
		budget := rapid.IntRange(0, 400).Draw(rt, "budget")
		var cuts []time.Duration
		for range rapid.IntRange(0, 4).Draw(rt, "cuts") {
			cuts = append(cuts, time.Duration(rapid.IntRange(0, 3000).Draw(rt, "cut"))*ms)
		}
		pairs := func(int) (*seqPeer, *seqPeer) { // B installs A's new SA late
			a := newFake(1, []uint32{2}, step{switchAt, activateOut, 3}, step{switchAt, installIn, 4})
			b := newFake(2, []uint32{1}, step{switchAt, activateOut, 4}, step{switchAt + lateIn, installIn, 3})
			return newSeqPeer(a, budget), newSeqPeer(b, 0)
		}
		slicesSorted(cuts)
		plain, coasted, pp, cp := coastRun(rt, cfg, cuts, pairs)
		if plain.Coasted != 0 {
			rt.Fatalf("coasted %d packets with Coast off", plain.Coasted)
		}
		coasted.Coasted = 0
		if d := cmp.Diff(plain, coasted, cmp.AllowUnexported(Histogram{})); d != "" {
			rt.Fatalf("results differ (-stepped +coasted):\n%s", d)
		}
		comparePeers(rt, pp, cp)
	})
}

func slicesSorted(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// Coasting must actually take over the steady stretches, else the fast
// path is dead code and TestCoastMatchesStepping proves nothing.
func TestCoastCoversSteadyTraffic(t *testing.T) {
	l := LinkConfig{Delay: 10 * ms, Jitter: ms, LossProb: 0.01}
	cfg := Config{Seed: 1, Tunnels: 2, Duration: 60 * time.Second, AB: Link{IKE: l, ESP: l}, BA: Link{IKE: l, ESP: l},
		Traffic: []Traffic{{From: A, Rate: 10, Size: 200}, {From: B, Rate: 10, Size: 200}}}
	r := expectExact(t, cfg, switching(30*time.Second, 0), "steady traffic")
	if r.Coasted < r.Sent*9/10 {
		t.Fatalf("coasted %d of %d packets; want at least 90%%", r.Coasted, r.Sent)
	}
}

// Input class: peers that cannot coast (no peer.Coaster) and links that
// forbid it (duplication, filters): coasting stays off.
func TestCoastDeclines(t *testing.T) {
	l := LinkConfig{Delay: 10 * ms}
	base := Config{Seed: 1, Tunnels: 1, Duration: 5 * time.Second, AB: Link{IKE: l, ESP: l}, BA: Link{IKE: l, ESP: l},
		Traffic: []Traffic{{From: A, Rate: 100, Size: 200}}, Coast: true}
	seq := func(int) (peer.Peer, peer.Peer) {
		return newSeqPeer(newFake(1, []uint32{2}), 0), newSeqPeer(newFake(2, []uint32{1}), 0)
	}
	for _, c := range []struct {
		name  string
		tweak func(*Config)
		pairs func(int) (peer.Peer, peer.Peer)
	}{
		{"not a Coaster", func(*Config) {}, staticPairs},
		{"duplicating link", func(c *Config) { c.AB.ESP.DupProb = 0.01 }, seq},
		{"filtered link", func(c *Config) { c.AB.ESP.Filter = func(FilterInfo) bool { return false } }, seq},
		{"two generators on one side", func(c *Config) { c.Traffic = append(c.Traffic, c.Traffic[0]) }, seq},
		{"reordering beyond the window", func(c *Config) { c.AB.ESP.ReorderProb, c.AB.ESP.ReorderDelay = 0.5, time.Second }, seq},
	} {
		cfg := base
		c.tweak(&cfg)
		r := mustRun(t, cfg, c.pairs)
		if r.Coasted != 0 {
			t.Errorf("%s: coasted %d packets", c.name, r.Coasted)
		}
	}
	if r := mustRun(t, base, seq); r.Coasted == 0 {
		t.Fatal("the base case does not coast: the declines above prove nothing")
	}
}

// Input class: bursts shorter than one packet interval, so packets come
// every On+Off, far faster than Rate. rapid's shrunk counterexample for a
// budget bound computed from Rate alone: coasting ran past the packet that
// switches A's SAs.
func TestCoastBurstFasterThanRate(t *testing.T) {
	cfg := Config{Tunnels: 1, Duration: 100 * ms,
		Traffic: []Traffic{{From: A, Rate: 1, Size: 56, On: ms, Off: ms}, {From: B, Rate: 1, Size: 56, On: ms, Off: ms}}}
	expectExact(t, cfg, switching(ms, 3), "the budget")
}

// Input class: ESP still in flight (held back by reordering) when a coast
// starts whose first packet is due much later. rapid's shrunk
// counterexample for a window bound counted from the coast's first packet
// instead of from the oldest packet in flight: a late packet was then
// refused as a replay.
func TestCoastKeepsInFlightInsideTheWindow(t *testing.T) {
	ab := LinkConfig{Delay: 12 * ms, Jitter: 11 * ms, Dist: Normal, ReorderProb: 0.1, ReorderDelay: 6 * ms}
	ba := LinkConfig{ReorderProb: 0.1, ReorderDelay: 8 * ms, LossProb: 0.1}
	cfg := Config{Seed: 3, Tunnels: 2, Duration: 100 * ms, AB: Link{IKE: ab, ESP: ab}, BA: Link{IKE: ba, ESP: ba},
		Traffic: []Traffic{{From: A, Rate: 41, Size: 56}, {From: B, Rate: 1387, Size: 56}}}
	expectExact(t, cfg, switching(71*ms, 0), "in-flight ESP")
}

// Input class: datagrams landing out of order, a runt, an SA change, one
// flushed from a queue (no known probe): the in-flight record coasting
// relies on.
func TestFlight(t *testing.T) {
	esp := func(spi, seq uint32) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint32(b, spi)
		binary.BigEndian.PutUint32(b[4:], seq)
		return b
	}
	sent := func(spi, seq uint32) flying {
		d := espID(esp(spi, seq))
		d.known, d.probe = true, uint64(seq)+100
		return d
	}
	var f flight
	if _, _, ok := f.on(1); ok {
		t.Fatal("empty flight claims an SA")
	}
	for seq := uint32(10); seq < 40; seq++ {
		f.add(sent(1, seq))
	}
	for seq := uint32(39); seq > 10; seq-- { // the oldest lands last
		f.land(esp(1, seq))
	}
	if old, probe, ok := f.on(1); !ok || old != 10 || probe != 110 || f.n != 1 {
		t.Fatalf("on(1) = %d, %d, %v with %d flying; want 10, 110, true, 1", old, probe, ok, f.n)
	}
	if _, _, ok := f.on(2); ok {
		t.Fatal("a flight on SA 1 claims SA 2")
	}
	f.add(sent(2, 1))
	if _, _, ok := f.on(2); ok {
		t.Fatal("a mixed flight claims SA 2")
	}
	f.land(esp(1, 10))
	if old, _, ok := f.on(2); !ok || old != 1 {
		t.Fatalf("after the old SA landed: on(2) = %d, %v; want 1, true", old, ok)
	}
	f.add(espID([]byte{1, 2}))
	if _, _, ok := f.on(2); ok {
		t.Fatal("a runt in flight vouches for an SA")
	}
	f.land([]byte{1, 2})
	f.add(espID(esp(2, 2))) // flushed from a queue: its probe is unknown
	if _, _, ok := f.on(2); ok {
		t.Fatal("a datagram of unknown probe vouches for the window")
	}
	f.land(esp(2, 2))
	f.land(esp(2, 1))
	f.land(esp(2, 1)) // landing twice is ignored
	if f.n != 0 || len(f.q) != 0 {
		t.Fatalf("all landed, yet %d flying, %d kept", f.n, len(f.q))
	}
}
