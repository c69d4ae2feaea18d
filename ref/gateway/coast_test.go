package gateway

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hitless-ike/hitless/ref/esp"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
	"github.com/hitless-ike/hitless/ref/sadb"
)

// The coasting tests run two identical pairs: one steps every packet, the
// other coasts the same packets; afterwards both must be in the same state
// and answer the same real inputs with the same outputs.

const coastSize = 60 // the harness's packet size

// recorded is one output and the side that produced it.
type recorded struct {
	Who string
	Out peer.Output
}

// recorder drives a harness like settle and advance do, keeping every
// output, so that two runs can be compared output by output.
type recorder struct {
	h    *harness
	outs []recorded
	size int // of the packets send sends; 0 means coastSize
}

func (r *recorder) step(s *side, in peer.Input) []peer.Output {
	outs := r.h.step(s, in)
	for _, o := range outs {
		r.outs = append(r.outs, recorded{s.name, o})
	}
	return outs
}

func (r *recorder) send(s *side) {
	r.h.nextID++
	size := r.size
	if size == 0 {
		size = coastSize
	}
	r.step(s, peer.Input{Kind: peer.Send, Packet: ipv4(r.h.nextID, size)})
}

func (r *recorder) deliver(s *side, i int) []peer.Output {
	d := s.inflight[i]
	s.inflight = append(s.inflight[:i:i], s.inflight[i+1:]...)
	return r.step(s, peer.Input{Kind: peer.Receive, Datagram: d})
}

func (r *recorder) settle() {
	for range 1000 {
		switch {
		case len(r.h.b.inflight) > 0:
			r.deliver(r.h.b, 0)
		case len(r.h.a.inflight) > 0:
			r.deliver(r.h.a, 0)
		default:
			return
		}
	}
	r.h.t.Fatal("no quiescence")
}

func (r *recorder) advance(to time.Duration) {
	h := r.h
	for {
		next, who := to, (*side)(nil)
		for _, s := range []*side{h.a, h.b} {
			if at, ok := s.g.NextTimer(); ok && at <= next && (who == nil || at < next) {
				next, who = at, s
			}
		}
		if who == nil {
			h.now = to
			return
		}
		h.now = max(h.now, next)
		r.step(who, peer.Input{Kind: peer.Tick})
		r.settle()
	}
}

// twin is a stepped and a coasted harness built alike.
type twin struct {
	t         *testing.T
	step, cst *harness
	stepR, cR *recorder
}

func newTwin(t *testing.T, seed uint64, profile quickmode.Profile, tweak func(a, b *Config)) *twin {
	t.Helper()
	tw := &twin{t: t, step: newHarness(t, seed, profile, tweak), cst: newHarness(t, seed, profile, tweak)}
	tw.step.establish()
	tw.cst.establish()
	tw.stepR, tw.cR = &recorder{h: tw.step}, &recorder{h: tw.cst}
	tw.same("after establishing")
	return tw
}

// same fails unless both harnesses' gateways are in the same state.
func (tw *twin) same(when string) {
	tw.t.Helper()
	for _, p := range [][2]*side{{tw.step.a, tw.cst.a}, {tw.step.b, tw.cst.b}} {
		if d := cmp.Diff(p[0].g.State(), p[1].g.State()); d != "" {
			tw.t.Fatalf("%s: %v differs (-stepped +coasted):\n%s", when, p[0], d)
		}
	}
}

// sameOutputs fails unless both recorders saw the same outputs.
func (tw *twin) sameOutputs(when string) {
	tw.t.Helper()
	if d := cmp.Diff(tw.stepR.outs, tw.cR.outs); d != "" {
		tw.t.Fatalf("%s: outputs differ (-stepped +coasted):\n%s", when, d)
	}
	tw.stepR.outs, tw.cR.outs = nil, nil
}

// sides returns the sender and receiver of a direction in h.
func sides(h *harness, aToB bool) (from, to *side) {
	if aToB {
		return h.a, h.b
	}
	return h.b, h.a
}

