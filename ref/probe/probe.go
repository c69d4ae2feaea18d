package probe

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/esp"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/mainmode"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Config is one probe run.
type Config struct {
	Sockets Sockets
	// Local is the probe's outer address (the sockets' address), for
	// NAT-D and the phase-1 ID.
	Local netip.Addr
	PSK   []byte
	// LocalTS and RemoteTS are the traffic selectors (the daemon's are
	// mirrored). Probes go from LocalTS's address to RemoteTS's.
	LocalTS, RemoteTS netip.Prefix

	// Rekeys is how many rekeys to measure (default 3).
	Rekeys int
	// DaemonInitiates: the daemon starts every rekey (TriggerRekey asks
	// it to, or it rekeys on its own timers); otherwise the probe does.
	DaemonInitiates bool
	// TriggerRekey, with DaemonInitiates, makes the daemon rekey (e.g.
	// runs `swanctl --rekey`). It runs in its own goroutine. Nil: wait for
	// the daemon's own rekeys.
	TriggerRekey func() error
	// Rate is probes per second (default 200); Size their IP size.
	Rate float64
	Size int
	// Interval separates rekeys (default 2 s); Warmup is the traffic
	// before the first rekey once the first Quick Mode is done (default
	// 1 s).
	Interval, Warmup time.Duration
	// QM3Delay: as initiator, QM3 is held back this long after QM2 while
	// the probe already sends on the new SA (default 200 ms; a negative
	// value sends it at once). A responder that installs its inbound SA
	// only at QM3 drops what arrives meanwhile.
	QM3Delay time.Duration

	// HoldQM3: with DaemonInitiates, the daemon's QM3 is held back this
	// long on arrival, so that its Delete of the old pair (and its first
	// ESP on the new one) overtake it, as reordering in the network or a
	// multi-threaded responder makes happen (0: not held).
	HoldQM3 time.Duration

	// Profile of the probe's own gateway (default hitless).
	Profile quickmode.Profile
	// Proposal of phase 1 (mainmode defaults: aes128-sha1-modp2048).
	MainMode mainmode.Proposal
	// PFS group of Quick Mode (default 14; -1 for none).
	PFS int
	// Lifetime proposed for the IPsec SAs (default 1 h; no soft lifetime:
	// rekeys are forced).
	Lifetime time.Duration

	// Timeout bounds the whole run (default: enough for every phase
	// with margin).
	Timeout time.Duration
	// Rand is the source of every random choice (default crypto/rand).
	Rand io.Reader
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Check reports a Config that cannot run (its sockets aside) as Run
// would, with ErrConfig.
func (c Config) Check() error { return c.defaults() }

func (c *Config) defaults() error {
	if c.Rekeys <= 0 {
		c.Rekeys = 3
	}
	if c.Rate <= 0 {
		c.Rate = 200
	}
	if c.Rate > 20000 {
		return fmt.Errorf("%w: rate %v above 20000 probes/s", ErrConfig, c.Rate)
	}
	if c.Size == 0 {
		c.Size = 84
	}
	if c.Size < ipv4HeaderLen+icmpEchoLen || c.Size > 1400 {
		return fmt.Errorf("%w: size %d outside [28, 1400]", ErrConfig, c.Size)
	}
	if c.Interval <= 0 {
		c.Interval = 2 * time.Second
	}
	if c.Warmup <= 0 {
		c.Warmup = time.Second
	}
	if c.QM3Delay == 0 {
		c.QM3Delay = 200 * time.Millisecond
	}
	if c.HoldQM3 < 0 || c.HoldQM3 >= c.Interval/2 {
		return fmt.Errorf("%w: QM3 hold %v must be in [0, half the interval %v)", ErrConfig, c.HoldQM3, c.Interval)
	}
	if c.QM3Delay >= c.Interval/2 {
		return fmt.Errorf("%w: QM3 delay %v must be under half the interval %v", ErrConfig, c.QM3Delay, c.Interval)
	}
	if c.Profile.Name == "" {
		c.Profile = quickmode.Hitless
	}
	if c.PFS == 0 {
		c.PFS = 14
	}
	if c.Lifetime <= 0 {
		c.Lifetime = time.Hour
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if !c.Local.Is4() || !c.LocalTS.Addr().Is4() || !c.RemoteTS.Addr().Is4() {
		return fmt.Errorf("%w: the probe speaks IPv4: outer address and selectors must be IPv4", ErrConfig)
	}
	if !c.LocalTS.Contains(c.LocalTS.Addr()) || !c.RemoteTS.IsValid() {
		return fmt.Errorf("%w: bad traffic selectors %v, %v", ErrConfig, c.LocalTS, c.RemoteTS)
	}
	if len(c.PSK) == 0 {
		return fmt.Errorf("%w: no pre-shared key", ErrConfig)
	}
	if n := c.Rate * c.runLength().Seconds(); n > maxProbes {
		return fmt.Errorf("%w: %.0f probes in a run, at most %d", ErrConfig, n, maxProbes)
	}
	if c.Timeout <= 0 {
		c.Timeout = 30*time.Second + c.runLength()*2
	}
	return nil
}

// answerWait is how long the run waits for answers after the last probe.
const answerWait = 300 * time.Millisecond

// maxProbes bounds a run's probes (and the memory of their records).
const maxProbes = 1 << 22

// runLength is the probing time after the first Quick Mode.
func (c *Config) runLength() time.Duration {
	return c.Warmup + time.Duration(c.Rekeys)*c.Interval
}

// gatewayConfig is the probe's own gateway.
func (c *Config) gatewayConfig() gateway.Config {
	pfs := dh.ID(c.PFS)
	if c.PFS < 0 {
		pfs = 0
	}
	return gateway.Config{
		Profile: c.Profile, Initiator: true, PFS: pfs,
		Flows:    []gateway.Flow{{Local: quickmode.Selector{Prefix: c.LocalTS}, Remote: quickmode.Selector{Prefix: c.RemoteTS}}},
		Lifetime: gateway.Lifetimes{Hard: c.Lifetime},
		Rand:     c.Rand,
		// A daemon that never deletes superseded pairs (strongSwan's
		// IKEv1 responder keeps them to their expiry) leaves one pair per
		// rekey installed here too.
		MaxSAsPerFlow: min(2*(c.Rekeys+4), 1024),
		// Superseded pairs stay until the run ends (Linger 0: until hard
		// expiry or the daemon's Delete): the probe sends no Delete of
		// its own. strongSwan 5.9.8 keeps state for few IKEv1 phase-2
		// exchanges (charon.max_ikev1_exchanges, 3): Informational
		// Deletes between its QM2 and our QM3 evicted the Quick Mode's
		// IV, and it refused QM3 as undecryptable (4 of 10 rekeys at 1 s
		// intervals), which would be measured as the daemon's loss.
		Linger: 0,
	}
}

func (c *Config) mainMode(peerAddr netip.Addr, ike uint16) mainmode.Config {
	return mainmode.Config{
		PSK: c.PSK, Local: netip.AddrPortFrom(c.Local, localPort(c.Sockets.IKE)), Peer: netip.AddrPortFrom(peerAddr, ike),
		Proposal: c.MainMode, NATT: true, ForceNATT: true, InitialContact: true, Rand: c.Rand,
	}
}

// Run negotiates with the daemon at cfg.Sockets.Peer, probes both ways,
// makes or waits for cfg.Rekeys rekeys and reports what each lost.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	l, err := newLink(cfg.Sockets, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	defer l.stop()
	r := newRecorder(&cfg)
	s := &side{l: l, now: cfg.Now, start: cfg.Now()}
	r.s = s
	begin := s.now()
	deadline := begin.Add(cfg.Timeout)
	ike, _ := cfg.Sockets.ports()
	mmCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if err := s.phase1(mmCtx, cfg.mainMode(cfg.Sockets.Peer, ike), true, min(cfg.Timeout, 30*time.Second)); err != nil {
		return nil, err
	}
	r.rep.MainMode = s.vt()
	r.rep.NATT = s.res.Phase1.NATT
	r.rep.PeerInitialContact = s.res.InitialContact
	if err := s.startGateway(cfg.gatewayConfig()); err != nil {
		return nil, err
	}
	s.observe = r.observe
	s.onSend = func(at time.Duration, d peer.Datagram) { r.wireEvent(at, true, d) }
	if !cfg.DaemonInitiates && cfg.QM3Delay > 0 {
		s.holdIKE = r.holdQM3
	}
	if cfg.DaemonInitiates && cfg.HoldQM3 > 0 {
		s.holdIn = r.holdReceivedQM3
	}
	err = s.loop(ctx, r, deadline)
	r.finish()
	r.rep.Stray = l.stray.Load()
	r.rep.Overflow = l.overflow.Load()
	r.rep.SendErrors = l.sendErrs.Load()
	if err != nil {
		return r.rep, fmt.Errorf("%w (after %d of %d rekeys)", err, len(r.rep.Rekeys), cfg.Rekeys)
	}
	if r.failed != nil {
		return r.rep, r.failed
	}
	return r.rep, nil
}

// probeRec is one probe: when it was sent and answered (0: not).
type probeRec struct {
	sent, answered time.Duration
	dropped        bool // dropped by the probe's own gateway on the way out
}

// recorder watches the probe's gateway and the wire.
type recorder struct {
	cfg    *Config
	s      *side
	rep    *Report
	runID  uint16
	probes []probeRec
	buf    []byte
	// phase: 0 waiting for the first SA, 1 warm-up and rekeys, 2
	// draining, 3 done.
	phase      int
	nextProbe  time.Time
	nextRekey  time.Time
	rekeysDone int // rekeys started
	drainUntil time.Time
	triggered  chan error
	failed     error
	qmOpen     map[uint32]*Rekey
	inFlight   *Rekey          // the rekey started and not yet complete
	firstMID   uint32          // the first Quick Mode
	ourSPIs    map[uint32]bool // every inbound SPI the probe installed
	espOut     map[uint32]bool
	espIn      map[uint32]bool
	// wire is the event log for the ladders.
	wire []Event
}

func newRecorder(cfg *Config) *recorder {
	var b [2]byte
	_, _ = io.ReadFull(cfg.Rand, b[:])
	return &recorder{cfg: cfg, rep: &Report{Config: reportConfig(cfg)}, runID: binary.BigEndian.Uint16(b[:]),
		qmOpen: map[uint32]*Rekey{}, ourSPIs: map[uint32]bool{}, espOut: map[uint32]bool{}, espIn: map[uint32]bool{}, triggered: make(chan error, 1)}
}

func (r *recorder) done() bool { return r.phase == 3 }

func (r *recorder) next() (time.Time, bool) {
	switch r.phase {
	case 0, 1:
		at := r.nextProbe
		if r.phase == 1 && !r.nextRekey.IsZero() {
			at = minTime(at, r.nextRekey)
		}
		if r.phase == 1 && !r.drainUntil.IsZero() {
			at = minTime(at, r.drainUntil)
		}
		return at, true
	case 2:
		return r.drainUntil, true
	}
	return time.Time{}, false
}

func (r *recorder) act(now time.Time) {
	select {
	case err := <-r.triggered:
		if err != nil && r.failed == nil {
			r.failed = fmt.Errorf("probe: triggering the daemon's rekey: %w", err)
			r.phase = 3
			return
		}
	default:
	}
	switch r.phase {
	case 1:
		if !r.drainUntil.IsZero() && !now.Before(r.drainUntil) {
			// Probing ends; the last answers have a moment to arrive.
			r.phase = 2
			r.drainUntil = now.Add(answerWait)
			return
		}
	case 2:
		if !now.Before(r.drainUntil) {
			r.phase = 3
		}
		return
	}
	if !now.Before(r.nextProbe) {
		r.sendProbe()
		r.nextProbe = r.nextProbe.Add(time.Duration(float64(time.Second) / r.cfg.Rate))
		if r.nextProbe.Before(now) { // fell behind: do not burst
			r.nextProbe = now
		}
	}
	if r.phase == 1 && !r.nextRekey.IsZero() && !now.Before(r.nextRekey) {
		r.startRekey(now)
	}
}

func (r *recorder) sendProbe() {
	n := len(r.probes)
	r.probes = append(r.probes, probeRec{sent: r.s.vt()})
	r.buf = appendEcho(r.buf[:0], echo{src: r.cfg.LocalTS.Addr(), dst: r.cfg.RemoteTS.Addr(),
		id: r.runID + uint16(n>>16), seq: uint16(n)}, r.cfg.Size)
	r.s.step(peer.Input{Kind: peer.Send, Flow: 0, Packet: r.buf})
}

// startRekey begins rekey number rekeysDone.
func (r *recorder) startRekey(now time.Time) {
	if r.inFlight != nil {
		// The previous one has not completed: wait (it bounds the run
		// through the deadline).
		r.nextRekey = now.Add(r.cfg.Interval / 10)
		return
	}
	r.rekeysDone++
	if r.rekeysDone < r.cfg.Rekeys {
		r.nextRekey = now.Add(r.cfg.Interval)
	} else {
		r.nextRekey = time.Time{}
		r.drainUntil = now.Add(r.cfg.Interval)
	}
	if !r.cfg.DaemonInitiates {
		rk := &Rekey{Index: len(r.rep.Rekeys) + 1, By: "probe", Start: r.s.vt()}
		r.rep.Rekeys = append(r.rep.Rekeys, rk)
		r.inFlight = rk
		r.s.step(peer.Input{Kind: peer.Rekey, Flow: 0})
		return
	}
	if r.cfg.TriggerRekey != nil {
		go func() { r.triggered <- r.cfg.TriggerRekey() }()
	}
}

// observe records what the probe's gateway did.
func (r *recorder) observe(at time.Duration, in *peer.Input, outs []peer.Output) {
	if in.Kind == peer.Receive {
		r.wireEvent(at, false, in.Datagram)
	}
	var deleted []uint32 // message IDs of the pairs a Delete from the daemon removed
	for i := range outs {
		o := &outs[i]
		switch o.Kind {
		case peer.Deliver:
			if e, ok := parseEcho(o.Packet); ok && e.reply && e.src == r.cfg.RemoteTS.Addr() {
				n := int(e.id-r.runID)<<16 | int(e.seq)
				if n < len(r.probes) && r.probes[n].answered == 0 {
					r.probes[n].answered = at
				}
			}
		case peer.Drop:
			if o.Direction == peer.Inbound && (!r.ourSPIs[o.SPI] || !peer.LackOfActiveSA(o.Reason) && o.Reason != peer.ReasonExpired) {
				// Not the daemon's traffic lost: ESP for an SPI this
				// probe never had, a forgery, a replay.
				r.rep.Bogus++
				continue
			}
			if len(r.rep.drops) < maxEvents {
				r.rep.drops = append(r.rep.drops, drop{at: at, dir: o.Direction, reason: o.Reason, spi: o.SPI})
			}
			if o.Direction == peer.Outbound && in.Kind == peer.Send && len(r.probes) > 0 {
				r.probes[len(r.probes)-1].dropped = true
			}
		case peer.Reject:
			r.rep.Rejected++
		case peer.Exchange:
			r.exchange(at, o)
		case peer.SAEvent:
			r.saEvent(at, in, o)
			if o.Event == peer.Deleted && in.Kind == peer.Receive && in.Datagram.IsIKE() {
				deleted = append(deleted, o.SA.MessageID)
			}
		}
	}
	for _, mid := range deleted {
		r.deleteReceived(at, mid)
	}
}

func (r *recorder) exchange(at time.Duration, o *peer.Output) {
	switch o.ExchangeEvent {
	case peer.Started:
		if o.Role == "responder" {
			// The daemon started a Quick Mode: the first negotiation is
			// ours, so this is a rekey.
			rk := &Rekey{Index: len(r.rep.Rekeys) + 1, By: "daemon", Start: at, MessageID: o.MessageID, QM1: at}
			// QM2 leaves in this step; its send time is taken by sent.
			r.rep.Rekeys = append(r.rep.Rekeys, rk)
			r.qmOpen[o.MessageID] = rk
			r.inFlight = rk
			if r.cfg.TriggerRekey == nil && r.phase == 1 {
				r.rekeysDone++
				if r.rekeysDone >= r.cfg.Rekeys {
					r.drainUntil = r.s.now().Add(r.cfg.Interval)
				}
			}
			return
		}
		if rk := r.inFlight; rk != nil && rk.By == "probe" && rk.MessageID == 0 {
			rk.MessageID, rk.QM1 = o.MessageID, at
			r.qmOpen[o.MessageID] = rk
		}
	case peer.Completed:
		rk := r.qmOpen[o.MessageID]
		if rk == nil {
			if r.phase == 0 {
				r.rep.FirstQuickMode, r.firstMID = at, o.MessageID
				r.phase = 1
				r.nextRekey = r.s.now().Add(r.cfg.Warmup)
			}
			return
		}
		delete(r.qmOpen, o.MessageID)
		if o.Role == "initiator" {
			rk.QM2 = at
		}
		// As responder, QM3 is taken from the wire: the exchange may
		// complete before it (first ESP on the new pair, or the daemon's
		// Delete of the old one).
		rk.Completed = true
		if r.inFlight == rk {
			r.inFlight = nil
		}
	case peer.Failed:
		if rk := r.qmOpen[o.MessageID]; rk != nil {
			rk.Failed = o.Reason
			delete(r.qmOpen, o.MessageID)
			if r.inFlight == rk {
				r.inFlight = nil
			}
		} else if r.phase == 0 {
			r.failed = fmt.Errorf("%w: the first Quick Mode: %s", ErrQuickMode, o.Reason)
			r.phase = 3
		}
	}
}

func (r *recorder) saEvent(at time.Duration, in *peer.Input, o *peer.Output) {
	if o.Event == peer.Installed && o.SA.Direction == peer.Inbound && len(r.ourSPIs) < maxEvents {
		r.ourSPIs[o.SA.SPI] = true
	}
	rk := r.qmOpen[o.SA.MessageID]
	if rk == nil {
		for _, x := range r.rep.Rekeys {
			if x.MessageID == o.SA.MessageID && o.SA.MessageID != 0 {
				rk = x
			}
		}
	}
	if rk == nil {
		return
	}
	switch {
	case o.Event == peer.Installed && o.SA.Direction == peer.Inbound:
		rk.NewInSPI = o.SA.SPI
	case o.Event == peer.Installed && o.SA.Direction == peer.Outbound:
		rk.NewOutSPI = o.SA.SPI
	case o.Event == peer.Activated:
		rk.Activated = at
	}
}

// deleteReceived notes a Delete from the daemon that removed the pair
// of exchange mid: the pair the next rekey superseded. It overtook that
// rekey's QM3 if the probe's gateway had not taken QM3 yet.
func (r *recorder) deleteReceived(at time.Duration, mid uint32) {
	prev := r.firstMID
	for _, rk := range r.rep.Rekeys {
		if prev == mid && rk.By == "daemon" && rk.DeleteAt == 0 {
			rk.DeleteAt, rk.DeleteBeforeQM3 = at, rk.QM3 == 0
			return
		}
		prev = rk.MessageID
	}
}

// wireEvent logs a datagram sent by the probe (out) or received from the
// daemon, for the ladder, the first ESP on each SPI and the QM3 times.
func (r *recorder) wireEvent(at time.Duration, out bool, d peer.Datagram) {
	e := Event{At: at, Out: out}
	if d.IsIKE() {
		msg := d.Bytes
		if d.Transport == peer.UDP4500 {
			msg = msg[4:]
		}
		h, err := isakmp.ParseHeader(msg)
		if err != nil {
			e.What = "malformed IKE"
		} else {
			e.MessageID = h.MessageID
			e.What = ikeName(h.Exchange)
			if out && h.Exchange == isakmp.ExchangeQuickMode {
				for _, rk := range r.rep.Rekeys {
					switch {
					case rk.By == "probe" && rk.MessageID == h.MessageID && rk.QM2 > 0 && rk.QM3 == 0:
						rk.QM3 = at // QM3 leaves now (it may have been held)
					case rk.By == "daemon" && rk.MessageID == h.MessageID && rk.QM2 == 0:
						rk.QM2 = at
					}
				}
			}
			if !out && h.Exchange == isakmp.ExchangeQuickMode {
				for _, rk := range r.rep.Rekeys {
					if rk.By == "daemon" && rk.MessageID == h.MessageID && rk.QM2 > 0 && rk.QM3 == 0 {
						rk.QM3 = at // the probe's gateway takes the daemon's QM3
						if rk.QM3Arrived == 0 {
							rk.QM3Arrived = at
						}
					}
				}
			}
		}
	} else if d.Transport == peer.UDP4500 && len(d.Bytes) > 1 {
		spi, err := esp.PeekSPI(d.Bytes)
		if err != nil {
			return
		}
		e.What, e.SPI = "ESP", spi
		seen := r.espIn
		if out {
			seen = r.espOut
		}
		if seen[spi] {
			r.countESP(e)
			return
		}
		seen[spi] = true
		r.firstESP(at, out, spi)
	} else {
		return
	}
	if len(r.wire) < maxEvents {
		r.wire = append(r.wire, e)
	}
}

// maxEvents bounds the event log.
const maxEvents = 1 << 16

// countESP folds a further ESP packet into the last event of its SPI and
// direction when nothing else happened in between.
func (r *recorder) countESP(e Event) {
	// Fold into the run of this SPI and direction among the ESP events
	// since the last IKE message.
	for i := len(r.wire) - 1; i >= 0 && r.wire[i].What == "ESP"; i-- {
		if last := &r.wire[i]; last.SPI == e.SPI && last.Out == e.Out {
			last.Count = max(last.Count, 1) + 1
			last.Until = e.At
			return
		}
	}
	if len(r.wire) < maxEvents {
		e.Count = 1
		r.wire = append(r.wire, e)
	}
}

func (r *recorder) firstESP(at time.Duration, out bool, spi uint32) {
	for _, rk := range r.rep.Rekeys {
		if out && rk.NewOutSPI == spi && rk.FirstOut == 0 {
			rk.FirstOut = at
		}
		if !out && rk.NewInSPI == spi && rk.FirstIn == 0 {
			rk.FirstIn = at
		}
	}
}

func ikeName(x isakmp.ExchangeType) string {
	switch x {
	case isakmp.ExchangeQuickMode:
		return "QM"
	case isakmp.ExchangeInformational:
		return "Informational"
	case isakmp.ExchangeMainMode:
		return "MM"
	}
	return x.String()
}

// holdQM3 holds the IKE datagrams of the step that completed a Quick
// Mode as initiator (the step that sends QM3) when it is a rekey.
func (r *recorder) holdQM3(in *peer.Input, outs []peer.Output) time.Duration {
	if in.Kind != peer.Receive || r.phase != 1 {
		return 0
	}
	for _, o := range outs {
		if o.Kind == peer.Exchange && o.ExchangeEvent == peer.Completed && o.Role == "initiator" {
			if r.isRekey(o.MessageID) {
				return r.cfg.QM3Delay
			}
		}
	}
	return 0
}

// holdReceivedQM3 holds a Quick Mode message of a daemon rekey whose
// QM2 was sent: its QM3.
func (r *recorder) holdReceivedQM3(d datagram) time.Duration {
	msg, ok := ikeOf(d)
	if !ok {
		return 0
	}
	h, err := isakmp.ParseHeader(msg)
	if err != nil || h.Exchange != isakmp.ExchangeQuickMode {
		return 0
	}
	for _, rk := range r.rep.Rekeys {
		// The exchange may have completed already (the daemon's first
		// ESP on the new pair): QM3 is held all the same.
		if rk.By == "daemon" && rk.MessageID == h.MessageID && rk.QM2 > 0 && rk.QM3 == 0 {
			if rk.QM3Arrived == 0 {
				rk.QM3Arrived = r.s.vt()
			}
			return r.cfg.HoldQM3
		}
	}
	return 0
}

func (r *recorder) isRekey(mid uint32) bool {
	for _, rk := range r.rep.Rekeys {
		if rk.MessageID == mid {
			return true
		}
	}
	return false
}

// finish computes the per-rekey figures.
func (r *recorder) finish() {
	r.rep.Events = r.wire
	r.rep.analyse(r.probes, r.cfg)
}
