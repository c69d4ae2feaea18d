package props_test

import (
	"testing"
	"time"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/internal/toy"
)

// BenchmarkPropertyChecks measures schedules checked per second on the
// hitless toy (all properties, settle phase included).
func BenchmarkPropertyChecks(b *testing.B) {
	const checks = 50
	n := 0
	for b.Loop() {
		r := props.Check(toyPair(toy.Hitless), props.CheckOptions{Checks: checks, Seed: uint64(n*checks + 1)})
		if !r.Holds() {
			b.Fatal(r.Violations)
		}
		n++
	}
	b.ReportMetric(float64(n*checks)/b.Elapsed().Seconds(), "checks/s")
}

// BenchmarkFirstCounterexample measures, per failing toy timing, the wall
// time to the first failing schedule, how many schedules that took, and the
// length of the shrunk counterexample. ns/op includes shrinking.
func BenchmarkFirstCounterexample(b *testing.B) {
	for _, p := range []toy.Profile{toy.InstallAtQM3, toy.ActivateAtQM1, toy.InitiatorAfterQM3} {
		b.Run(p.Name, func(b *testing.B) {
			var found time.Duration
			var checks, actions, n int
			for b.Loop() {
				n++
				var last time.Duration
				o := props.CheckOptions{Checks: 1000, Seed: uint64(n), Progress: func(pr props.Progress) { last = pr.Elapsed }}
				r := props.Check(toyPair(p), o)
				if !r.Violated(props.NoDrop) {
					b.Fatalf("seed %d: no counterexample", n)
				}
				found += last
				checks += r.Checks
				actions += r.Actions
			}
			b.ReportMetric(float64(found.Microseconds())/float64(n), "µs-to-first")
			b.ReportMetric(float64(checks)/float64(n), "checks-to-first")
			b.ReportMetric(float64(actions)/float64(n), "shrunk-actions")
		})
	}
}
