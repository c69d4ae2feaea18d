package gateway

import (
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/ladder"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
	"github.com/hitless-ike/hitless/ref/sadb"
)

// propsPair builds two reference gateways for the property harness with
// the lifetimes the findings were made with: soft 30 s, hard 60 s,
// linger 10 s.
func propsPair(profile quickmode.Profile) props.Pair {
	return func(t *rapid.T) (peer.Peer, peer.Peer, props.PairInfo) {
		seed := rapid.Uint64().Draw(t, "seed")
		a, b := pairConfigs(profile)
		ga, gb, err := NewPair(seed, a, b)
		if err != nil {
			t.Fatal(err)
		}
		return ga, gb, pairInfo(profile)
	}
}

func pairConfigs(profile quickmode.Profile) (a, b Config) {
	a = Config{Profile: profile, Flows: testFlows, Initiator: true, ResponderRetransmit: true,
		Lifetime: Lifetimes{Soft: 30 * time.Second, Hard: 60 * time.Second}, Linger: 10 * time.Second}
	b = a
	b.Flows, b.Initiator = Mirror(testFlows), false
	return a, b
}

func pairInfo(profile quickmode.Profile) props.PairInfo {
	return props.PairInfo{
		Name: "gateway/" + profile.Name, Flows: 1,
		Limits: props.Limits{MaxSAsPerFlow: 8, MaxHalfOpen: 16, MaxQueued: 16},
		Assumptions: props.Assumptions{MaxDelay: 500 * time.Millisecond, MaxLosses: 2,
			SoftToHard: 30 * time.Second, WorstNegotiation: 16 * time.Second},
		SettleHorizon: 300 * time.Second,
	}
}

// inFlight mirrors the machine's in-flight datagrams from its trace, in
// the machine's order: sends and duplicates append, deliveries and losses
// remove the first datagram with that label (the machine's own choice
// when the test always picks the first match, as find does).
func inFlight(m *props.Machine) []string {
	var fl []string
	for _, st := range m.Trace().Steps {
		for _, e := range st.Events {
			label := strings.TrimSuffix(e.Label, " (late)")
			key := e.From.String() + " " + label
			switch e.Kind {
			case ladder.Sent, ladder.Duplicated:
				fl = append(fl, key)
			case ladder.Arrived, ladder.Lost:
				if i := slices.Index(fl, key); i >= 0 {
					fl = slices.Delete(fl, i, i+1)
				}
			}
		}
	}
	return fl
}

// find returns the index of the first in-flight datagram from side
// ("A" or "B") whose label starts with prefix; the test fails without one.
func find(t *testing.T, m *props.Machine, from, prefix string) int {
	t.Helper()
	fl := inFlight(m)
	if len(fl) != m.InFlight() {
		t.Fatalf("mirror of the network out of step: %d vs %d", len(fl), m.InFlight())
	}
	for i, k := range fl {
		if strings.HasPrefix(k, from+" "+prefix) {
			return i
		}
	}
	t.Fatalf("no %s datagram from %s in flight: %q\n%s", prefix, from, fl, ladder.Ladder(m.Trace()))
	return -1
}

func never() bool { return false }

// loseDeletes has the network lose every Informational from A in flight.
func loseDeletes(m *props.Machine) {
	for {
		i := slices.IndexFunc(inFlight(m), func(k string) bool { return strings.HasPrefix(k, "A Info/Delete") })
		if i < 0 {
			return
		}
		m.Lose(i)
	}
}

// noViolations fails t with the ladder if the machine found any.
func noViolations(t *testing.T, m *props.Machine) {
	t.Helper()
	if v := m.Violations(); len(v) > 0 {
		t.Fatalf("%v\n%s", v, ladder.Ladder(m.Trace()))
	}
}

