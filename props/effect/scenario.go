// Package effect measures what each Quick Mode install profile costs in
// traffic: it builds network simulations (package netsim) of many pairs of
// reference gateways (package gateway) that rekey under load, and reduces
// each run to the numbers and time series the "hitless sim" command prints
// and charts.
//
// A Scenario is plain data (JSON and command-line flags share it). Its
// tunnels are split into shards of at most ShardTunnels, each an
// independent, single-threaded netsim run with its own seed, so a caller
// may run shards on several cores and still get the same answer: Merge
// combines shard outcomes in shard order.
package effect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hitless-ike/hitless/props/netsim"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Duration is a time.Duration that reads and writes as "50ms" in JSON and
// on the command line (it implements flag.Value).
type Duration time.Duration

// String returns the duration in time.Duration notation.
func (d Duration) String() string { return time.Duration(d).String() }

// Set parses s with time.ParseDuration; it implements flag.Value.
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error { return d.Set(string(b)) }

// Traffic is the application load of one direction of every tunnel.
type Traffic struct {
	// Rate in packets per second; 0 sends nothing.
	Rate float64 `json:"rate"`
	// Size of the inner IPv4 packet in bytes.
	Size int `json:"size"`
	// On and Off, when both set, make the load bursty: Rate for On, then
	// silence for Off.
	On  Duration `json:"on,omitzero"`
	Off Duration `json:"off,omitzero"`
}

// Scenario is one simulated set-up. The zero value of a field means its
// default (see Default) only where the field says so.
type Scenario struct {
	Tunnels  int      `json:"tunnels"`
	Duration Duration `json:"duration"`
	Seed     uint64   `json:"seed"`
	// Profiles to compare, by quickmode name; empty means all of
	// quickmode.Profiles.
	Profiles []string `json:"profiles,omitempty"`

	// AB is traffic from the initiator A to the responder B, BA back.
	// A negotiates the first SA pair on its first packet, so AB.Rate
	// must be positive.
	AB Traffic `json:"ab"`
	BA Traffic `json:"ba"`

	// Network, the same both ways: one-way Delay plus uniform Jitter in
	// [0, Jitter]; Reorder is the probability that a datagram (IKE or ESP)
	// is held back by ReorderDelay; IKELoss and ESPLoss are loss
	// probabilities.
	Delay        Duration `json:"delay"`
	Jitter       Duration `json:"jitter,omitzero"`
	Reorder      float64  `json:"reorder,omitzero"`
	ReorderDelay Duration `json:"reorder_delay,omitzero"`
	IKELoss      float64  `json:"ike_loss,omitzero"`
	// IKEProcessing is added to the delay of IKE datagrams only: the time a
	// gateway takes to verify a Quick Mode message and install SAs before
	// it acts on it (a few ms for strongSwan). ESP sent right behind an
	// IKE message overtakes it by this much.
	IKEProcessing Duration `json:"ike_processing,omitzero"`
	ESPLoss       float64  `json:"esp_loss,omitzero"`

	// Lifetimes of the initiator A. B uses the same hard lifetimes and a
	// soft lifetime halfway between A's soft and hard ones, so A normally
	// rekeys and B only steps in when A's rekey failed (or the fuzz made
	// them collide). RekeyFuzz is strongSwan's rand_time.
	Soft          Duration `json:"soft"`
	Hard          Duration `json:"hard"`
	SoftKilobytes uint32   `json:"soft_kilobytes,omitzero"`
	HardKilobytes uint32   `json:"hard_kilobytes,omitzero"`
	RekeyFuzz     Duration `json:"rekey_fuzz,omitzero"`

	// strongSwan-like knobs, on both gateways: see gateway.Config.
	DeleteRekeyed       bool     `json:"delete_rekeyed,omitzero"`
	DeleteOldAfterRekey bool     `json:"delete_old_after_rekey,omitzero"`
	Linger              Duration `json:"linger,omitzero"`

	// Transform is the ESP transform: see Transforms.
	Transform string `json:"transform"`
	// Bucket is the width of the time-series buckets; 0 picks one that
	// gives about 400 buckets over Duration.
	Bucket Duration `json:"bucket,omitzero"`
	// ShardTunnels is the largest number of tunnels one shard simulates;
	// 0 means DefaultShardTunnels. Random draws are keyed by the tunnel's
	// number in the whole run, so the split changes speed and memory,
	// never the outcome.
	ShardTunnels int `json:"shard_tunnels,omitzero"`
	// Exact steps every packet through the gateways instead of letting
	// netsim coast through quiet stretches (netsim.Config.Coast). The
	// outcome is the same, only slower: it is how that claim is checked,
	// so it is not part of the scenario's JSON.
	Exact bool `json:"-"`

	// Tweak, when set, may change each shard's netsim.Config before it
	// runs (e.g. a link Filter that holds back one message). Not
	// serialised.
	Tweak func(*netsim.Config) `json:"-"`

	// NewPair, when set, builds each tunnel's two ends from the pair's
	// seed and the configurations the reference gateways would get,
	// instead of gateway.NewPair: e.g. another implementation behind the
	// adapter at one end. Ends that implement io.Closer are closed with
	// the shard (Shard.Close). Not serialised.
	NewPair func(seed uint64, a, b gateway.Config) (peer.Peer, peer.Peer, error) `json:"-"`
}

