package netsim

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// Side names one end of a tunnel.
type Side uint8

// Sides. A is conventionally the initiator of the first negotiation.
const (
	A Side = iota
	B
)

// String returns "A" or "B".
func (s Side) String() string {
	switch s {
	case A:
		return "A"
	case B:
		return "B"
	}
	return fmt.Sprintf("side(%d)", uint8(s))
}

// other returns the far end.
func (s Side) other() Side { return 1 - s }

// Distribution is the shape of a link's jitter.
type Distribution uint8

// Jitter distributions. Both draw an extra delay in [0, Jitter].
const (
	// Uniform: every extra delay in [0, Jitter] equally likely.
	Uniform Distribution = iota
	// Normal: a normal distribution centred on Jitter/2 with standard
	// deviation Jitter/6, clamped to [0, Jitter].
	Normal
)

// FilterInfo describes one datagram offered to a link's Filter.
type FilterInfo struct {
	At     time.Duration // when the peer transmitted it
	Tunnel int
	From   Side
	// N counts datagrams of this class (IKE or ESP) that From has
	// transmitted on this tunnel, starting at 1 with this one.
	N        int
	Datagram peer.Datagram
}

// LinkConfig is how one class of datagrams (IKE or ESP) travels in one
// direction.
type LinkConfig struct {
	// Delay is the base one-way delay.
	Delay time.Duration
	// Jitter is the bound of the extra delay drawn per datagram from Dist.
	// Jitter reorders datagrams sent closer together than it.
	Jitter time.Duration
	Dist   Distribution
	// ReorderProb is the probability that a datagram is held back by a
	// further ReorderDelay, overtaking nothing but overtaken by later ones.
	ReorderProb  float64
	ReorderDelay time.Duration
	// LossProb is the probability that the network loses a datagram.
	LossProb float64
	// DupProb is the probability that a datagram that was not lost arrives
	// twice; the copy gets its own delay draw.
	DupProb float64
	// Filter, when set, sees every datagram before loss is drawn and drops
	// it by returning true, so a scenario can drop e.g. QM3 exactly. It
	// must not keep info.Datagram.Bytes.
	Filter func(info FilterInfo) bool
}

// Link is one direction of a tunnel, with IKE and ESP configured apart
// (peer.Datagram.IsIKE decides which applies).
type Link struct {
	IKE, ESP LinkConfig
}

// Traffic is one application traffic generator, instantiated once per
// tunnel. It sends inner IPv4/UDP packets from From to the other side on
// Flow.
type Traffic struct {
	From Side
	Flow int
	// Rate is packets per second while on; Size the inner packet size in
	// bytes (at least MinPacketSize).
	Rate float64
	Size int
	// Start and Stop bound the generator; Stop 0 means the end of the run.
	Start, Stop time.Duration
	// On and Off, when both positive, make the generator bursty: it sends
	// for On, then pauses for Off, starting from Start.
	On, Off time.Duration
	// Src and Dst are the inner IPv4 addresses; the zero Addr means
	// DefaultAddrA or DefaultAddrB for the sending and receiving side.
	Src, Dst netip.Addr
}

// Action is an operator command delivered to a peer at a given time.
type Action struct {
	At time.Duration
	// Tunnel is the tunnel index, or AllTunnels.
	Tunnel int
	Side   Side
	// Kind is peer.Rekey or peer.Delete.
	Kind peer.InputKind
	Flow int
	// SPI is the inbound SPI to delete. Zero asks the simulator to delete
	// the pair whose outbound SA is active on Flow at that time (found via
	// State); if there is none the action is skipped and counted.
	SPI uint32
}

// AllTunnels as an Action's Tunnel applies the action to every tunnel.
const AllTunnels = -1

// DefaultRekeyWindow is the half-width of the window around an SA
// activation in which drops for lack of an active SA are attributed to it.
const DefaultRekeyWindow = time.Second