// Finding 1 (P1 after ~163 checks, shrunk to 19 actions): a simultaneous
// rekey that A sees as a collision and B as an ordinary newer rekey. A
// keeps the lower-M-ID pair W and deletes its own redundant pair L; its
// Delete is lost (and so is its first retransmission); B keeps sending on
// L. A used to remove its inbound SA of L after DeleteGrace (2 s) and drop
// B's packets as unknown-spi. Now A keeps it until B answers, re-sends
// the Delete when ESP arrives on L, and both converge on W.
func TestFindingP1CollisionLostDelete(t *testing.T) {
	ran := 0
	for seed := uint64(1); seed < 40 && ran < 3; seed++ {
		a, b := pairConfigs(quickmode.Hitless)
		ga, gb, err := NewPair(seed, a, b)
		if err != nil {
			t.Fatal(err)
		}
		m := props.NewMachine(ga, gb, pairInfo(quickmode.Hitless), true, nil)
		// Establish the first pair and prove it both ways.
		m.Send(props.SideA, 0)
		m.Deliver(find(t, m, "A", "QM1"))
		m.Deliver(find(t, m, "B", "QM2"))
		m.Deliver(find(t, m, "A", "QM3"))
		m.Deliver(find(t, m, "A", "ESP"))
		m.Send(props.SideB, 0)
		m.Deliver(find(t, m, "B", "ESP"))

		// A starts L; before QM1(L) reaches B, B starts W and completes
		// it (A answers QM1(W) with L open). At B, W ended before L began:
		// no overlap, L is an ordinary newer rekey. At A the two overlap.
		m.Rekey(0, props.SideA)
		m.Rekey(0, props.SideB)
		m.Deliver(find(t, m, "B", "QM1"))
		m.Deliver(find(t, m, "A", "QM2")) // W completes at B
		m.Deliver(find(t, m, "A", "QM1")) // L starts at B
		m.Deliver(find(t, m, "B", "QM2")) // L completes at A
		m.Deliver(find(t, m, "B", "QM3")) // W completes at A: the collision
		w, l := ga.db.ByMessageID(gb.xs[len(gb.xs)-2].mid, sadb.Inbound), ga.db.ByMessageID(ga.xs[len(ga.xs)-2].mid, sadb.Inbound)
		if w == nil || l == nil || w.MessageID > l.MessageID {
			continue // this seed's M-IDs make L the winner: another seed
		}
		if x := ga.info(l.MessageID); x == nil || !x.loser {
			t.Fatalf("seed %d: A did not see the collision", seed)
		}
		if x := gb.info(l.MessageID); x == nil || x.resolved {
			t.Fatalf("seed %d: B saw the collision too", seed)
		}
		ran++
		loseDeletes(m)                    // A's Delete for L (if sent yet) is lost
		m.Deliver(find(t, m, "A", "QM3")) // B activates L, the newer pair for it
		m.Send(props.SideB, 0)            // on L
		m.Deliver(find(t, m, "B", "ESP"))
		m.Advance(time.Second, never) // A's Delete leaves DeleteGrace after A stopped sending on L...
		loseDeletes(m)                // ...and is lost
		m.Advance(time.Second, never) // so is its retransmission
		loseDeletes(m)
		m.Advance(100*time.Millisecond, never)
		if ga.db.Inbound(l.SPI) == nil {
			t.Errorf("seed %d: A removed L's inbound SA on a timer while B still sends on it", seed)
		}
		m.Send(props.SideB, 0) // still on L, past the old 2 s DeleteGrace
		m.Send(props.SideA, 0) // on W
		m.Settle()
		noViolations(t, m)
		for _, g := range []*Gateway{ga, gb} {
			if act := g.db.Active(0); act == nil || act.MessageID != w.MessageID {
				t.Fatalf("seed %d: active %+v, want the pair of W %#x", seed, act, w.MessageID)
			}
		}
	}
	if ran == 0 {
		t.Fatal("no seed gave the collision with W winning")
	}
}

// Finding 2 (P4 for hitless and inbound-qm1-outbound-qm3): without rekey
// fuzz both sides soft-expire together and every rekey is a collision. A
// pair that had won a collision was never retired after a later rekey
// (the Linger rule skipped every resolved winner), so pairs piled up until
// their hard expiry, which coincides with the next collision: "A holds 3
// inbound, 2 outbound" at the end of any settle horizon.
func TestFindingP4ConvergenceAfterCollisions(t *testing.T) {
	for _, p := range []quickmode.Profile{quickmode.Hitless, quickmode.InboundQM1OutboundQM3} {
		a, b := pairConfigs(p)
		ga, gb, err := NewPair(3, a, b)
		if err != nil {
			t.Fatal(err)
		}
		m := props.NewMachine(ga, gb, pairInfo(p), true, nil)
		// Run as the settle phase does, but past its first converged
		// instant: deliver everything at once, then jump to the next timer.
		m.Send(props.SideA, 0)
		for m.Now() < 200*time.Second {
			for m.InFlight() > 0 {
				m.Deliver(0)
			}
			m.Send(props.SideA, 0)
			m.Send(props.SideB, 0)
			m.AdvanceToTimer(never)
		}
		collisions := 0
		for _, x := range ga.xs {
			if x.resolved && x.role == quickmode.Initiator {
				collisions++
			}
		}
		if collisions == 0 {
			t.Fatalf("%s: no simultaneous rekey happened", p.Name)
		}
		m.Settle()
		noViolations(t, m)
	}
}

// Every property holds for the reference in the profiles that do not lose
// traffic, on a fixed budget of schedules with a fixed seed.
func TestPropsCheck(t *testing.T) {
	for _, p := range []quickmode.Profile{quickmode.Hitless, quickmode.InboundQM1OutboundQM3} {
		r := props.Check(propsPair(p), props.CheckOptions{Checks: 300, Seed: 1})
		if !r.Holds() {
			t.Errorf("%s: %v\n%s", p.Name, r.Violations, ladder.Ladder(r.Counterexample))
		}
	}
}
