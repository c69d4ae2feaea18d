package refpair_test

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/ladder"
	"github.com/hitless-ike/hitless/props/rapidseed"
	"github.com/hitless-ike/hitless/props/refpair"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

var update = flag.Bool("update", false, "regenerate the committed fail files under props/testdata/rapid/ref")

// The reference in the hitless profile holds every property at once,
// through rapid's own test path (-rapid.checks, -rapid.seed and
// -rapid.failfile work as usual).
func TestReferenceHitless(t *testing.T) {
	rapid.Check(t, props.Property(refpair.Pair(quickmode.Hitless, refpair.Options{}), props.Options{}))
}

// The teeth matrix: every profile gets, on every property, the verdict
// written next to it in refpair.Expected, each from a separate search of
// rapid's default budget (100 schedules, from seed 1, or from the seed an
// expectation of a rare violation names). A profile expected to violate
// a property fails this test if rapid does NOT find the counterexample,
// or finds only a long one.
func TestTeethMatrix(t *testing.T) {
	for _, p := range quickmode.Profiles {
		t.Run(p.Name, func(t *testing.T) {
			exp := refpair.Expected(p.Name)
			if len(exp) != len(props.AllProperties) {
				t.Fatalf("no expected verdicts for profile %q", p.Name)
			}
			for _, e := range exp {
				o := props.CheckOptions{Seed: max(e.Seed, 1)}
				o.Properties = []props.PropertyID{e.Property}
				r := props.Check(refpair.Pair(p, refpair.Options{}), o)
				switch {
				case e.Violated && !r.Violated(e.Property):
					t.Errorf("%v: no counterexample in %d schedules; expected one because %s", e.Property, r.Checks, e.Reason)
				case !e.Violated && !r.Holds():
					t.Errorf("%v: %v (expected to hold because %s)\n%s", e.Property, r.Violations, e.Reason, ladder.Ladder(r.Counterexample))
				case e.Violated && r.Actions > 12:
					t.Errorf("%v: shrunk counterexample has %d actions, want ≤ 12:\n%s", e.Property, r.Actions, ladder.Ladder(r.Counterexample))
				}
			}
		})
	}
}

// failing lists the profiles with a committed fail file and the property
// it violates.
var failing = []struct {
	profile quickmode.Profile
	prop    props.PropertyID
	seed    uint64
}{
	{quickmode.InstallAtQM3, props.NoDrop, 1},
	{quickmode.ActivateAtQM1, props.NoDrop, 1},
	{quickmode.InitiatorAfterQM3, props.NoDrop, 1},
	{quickmode.CommitBit, props.NoDrop, 5844},
}

func failFile(p quickmode.Profile) string {
	return filepath.Join("..", "testdata", "rapid", "ref", p.Name+".fail")
}

// The committed fail files (props/testdata/rapid/ref/PROFILE.fail, written
// by rapid for the shrunk counterexample of each failing profile) replay
// to the same violation, so they are regression inputs; the hitless
// profile holds on each of the same schedules.
//
// A fail file holds rapid's choices, not the actions: when the harness's
// actions or the draws of refpair.Pair change, the files no longer
// replay the same schedule. Regenerate them with
//
//	go test ./props/refpair -run TestCommittedFailFiles -update
func TestCommittedFailFiles(t *testing.T) {
	for _, f := range failing {
		t.Run(f.profile.Name, func(t *testing.T) {
			file := failFile(f.profile)
			if *update {
				o := props.CheckOptions{Seed: f.seed, SaveFailFile: file}
				o.Properties = []props.PropertyID{f.prop}
				if r := props.Check(refpair.Pair(f.profile, refpair.Options{}), o); !r.Violated(f.prop) {
					t.Fatalf("no counterexample to save: %v", r.Verdicts)
				}
			}
			r := props.Check(refpair.Pair(f.profile, refpair.Options{}), props.CheckOptions{FailFile: file, ReplayOnly: true})
			if r.Checks != 1 || !r.Violated(f.prop) {
				t.Fatalf("replaying %s: checks %d, verdicts %v (regenerate with -update if the harness changed)\n%s", file, r.Checks, r.Verdicts, r.Report)
			}
			h := props.Check(refpair.Pair(quickmode.Hitless, refpair.Options{}), props.CheckOptions{FailFile: file, ReplayOnly: true})
			if !h.Holds() {
				t.Fatalf("hitless fails the schedule of %s: %v\n%s", file, h.Violations, ladder.Ladder(h.Counterexample))
			}
		})
	}
}

