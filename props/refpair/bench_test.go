package refpair_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/refpair"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// BenchmarkPropertyChecks measures schedules checked per second on the
// reference pair in the hitless profile (all properties, settle phase
// included).
//
//	go test ./props/refpair -run '^$' -bench PropertyChecks -benchmem
func BenchmarkPropertyChecks(b *testing.B) {
	const checks = 50
	n, failed := 0, 0
	for b.Loop() {
		o := props.CheckOptions{Checks: checks, Seed: uint64(n*checks + 1), ShrinkTime: time.Millisecond}
		if r := props.Check(refpair.Pair(quickmode.Hitless, refpair.Options{}), o); !r.Holds() {
			failed++ // reported, not fatal: the rate is what is measured
		}
		n++
	}
	b.ReportMetric(float64(n*checks)/b.Elapsed().Seconds(), "checks/s")
	b.ReportMetric(float64(failed), "failed-runs")
}

// BenchmarkFirstCounterexample measures, per profile that loses traffic,
// the wall time until rapid finds the first failing schedule (median over
// seeds: one seed per iteration), how many schedules that took, and the
// length of the shrunk counterexample (mean). ns/op includes shrinking.
//
//	go test ./props/refpair -run '^$' -bench FirstCounterexample -benchtime 20x
func BenchmarkFirstCounterexample(b *testing.B) {
	for _, p := range []quickmode.Profile{quickmode.InstallAtQM3, quickmode.ActivateAtQM1, quickmode.InitiatorAfterQM3} {
		b.Run(p.Name, func(b *testing.B) {
			var found []time.Duration
			var checks, actions, n int
			for b.Loop() {
				n++
				var last time.Duration
				o := props.CheckOptions{Checks: 1000, Seed: uint64(n), Progress: func(pr props.Progress) { last = pr.Elapsed }}
				o.Properties = []props.PropertyID{props.NoDrop}
				r := props.Check(refpair.Pair(p, refpair.Options{}), o)
				if !r.Violated(props.NoDrop) {
					b.Fatalf("seed %d: no counterexample", n)
				}
				found = append(found, last)
				checks += r.Checks
				actions += r.Actions
			}
			slices.Sort(found)
			b.ReportMetric(float64(found[len(found)/2].Microseconds())/1000, "ms-to-first-median")
			b.ReportMetric(float64(checks)/float64(n), "checks-to-first")
			b.ReportMetric(float64(actions)/float64(n), "shrunk-actions")
		})
	}
}