// burst sends k packets in a direction and delivers the i'th of them (in
// send order, from 0) for each i in order, both by stepping and by
// coasting, and checks that each arrival gets the same verdict.
func (tw *twin) burst(class string, aToB bool, k int, order []int) {
	tw.t.Helper()
	from, to := sides(tw.step, aToB)
	for range k {
		tw.step.send(from)
	}
	wire := to.inflight
	to.inflight = nil
	if len(wire) != k {
		tw.t.Fatalf("%s: %d datagrams in flight for %d sends", class, len(wire), k)
	}
	cfrom, cto := sides(tw.cst, aToB)
	spi, next, n, ok := cfrom.g.CoastOut(0, coastSize)
	if !ok || n < uint64(k) {
		tw.t.Fatalf("%s: CoastOut = %#x %d %d %v", class, spi, next, n, ok)
	}
	cfrom.g.CoastSent(spi, uint64(k), coastSize)
	tw.cst.nextID += uint16(k) // the stepped run used these packet IDs
	if _, win, ok := cto.g.CoastIn(spi, coastSize); !ok || win != to.g.db.Inbound(spi).ESP.ReplayWindow() {
		tw.t.Fatalf("%s: CoastIn refused %#x (window %d)", class, spi, win)
	}
	for _, i := range order {
		d := wire[i]
		if got, want := binary.BigEndian.Uint32(d.Bytes), spi; got != want {
			tw.t.Fatalf("%s: packet %d on SPI %#x, CoastOut said %#x", class, i, got, want)
		}
		if got, want := binary.BigEndian.Uint32(d.Bytes[4:]), uint32(next)+uint32(i); got != want {
			tw.t.Fatalf("%s: packet %d has seq %d, CoastOut said %d", class, i, got, want)
		}
		outs := tw.step.step(to, peer.Input{Kind: peer.Receive, Datagram: d})
		stepped := "?"
		if len(outs) == 1 && outs[0].Kind == peer.Deliver {
			stepped = ""
		} else if len(outs) == 1 && outs[0].Kind == peer.Drop {
			stepped = outs[0].Reason
		}
		if coasted := cto.g.CoastReceived(spi, next+uint64(i), coastSize); coasted != stepped {
			tw.t.Fatalf("%s: packet %d: Step %q (%+v), CoastReceived %q", class, i, stepped, outs, coasted)
		}
	}
}

func seq(from, to int) []int { // inclusive, either direction
	var s []int
	for i := from; ; {
		s = append(s, i)
		if i == to {
			return s
		}
		if from < to {
			i++
		} else {
			i--
		}
	}
}

func cat(parts ...[]int) []int {
	var s []int
	for _, p := range parts {
		s = append(s, p...)
	}
	return s
}

// Coasting a mix of delivered, lost, reordered, duplicated and too-late
// packets both ways leaves both gateways exactly as stepping them does,
// and they go on identically: more traffic, a soft expiry, the rekey and
// the retirement of the old pair.
func TestCoastMatchesStep(t *testing.T) {
	gcm := []quickmode.Proposal{{Transforms: []quickmode.Transform{{
		ESP:  ikecrypto.ESPTransform{ID: ikecrypto.ESPAESGCM16, KeyBits: 128},
		Mode: quickmode.ModeTunnel,
	}}}}
	for _, tc := range []struct {
		class string // input class
		tweak func(a, b *Config)
	}{
		{"aes128-sha1: IVs drawn from the shared Rand", nil},
		{"aes128gcm16: no IVs drawn", func(a, b *Config) { a.Proposals, b.Proposals = gcm, gcm }},
		{"NAT-T: ESP in UDP 4500", func(a, b *Config) { a.Phase1.NATT = true }},
		{"byte lifetimes far away", func(a, b *Config) {
			for _, c := range []*Config{a, b} {
				c.Lifetime.SoftKilobytes, c.Lifetime.HardKilobytes = 4096, 8192
			}
		}},
	} {
		t.Run(tc.class, func(t *testing.T) {
			tw := newTwin(t, 31, quickmode.Hitless, func(a, b *Config) {
				for _, c := range []*Config{a, b} {
					c.Lifetime.Hard, c.ReplayWindow = 200*time.Second, 64
				}
				a.Lifetime.Soft, a.Linger = 100*time.Second, 10*time.Second // A alone rekeys
				if tc.tweak != nil {
					tc.tweak(a, b)
				}
			})
			for _, aToB := range []bool{true, false} {
				tw.burst("in order", aToB, 50, seq(0, 49))
				tw.burst("every 7th lost", aToB, 40, func() (o []int) {
					for i := range 40 {
						if i%7 != 3 {
							o = append(o, i)
						}
					}
					return o
				}())
				tw.burst("reordered within the window", aToB, 64, cat(seq(15, 0), seq(31, 16), seq(63, 32)))
				tw.burst("duplicates", aToB, 20, cat(seq(0, 9), seq(5, 12), seq(12, 19), []int{3}))
				tw.burst("left of the window", aToB, 100, cat(seq(0, 9), seq(99, 90), seq(20, 25), seq(30, 40)))
			}
			tw.same("after coasting")
			for _, r := range []*recorder{tw.stepR, tw.cR} {
				for range 3 {
					r.send(r.h.a)
					r.send(r.h.b)
					r.settle()
				}
			}
			tw.sameOutputs("more traffic")
			for _, r := range []*recorder{tw.stepR, tw.cR} {
				r.advance(r.h.now + 110*time.Second) // past the soft lifetime
				if countEvents(r.h.a, func(o peer.Output) bool { return o.Kind == peer.SAEvent && o.Event == peer.SoftExpired }) == 0 {
					t.Fatal("no soft expiry")
				}
				r.send(r.h.a)
				r.send(r.h.b)
				r.settle()
				r.advance(r.h.now + 30*time.Second) // Linger retires the old pair
				r.send(r.h.a)
				r.send(r.h.b)
				r.settle()
			}
			tw.sameOutputs("rekey and retirement")
			tw.same("in the end")
			if n := len(tw.cst.a.g.State().SAs); n != 2 {
				t.Errorf("A holds %d SAs after the rekey, want the new pair", n)
			}
		})
	}
}

