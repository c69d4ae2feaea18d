package effect

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hitless-ike/hitless/props/netsim"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// flows is the one protected flow of every tunnel, covering netsim's
// default inner addresses.
var flows = []gateway.Flow{{
	Local:  quickmode.Selector{Prefix: netip.MustParsePrefix("10.1.0.0/16")},
	Remote: quickmode.Selector{Prefix: netip.MustParsePrefix("10.2.0.0/16")},
}}

func transform(name string) (quickmode.Transform, error) {
	t := quickmode.Transform{Mode: quickmode.ModeTunnel}
	switch name {
	case "aes128-sha1":
		return gateway.DefaultTransform, nil
	case "aes128gcm16", "":
		t.ESP = ikecrypto.ESPTransform{ID: ikecrypto.ESPAESGCM16, KeyBits: 128, Auth: ikecrypto.AuthNone}
	case "null-sha1":
		t.ESP = ikecrypto.ESPTransform{ID: ikecrypto.ESPNULL, Auth: ikecrypto.AuthHMACSHA1}
	default:
		return t, bad("transform", "unknown transform %q (want one of %s)", name, strings.Join(Transforms, ", "))
	}
	return t, nil
}

// Shards returns how many shards the scenario's tunnels are split into.
func (s *Scenario) Shards() int {
	n := s.ShardTunnels
	if n <= 0 {
		n = DefaultShardTunnels
	}
	return (s.Tunnels + n - 1) / n
}

// shardRange returns the first tunnel and the tunnel count of shard k:
// tunnels are spread evenly, the first shards taking one more.
func (s *Scenario) shardRange(k int) (first, n int) {
	shards := s.Shards()
	per, extra := s.Tunnels/shards, s.Tunnels%shards
	first = k*per + min(k, extra)
	n = per
	if k < extra {
		n++
	}
	return first, n
}

// BucketWidth is the time-series bucket width in use.
func (s *Scenario) BucketWidth() time.Duration {
	if s.Bucket > 0 {
		return time.Duration(s.Bucket)
	}
	return max(time.Duration(s.Duration)/400, time.Millisecond)
}

