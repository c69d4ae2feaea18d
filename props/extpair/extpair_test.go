package extpair_test

import (
	"os"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/extpair"
	"github.com/hitless-ike/hitless/props/ladder"
	"github.com/hitless-ike/hitless/props/refpair"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/peer/adapter"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// TestMain lets the test binary be the shim: with HITLESS_SERVE_PROFILE
// set it serves the reference gateway in that profile over stdin/stdout,
// as `hitless peer serve` does.
func TestMain(m *testing.M) {
	gateway.ServeFromEnv()
	os.Exit(m.Run())
}

func served(t *testing.T, p quickmode.Profile, ends extpair.Ends) *extpair.Pair {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	x := extpair.New(extpair.Spec{Command: []string{exe}, Ends: ends, Against: p,
		Process: adapter.Options{Env: []string{gateway.ServeEnv + "=" + p.Name}}})
	t.Cleanup(x.Close)
	return x
}

// TestServedMatchesInProcess is the proof that the adapter carries the
// seam faithfully: the reference gateway behind the protocol, at end A,
// end B or both, gets exactly the in-process verdicts of every profile on
// every property — same schedules run, each one step for step (every
// output of both ends, as the ladder records it), same failing seed, same
// shrunk counterexample.
func TestServedMatchesInProcess(t *testing.T) {
	const checks = 25
	for _, p := range quickmode.Profiles {
		var wantRuns []string
		opts := props.CheckOptions{Checks: checks}
		opts.Observe = func(m *props.Machine) { wantRuns = append(wantRuns, body(m.Trace())) }
		want := props.CheckEach(refpair.Pair(p, refpair.Options{}), opts)
		for _, ends := range []extpair.Ends{extpair.EndA, extpair.EndB, extpair.EndBoth} {
			t.Run(p.Name+"/"+ends.String(), func(t *testing.T) {
				x := served(t, p, ends)
				var runs []string
				opts.Observe = func(m *props.Machine) { runs = append(runs, body(m.Trace())) }
				got := props.CheckEach(x.Props(), opts)
				if err := x.Err(); err != nil {
					t.Fatalf("shim failed: %v", err)
				}
				if len(runs) != len(wantRuns) {
					t.Errorf("%d schedules run, in process %d", len(runs), len(wantRuns))
				}
				for i := range min(len(runs), len(wantRuns)) {
					if runs[i] != wantRuns[i] {
						t.Errorf("schedule %d differs:\nin process:\n%s\nserved:\n%s", i, wantRuns[i], runs[i])
						break
					}
				}
				for i := range want {
					w, g := &want[i], &got[i]
					prop := props.AllProperties[i]
					if w.Holds() != g.Holds() || w.Checks != g.Checks || w.Seed != g.Seed || w.Actions != g.Actions {
						t.Errorf("%v: in process holds=%v after %d schedules (seed %d, %d actions); served holds=%v after %d (seed %d, %d actions)",
							prop, w.Holds(), w.Checks, w.Seed, w.Actions, g.Holds(), g.Checks, g.Seed, g.Actions)
						continue
					}
					if w.Counterexample == nil {
						continue
					}
					if wl, gl := body(w.Counterexample), body(g.Counterexample); wl != gl {
						t.Errorf("%v: counterexamples differ:\nin process:\n%s\nserved:\n%s", prop, wl, gl)
					}
				}
			})
		}
	}
}

// body is a trace's ladder without its title (the pair's name).
func body(tr *ladder.Trace) string {
	l := ladder.Ladder(tr)
	_, rest, _ := strings.Cut(l, "\n")
	return rest
}

// TestBrokenShimEndsTheCheck: a shim that is not a shim (it exits at once)
// stops the check with an error naming the failure, not with a verdict.
func TestBrokenShimEndsTheCheck(t *testing.T) {
	x := extpair.New(extpair.Spec{Command: []string{"sh", "-c", "echo 'no such implementation' >&2; exit 3"},
		Ends: extpair.EndB, Against: quickmode.Hitless})
	defer x.Close()
	r := props.Check(x.Props(), props.CheckOptions{Checks: 5, ShrinkTime: 1})
	if r.Holds() {
		t.Fatal("a check against a dead shim held")
	}
	if x.Err() == nil || !strings.Contains(x.Stderr(), "no such implementation") {
		t.Fatalf("Err = %v, stderr %q: want the exit and the shim's stderr", x.Err(), x.Stderr())
	}
}