// DefaultShardTunnels bounds the tunnels of one shard. A shard's gateways
// (about 40 KB a tunnel) are the only per-tunnel state alive, so small
// shards keep memory flat in the number of tunnels and the working set in
// the CPU caches; per-shard costs are small. 10,000 tunnels × 10 min, one
// profile, 2 cores: 5.5 s and 43 MB peak RSS at 50 tunnels a shard, 5.5 s
// and 35 MB at 10, 5.4 s and 33 MB at 5 (the outcome is the same).
const DefaultShardTunnels = 10

// Transforms lists the ESP transforms a Scenario can name. Every packet
// that is stepped (all of them with Exact) is really encrypted and
// authenticated; coasted ones only move the SAs' counters (and, for
// aes128-sha1, draw their CBC IVs). Measured per packet carried end to end
// (both gateways, BenchmarkPacket): stepped, aes128gcm16 about 0.9 µs,
// null-sha1 (RFC 2410 NULL encryption with HMAC-SHA1-96) 1.3 µs and
// aes128-sha1 1.8 µs; coasted, 38, 41 and 54 ns. The default,
// aes128gcm16, is both realistic and the cheapest.
var Transforms = []string{"aes128gcm16", "aes128-sha1", "null-sha1"}

// Default is the scenario "hitless sim" runs without flags: a few tunnels
// with a steady load, rekeying about every 20 s for two minutes, over a
// 25 ms path, with 2 ms to process an IKE message.
func Default() Scenario {
	return Scenario{
		Tunnels: 4, Duration: Duration(2 * time.Minute), Seed: 1,
		AB:    Traffic{Rate: 200, Size: 200},
		BA:    Traffic{Rate: 200, Size: 200},
		Delay: Duration(25 * time.Millisecond), Jitter: Duration(2 * time.Millisecond),
		IKEProcessing: Duration(2 * time.Millisecond),
		Soft:          Duration(20 * time.Second), Hard: Duration(40 * time.Second), RekeyFuzz: Duration(4 * time.Second),
		Transform: "aes128gcm16",
	}
}

// ErrScenario is matched (errors.Is) by every error Validate returns.
var ErrScenario = errors.New("effect: invalid scenario")

// ScenarioError names the invalid field of a Scenario, by its JSON name.
type ScenarioError struct {
	Field, Reason string
}

// Error implements error.
func (e *ScenarioError) Error() string {
	return "effect: invalid scenario: " + e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrScenario) true.
func (e *ScenarioError) Is(target error) bool { return target == ErrScenario }