// mix derives independent 64-bit seeds (splitmix64 finaliser).
func mix(seed, k uint64) uint64 {
	z := seed + (k+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// gatewayConfigs returns the configurations of A (initiator) and B.
func (s *Scenario) gatewayConfigs(p quickmode.Profile) (a, b gateway.Config, err error) {
	t, err := transform(s.Transform)
	if err != nil {
		return a, b, err
	}
	life := gateway.Lifetimes{Soft: time.Duration(s.Soft), Hard: time.Duration(s.Hard),
		SoftKilobytes: s.SoftKilobytes, HardKilobytes: s.HardKilobytes}
	a = gateway.Config{
		Profile: p, Flows: flows, Initiator: true, Lifetime: life, RekeyFuzz: time.Duration(s.RekeyFuzz),
		Proposals:     []quickmode.Proposal{{Transforms: []quickmode.Transform{t}}},
		DeleteRekeyed: s.DeleteRekeyed, DeleteOldAfterRekey: s.DeleteOldAfterRekey, Linger: time.Duration(s.Linger),
	}
	b = a
	b.Flows, b.Initiator = gateway.Mirror(flows), false
	// B rekeys only as a fallback: halfway between A's soft and hard.
	if life.Soft > 0 {
		hard := life.Hard
		if hard == 0 {
			hard = 28800 * time.Second
		}
		b.Lifetime.Soft = life.Soft + (hard-life.Soft)/2
	}
	if life.SoftKilobytes > 0 && life.HardKilobytes > 0 {
		b.Lifetime.SoftKilobytes = life.SoftKilobytes + (life.HardKilobytes-life.SoftKilobytes)/2
	}
	return a, b, nil
}

// netConfig is the netsim configuration of shard k without its observer.
func (s *Scenario) netConfig(k int) netsim.Config {
	first, n := s.shardRange(k)
	l := netsim.LinkConfig{Delay: time.Duration(s.Delay), Jitter: time.Duration(s.Jitter),
		ReorderProb: s.Reorder, ReorderDelay: time.Duration(s.ReorderDelay)}
	ike, esp := l, l
	ike.LossProb, esp.LossProb = s.IKELoss, s.ESPLoss
	ike.Delay += time.Duration(s.IKEProcessing)
	c := netsim.Config{
		Seed: s.Seed, Tunnels: n, TunnelBase: first, Duration: time.Duration(s.Duration),
		AB: netsim.Link{IKE: ike, ESP: esp}, BA: netsim.Link{IKE: ike, ESP: esp},
		Coast: !s.Exact,
	}
	for _, x := range []struct {
		from netsim.Side
		t    Traffic
	}{{netsim.A, s.AB}, {netsim.B, s.BA}} {
		if x.t.Rate > 0 {
			c.Traffic = append(c.Traffic, netsim.Traffic{From: x.from, Rate: x.t.Rate, Size: x.t.Size,
				On: time.Duration(x.t.On), Off: time.Duration(x.t.Off)})
		}
	}
	return c
}

// Series is what happened over time, summed over tunnels, in buckets of
// Bucket: index i covers [i·Bucket, (i+1)·Bucket).
type Series struct {
	Bucket time.Duration
	// Delivered counts packets delivered by either peer; Lack drops for
	// lack of an active SA; Other every other drop by a peer.
	Delivered, Lack, Other []uint64
	// RekeyStarts are the instants rekeys started (Quick Modes begun by
	// an initiator on an established flow), in time order, at most
	// MaxMarks of them; RekeysStarted counts them all.
	RekeyStarts   []time.Duration
	RekeysStarted uint64
}

const bothSides = 1<<netsim.A | 1<<netsim.B

// MaxMarks bounds Series.RekeyStarts.
const MaxMarks = 256

// Outcome is one profile's measurements over a whole scenario or over
// one shard of it.
type Outcome struct {
	Profile string
	// Result is netsim's measurement; for a merged outcome Tunnels is nil.
	Result netsim.Result
	// Rekeys counts Quick Modes completed by an initiator on a flow that
	// was already established (the first negotiation excluded).
	Rekeys uint64
	// FirstLack counts the drops for lack of an active SA of tunnels whose
	// two sides had not both completed their first Quick Mode (e.g. the
	// initiator's queued packets overtaking QM3): not a rekey's loss.
	FirstLack uint64
	// LackAt splits the other drops for lack of an active SA (those of
	// rekeys) by the side that dropped (netsim.A, netsim.B) and the
	// packet's direction there (0 inbound ESP, 1 outbound application
	// packet).
	LackAt [2][2]uint64
	Series Series
}

// LackOfTraffic is how many packets sent by side from were dropped for
// lack of an active SA, by either side: at the sender with no active
// outbound SA, or at the receiver for an unknown SPI.
func (o *Outcome) LackOfTraffic(from netsim.Side) uint64 {
	to := netsim.B
	if from == netsim.B {
		to = netsim.A
	}
	return o.LackAt[from][1] + o.LackAt[to][0]
}

// RekeyLack is the drops for lack of an active SA once both sides had
// completed their first Quick Mode.
func (o *Outcome) RekeyLack() uint64 { return o.Result.LackOfActiveSA - o.FirstLack }

// LossPerRekey is RekeyLack per completed rekey.
func (o *Outcome) LossPerRekey() float64 {
	if o.Rekeys == 0 {
		return 0
	}
	return float64(o.RekeyLack()) / float64(o.Rekeys)
}

// Drop returns how many packets peers dropped for reason.
func (o *Outcome) Drop(reason string) uint64 {
	for _, d := range o.Result.Drops {
		if d.Reason == reason {
			return d.Count
		}
	}
	return 0
}

// Shard is one shard of one profile being simulated. It is not safe for
// concurrent use; different Shards are independent.
type Shard struct {
	sim     *netsim.Sim
	profile string
	rekeys  uint64
	lackAt  [2][2]uint64
	// est has bit 1<<side set per tunnel once that side completed its
	// first Quick Mode.
	est       []uint8
	firstLack uint64
	series    Series
	ends      []peer.Peer // built by Scenario.NewPair, for Close
}

// NewShard prepares shard k (0 ≤ k < Shards()) of the scenario under
// profile p. Scenario errors match ErrScenario.
func (s *Scenario) NewShard(p quickmode.Profile, k int) (*Shard, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if k < 0 || k >= s.Shards() {
		return nil, bad("shard", "%d outside [0, %d)", k, s.Shards())
	}
	ca, cb, err := s.gatewayConfigs(p)
	if err != nil {
		return nil, err
	}
	first, n := s.shardRange(k)
	bucket := s.BucketWidth()
	nb := int(time.Duration(s.Duration)/bucket) + 1
	sh := &Shard{profile: p.Name, est: make([]uint8, n), series: Series{Bucket: bucket,
		Lack: make([]uint64, nb), Other: make([]uint64, nb)}}
	cfg := s.netConfig(k)
	cfg.Observer, cfg.Bucket = sh.observe, bucket
	if s.Tweak != nil {
		s.Tweak(&cfg)
	}
	var pairErr error
	newPair := func(t int) (peer.Peer, peer.Peer) {
		seed := mix(s.Seed^0x5eed, uint64(first+t))
		if s.NewPair != nil {
			a, b, err := s.NewPair(seed, ca, cb)
			if err != nil {
				pairErr = err
				return nil, nil
			}
			sh.ends = append(sh.ends, a, b)
			return a, b
		}
		a, b, err := gateway.NewPair(seed, ca, cb)
		if err != nil {
			pairErr = err
			return nil, nil
		}
		return a, b
	}
	sim, err := netsim.New(cfg, newPair)
	if pairErr != nil {
		sh.Close()
		return nil, fmt.Errorf("%w: gateway: %w", ErrScenario, pairErr)
	}
	if err != nil {
		sh.Close()
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	sh.sim = sim
	return sh, nil
}

// Close closes the ends Scenario.NewPair built that are io.Closers (the
// processes behind an adapter); a shard of reference gateways holds
// nothing to close. The shard is unusable after.
func (sh *Shard) Close() error {
	var errs []error
	for _, e := range sh.ends {
		if c, ok := e.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	sh.ends = nil
	return errors.Join(errs...)
}

func (sh *Shard) observe(o netsim.Observation) {
	if o.Kind != netsim.ObservedOutput {
		return
	}
	s := &sh.series
	i := int(o.At / s.Bucket)
	if i >= len(s.Lack) {
		i = len(s.Lack) - 1
	}
	switch o.Output.Kind {
	case peer.Drop: // deliveries are counted by netsim (Config.Bucket)
		if peer.LackOfActiveSA(o.Output.Reason) {
			s.Lack[i]++
			if sh.est[o.Tunnel] != bothSides {
				sh.firstLack++
				return
			}
			d := 0
			if o.Output.Direction == peer.Outbound {
				d = 1
			}
			sh.lackAt[o.Side][d]++
		} else {
			s.Other[i]++
		}
	case peer.Exchange:
		bit := uint8(1) << o.Side
		init := o.Output.Role == "initiator"
		switch o.Output.ExchangeEvent {
		case peer.Started:
			if init && sh.est[o.Tunnel]&bit != 0 {
				s.RekeysStarted++
				if len(s.RekeyStarts) < MaxMarks {
					s.RekeyStarts = append(s.RekeyStarts, o.At)
				}
			}
		case peer.Completed:
			if init && sh.est[o.Tunnel]&bit != 0 {
				sh.rekeys++
			}
			sh.est[o.Tunnel] |= bit
		}
	}
}

// RunUntil simulates up to virtual time t (capped at the scenario's
// Duration); call it repeatedly to make progress in slices.
func (sh *Shard) RunUntil(t time.Duration) { sh.sim.RunUntil(t) }

// Now is the virtual time reached.
func (sh *Shard) Now() time.Duration { return sh.sim.Now() }

// Err is the error that stopped the shard early, if any (netsim's
// StuckTimerError).
func (sh *Shard) Err() error { return sh.sim.Err() }

// Outcome snapshots what the shard measured so far.
func (sh *Shard) Outcome() Outcome {
	s := sh.series
	r := sh.sim.Result()
	s.Delivered, r.DeliveredSeries = r.DeliveredSeries, nil
	s.Lack, s.Other = slices.Clone(s.Lack), slices.Clone(s.Other)
	s.RekeyStarts = slices.Clone(s.RekeyStarts)
	return Outcome{Profile: sh.profile, Result: r, Rekeys: sh.rekeys, FirstLack: sh.firstLack, LackAt: sh.lackAt, Series: s}
}

// Run simulates every shard of profile p one after the other, folding
// each into the result as it ends (so one shard's gateways are alive at a
// time): the single-threaded reference for what a parallel caller must
// get.
func (s *Scenario) Run(p quickmode.Profile) (Outcome, error) {
	var acc Outcome
	for k := range s.Shards() {
		sh, err := s.NewShard(p, k)
		if err != nil {
			return Outcome{}, err
		}
		sh.RunUntil(time.Duration(s.Duration))
		sh.Close()
		if k == 0 {
			acc = Merge([]Outcome{sh.Outcome()})
		} else {
			acc = Merge([]Outcome{acc, sh.Outcome()})
		}
	}
	return acc, nil
}

// Tunnels is how many tunnels the shard simulates.
func (sh *Shard) Tunnels() int { return len(sh.est) }
