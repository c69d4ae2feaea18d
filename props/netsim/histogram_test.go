package netsim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	// Every bucket's range is contiguous with the next, and a value maps
	// to the bucket whose range holds it.
	for i := 1; i < histBuckets; i++ {
		if lo := histHigh(i-1) + 1; histIndex(lo) != i {
			t.Fatalf("bucket %d starts at %d, which maps to %d", i, lo, histIndex(lo))
		}
		if histIndex(histHigh(i)) != i {
			t.Fatalf("bucket %d high %d maps to %d", i, histHigh(i), histIndex(histHigh(i)))
		}
	}
	if got := histIndex(math.MaxUint64); got != histBuckets-1 {
		t.Fatalf("huge value in bucket %d", got)
	}
}

func TestHistogramQuantileError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	var xs []time.Duration
	for range 20000 {
		// Log-uniform from 1ns to ~1s exercises every magnitude.
		x := time.Duration(math.Exp(r.Float64() * math.Log(1e9)))
		xs = append(xs, x)
		h.Record(x)
	}
	slices.Sort(xs)
	for _, q := range []float64{0.001, 0.1, 0.5, 0.9, 0.99, 0.999} {
		want := xs[int(math.Ceil(q*float64(len(xs))))-1]
		got := h.Quantile(q)
		if got < want || float64(got-want) > float64(want)/histSub {
			t.Errorf("q%v: got %v, exact %v", q, got, want)
		}
	}
	if h.Quantile(0) != xs[0] || h.Quantile(1) != xs[len(xs)-1] || h.Quantile(math.NaN()) != xs[0] {
		t.Error("extreme quantiles are not min/max")
	}
}

func TestHistogramMergeIsExact(t *testing.T) {
	var all, a, b Histogram
	for i := range 5000 {
		d := time.Duration(i*i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if !a.Equal(&all) {
		t.Fatalf("merged %+v != recorded %+v", a.Summary(), all.Summary())
	}
	var empty Histogram
	a.Merge(&empty)
	if !a.Equal(&all) || empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Fatal("empty histogram misbehaves")
	}
	// Input class: negative durations clamp to zero.
	empty.Record(-time.Second)
	if empty.Min() != 0 || empty.Max() != 0 || empty.Count() != 1 {
		t.Fatal("negative sample not clamped")
	}
}
