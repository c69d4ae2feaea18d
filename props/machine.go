package props

import (
	"time"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props/ladder"
)

// Options configure a property run.
type Options struct {
	// Properties to check (nil: AllProperties).
	Properties []PropertyID
	// BreakAssumptions lets schedules break the pair's Assumptions (late
	// delivery, losses beyond MaxLosses); the drops that follow are
	// classified. By default schedules stay within them.
	BreakAssumptions bool
	// NoSettle skips the settle phase (and so P4).
	NoSettle bool
	// DeleteActive lets the operator-delete action delete SA pairs in use
	// (see Machine.DeleteSA).
	DeleteActive bool
	// Observe, if set, is called with the machine after each schedule
	// (passing or not), e.g. to collect classified drops.
	Observe func(*Machine)
}

// Property returns the rapid property for pair: build the peers, run a
// schedule of actions drawn by rapid (T.Repeat) checking P1, P2, P3, P5
// and P6 after every step, then settle and check P4. Use it with
// rapid.Check, rapid.MakeCheck or rapid.MakeFuzz.
func Property(pair Pair, opts Options) func(*rapid.T) {
	return func(t *rapid.T) {
		a, b, info := pair(t)
		m := NewMachine(a, b, info, !opts.BreakAssumptions, opts.Properties)
		m.AllowDeleteActive(opts.DeleteActive)
		if opts.Observe != nil {
			defer opts.Observe(m)
		}
		t.Repeat(m.actions())
		if !opts.NoSettle {
			m.Settle()
			m.afterStep()
			m.failOn(t)
		}
	}
}

// actions are the schedule's actions for T.Repeat. Every action is always
// applicable (a no-op when it has nothing to act on), so rapid never runs
// out of valid actions; "" checks the properties after every step.
func (m *Machine) actions() map[string]func(*rapid.T) {
	flow := func(t *rapid.T) int { return rapid.IntRange(0, m.info.Flows-1).Draw(t, "flow") }
	pick := func(t *rapid.T, n int, what string) int {
		if n == 0 {
			return -1
		}
		return rapid.IntRange(0, n-1).Draw(t, what)
	}
	loser := func(t *rapid.T) func() bool {
		return func() bool { return rapid.Bool().Draw(t, "lose overdue") }
	}
	ofKind := func(ike bool) []int {
		var idx []int
		for i, f := range m.flights {
			if f.ike == ike {
				idx = append(idx, i)
			}
		}
		return idx
	}
	pickOf := func(t *rapid.T, ike bool) int {
		idx := ofKind(ike)
		if i := pick(t, len(idx), "datagram"); i >= 0 {
			return idx[i]
		}
		return -1
	}
	smallStep := m.info.Assumptions.MaxDelay
	if smallStep <= 0 {
		smallStep = 500 * time.Millisecond
	}
	return map[string]func(*rapid.T){
		"send A→B":      func(t *rapid.T) { m.Send(SideA, flow(t)) },
		"send B→A":      func(t *rapid.T) { m.Send(SideB, flow(t)) },
		"deliver":       func(t *rapid.T) { m.Deliver(pick(t, len(m.flights), "datagram")) },
		"lose IKE":      func(t *rapid.T) { m.Lose(pickOf(t, true)) },
		"duplicate IKE": func(t *rapid.T) { m.Duplicate(pickOf(t, true)) },
		"lose ESP":      func(t *rapid.T) { m.Lose(pickOf(t, false)) },
		"wait": func(t *rapid.T) {
			d := rapid.Int64Range(1, int64(2*smallStep/time.Millisecond)).Draw(t, "ms")
			m.Advance(time.Duration(d)*time.Millisecond, loser(t))
		},
		"wait for timer": func(t *rapid.T) { m.AdvanceToTimer(loser(t)) },
		// Long enough for lifetimes to pass mid-schedule, so soft and
		// hard expiries meet losses, reordering and operator rekeys
		// (every timer on the way fires in order).
		"wait long": func(t *rapid.T) {
			d := rapid.Int64Range(1, int64(longWait(m.info)/time.Millisecond)).Draw(t, "ms")
			m.Advance(time.Duration(d)*time.Millisecond, loser(t))
		},
		"rekey A":    func(t *rapid.T) { m.Rekey(flow(t), SideA) },
		"rekey B":    func(t *rapid.T) { m.Rekey(flow(t), SideB) },
		"rekey both": func(t *rapid.T) { m.Rekey(flow(t), SideA, SideB) },
		"operator delete": func(t *rapid.T) {
			m.DeleteSA(Side(rapid.IntRange(0, 1).Draw(t, "side")), rapid.IntRange(0, 7).Draw(t, "sa"))
		},
		"replay": func(t *rapid.T) { m.Replay(rapid.IntRange(0, historyLen-1).Draw(t, "old datagram")) },
		"forge": func(t *rapid.T) {
			m.Forge(rapid.IntRange(0, historyLen-1).Draw(t, "old IKE datagram"), rapid.IntRange(0, 1<<12).Draw(t, "bit"))
		},
		"": func(t *rapid.T) {
			if m.cur != nil {
				m.afterStep()
			}
			m.failOn(t)
		},
	}
}

// longWait bounds the "wait long" action: a quarter of the settle
// horizon (which exceeds the hard lifetime), or 30s.
func longWait(info PairInfo) time.Duration {
	if info.SettleHorizon >= 4*time.Millisecond {
		return info.SettleHorizon / 4
	}
	return 30 * time.Second
}

// failOn fails t on the first violation. Each property fails from its own
// call site, so rapid (which shrinks towards the same failure location)
// keeps shrinking a P1 counterexample as a P1 counterexample.
func (m *Machine) failOn(t *rapid.T) {
	if len(m.violations) == 0 {
		return
	}
	v := m.violations[0]
	t.Logf("counterexample (%d steps):\n%v", m.trace.Len(), rendered{&m.trace})
	switch v.Property {
	case NoDrop:
		t.Fatalf("%v", &v)
	case Protected:
		t.Fatalf("%v", &v)
	case Agreement:
		t.Fatalf("%v", &v)
	case Convergence:
		t.Fatalf("%v", &v)
	case ForgeryInert:
		t.Fatalf("%v", &v)
	default:
		t.Fatalf("%v", &v)
	}
}

// rendered formats a trace only when rapid actually logs it (the final
// replay), not on each of the thousands of runs while shrinking.
type rendered struct{ t *ladder.Trace }

func (r rendered) String() string { return ladder.Ladder(r.t) + "\n" + ladder.Mermaid(r.t) }