func bad(field, format string, args ...any) error {
	return &ScenarioError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Limits that keep a scenario's memory proportional to what it simulates.
const (
	// MaxTunnels bounds Tunnels.
	MaxTunnels = 1 << 20
	// MaxBuckets bounds the time series (Duration / Bucket).
	MaxBuckets = 1 << 16
	maxTime    = 1000 * time.Hour
)

// Validate checks every field and returns a *ScenarioError for the first
// bad one. It accepts the zero values that mean a default.
func (s *Scenario) Validate() error {
	prob := func(field string, p float64) error {
		if math.IsNaN(p) || p < 0 || p > 1 {
			return bad(field, "probability %v outside [0, 1]", p)
		}
		return nil
	}
	dur := func(field string, d Duration) error {
		if d < 0 || time.Duration(d) > maxTime {
			return bad(field, "%v outside [0, %v]", d, maxTime)
		}
		return nil
	}
	switch {
	case s.Tunnels < 1 || s.Tunnels > MaxTunnels:
		return bad("tunnels", "%d outside [1, %d]", s.Tunnels, MaxTunnels)
	case s.Duration <= 0:
		return bad("duration", "must be positive")
	case s.ShardTunnels < 0:
		return bad("shard_tunnels", "negative")
	case s.Bucket > 0 && int64(s.Duration/s.Bucket) >= MaxBuckets:
		return bad("bucket", "%v gives more than %d buckets", s.Bucket, MaxBuckets)
	case s.Reorder > 0 && s.ReorderDelay == 0:
		return bad("reorder_delay", "zero with reorder > 0")
	case s.Hard > 0 && s.Soft >= s.Hard:
		return bad("soft", "%v not below hard %v", s.Soft, s.Hard)
	case s.HardKilobytes > 0 && s.SoftKilobytes >= s.HardKilobytes:
		return bad("soft_kilobytes", "%d not below hard_kilobytes %d", s.SoftKilobytes, s.HardKilobytes)
	}
	for _, d := range []struct {
		f string
		d Duration
	}{{"duration", s.Duration}, {"delay", s.Delay}, {"jitter", s.Jitter}, {"ike_processing", s.IKEProcessing}, {"reorder_delay", s.ReorderDelay},
		{"soft", s.Soft}, {"hard", s.Hard}, {"rekey_fuzz", s.RekeyFuzz}, {"linger", s.Linger}, {"bucket", s.Bucket}} {
		if err := dur(d.f, d.d); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		f string
		p float64
	}{{"reorder", s.Reorder}, {"ike_loss", s.IKELoss}, {"esp_loss", s.ESPLoss}} {
		if err := prob(p.f, p.p); err != nil {
			return err
		}
	}
	for _, t := range []struct {
		f string
		t Traffic
	}{{"ab", s.AB}, {"ba", s.BA}} {
		switch {
		case math.IsNaN(t.t.Rate) || t.t.Rate < 0 || t.t.Rate > 1e6:
			return bad(t.f+".rate", "%v outside [0, 1e6]", t.t.Rate)
		case t.t.Rate > 0 && (t.t.Size < netsim.MinPacketSize || t.t.Size > 1500):
			return bad(t.f+".size", "%d outside [%d, 1500]", t.t.Size, netsim.MinPacketSize)
		case t.t.On < 0 || t.t.Off < 0:
			return bad(t.f+".on", "negative burst period")
		}
	}
	if s.AB.Rate == 0 {
		// A negotiates the first SA pair on its first packet (acquire).
		return bad("ab.rate", "zero: A sends nothing, so no tunnel is ever negotiated")
	}
	if _, err := transform(s.Transform); err != nil {
		return err
	}
	if _, err := s.profiles(); err != nil {
		return err
	}
	return nil
}

// profiles resolves Profiles.
func (s *Scenario) profiles() ([]quickmode.Profile, error) {
	if len(s.Profiles) == 0 {
		return quickmode.Profiles, nil
	}
	ps := make([]quickmode.Profile, 0, len(s.Profiles))
	for _, n := range s.Profiles {
		p, err := quickmode.ParseProfile(n)
		if err != nil {
			return nil, bad("profiles", "unknown profile %q", n)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// ProfileList returns the profiles the scenario compares, in order.
func (s *Scenario) ProfileList() ([]quickmode.Profile, error) { return s.profiles() }

// ParseProfiles splits a comma-separated list ("" or "all" means every
// profile) into names, checking each.
func ParseProfiles(list string) ([]string, error) {
	if list == "" || list == "all" {
		return nil, nil
	}
	var names []string
	for n := range strings.SplitSeq(list, ",") {
		n = strings.TrimSpace(n)
		if _, err := quickmode.ParseProfile(n); err != nil {
			return nil, bad("profiles", "unknown profile %q", n)
		}
		names = append(names, n)
	}
	return names, nil
}

// maxConfigBytes bounds a JSON scenario file.
const maxConfigBytes = 1 << 20

// ParseJSON reads a scenario from JSON over base (fields absent from data
// keep base's values). Unknown fields are errors, so a typo is not silently
// ignored.
func ParseJSON(data []byte, base Scenario) (Scenario, error) {
	if len(data) > maxConfigBytes {
		return base, bad("config", "larger than %d bytes", maxConfigBytes)
	}
	s := base
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return base, fmt.Errorf("%w: config: %w", ErrScenario, err)
	}
	if dec.More() {
		return base, bad("config", "trailing data after the JSON object")
	}
	return s, s.Validate()
}