// CoastOut and CoastIn refuse what only Step can do right.
func TestCoastRefusals(t *testing.T) {
	t.Run("no SA yet", func(t *testing.T) {
		h := newHarness(t, 41, quickmode.Hitless, nil)
		if _, _, _, ok := h.a.g.CoastOut(0, coastSize); ok {
			t.Error("flow never negotiated: CoastOut ok")
		}
		h.send(h.a) // queued; QM1 in flight
		if _, _, _, ok := h.a.g.CoastOut(0, coastSize); ok {
			t.Error("first negotiation running: CoastOut ok")
		}
	})
	h := newHarness(t, 42, quickmode.Hitless, nil)
	h.establish()
	for _, tc := range []struct {
		class      string
		flow, size int
	}{
		{"flow below range", -1, coastSize},
		{"flow above range", 1, coastSize},
		{"size 0", 0, 0},
		{"size below an IPv4 header", 0, 19},
		{"size above 65535", 0, 65536},
	} {
		if _, _, _, ok := h.a.g.CoastOut(tc.flow, tc.size); ok {
			t.Errorf("%s: CoastOut ok", tc.class)
		}
	}
	spi, _, _, ok := h.a.g.CoastOut(0, coastSize)
	if !ok {
		t.Fatal("established flow: CoastOut refused")
	}
	for _, tc := range []struct {
		class string
		spi   uint32
		size  int
	}{
		{"unknown SPI", spi + 1, coastSize},
		{"outbound SPI asked as inbound at the sender", spi, coastSize},
		{"size below an IPv4 header", spi, 19},
	} {
		g := h.b.g
		if tc.class == "outbound SPI asked as inbound at the sender" {
			g = h.a.g
		}
		if _, _, ok := g.CoastIn(tc.spi, tc.size); ok {
			t.Errorf("%s: CoastIn ok", tc.class)
		}
	}
	if got := h.b.g.CoastReceived(spi+1, 1, coastSize); got != peer.ReasonUnknownSPI {
		t.Errorf("CoastReceived on an unknown SPI: %q", got)
	}
	before := h.a.g.State()
	h.a.g.CoastSent(spi+1, 5, coastSize) // ignored
	if d := cmp.Diff(before, h.a.g.State()); d != "" {
		t.Errorf("CoastSent on an unknown SPI changed state:\n%s", d)
	}
}