// Config is one simulation scenario.
type Config struct {
	// Seed seeds the only source of randomness.
	Seed uint64
	// Tunnels is the number of peer pairs.
	Tunnels int
	// TunnelBase numbers this run's tunnels from TunnelBase on in the
	// random streams: a run split into shards with one Seed and
	// consecutive bases draws exactly what the whole run would.
	TunnelBase int
	// Duration is how much virtual time Run simulates.
	Duration time.Duration
	// AB carries datagrams from A to B, BA from B to A.
	AB, BA Link
	// TunnelLinks, when set, gives each tunnel its own links instead of AB
	// and BA; New calls it once per tunnel, in order.
	TunnelLinks func(tunnel int) (ab, ba Link)
	// Traffic is instantiated for every tunnel.
	Traffic []Traffic
	// Actions are operator commands.
	Actions []Action
	// RekeyWindow is the half-width of the per-rekey loss window; 0 means
	// DefaultRekeyWindow.
	RekeyWindow time.Duration
	// Observer, when set, sees every input and output of every peer and
	// every datagram the network loses, except the packets coasted in bulk
	// (Coast). It must copy what it keeps.
	Observer func(Observation)
	// Bucket, when positive, makes Result.DeliveredSeries count the
	// packets delivered in each Bucket of virtual time (by arrival).
	Bucket time.Duration
	// Coast lets the simulator fast-forward quiet stretches of a tunnel's
	// traffic in bulk (see coast.go) when both of its peers implement
	// peer.Coaster. The Result is the same as without; the Observer does
	// not see the coasted packets.
	Coast bool
}

// ErrConfig is matched (errors.Is) by every configuration error.
var ErrConfig = errors.New("netsim: invalid config")

