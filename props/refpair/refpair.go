// Package refpair wires the reference gateway (package gateway) into the
// property harness (package props): a props.Pair per Quick Mode profile,
// two gateways of one phase-1 SA whose seed, lifetimes, rekey fuzz and
// transport rapid draws, so that soft and hard expiries, retransmissions
// and simultaneous rekeys all happen within one schedule.
//
// The harness drives the gateways only through peer.Peer; nothing here
// reaches inside them.
package refpair

import (
	"fmt"
	"net/netip"
	"time"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Timings shared by every pair. They are short so that a schedule of a few
// dozen actions (a "wait for timer" jumps to the next expiry) sees soft
// and hard lifetimes pass, yet keep the assumptions of the properties:
//
//   - retransmission starts at Retransmit and doubles (quickmode's default
//     backoff, 5 tries), on the initiator and, with ResponderRetransmit,
//     on the responder waiting for QM3: with MaxLosses losses per exchange
//     the try that gets through leaves by Retransmit·(2^MaxLosses − 1), and
//     the rest of the exchange takes at most three one-way delays, so
//     WorstNegotiation bounds it. Without the responder's retransmission a
//     lost QM3 is never resent, and a hitless responder whose peer sends
//     no ESP never activates its new outbound SA (TestQM3LossNeedsRetransmit);
//   - the soft-to-hard margin (Hard − Soft − RekeyFuzz) is far larger;
//   - Linger, how long the rekey initiator keeps the old pair, exceeds
//     WorstNegotiation: the responder may still send on the old pair
//     until it has QM3;
//   - the soft lifetime is several times Linger, so that each flow spends
//     most of its time on one pair and the settle phase finds a moment
//     when every flow has converged (rekeys go on during it: soft
//     lifetimes keep expiring);
//   - SettleHorizon exceeds the hard lifetime, so a pair whose Delete was
//     lost still goes by hard expiry within the settle phase.
const (
	MaxDelay   = 400 * time.Millisecond
	MaxLosses  = 2
	Retransmit = 500 * time.Millisecond
	Linger     = 4 * time.Second
	MinSoft    = 14 * time.Second
	MaxSoft    = 20 * time.Second
	Margin     = 20 * time.Second // Hard − MaxSoft: the hard lifetime is MaxSoft + Margin
	MaxFuzz    = 2 * time.Second
)

// WorstNegotiation is the longest a Quick Mode takes within the
// assumptions: MaxLosses lost tries, then one that arrives and its answer.
const WorstNegotiation = Retransmit*(1<<MaxLosses-1) + 3*MaxDelay

// Options tune the pairs Pair builds. The zero value draws everything.
type Options struct {
	// Flows is the number of flows (0: rapid draws 1 or 2).
	Flows int
	// Tune, if set, changes both gateways' configurations after they are
	// drawn (e.g. a strongSwan-like option).
	Tune func(a, b *gateway.Config)
}

// Draws are what rapid draws for one pair: the gateways' seed, the
// number of flows, each end's soft lifetime, the rekey fuzz, NAT-T and a
// soft volume lifetime. Pair and package extpair draw them alike, so that
// one rapid seed gives one schedule whichever implementation sits at
// either end.
type Draws struct {
	Seed         uint64
	Flows        int
	SoftA, SoftB time.Duration
	Fuzz         time.Duration
	NATT         bool
	SoftKB       uint32
}

// Draw draws a pair's parameters from t.
func Draw(t *rapid.T, o Options) Draws {
	d := Draws{Seed: rapid.Uint64Range(0, 1<<16).Draw(t, "gateway seed"), Flows: o.Flows}
	if d.Flows <= 0 {
		d.Flows = rapid.IntRange(1, 2).Draw(t, "flows")
	}
	d.SoftA = drawSoft(t, "soft A")
	d.SoftB = drawSoft(t, "soft B")
	d.Fuzz = time.Duration(rapid.IntRange(0, int(MaxFuzz/time.Millisecond)).Draw(t, "rekey fuzz ms")) * time.Millisecond
	d.NATT = rapid.Bool().Draw(t, "NAT-T")
	d.SoftKB = uint32(rapid.SampledFrom([]int{0, 0, 1, 2}).Draw(t, "soft KB"))
	return d
}

// Configs are the two gateways' configurations for d with profile p
// (Phase1 and Rand left to gateway.NewPair, except Phase1.NATT on A).
func (d Draws) Configs(p quickmode.Profile, o Options) (ca, cb gateway.Config) {
	fl := Flows(d.Flows)
	life := func(soft time.Duration) gateway.Lifetimes {
		// One hard lifetime for both ends, so neither lowers the
		// other's and the margin holds on both.
		return gateway.Lifetimes{Soft: soft, Hard: MaxSoft + Margin, SoftKilobytes: d.SoftKB, HardKilobytes: 1 << 16}
	}
	ca = gateway.Config{Profile: p, Flows: fl, Initiator: true, Lifetime: life(d.SoftA), RekeyFuzz: d.Fuzz,
		Linger: Linger, Retransmit: quickmode.Backoff{Initial: Retransmit}, ResponderRetransmit: true}
	cb = gateway.Config{Profile: p, Flows: gateway.Mirror(fl), Lifetime: life(d.SoftB), RekeyFuzz: d.Fuzz,
		Linger: Linger, Retransmit: quickmode.Backoff{Initial: Retransmit}, ResponderRetransmit: true}
	ca.Phase1.NATT = d.NATT
	if o.Tune != nil {
		o.Tune(&ca, &cb)
	}
	return ca, cb
}

// Pair returns the props.Pair of two reference gateways using profile p:
// A initiates the first negotiation (acquire), either side may rekey.
func Pair(p quickmode.Profile, o Options) props.Pair {
	return func(t *rapid.T) (peer.Peer, peer.Peer, props.PairInfo) {
		d := Draw(t, o)
		ca, cb := d.Configs(p, o)
		a, b, err := gateway.NewPair(d.Seed, ca, cb)
		if err != nil {
			t.Fatalf("refpair: %v", err)
		}
		return a, b, Info(p, d.Flows)
	}
}

func drawSoft(t *rapid.T, label string) time.Duration {
	ms := rapid.IntRange(int(MinSoft/time.Millisecond), int(MaxSoft/time.Millisecond)).Draw(t, label)
	return time.Duration(ms) * time.Millisecond
}

// Info describes a pair of reference gateways using profile p with flows
// flows: its limits (the gateway's defaults) and assumptions.
func Info(p quickmode.Profile, flows int) props.PairInfo {
	return props.PairInfo{
		Name:  "ref/" + p.Name,
		Flows: flows,
		// The gateway's own defaults (gateway.Config): 8 SAs per flow,
		// 16 open Quick Modes, 16 queued packets per flow.
		Limits: props.Limits{MaxSAsPerFlow: 8, MaxHalfOpen: 16, MaxQueued: 16 * flows},
		Assumptions: props.Assumptions{
			MaxDelay:         MaxDelay,
			MaxLosses:        MaxLosses,
			SoftToHard:       Margin - MaxFuzz,
			WorstNegotiation: WorstNegotiation,
		},
		SettleHorizon: 3 * (MaxSoft + Margin),
	}
}

// Flows returns n flows as the initiator A configures them: flow i
// protects 10.i.0.0/24 (A's side) to 10.i.1.0/24 (B's side).
func Flows(n int) []gateway.Flow {
	fl := make([]gateway.Flow, n)
	for i := range fl {
		fl[i] = gateway.Flow{
			Local:  quickmode.Selector{Prefix: netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/24", i))},
			Remote: quickmode.Selector{Prefix: netip.MustParsePrefix(fmt.Sprintf("10.%d.1.0/24", i))},
		}
	}
	return fl
}
