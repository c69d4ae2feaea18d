package props_test

import (
	"bytes"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/internal/toy"
	"github.com/hitless-ike/hitless/ref/peer"
)

// mutant wraps a correct toy peer and breaks exactly one property, so each
// property is shown able to fail.
type mutant struct {
	peer.Peer
	clearText  bool // P2: also sends every application packet in clear
	dupDeliver bool // P2: hands every delivered packet up twice
	keyLie     bool // P3: reports other key material for its outbound SAs
	corrupt    bool // P2: flips a bit of every packet it delivers
	forgeState bool // P5: remembers rejected messages in its State
	rejected   int
}

func (m *mutant) Step(in peer.Input) []peer.Output {
	outs := m.Peer.Step(in)
	var extra []peer.Output
	for _, o := range outs {
		switch {
		case o.Kind == peer.Deliver && m.dupDeliver:
			extra = append(extra, o)
		case o.Kind == peer.Deliver && m.corrupt:
			o.Packet[len(o.Packet)-1] ^= 1
		case o.Kind == peer.Reject && m.forgeState:
			m.rejected++
		}
	}
	if in.Kind == peer.Send && m.clearText {
		extra = append(extra, peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.ESP, Bytes: in.Packet}})
	}
	return append(outs, extra...)
}

func (m *mutant) State() peer.State {
	st := m.Peer.State()
	for i := range st.SAs {
		if m.keyLie && st.SAs[i].Direction == peer.Outbound {
			st.SAs[i].KeyID += "-lie"
		}
	}
	st.HalfOpen += m.rejected
	return st
}

func mutantPair(mut mutant, tune func(*toy.Config), info func(*props.PairInfo)) props.Pair {
	return func(t *rapid.T) (peer.Peer, peer.Peer, props.PairInfo) {
		a, b := toy.NewPair(toy.Hitless, rapid.Uint64Range(0, 255).Draw(t, "peer seed"), tune)
		i := toyInfo(toy.Hitless)
		if info != nil {
			info(&i)
		}
		m := mut
		m.Peer = a
		return &m, b, i
	}
}

// Every property can fail: each mutant (or configuration past its limits)
// must be caught by its property alone.
func TestEachPropertyCanFail(t *testing.T) {
	cases := []struct {
		name string // the input class each case covers
		prop props.PropertyID
		pair props.Pair
	}{
		{"application packet sent in clear", props.Protected, mutantPair(mutant{clearText: true}, nil, nil)},
		{"packet delivered twice", props.Protected, mutantPair(mutant{dupDeliver: true}, nil, nil)},
		{"packet delivered corrupted", props.Protected, mutantPair(mutant{corrupt: true}, nil, nil)},
		{"peers disagree on key material", props.Agreement, mutantPair(mutant{keyLie: true}, nil, nil)},
		{"superseded pairs never deleted", props.Convergence, mutantPair(mutant{}, func(c *toy.Config) {
			c.Soft, c.Hard, c.Linger = 500*time.Second, 1000*time.Second, 1000*time.Second
		}, nil)},
		{"forged message changes state", props.ForgeryInert, mutantPair(mutant{forgeState: true}, nil, nil)},
		{"SA table beyond its limit", props.Bounded, mutantPair(mutant{}, nil, func(i *props.PairInfo) { i.Limits.MaxSAsPerFlow = 2 })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := props.CheckOptions{Checks: 300, Seed: 5}
			o.Properties = []props.PropertyID{c.prop}
			r := props.Check(c.pair, o)
			if !r.Violated(c.prop) {
				t.Fatalf("%v not violated in %d checks", c.prop, r.Checks)
			}
			if len(r.Violations) == 0 || r.Violations[0].Property != c.prop {
				t.Fatalf("violations %v", r.Violations)
			}
		})
	}
}

// deliverAll delivers every datagram in flight, oldest first.
func deliverAll(m *props.Machine) {
	for i := 0; m.InFlight() > 0 && i < 100; i++ {
		m.Deliver(0)
	}
}

