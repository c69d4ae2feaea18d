package props_test

import (
	"flag"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/internal/toy"
	"github.com/hitless-ike/hitless/props/ladder"
	"github.com/hitless-ike/hitless/ref/peer"
)

// The timings that must hold every property, on rapid's default budget
// (-rapid.checks, 100 unless told otherwise). These run through rapid's
// own test path, so fail files land in testdata/rapid/<test>/ and
// -rapid.failfile / -rapid.seed reproduce them.
func TestToyHitless(t *testing.T) {
	rapid.Check(t, props.Property(toyPair(toy.Hitless), props.Options{}))
}

func TestToyInboundQM1OutboundQM3(t *testing.T) {
	rapid.Check(t, props.Property(toyPair(toy.InboundQM1OutboundQM3), props.Options{}))
}

// Each bad timing must be caught: the test fails if rapid does NOT find a
// violation of P1, or if the shrunk counterexample is long.
func TestToyBadTimingsCaught(t *testing.T) {
	for _, p := range []toy.Profile{toy.InstallAtQM3, toy.ActivateAtQM1, toy.InitiatorAfterQM3} {
		t.Run(p.Name, func(t *testing.T) {
			r := props.Check(toyPair(p), props.CheckOptions{Checks: 300, Seed: 7})
			if !r.Violated(props.NoDrop) {
				t.Fatalf("no P1 violation found in %d checks; verdicts %v", r.Checks, r.Verdicts)
			}
			if r.Actions > 12 {
				t.Errorf("shrunk counterexample has %d actions, want ≤ 12:\n%s", r.Actions, ladder.Ladder(r.Counterexample))
			}
			for k, v := range r.Verdicts {
				if k != props.NoDrop && !v {
					t.Errorf("%v violated too: %v", k, r.Violations)
				}
			}
		})
	}
}

// The counterexample of install-at-qm3 read as a ladder and as Mermaid:
// the structure a reader relies on is asserted, not a golden text.
func TestCounterexampleRendering(t *testing.T) {
	r := props.Check(toyPair(toy.InstallAtQM3), props.CheckOptions{Checks: 300, Seed: 7})
	if r.Counterexample == nil {
		t.Fatal("no counterexample")
	}
	lad, mer := ladder.Ladder(r.Counterexample), ladder.Mermaid(r.Counterexample)
	t.Logf("ladder:\n%s\nmermaid:\n%s", lad, mer)
	for _, want := range []string{"toy/install-at-qm3", "| network", "QM1 id=", "QM2 id=", "ESP spi=", "✗ drop", "unknown-spi", "VIOLATION P1 no-drop"} {
		if !strings.Contains(lad, want) {
			t.Errorf("ladder lacks %q", want)
		}
	}
	if !strings.HasPrefix(mer, "```mermaid\nsequenceDiagram\n") || !strings.HasSuffix(mer, "```\n") {
		t.Errorf("mermaid not a fenced sequenceDiagram:\n%s", mer)
	}
	for _, want := range []string{"A->>B: QM1", "B->>A: QM2", "->>B: ESP spi=", "Note over B: ✗ drop"} {
		if !strings.Contains(mer, want) {
			t.Errorf("mermaid lacks %q", want)
		}
	}
	// The step the violation names ends with the ✗ drop and the violation.
	v := r.Violations[0]
	ev := r.Counterexample.Steps[v.Step-1].Events
	if n := len(ev); n < 2 || ev[n-2].Kind != ladder.Dropped || !ev[n-2].Bad || ev[n-1].Kind != ladder.Violation {
		t.Errorf("step %d events %+v, want the ✗ drop then the violation", v.Step, ev)
	}
}

var update = flag.Bool("update", false, "regenerate the committed fail file testdata/rapid/install-at-qm3.fail")