// The install-at-qm3 counterexample reads as a ladder: the Quick Mode
// messages by name, the ESP packet by SPI, the SA events, and the ✗ drop
// with its reason, at the step the violation names.
func TestLadderReadable(t *testing.T) {
	o := props.CheckOptions{Seed: 1}
	o.Properties = []props.PropertyID{props.NoDrop}
	r := props.Check(refpair.Pair(quickmode.InstallAtQM3, refpair.Options{}), o)
	if r.Counterexample == nil {
		t.Fatal("no counterexample")
	}
	lad, mer := ladder.Ladder(r.Counterexample), ladder.Mermaid(r.Counterexample)
	for _, want := range []string{"ref/install-at-qm3", "QM1 id=", "QM2 id=", "QM3 id=", "ESP spi=", "SA installed in spi=",
		"SA activated out spi=", "✗ drop spi=", "(unknown-spi)", "VIOLATION P1 no-drop"} {
		if !strings.Contains(lad, want) {
			t.Errorf("ladder lacks %q:\n%s", want, lad)
		}
	}
	for _, want := range []string{"```mermaid\nsequenceDiagram\n", "A->>B: QM1", "B->>A: QM2", "A->>B: ESP spi=", "Note over B: ✗ drop"} {
		if !strings.Contains(mer, want) {
			t.Errorf("mermaid lacks %q:\n%s", want, mer)
		}
	}
	ev := r.Counterexample.Steps[r.Violations[0].Step-1].Events
	if n := len(ev); n < 2 || ev[n-2].Kind != ladder.Dropped || ev[n-2].Detail != "unknown-spi" || ev[n-1].Kind != ladder.Violation {
		t.Errorf("violating step's events %+v, want the ✗ drop then the violation", ev)
	}
}

// QM3 lost. A hitless responder learns that the initiator has the new
// pair from ESP on it, from QM3, or from the initiator's Delete of the old
// pair (it retires a pair only once a newer one is complete). When QM3 is
// lost and the initiator sends nothing, the responder's QM2
// retransmission brings QM3 back before the initiator's Linger ends; and
// without retransmission, the Delete of the old pair makes the new
// outbound SA take over (gateway takeOver). A responder that switches
// only at QM3 (libreswan's timing) keeps sending on the old pair after it
// is gone: the same schedule breaks P1 there.
func TestQM3LossNeedsRetransmit(t *testing.T) {
	for _, c := range []struct {
		profile    quickmode.Profile
		retransmit bool
		lossy      bool
	}{
		{quickmode.Hitless, true, false},
		{quickmode.Hitless, false, false},
		{quickmode.InboundQM1OutboundQM3, false, true},
	} {
		m := established(t, 7, func(a, b *gateway.Config) {
			a.ResponderRetransmit, b.ResponderRetransmit = c.retransmit, c.retransmit
			a.Profile, b.Profile = c.profile, c.profile
		})
		m.Rekey(0, props.SideA)
		m.Deliver(0) // QM1
		m.Deliver(0) // QM2: A now sends on the new pair; QM3 in flight
		m.Lose(0)    // QM3
		m.Advance(refpair.Linger+refpair.MaxDelay, nil)
		for m.InFlight() > 0 {
			m.Deliver(0) // A's Delete of the old pair
		}
		m.Send(props.SideB, 0)
		m.Settle()
		p1 := count(m.Violations(), props.NoDrop)
		if !c.lossy && len(m.Violations()) != 0 || c.lossy && p1 == 0 {
			t.Errorf("%s, responder retransmit %v: violations %v\n%s", c.profile.Name, c.retransmit, m.Violations(), ladder.Ladder(m.Trace()))
		}
	}
}