// ConfigError says which field of a Config is invalid and why.
type ConfigError struct {
	Field  string // e.g. "AB.ESP.LossProb" or "Traffic[2].Rate"
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string {
	return "netsim: invalid config: " + e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// maxTunnels bounds Tunnels so that indexes fit the event encoding.
const maxTunnels = 1 << 22

// maxInstances bounds generator instances (Tunnels × Traffic) and scheduled
// actions (AllTunnels counts Tunnels times), which New allocates up front.
const maxInstances = 1 << 24

// Generator rates, in packets per second. The bounds keep every packet's
// offset within a Duration and exact to the nanosecond in a float64.
const (
	minRate = 1e-3
	maxRate = 1e9
)

// maxGenerators bounds Traffic so that a generator index fits the probe.
const maxGenerators = 1 << 16

func cfgErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func checkProb(field string, p float64) error {
	if math.IsNaN(p) || p < 0 || p > 1 {
		return cfgErr(field, "probability %v outside [0, 1]", p)
	}
	return nil
}

func (l *LinkConfig) validate(field string) error {
	if l.Delay < 0 {
		return cfgErr(field+".Delay", "negative")
	}
	if l.Jitter < 0 {
		return cfgErr(field+".Jitter", "negative")
	}
	if l.Dist != Uniform && l.Dist != Normal {
		return cfgErr(field+".Dist", "unknown distribution %d", l.Dist)
	}
	if l.ReorderDelay < 0 {
		return cfgErr(field+".ReorderDelay", "negative")
	}
	if err := checkProb(field+".ReorderProb", l.ReorderProb); err != nil {
		return err
	}
	if l.ReorderProb > 0 && l.ReorderDelay == 0 {
		return cfgErr(field+".ReorderDelay", "zero with ReorderProb > 0")
	}
	if err := checkProb(field+".LossProb", l.LossProb); err != nil {
		return err
	}
	return checkProb(field+".DupProb", l.DupProb)
}

// maxDelay bounds every configured delay so that sums cannot overflow.
const maxDelay = 1000 * time.Hour

// maxBuckets bounds Result.DeliveredSeries.
const maxBuckets = 1 << 20

func validateLinks(prefix string, ab, ba *Link) error {
	links := [...]struct {
		name string
		l    *LinkConfig
	}{{"AB.IKE", &ab.IKE}, {"AB.ESP", &ab.ESP}, {"BA.IKE", &ba.IKE}, {"BA.ESP", &ba.ESP}}
	for _, x := range links {
		if x.l.Delay > maxDelay || x.l.Jitter > maxDelay || x.l.ReorderDelay > maxDelay {
			return cfgErr(prefix+x.name, "delay above %v", maxDelay)
		}
		if err := x.l.validate(prefix + x.name); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validate() error {
	if c.Tunnels < 1 || c.Tunnels > maxTunnels {
		return cfgErr("Tunnels", "%d outside [1, %d]", c.Tunnels, maxTunnels)
	}
	if c.TunnelBase < 0 || c.TunnelBase > 1<<29-c.Tunnels {
		return cfgErr("TunnelBase", "%d outside [0, %d]", c.TunnelBase, 1<<29-c.Tunnels)
	}
	if c.Duration < 0 || c.Duration > maxDelay {
		return cfgErr("Duration", "%v outside [0, %v]", c.Duration, maxDelay)
	}
	if c.Bucket < 0 || (c.Bucket > 0 && c.Duration/c.Bucket > maxBuckets) {
		return cfgErr("Bucket", "%v negative or more than %d buckets", c.Bucket, maxBuckets)
	}
	if c.RekeyWindow < 0 || c.RekeyWindow > maxDelay {
		return cfgErr("RekeyWindow", "%v outside [0, %v]", c.RekeyWindow, maxDelay)
	}
	if err := validateLinks("", &c.AB, &c.BA); err != nil {
		return err
	}
	for i, t := range c.Traffic {
		f := fmt.Sprintf("Traffic[%d]", i)
		switch {
		case t.From != A && t.From != B:
			return cfgErr(f+".From", "unknown side %d", t.From)
		case math.IsNaN(t.Rate) || t.Rate < minRate || t.Rate > maxRate:
			return cfgErr(f+".Rate", "%v outside [%v, %v]", t.Rate, minRate, maxRate)
		case t.Size < MinPacketSize || t.Size > MaxPacketSize:
			return cfgErr(f+".Size", "%d outside [%d, %d]", t.Size, MinPacketSize, MaxPacketSize)
		case t.Start < 0 || t.Stop < 0 || (t.Stop != 0 && t.Stop < t.Start):
			return cfgErr(f+".Stop", "window [%v, %v) invalid", t.Start, t.Stop)
		case t.On < 0 || t.Off < 0 || t.On > maxDelay || t.Off > maxDelay:
			return cfgErr(f+".On", "negative or huge burst period")
		case t.Flow < 0 || t.Flow > 0xffff-probeSrcPort:
			return cfgErr(f+".Flow", "%d outside [0, %d]", t.Flow, 0xffff-probeSrcPort)
		case t.Src.IsValid() && !t.Src.Is4():
			return cfgErr(f+".Src", "%v is not IPv4", t.Src)
		case t.Dst.IsValid() && !t.Dst.Is4():
			return cfgErr(f+".Dst", "%v is not IPv4", t.Dst)
		}
	}
	if len(c.Traffic) > maxGenerators || c.Tunnels*len(c.Traffic) > maxInstances {
		return cfgErr("Traffic", "%d generators on %d tunnels, more than %d instances", len(c.Traffic), c.Tunnels, maxInstances)
	}
	actions := 0
	for i, a := range c.Actions {
		f := fmt.Sprintf("Actions[%d]", i)
		switch {
		case a.At < 0:
			return cfgErr(f+".At", "negative")
		case a.Tunnel != AllTunnels && (a.Tunnel < 0 || a.Tunnel >= c.Tunnels):
			return cfgErr(f+".Tunnel", "%d outside [0, %d)", a.Tunnel, c.Tunnels)
		case a.Side != A && a.Side != B:
			return cfgErr(f+".Side", "unknown side %d", a.Side)
		case a.Kind != peer.Rekey && a.Kind != peer.Delete:
			return cfgErr(f+".Kind", "%v is not rekey or delete", a.Kind)
		case a.Flow < 0:
			return cfgErr(f+".Flow", "negative")
		}
		if a.Tunnel == AllTunnels {
			actions += c.Tunnels
		} else {
			actions++
		}
		if actions > maxInstances {
			return cfgErr("Actions", "more than %d scheduled actions", maxInstances)
		}
	}
	return nil
}

// DropNth returns a Filter that drops the n-th datagrams (counting from 1,
// per tunnel and direction) of the link it is set on, e.g. DropNth(3) on
// AB.IKE drops the third ISAKMP message A sends: QM3 when A initiates one
// Quick Mode and nothing else.
func DropNth(ns ...int) func(FilterInfo) bool {
	ns = slices.Clone(ns)
	return func(f FilterInfo) bool { return slices.Contains(ns, f.N) }
}
