package netsim

import (
	"math/bits"
	"time"
)

// Histogram layout: values below 2^histSubBits nanoseconds are exact; above,
// every power-of-two range is split into 2^histSubBits linear sub-buckets,
// so a bucket is never wider than 1/128 of its lower bound (< 0.8% error).
const (
	histSubBits = 7
	histSub     = 1 << histSubBits
	// histMaxBits caps recorded values at 2^histMaxBits ns (about 18
	// minutes); larger ones land in the last bucket (Max stays exact).
	histMaxBits = 40
	histBuckets = histSub*(histMaxBits-histSubBits) + histSub
)

// Histogram is a fixed-size log-linear (HDR-style) histogram of durations.
// Its memory does not depend on the number of samples, and merging two
// histograms is exact. The zero value is empty and ready to use.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

func histIndex(v uint64) int {
	if v < 2*histSub {
		return int(v)
	}
	if v >= 1<<histMaxBits {
		return histBuckets - 1
	}
	e := bits.Len64(v) - histSubBits - 1
	return histSub*e + int(v>>uint(e))
}

// histHigh is the largest value that maps to bucket i.
func histHigh(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	e := i/histSub - 1
	m := uint64(i - histSub*e)
	return (m+1)<<uint(e) - 1
}

// Record adds one sample; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[histIndex(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Min is the smallest sample (0 when empty).
func (h *Histogram) Min() time.Duration { return h.min }

// Max is the largest sample (0 when empty).
func (h *Histogram) Max() time.Duration { return h.max }

// Mean is the average sample (0 when empty).
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile returns the smallest value v such that at least a fraction q of
// the samples are <= v, to within the bucket width (< 0.8%), reported as
// the bucket's highest value clamped to [Min, Max] — so a histogram of
// equal samples reports them exactly. q is clamped to [0, 1].
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if !(q > 0) { // also NaN
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(q * float64(h.n))
	if float64(rank) < q*float64(h.n) {
		rank++ // ceil
	}
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(histHigh(i))
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}

// Equal reports whether h and o hold the same samples (used by go-cmp).
func (h *Histogram) Equal(o *Histogram) bool {
	if h == nil || o == nil {
		return h == o
	}
	return *h == *o
}

// Summary is a few percentiles of a Histogram.
type Summary struct {
	Count                     uint64
	Mean, P50, P90, P99, P999 time.Duration
	Max                       time.Duration
}

// Summary returns the standard percentiles of h.
func (h *Histogram) Summary() Summary {
	return Summary{
		Count: h.n, Mean: h.Mean(),
		P50: h.Quantile(0.5), P90: h.Quantile(0.9), P99: h.Quantile(0.99), P999: h.Quantile(0.999),
		Max: h.max,
	}
}