// A committed rapid fail file (testdata/rapid/install-at-qm3.fail, written
// by rapid for the install-at-qm3 toy) replays to the same violation, and
// the same schedule holds on the hitless timing. The file holds rapid's
// choices: when the harness's actions change, regenerate it with
//
//	go test ./props -run TestCommittedFailFileReplays -update
func TestCommittedFailFileReplays(t *testing.T) {
	const file = "testdata/rapid/install-at-qm3.fail"
	if *update {
		o := props.CheckOptions{Checks: 300, Seed: 7, SaveFailFile: file}
		o.Properties = []props.PropertyID{props.NoDrop}
		if r := props.Check(toyPair(toy.InstallAtQM3), o); !r.Violated(props.NoDrop) {
			t.Fatalf("no counterexample to save: %v", r.Verdicts)
		}
	}
	r := props.Check(toyPair(toy.InstallAtQM3), props.CheckOptions{FailFile: file, ReplayOnly: true})
	if r.Checks != 1 || !r.Violated(props.NoDrop) {
		t.Fatalf("replay: checks %d, verdicts %v, report:\n%s", r.Checks, r.Verdicts, r.Report)
	}
	h := props.Check(toyPair(toy.Hitless), props.CheckOptions{FailFile: file, ReplayOnly: true})
	if !h.Holds() {
		t.Fatalf("hitless fails the replayed schedule: %v", h.Violations)
	}
}

// Check's API: deterministic for a seed, reports progress, honours the
// time budget.
func TestCheckAPI(t *testing.T) {
	var calls int
	r1 := props.Check(toyPair(toy.ActivateAtQM1), props.CheckOptions{Checks: 300, Seed: 3, Progress: func(props.Progress) { calls++ }})
	r2 := props.Check(toyPair(toy.ActivateAtQM1), props.CheckOptions{Checks: 300, Seed: 3})
	if r1.Seed != r2.Seed || r1.Checks != r2.Checks || ladder.Ladder(r1.Counterexample) != ladder.Ladder(r2.Counterexample) {
		t.Errorf("same seed, different runs: seed %d/%d checks %d/%d", r1.Seed, r2.Seed, r1.Checks, r2.Checks)
	}
	if calls != r1.Checks-1 {
		t.Errorf("progress called %d times for %d checks (the failing one reports no progress)", calls, r1.Checks)
	}
	r := props.Check(toyPair(toy.Hitless), props.CheckOptions{Checks: 1 << 20, Budget: 50 * time.Millisecond})
	if !r.Holds() || r.Checks >= 1<<20 || r.Elapsed > 5*time.Second {
		t.Errorf("budget not honoured: %d checks in %v", r.Checks, r.Elapsed)
	}
	each := props.CheckEach(toyPair(toy.InstallAtQM3), props.CheckOptions{Checks: 100, Options: props.Options{Properties: []props.PropertyID{props.NoDrop, props.Agreement}}})
	if len(each) != 2 || !each[0].Violated(props.NoDrop) || !each[1].Holds() {
		t.Errorf("CheckEach: %+v", each)
	}
}

// Two flows, each rekeyed independently: the hitless timing still holds
// every property (flows are drawn per action).
func TestToyHitlessTwoFlows(t *testing.T) {
	pair := func(t *rapid.T) (peer.Peer, peer.Peer, props.PairInfo) {
		a, b := toy.NewPair(toy.Hitless, rapid.Uint64Range(0, 255).Draw(t, "peer seed"), func(c *toy.Config) { c.Flows = 2 })
		info := toyInfo(toy.Hitless)
		info.Flows = 2
		info.Limits.MaxQueued = 16
		return a, b, info
	}
	if r := props.Check(pair, props.CheckOptions{Checks: 300, Seed: 21}); !r.Holds() {
		t.Fatalf("%v\n%s", r.Violations, ladder.Ladder(r.Counterexample))
	}
}

// The harness's own inputs out of range (input class: index beyond the
// network or history, empty network, no timer) are no-ops, never panics.
func TestMachineOutOfRange(t *testing.T) {
	a, b := toy.NewPair(toy.Hitless, 1, nil)
	m := props.NewMachine(a, b, toyInfo(toy.Hitless), true, nil)
	m.Deliver(-1)
	m.Deliver(3)
	m.Lose(0)
	m.Duplicate(7)
	m.Replay(5)
	m.Forge(2, 99)
	m.DeleteSA(props.SideA, 4)
	m.AdvanceToTimer(nil)
	m.Advance(0, nil)
	if n := m.Trace().Len(); n != 0 {
		t.Fatalf("no-op actions left %d steps", n)
	}
	m.Settle()
	if len(m.Violations()) != 0 {
		t.Fatal(m.Violations())
	}
}
