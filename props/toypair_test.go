package props_test

import (
	"time"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/internal/toy"
	"github.com/hitless-ike/hitless/ref/peer"
)

// toyInfo describes a pair of toy peers with default configuration.
func toyInfo(p toy.Profile) props.PairInfo {
	return props.PairInfo{
		Name:   "toy/" + p.Name,
		Flows:  1,
		Limits: props.Limits{MaxSAsPerFlow: 16, MaxHalfOpen: 8, MaxQueued: 8},
		Assumptions: props.Assumptions{
			MaxDelay:         400 * time.Millisecond,
			MaxLosses:        2,
			SoftToHard:       30 * time.Second,
			WorstNegotiation: 4*time.Second + 2*400*time.Millisecond, // (MaxRetries+1)·Retransmit + a round trip
		},
		SettleHorizon: 180 * time.Second,
	}
}

// toyPair is a props.Pair of two toy peers using profile p, their PRNG
// seeded from the schedule.
func toyPair(p toy.Profile) props.Pair {
	return toyPairTuned(p, nil)
}

func toyPairTuned(p toy.Profile, tune func(*toy.Config)) props.Pair {
	return func(t *rapid.T) (a, b peer.Peer, info props.PairInfo) {
		seed := rapid.Uint64Range(0, 255).Draw(t, "peer seed")
		pa, pb := toy.NewPair(p, seed, tune)
		return pa, pb, toyInfo(p)
	}
}