// established returns a machine whose hitless toy peers share one pair
// and have just rekeyed from A up to QM2: A uses the new pair, QM3 is in
// flight, and B has an ESP packet on the old pair in flight.
func rekeyInProgress(t *testing.T, enforce bool) *props.Machine {
	a, b := toy.NewPair(toy.Hitless, 1, nil)
	m := props.NewMachine(a, b, toyInfo(toy.Hitless), enforce, nil)
	m.Send(props.SideA, 0)
	deliverAll(m)
	m.Rekey(0, props.SideA)
	m.Deliver(0) // QM1
	m.Deliver(0) // QM2; QM3 now in flight
	m.Send(props.SideB, 0)
	if m.InFlight() != 2 || len(m.Violations()) != 0 {
		t.Fatalf("setup: %d in flight, violations %v", m.InFlight(), m.Violations())
	}
	return m
}

// Bounded delay, both sides. Within it, time cannot pass an in-flight
// datagram's deadline, so the old-SA packet arrives before A deletes the
// old pair. Beyond it, the packet arrives after the deletion: the drop
// happens, and is classified, not reported as a P1 violation.
func TestAssumptionBoundedDelay(t *testing.T) {
	t.Run("within", func(t *testing.T) {
		m := rekeyInProgress(t, true)
		m.Deliver(0) // QM3: B switches to the new pair
		m.Advance(15*time.Second, nil)
		deliverAll(m)
		m.Settle()
		if len(m.Violations()) != 0 || len(m.Classified()) != 0 {
			t.Fatalf("violations %v, classified %v", m.Violations(), m.Classified())
		}
	})
	t.Run("beyond", func(t *testing.T) {
		m := rekeyInProgress(t, false)
		m.Deliver(0)                   // QM3: B switches to the new pair
		m.Advance(15*time.Second, nil) // A's linger timer deletes the old pair
		deliverAll(m)                  // the old-SA packet arrives late
		m.Settle()
		if len(m.Violations()) != 0 {
			t.Fatalf("violations %v", m.Violations())
		}
		if m.Classified()[props.ClassBeyondDelay] == 0 {
			t.Fatalf("late packet's drop not classified: %v", m.Classified())
		}
	})
}

// Finite loss, both sides. QM3 and every QM2 retransmission are lost:
// within the assumption the third loss is refused and the responder
// completes; beyond it the responder gives up and withdraws the pair A
// already uses, and the drops that follow are classified.
func TestAssumptionFiniteLoss(t *testing.T) {
	for _, enforce := range []bool{true, false} {
		m := rekeyInProgress(t, enforce)
		m.Deliver(1) // the old-SA packet: fine
		for range 6 {
			if m.InFlight() > 0 {
				m.Lose(0)
			}
			m.AdvanceToTimer(nil)
		}
		m.Send(props.SideA, 0)
		deliverAll(m)
		if len(m.Violations()) != 0 {
			t.Fatalf("enforce=%v: violations %v", enforce, m.Violations())
		}
		got := m.Classified()[props.ClassBeyondLoss]
		if enforce && len(m.Classified()) != 0 || !enforce && got == 0 {
			t.Fatalf("enforce=%v: classified %v", enforce, m.Classified())
		}
	}
}