// A hitless responder activates its new pair on the first ESP packet: an
// inbound SA that has not seen ESP is never coasted, after QM1 or QM3.
func TestCoastRefusesUnseenInbound(t *testing.T) {
	for _, qm3 := range []bool{false, true} {
		h := newHarness(t, 43, quickmode.Hitless, nil)
		h.establish()
		oldB := h.b.g.db.Active(0).SPI
		h.step(h.a, peer.Input{Kind: peer.Rekey})
		h.deliverIKE(h.b) // QM1: B installs the new pair
		unseen := func(g *Gateway) uint32 {
			for _, sa := range g.db.All() {
				if sa.Direction == sadb.Inbound && !sa.Seen() {
					return sa.SPI
				}
			}
			t.Fatal("no unseen inbound SA")
			return 0
		}
		newInB := unseen(h.b.g)
		if _, _, ok := h.b.g.CoastIn(newInB, coastSize); ok {
			t.Error("after QM1: CoastIn ok on the unseen inbound SA")
		}
		if spi, _, _, ok := h.b.g.CoastOut(0, coastSize); !ok || spi != oldB {
			t.Errorf("after QM1: B's CoastOut %#x %v, want the old pair %#x", spi, ok, oldB)
		}
		h.deliverIKE(h.a) // QM2; A activates the new pair and sends QM3
		if qm3 {
			h.deliverIKE(h.b)
		} else {
			h.lose(h.b, indexOf(h.b, true))
		}
		spi, _, _, ok := h.a.g.CoastOut(0, coastSize)
		if !ok || spi != newInB {
			t.Fatalf("QM3 delivered %v: A's CoastOut %#x %v, want the new pair %#x", qm3, spi, ok, newInB)
		}
		if _, _, ok := h.b.g.CoastIn(spi, coastSize); ok {
			t.Errorf("QM3 delivered %v: CoastIn ok before any ESP", qm3)
		}
		if _, _, ok := h.a.g.CoastIn(unseen(h.a.g), coastSize); ok {
			t.Errorf("QM3 delivered %v: A's unseen inbound SA coasts", qm3)
		}
		h.send(h.a) // the first ESP on the new pair: through Step
		h.deliverESP(h.b)
		if h.b.g.db.Active(0).SPI == oldB {
			t.Fatalf("QM3 delivered %v: B did not move to the new pair", qm3)
		}
		if _, _, ok := h.b.g.CoastIn(spi, coastSize); !ok {
			t.Errorf("QM3 delivered %v: CoastIn refused after the first ESP", qm3)
		}
	}
}

// ESP on a retiring pair re-sends the Delete: its inbound SA never coasts.
func TestCoastRefusesRetiring(t *testing.T) {
	h, oldIn := retiringPair(t)
	if _, _, ok := h.a.g.CoastIn(oldIn, coastSize); ok {
		t.Error("CoastIn ok on a retiring pair")
	}
	out := h.b.g.db.Active(0).SPI // A's new inbound SA
	if _, _, ok := h.a.g.CoastIn(out, coastSize); !ok {
		t.Error("CoastIn refused on the new pair")
	}
}