// The Delete that overtakes QM3 (strongSwan sends it right behind QM3 and
// deletes its side of the old pair; between two charons the Delete was
// handled first in 69 of 140 rekeys, and hitless probe reproduces it
// against a live one). The hitless responder takes the Delete as the
// proof that the initiator holds the new pair and switches to it at once:
// what it sends next is delivered. A responder that switches only at QM3
// has no active SA until QM3 arrives.
func TestDeleteOvertakesQM3(t *testing.T) {
	for _, c := range []struct {
		profile quickmode.Profile
		lossy   bool
	}{{quickmode.Hitless, false}, {quickmode.InboundQM1OutboundQM3, true}} {
		m := established(t, 11, func(a, b *gateway.Config) {
			a.Profile, b.Profile = c.profile, c.profile
			a.DeleteOldAfterRekey, a.Linger = true, 0
		})
		m.Rekey(0, props.SideA)
		m.Deliver(0) // QM1
		m.Deliver(0) // QM2: A sends QM3, then a Delete of the old pair
		if m.InFlight() != 2 {
			t.Fatalf("%s: %d datagrams in flight after QM2, want QM3 and the Delete\n%s", c.profile.Name, m.InFlight(), ladder.Ladder(m.Trace()))
		}
		m.Deliver(1) // the Delete overtakes QM3
		m.Send(props.SideB, 0)
		m.Settle()
		p1 := count(m.Violations(), props.NoDrop)
		if !c.lossy && len(m.Violations()) != 0 || c.lossy && p1 == 0 {
			t.Errorf("%s: violations %v\n%s", c.profile.Name, m.Violations(), ladder.Ladder(m.Trace()))
		}
	}
}

// count is how many of vs are of property p.
func count(vs []props.Violation, p props.PropertyID) int {
	n := 0
	for _, v := range vs {
		if v.Property == p {
			n++
		}
	}
	return n
}

// TestMain fixes rapid's seed unless -rapid.seed is given (see rapidseed).
func TestMain(m *testing.M) { rapidseed.Main(m) }

// The Linger assumption, other side: when the rekey initiator deletes the
// old pair right after QM3 (strongSwan's behaviour, with a Delete that can
// overtake QM3) instead of lingering, a responder that activates only at
// QM3 keeps sending on a pair that is gone.
func TestLingerAssumption(t *testing.T) {
	tune := func(a, b *gateway.Config) {
		a.DeleteOldAfterRekey, b.DeleteOldAfterRekey = true, true
		a.Linger, b.Linger = 0, 0
	}
	o := props.CheckOptions{Seed: 1, ShrinkTime: time.Second}
	o.Properties = []props.PropertyID{props.NoDrop}
	r := props.Check(refpair.Pair(quickmode.InboundQM1OutboundQM3, refpair.Options{Tune: tune}), o)
	if !r.Violated(props.NoDrop) {
		t.Fatalf("no P1 violation without Linger in %d schedules", r.Checks)
	}
	t.Logf("%v", r.Violations[0])
}

// established returns a harness over two hitless gateways (one flow, A
// initiates, refpair's Linger and QM2 retransmission, then tune) whose
// first negotiation has completed and delivered A's first packet.
func established(t *testing.T, seed uint64, tune func(a, b *gateway.Config)) *props.Machine {
	t.Helper()
	ca := gateway.Config{Profile: quickmode.Hitless, Flows: refpair.Flows(1), Initiator: true, Linger: refpair.Linger, ResponderRetransmit: true}
	cb := gateway.Config{Profile: quickmode.Hitless, Flows: gateway.Mirror(refpair.Flows(1)), Linger: refpair.Linger, ResponderRetransmit: true}
	if tune != nil {
		tune(&ca, &cb)
	}
	a, b, err := gateway.NewPair(seed, ca, cb)
	if err != nil {
		t.Fatal(err)
	}
	m := props.NewMachine(a, b, refpair.Info(quickmode.Hitless, 1), true, nil)
	m.Send(props.SideA, 0)
	for m.InFlight() > 0 {
		m.Deliver(0)
	}
	return m
}
