package probe

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/mainmode"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// TargetConfig configures a Target: the reference gateway in a chosen
// profile standing in for the daemon, behind the same UDP shell.
type TargetConfig struct {
	Sockets Sockets
	// Local is the target's outer address; LocalTS its inner host (it
	// answers ICMP echo requests to LocalTS's address), RemoteTS the
	// probe's.
	Local             netip.Addr
	PSK               []byte
	LocalTS, RemoteTS netip.Prefix
	Profile           quickmode.Profile
	// strongSwan's retirement options for the rekeys the target starts.
	DeleteRekeyed, DeleteOldAfterRekey bool
	// Linger: otherwise, how long after a rekey it initiated the target
	// keeps the old pair before deleting it with a Delete (0: until hard
	// expiry).
	Linger time.Duration
	PFS    int // default 14, -1 none
	Rand   io.Reader
	Now    func() time.Time
}

// Target answers a probe as a daemon would: Main Mode responder, Quick
// Mode in its profile, echo replies, and rekeys on request. It lets the
// probe be tested end to end on loopback against known timings.
type Target struct {
	cfg   TargetConfig
	rekey chan struct{}
	ready chan struct{}
}

// NewTarget checks cfg.
func NewTarget(cfg TargetConfig) (*Target, error) {
	if cfg.Profile.Name == "" {
		cfg.Profile = quickmode.Hitless
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PFS == 0 {
		cfg.PFS = 14
	}
	if len(cfg.PSK) == 0 || !cfg.LocalTS.IsValid() || !cfg.RemoteTS.IsValid() {
		return nil, fmt.Errorf("%w: target needs a PSK and both selectors", ErrConfig)
	}
	return &Target{cfg: cfg, rekey: make(chan struct{}, 16), ready: make(chan struct{})}, nil
}

// Rekey asks the target to start a rekey of its flow (safe from any
// goroutine).
func (t *Target) Rekey() error {
	select {
	case t.rekey <- struct{}{}:
		return nil
	default:
		return fmt.Errorf("probe: target: too many rekeys pending")
	}
}

// Ready is closed once phase 1 is up.
func (t *Target) Ready() <-chan struct{} { return t.ready }

// Serve runs until ctx ends: it waits for the probe's Main Mode, then
// answers.
func (t *Target) Serve(ctx context.Context) error {
	c := &t.cfg
	l, err := newLink(c.Sockets, c.Now)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	defer l.stop()
	s := &side{l: l, now: c.Now, start: c.Now(), wake: make(chan struct{}, 1)}
	ike, _ := c.Sockets.ports()
	mm := mainmode.Config{PSK: c.PSK, Local: netip.AddrPortFrom(c.Local, localPort(c.Sockets.IKE)), Peer: netip.AddrPortFrom(c.Sockets.Peer, ike),
		NATT: true, ForceNATT: true, Rand: c.Rand}
	if err := s.phase1(ctx, mm, false, 24*time.Hour); err != nil {
		return err
	}
	pfs := dh.ID(c.PFS)
	if c.PFS < 0 {
		pfs = 0
	}
	gc := gateway.Config{Profile: c.Profile, PFS: pfs, Rand: c.Rand,
		Flows:         []gateway.Flow{{Local: quickmode.Selector{Prefix: c.LocalTS}, Remote: quickmode.Selector{Prefix: c.RemoteTS}}},
		Lifetime:      gateway.Lifetimes{Hard: time.Hour},
		DeleteRekeyed: c.DeleteRekeyed, DeleteOldAfterRekey: c.DeleteOldAfterRekey, Linger: c.Linger}
	if err := s.startGateway(gc); err != nil {
		return err
	}
	close(t.ready)
	a := &targetActor{t: t, s: s, ctx: ctx}
	s.observe = a.observe
	s.after = a.flush
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.rekey:
				a.pending.Add(1)
				select {
				case s.wake <- struct{}{}:
				default:
				}
			}
		}
	}()
	err = s.loop(ctx, a, time.Now().Add(24*time.Hour))
	if ctx.Err() != nil {
		return nil
	}
	return err
}

type targetActor struct {
	t       *Target
	s       *side
	ctx     context.Context
	replies [][]byte
	pending atomic.Int64
}

func (a *targetActor) next() (time.Time, bool) {
	if a.pending.Load() > 0 {
		return a.s.now(), true
	}
	return time.Time{}, false
}

func (a *targetActor) act(time.Time) {
	for a.pending.Load() > 0 {
		a.pending.Add(-1)
		a.s.step(peer.Input{Kind: peer.Rekey, Flow: 0})
	}
}

func (a *targetActor) done() bool { return a.ctx.Err() != nil }

// observe queues an echo reply for every echo request delivered to the
// target's inner host.
func (a *targetActor) observe(_ time.Duration, _ *peer.Input, outs []peer.Output) {
	for _, o := range outs {
		if o.Kind != peer.Deliver {
			continue
		}
		e, ok := parseEcho(o.Packet)
		if !ok || e.reply || e.dst != a.t.cfg.LocalTS.Addr() || len(a.replies) >= 1024 {
			continue
		}
		a.replies = append(a.replies, appendEcho(nil, echo{src: e.dst, dst: e.src, reply: true, id: e.id, seq: e.seq}, len(o.Packet)))
	}
}

func (a *targetActor) flush() {
	for len(a.replies) > 0 {
		r := a.replies[0]
		a.replies = a.replies[1:]
		a.s.step(peer.Input{Kind: peer.Send, Flow: 0, Packet: r})
	}
}
