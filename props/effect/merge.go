package effect

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/hitless-ike/hitless/props/netsim"
)

// Merge combines the outcomes of the shards of one profile, given in shard
// order, into one. Counters add up, histograms merge exactly, the series
// add bucket by bucket and the rekey marks are merged in time order (ties
// by shard), so the result does not depend on which shard finished first.
// Per-tunnel results are left out. The first shard error, if any, is kept.
func Merge(parts []Outcome) Outcome {
	if len(parts) == 0 {
		return Outcome{}
	}
	if len(parts) == 1 {
		o := parts[0]
		o.Result.Tunnels = nil
		return o
	}
	out := Outcome{Profile: parts[0].Profile, Series: Series{Bucket: parts[0].Series.Bucket}}
	r := &out.Result
	r.Seed = parts[0].Result.Seed
	r.LatencyHist, r.AddedHist = new(netsim.Histogram), new(netsim.Histogram)
	drops := map[string]uint64{}
	var errs []error
	for i, p := range parts {
		q := &p.Result
		if i == 0 || q.Now < r.Now {
			r.Now = q.Now // the slowest shard bounds what is known
		}
		r.Events += q.Events
		r.Sent += q.Sent
		r.Delivered += q.Delivered
		r.Late += q.Late
		r.Duplicates += q.Duplicates
		r.Foreign += q.Foreign
		r.Queued += q.Queued
		r.Dropped += q.Dropped
		r.LackOfActiveSA += q.LackOfActiveSA
		r.Rejected += q.Rejected
		r.ActionsSkipped += q.ActionsSkipped
		r.Coasted += q.Coasted
		addNet(&r.Net, &q.Net)
		r.Rekeys.Activations += q.Rekeys.Activations
		r.Rekeys.Loss += q.Rekeys.Loss
		r.Rekeys.MaxLoss = max(r.Rekeys.MaxLoss, q.Rekeys.MaxLoss)
		r.Rekeys.Open += q.Rekeys.Open
		r.Exchanges.Started += q.Exchanges.Started
		r.Exchanges.Completed += q.Exchanges.Completed
		r.Exchanges.Failed += q.Exchanges.Failed
		r.Exchanges.Collided += q.Exchanges.Collided
		if q.LatencyHist != nil {
			r.LatencyHist.Merge(q.LatencyHist)
		}
		if q.AddedHist != nil {
			r.AddedHist.Merge(q.AddedHist)
		}
		for _, d := range q.Drops {
			drops[d.Reason] += d.Count
		}
		if q.Err != nil {
			errs = append(errs, q.Err)
		}
		out.Rekeys += p.Rekeys
		out.FirstLack += p.FirstLack
		for a := range p.LackAt {
			for d := range p.LackAt[a] {
				out.LackAt[a][d] += p.LackAt[a][d]
			}
		}
		s := &out.Series
		s.Delivered = addSlice(s.Delivered, p.Series.Delivered)
		s.Lack = addSlice(s.Lack, p.Series.Lack)
		s.Other = addSlice(s.Other, p.Series.Other)
		s.RekeysStarted += p.Series.RekeysStarted
		s.RekeyStarts = append(s.RekeyStarts, p.Series.RekeyStarts...)
	}
	for reason, n := range drops {
		r.Drops = append(r.Drops, netsim.ReasonCount{Reason: reason, Count: n})
	}
	slices.SortFunc(r.Drops, func(a, b netsim.ReasonCount) int { return strings.Compare(a.Reason, b.Reason) })
	r.Latency, r.AddedLatency = r.LatencyHist.Summary(), r.AddedHist.Summary()
	r.Err = errors.Join(errs...)
	// Stable: equal instants keep shard order.
	slices.SortStableFunc(out.Series.RekeyStarts, cmp.Compare[time.Duration])
	if len(out.Series.RekeyStarts) > MaxMarks {
		out.Series.RekeyStarts = out.Series.RekeyStarts[:MaxMarks]
	}
	return out
}

func addNet(a, b *netsim.NetStats) {
	a.IKESent += b.IKESent
	a.ESPSent += b.ESPSent
	a.IKELost += b.IKELost
	a.ESPLost += b.ESPLost
	a.Filtered += b.Filtered
	a.Duplicated += b.Duplicated
	a.Reordered += b.Reordered
	a.InFlightIKE += b.InFlightIKE
	a.InFlightESP += b.InFlightESP
}

func addSlice(dst, src []uint64) []uint64 {
	if len(dst) < len(src) {
		dst = append(dst, make([]uint64, len(src)-len(dst))...)
	}
	for i, v := range src {
		dst[i] += v
	}
	return dst
}