// Soft-to-hard margin, both sides: with a 1s margin and a negotiation that
// may take 4.8s, a rekey whose first QM1s are lost lets the hard lifetime
// expire while a packet on the old pair is (legitimately) in flight.
// Declared honestly, the drop is classified; declared as if the margin were
// ample, it is a P1 violation.
func TestAssumptionMargin(t *testing.T) {
	always := func() bool { return true }
	for _, margin := range []time.Duration{time.Second, time.Hour} {
		a, b := toy.NewPair(toy.Hitless, 1, func(c *toy.Config) { c.Soft, c.Hard = 5*time.Second, 6*time.Second })
		info := toyInfo(toy.Hitless)
		info.Assumptions.SoftToHard = margin
		m := props.NewMachine(a, b, info, true, nil)
		m.Send(props.SideA, 0)
		deliverAll(m)
		m.Advance(5800*time.Millisecond, always) // soft expiry at 5s: both rekey, their QM1s are lost
		m.Send(props.SideB, 0)                   // on the old pair, due by 6.2s
		m.Advance(300*time.Millisecond, always)  // hard expiry at 6s
		m.Deliver(0)
		switch {
		case margin == time.Second && (len(m.Violations()) != 0 || m.Classified()[props.ClassMargin] != 1):
			t.Errorf("honest margin: violations %v, classified %v", m.Violations(), m.Classified())
		case margin == time.Hour && (len(m.Violations()) != 1 || m.Violations()[0].Property != props.NoDrop):
			t.Errorf("margin declared ample: violations %v, classified %v", m.Violations(), m.Classified())
		}
	}
}

// Schedules free to break every assumption still never report P1: the
// drops they cause are classified.
func TestBrokenAssumptionsAreClassified(t *testing.T) {
	classified := map[string]int{}
	o := props.CheckOptions{Checks: 300, Seed: 11}
	o.BreakAssumptions = true
	o.Properties = []props.PropertyID{props.NoDrop, props.Protected, props.Agreement, props.ForgeryInert, props.Bounded}
	o.Observe = func(m *props.Machine) {
		for k, v := range m.Classified() {
			classified[k] += v
		}
	}
	r := props.Check(toyPair(toy.Hitless), o)
	if !r.Holds() {
		t.Fatalf("violations %v\n%s", r.Violations, r.Report)
	}
	t.Logf("classified: %v", classified)
	if classified[props.ClassBeyondDelay]+classified[props.ClassBeyondLoss] == 0 {
		t.Errorf("no drop beyond the assumptions in %d schedules", r.Checks)
	}
}

// answersForgery wraps a toy peer and replaces each Reject with an IKE
// datagram: again the last one it sent (a duplicate's answer) or, with
// fresh, a new one.
type answersForgery struct {
	peer.Peer
	fresh bool
	last  []byte
}

func (f *answersForgery) Step(in peer.Input) []peer.Output {
	outs := f.Peer.Step(in)
	for i, o := range outs {
		if o.Kind == peer.Transmit && o.Datagram.IsIKE() {
			f.last = bytes.Clone(o.Datagram.Bytes)
		}
		if o.Kind == peer.Reject && f.last != nil {
			b := f.last
			if f.fresh {
				b = append(bytes.Clone(b), 0)
			}
			outs[i] = peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.UDP500, Bytes: b}}
		}
	}
	return outs
}

// P5 and the duplicate rule, both sides: a forged message answered with a
// byte-identical retransmission (what a peer does when a flipped padding
// bit leaves the message authentic, a duplicate in effect) changes
// nothing and is accepted; answered with a message never sent before, it
// is a violation.
func TestForgeryAnsweredAsDuplicate(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		a, b := toy.NewPair(toy.Hitless, 1, nil)
		wa := &answersForgery{Peer: a, fresh: fresh}
		m := props.NewMachine(wa, b, toyInfo(toy.Hitless), true, nil)
		m.Send(props.SideA, 0)
		deliverAll(m) // QM1 to B, QM2 to A (A's last transmit: QM3), QM3 and ESP to B
		for bit := range 8 {
			m.Forge(1, 64+bit) // B's QM2, one bit of its header flipped, back to A
		}
		var p5 int
		for _, v := range m.Violations() {
			if v.Property == props.ForgeryInert {
				p5++
			}
		}
		switch {
		case !fresh && len(m.Violations()) != 0:
			t.Errorf("retransmission as answer (input class: authentic-in-effect forgery): violations %v", m.Violations())
		case fresh && p5 == 0:
			t.Errorf("new datagram as answer (input class: forgery answered with a new message): no P5 violation")
		}
	}
}