// The byte budget is exact: after n coasted packets the state is that
// after n stepped ones, and packet n+1, stepped in both, fires the same
// lifetime with the same outputs.
func TestCoastByteLifetimeBoundary(t *testing.T) {
	// After establishing, A has sent 120 bytes and B 60; the "exactly"
	// sizes make the threshold a whole number of packets away.
	soft := func(kb uint32) Lifetimes { return Lifetimes{SoftKilobytes: kb} }
	for _, tc := range []struct {
		class string
		aToB  bool
		size  int
		tweak func(a, b *Config)
	}{
		{"sender's soft volume, reached exactly", true, 241, func(a, b *Config) { a.Lifetime = Lifetimes{SoftKilobytes: 2, HardKilobytes: 8} }},
		{"sender's soft volume, overshot", true, coastSize, func(a, b *Config) { a.Lifetime = Lifetimes{SoftKilobytes: 2, HardKilobytes: 8} }},
		{"receiver's soft volume, reached exactly", true, 123, func(a, b *Config) { b.Lifetime = soft(3) }},
		{"receiver's soft volume, overshot", true, 100, func(a, b *Config) { b.Lifetime = soft(3) }},
		{"hard volume at both ends, reached exactly", false, 71, func(a, b *Config) { a.Lifetime = Lifetimes{HardKilobytes: 2} }},
		{"B to A, sender's soft volume below the receiver's", false, 241, func(a, b *Config) { a.Lifetime, b.Lifetime = soft(2), soft(1) }},
	} {
		t.Run(tc.class, func(t *testing.T) {
			tw := newTwin(t, 44, quickmode.Hitless, tc.tweak)
			tw.stepR.size, tw.cR.size = tc.size, tc.size
			packet := func(r *recorder) (fired bool) {
				from, to := sides(r.h, tc.aToB)
				n := len(r.outs)
				r.send(from)
				if i := indexOf(to, false); i >= 0 {
					r.deliver(to, i)
				}
				for _, o := range r.outs[n:] {
					if o.Out.Kind != peer.Deliver && !(o.Out.Kind == peer.Transmit && !o.Out.Datagram.IsIKE()) {
						fired = true
					}
				}
				return fired
			}
			k := 0
			var before [2]peer.State
			for ; ; k++ {
				before = [2]peer.State{tw.step.a.g.State(), tw.step.b.g.State()}
				mark := len(tw.stepR.outs)
				if packet(tw.stepR) {
					tw.stepR.outs = tw.stepR.outs[mark:] // packet k+1's outputs
					break
				}
				if k > 1000 {
					t.Fatal("no lifetime fired")
				}
			}
			from, to := sides(tw.cst, tc.aToB)
			spi, next, nOut, ok := from.g.CoastOut(0, tc.size)
			if !ok {
				t.Fatal("CoastOut refused")
			}
			nIn, _, ok := to.g.CoastIn(spi, tc.size)
			if !ok {
				t.Fatal("CoastIn refused")
			}
			if n := min(nOut, nIn); n != uint64(k) {
				t.Fatalf("coasting allows %d packets (out %d, in %d); stepping fires a lifetime on packet %d", n, nOut, nIn, k+1)
			}
			from.g.CoastSent(spi, uint64(k), tc.size)
			for i := range uint64(k) {
				if r := to.g.CoastReceived(spi, next+i, tc.size); r != "" {
					t.Fatalf("packet %d: %s", i, r)
				}
			}
			tw.cst.nextID += uint16(k)
			if d := cmp.Diff(before, [2]peer.State{tw.cst.a.g.State(), tw.cst.b.g.State()}); d != "" {
				t.Fatalf("after %d packets (-stepped +coasted):\n%s", k, d)
			}
			_, _, _, okOut := from.g.CoastOut(0, tc.size)
			_, _, okIn := to.g.CoastIn(spi, tc.size)
			if okOut && okIn {
				t.Fatal("budget left after coasting all of it")
			}
			t.Logf("%d packets of %d bytes coasted", k, tc.size)
			if !packet(tw.cR) {
				t.Fatal("packet n+1 fired nothing after coasting")
			}
			tw.sameOutputs("packet n+1")
			tw.same("after packet n+1")
		})
	}
}

// byteBudget counts the thresholds not yet fired, exactly.
func TestByteBudget(t *testing.T) {
	for _, tc := range []struct {
		class            string
		soft, hard, sent uint64
		softFired        bool
		size             int
		want             uint64
	}{
		{"no byte lifetimes", 0, 0, 0, false, 100, math.MaxUint64},
		{"soft exactly reachable", 1000, 0, 0, false, 100, 9}, // 10 packets make 1000: fires
		{"soft one byte beyond", 1001, 0, 0, false, 100, 10},
		{"hard below soft's budget", 5000, 650, 100, false, 100, 5},
		{"soft fired: hard bounds", 1000, 2000, 1200, true, 100, 7},
		{"threshold passed", 1000, 0, 1000, false, 100, 0},
		{"size larger than what is left", 1000, 0, 900, false, 200, 0},
	} {
		db, err := sadb.New(sadb.Limits{Flows: 1})
		if err != nil {
			t.Fatal(err)
		}
		s, err := esp.NewSA(esp.Config{SPI: 7, Transform: esp.Transform{Cipher: esp.CipherNull, Integrity: esp.IntegrityHMACSHA1_96},
			AuthKey: make([]byte, 20)})
		if err != nil {
			t.Fatal(err)
		}
		sa := &sadb.SA{SPI: 7, Direction: sadb.Outbound, ESP: s, Soft: sadb.Lifetime{Bytes: tc.soft}, Hard: sadb.Lifetime{Bytes: tc.hard}}
		if err := db.Install(sa); err != nil {
			t.Fatal(err)
		}
		if tc.sent > 0 {
			if err := s.CoastSealed(1, int(tc.sent)); err != nil {
				t.Fatal(err)
			}
		}
		if tc.softFired {
			db.Due(nil, 0)
		}
		if sa.SoftExpired() != tc.softFired {
			t.Fatalf("%s: soft fired %v", tc.class, sa.SoftExpired())
		}
		if got := byteBudget(sa, tc.size); got != tc.want {
			t.Errorf("%s: byteBudget = %d, want %d", tc.class, got, tc.want)
		}
	}
}

// The end of the sequence space is reached only by coasting (2^32 packets
// are out of reach of stepping). CoastOut stops one packet short of
// sadb.SeqSoftMargin; that packet, stepped, soft-expires the SA and starts
// a rekey. If the rekey never completes, the last number CoastOut then
// allows goes out and arrives through Step, and the next Send is dropped
// as expired.
func TestCoastSequenceSpaceExhausted(t *testing.T) {
	gcm := []quickmode.Proposal{{Transforms: []quickmode.Transform{{
		ESP:  ikecrypto.ESPTransform{ID: ikecrypto.ESPAESGCM16, KeyBits: 128},
		Mode: quickmode.ModeTunnel,
	}}}}
	h := newHarness(t, 45, quickmode.Hitless, func(a, b *Config) { a.Proposals, b.Proposals = gcm, gcm })
	h.establish()
	spi, next, n, ok := h.a.g.CoastOut(0, coastSize)
	if rest := math.MaxUint32 - (next - 1); !ok || n != rest-sadb.SeqSoftMargin-1 {
		t.Fatalf("CoastOut: next %d n %d ok %v, want the %d numbers left less the margin and one", next, n, ok, rest)
	}
	h.a.g.CoastSent(spi, n, coastSize)
	if _, _, _, ok := h.a.g.CoastOut(0, coastSize); ok {
		t.Fatal("CoastOut ok for the packet that must soft-expire the SA")
	}
	h.send(h.a)
	soft := countEvents(h.a, func(o peer.Output) bool { return o.Kind == peer.SAEvent && o.Event == peer.SoftExpired && o.SPI == spi })
	started := countEvents(h.a, func(o peer.Output) bool { return o.Kind == peer.Exchange && o.ExchangeEvent == peer.Started })
	if soft != 1 || started != 1 || indexOf(h.b, true) < 0 {
		t.Fatalf("packet at the margin: %d soft expiries, %d exchanges started, QM1 in flight %v; want 1, 1, true",
			soft, started, indexOf(h.b, true) >= 0)
	}
	h.lose(h.b, indexOf(h.b, true)) // the rekey never completes
	h.deliverESP(h.b)
	h.reset()

	spi, next, n, ok = h.a.g.CoastOut(0, coastSize)
	if !ok || n != math.MaxUint32-(next-1) {
		t.Fatalf("after the soft expiry: next %d n %d ok %v, want the rest of the 32-bit space", next, n, ok)
	}
	h.a.g.CoastSent(spi, n-1, coastSize)
	if _, next, n, ok = h.a.g.CoastOut(0, coastSize); !ok || n != 1 || next != math.MaxUint32 {
		t.Fatalf("one number left: next %d n %d ok %v", next, n, ok)
	}
	h.send(h.a)
	if got := binary.BigEndian.Uint32(h.b.inflight[indexOf(h.b, false)].Bytes[4:]); got != math.MaxUint32 {
		t.Fatalf("last packet carries seq %d", got)
	}
	h.deliverESP(h.b)
	if len(h.b.delivered) != 1 {
		t.Fatalf("the last sequence number was not delivered: drops %v", h.b.drops)
	}
	if _, _, ok := h.b.g.CoastIn(spi, coastSize); ok {
		t.Error("CoastIn ok above the highest possible sequence number")
	}
	if _, _, _, ok := h.a.g.CoastOut(0, coastSize); ok {
		t.Error("CoastOut ok with the sequence space exhausted")
	}
	h.send(h.a)
	if h.a.drops[peer.ReasonExpired] != 1 {
		t.Errorf("Send after exhaustion: drops %v, want one expired", h.a.drops)
	}
}

// BenchmarkCoastVsStep compares, per packet, a Send and a Receive through
// Step (seal, open) with CoastSent and CoastReceived.
func BenchmarkCoastVsStep(b *testing.B) {
	const size = 1400
	b.Run("step", func(b *testing.B) {
		h := benchPair(b, nil)
		benchESP(b, h.a.g, h.b.g)
	})
	b.Run("coast", func(b *testing.B) {
		h := benchPair(b, nil)
		spi, next, _, ok := h.a.g.CoastOut(0, size)
		if _, _, ok2 := h.b.g.CoastIn(spi, size); !ok || !ok2 {
			b.Fatal("refused")
		}
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			h.a.g.CoastSent(spi, 1, size)
			if r := h.b.g.CoastReceived(spi, next, size); r != "" {
				b.Fatal(r)
			}
			next++
		}
	})
}
