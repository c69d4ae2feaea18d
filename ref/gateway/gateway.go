// Package gateway is the reference IPsec gateway: a peer.Peer that
// composes the Quick Mode exchange (package quickmode), the SA database
// (package sadb), the ESP data plane (package esp) and the Informational
// exchange (Delete and Notify, RFC 2408 §4.8, RFC 2409 §5.7) over one
// established phase-1 SA, with virtual time and injected randomness.
//
// Besides the install timing chosen by Config.Profile, options reproduce
// the mechanisms by which real implementations lose traffic around a
// rekey: DeleteRekeyed (strongSwan charon.delete_rekeyed), DeleteOldAfterRekey
// (a Delete for the old pair right behind QM3, which can overtake it) and
// Linger (how long the old pair stays otherwise before it is retired).
//
// # Retiring a pair
//
// An inbound SA is never removed on a local timer alone, since the peer
// may still send on it: it goes at its hard expiry or on the peer's Delete
// for its pair. The gateway sends a Delete for a pair only DeleteGrace
// after it last sent ESP on it, so a Delete also says that none of that
// ESP is still in flight (bounded delay below DeleteGrace). A side that
// wants a pair gone (the redundant pair of a simultaneous rekey, or an old
// pair after Linger) deletes its outbound SA and sends that Delete,
// keeping its inbound SA; the peer deletes both its SAs of the pair and
// answers with its own Delete (again DeleteGrace after it last sent on
// the pair), on which the first side removes its inbound SA. IKEv1 does
// not acknowledge Informational exchanges, so an unanswered Delete is
// retransmitted (Config.DeleteRetransmit), and again, at most once per
// DeleteRetransmit.Initial, whenever ESP still arrives on the pair: under
// finite loss one gets through. The peer's Delete for the active outbound
// SA makes the newest proven one active (package sadb). See retire.go.
//
// # Simultaneous rekeys
//
// When both sides complete a Quick Mode for one flow whose lifetimes
// overlapped (each started before the other completed, as seen by the
// side evaluating it), the pair of the exchange with the lower message ID
// wins. The side that initiated the redundant exchange retires its pair
// as above; the other waits for that. The two sides may judge overlap
// differently (only the order of local events is known): one side may
// resolve the collision while the other treats the later exchange as an
// ordinary rekey and, after Linger, retires the earlier pair. Convergence
// on one pair, without drops, rests on three facts:
//
//   - a side retires a pair only if it initiated a newer exchange for the
//     flow (Linger: pairs of exchanges that started before it, other than
//     its collision partner) or initiated the redundant exchange itself;
//     by causality the two sides cannot each retire the pair the other
//     keeps (for A to count B's exchange W older than its own L, W's QM1
//     reached A before A sent L's QM1; for B to count L older than W, L's
//     QM1 reached B before B sent W's QM1: a cycle);
//   - Linger never retires the pair a side is sending on, the redundant
//     pair is retired only after the winner was made active (once
//     proven), and every Delete makes the receiver fall back to its
//     newest proven pair, which the sender of the Delete also holds;
//   - no inbound SA goes before the peer has stopped sending on it and
//     its last ESP has arrived (its Delete, sent DeleteGrace after it
//     stopped), retransmission repairs lost Deletes, and a retiring pair
//     that stays unanswered still ends at its hard expiry.
//
// Assumptions: bounded delay below DeleteGrace, finite loss, Linger and
// the soft-to-hard margin longer than the worst negotiation.
//
// Quiescence: after a rekey a flow holds one pair on each side from
// Linger (plus a round trip, plus DeleteGrace if the retired pair was in
// use) until its next soft expiry, when the next rekey starts. Several
// flows are quiescent together only if those windows meet, so Linger
// should be well below the soft lifetime.
//
// A rejected message changes nothing and yields a peer.Reject output. With
// Config.NotifyRejects (off by default: a reflection risk) a rejected
// Quick Mode message is also answered with a rate-limited Informational
// Notify of the matching type.
package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/esp"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
	"github.com/hitless-ike/hitless/ref/sadb"
)

// Flow is one protected flow: the traffic selectors as this end sees them.
type Flow struct {
	Local, Remote quickmode.Selector
}

// Mirror returns flows as the other end configures them (Local and
// Remote swapped).
func Mirror(flows []Flow) []Flow {
	m := make([]Flow, len(flows))
	for i, f := range flows {
		m[i] = Flow{Local: f.Remote, Remote: f.Local}
	}
	return m
}

// Lifetimes are the SA lifetimes this end proposes and enforces. The hard
// ones go into proposals and policy (the peer may lower them); the soft
// ones start a rekey. Zero Hard means the RFC 2407 default of 28800 s and
// no volume limit; zero Soft means no automatic rekey on that measure.
type Lifetimes struct {
	Soft, Hard                   time.Duration
	SoftKilobytes, HardKilobytes uint32
}

// Config configures a Gateway.
type Config struct {
	// Profile selects the install and activation timing of Quick Mode.
	Profile quickmode.Profile
	// Phase1 is the established phase-1 SA seen from this end (NewPair
	// builds both views from a seed). Phase1.NATT selects ESP in UDP 4500
	// and IKE on port 4500; otherwise IKE uses port 500 and ESP is sent
	// in IP.
	Phase1 quickmode.Phase1
	// Flows, configured mirror-wise on both ends (see Mirror). Selectors
	// must be valid prefixes.
	Flows []Flow
	// Initiator: this end starts the first negotiation of a flow when the
	// application sends on it (acquire); the other end only queues.
	Initiator bool
	// Proposals offered as initiator; nil means AES-128-CBC/HMAC-SHA1-96
	// tunnel. Their lifetimes are taken from Lifetime.
	Proposals []quickmode.Proposal
	// Policy accepted as responder; nil Transforms means those of
	// Proposals, nil PFS means {PFS}.
	Policy quickmode.Policy
	// PFS is the Quick Mode DH group, 0 for none.
	PFS      dh.ID
	Lifetime Lifetimes
	// RekeyFuzz shortens each soft lifetime by a random amount in
	// [0, RekeyFuzz) (strongSwan's rand_time), capped at half of it.
	RekeyFuzz time.Duration
	// ReplayWindow of inbound ESP SAs; 0 means esp.DefaultReplayWindow.
	ReplayWindow int
	// MaxQueue bounds packets queued per flow before its first SA; 0
	// means 16.
	MaxQueue int
	// MaxSAsPerFlow bounds installed SAs (both directions) per flow; 0
	// means 8.
	MaxSAsPerFlow int
	// MaxHalfOpen bounds open Quick Modes; 0 means 16.
	MaxHalfOpen int
	// Retransmit and ResponderRetransmit are passed to quickmode.Config.
	Retransmit          quickmode.Backoff
	ResponderRetransmit bool
	// Rand is the only source of randomness (M-IDs, SPIs, nonces, DH
	// keys, ESP IVs, lifetime fuzz). Required.
	Rand io.Reader
	// Start is the virtual time the gateway is created at.
	Start time.Duration

	// DeleteRekeyed: the rekey initiator deletes its old inbound SAs of
	// the flow as soon as it has sent QM3 (charon.delete_rekeyed = yes).
	DeleteRekeyed bool
	// DeleteOldAfterRekey: right after completing a rekey as initiator,
	// delete the old pairs of the flow and tell the peer with an
	// Informational Delete, as strongSwan does; the Delete may overtake
	// QM3 in the network.
	DeleteOldAfterRekey bool
	// Linger, when neither option above applies, is how long after a
	// rekey the initiator keeps the old pairs before deleting them with
	// an Informational Delete; 0 keeps them until hard expiry or the
	// peer's Delete.
	Linger time.Duration
	// DeleteGrace is how long after it last sent ESP on a pair the
	// gateway waits before sending a Delete for it, so that the receiver
	// may remove its inbound SA at once; it must exceed the network's
	// one-way delay bound. An old pair superseded for Linger goes without
	// that wait. 0 means 1 s.
	DeleteGrace time.Duration
	// DeleteRetransmit paces the Deletes of a retiring pair the peer has
	// not answered yet; zero fields mean 1 s, factor 2, 6 transmissions.
	// Initial also rate-limits the Deletes re-sent when ESP arrives on
	// the pair, and the answers to repeated Deletes.
	DeleteRetransmit quickmode.Backoff

	// NotifyRejects makes the gateway answer a rejected Quick Mode
	// message of its phase-1 SA with an Informational Notify of the type
	// the rejection maps to (quickmode.Notify), e.g.
	// INVALID-HASH-INFORMATION for a bad HASH, protected like its
	// Deletes. Off by default: the rejected message is unauthenticated, so
	// whoever can spoof the peer's address can make the gateway send to
	// the peer (a reflection) and learn which check failed. At most one
	// such Notify goes out per NotifyInterval, which bounds both. Rejected
	// Informational messages are never answered, so that two gateways
	// with mismatched keys cannot ping-pong notifies.
	NotifyRejects bool
	// NotifyInterval is the least virtual time between two Notifies sent
	// for NotifyRejects; 0 means 1 s.
	NotifyInterval time.Duration
}

// DefaultTransform is offered when Config.Proposals is nil: what strongSwan
// calls aes128-sha1, in tunnel mode.
var DefaultTransform = quickmode.Transform{
	ESP:  ikecrypto.ESPTransform{ID: ikecrypto.ESPAESCBC, KeyBits: 128, Auth: ikecrypto.AuthHMACSHA1},
	Mode: quickmode.ModeTunnel,
}

// ErrConfig is wrapped by errors from New and NewPair for an unusable
// Config.
var ErrConfig = errors.New("gateway: invalid configuration")

// epoch is the origin of quickmode's clock; virtual time is added to it.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// xinfo is what the gateway remembers of one Quick Mode.
type xinfo struct {
	mid           uint32
	flow          int // -1: selectors matched no flow
	role          quickmode.Role
	start, end    uint64 // Gateway.order values
	done          bool
	failed        bool
	resolved      bool   // took part in a simultaneous-rekey decision
	partner       uint32 // M-ID of the exchange it was resolved against
	loser         bool   // its pair is the redundant one
	installFailed bool   // an SA could not be installed, or the operator deleted one: the rest is ignored
	soft, hard    sadb.Lifetime
	lifeSet       bool
}

func (x *xinfo) open() bool { return !x.done && !x.failed }

// timerKind is what a local timer does.
type timerKind uint8

const (
	timerDeleteOld timerKind = iota + 1 // Linger: retire pairs of flow older than mid
)

type timer struct {
	at   time.Duration
	kind timerKind
	mid  uint32
	flow int
}

// Gateway is the reference peer. It is not safe for concurrent use.
type Gateway struct {
	cfg    Config
	x      *quickmode.Exchanges
	db     *sadb.DB
	cipher *ikecrypto.Cipher
	last   ikecrypto.IV
	now    time.Duration
	seq    uint64

	queues  [][][]byte
	xs      []*xinfo
	timers  []timer
	infoIDs []uint32   // received Informational M-IDs, for replays
	owed    []outgoing // Deletes owed to the peer (retire.go)
	// deactivated: when each inactive outbound SA stopped being active.
	deactivated map[uint32]time.Duration

	notifiedAt time.Duration // when the last NotifyRejects Notify went out
	notified   bool          // whether one ever did

	out   []peer.Output
	evs   []quickmode.Event
	exps  []sadb.Expiry
	arena []byte
	plain []byte
}

const maxInfoIDs = 64
const maxRemembered = 32

// New returns a Gateway for cfg.
func New(cfg Config) (*Gateway, error) {
	bad := func(s string, err error) (*Gateway, error) {
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrConfig, s, err)
		}
		return nil, fmt.Errorf("%w: %s", ErrConfig, s)
	}
	if cfg.Rand == nil {
		return bad("Rand is nil", nil)
	}
	if len(cfg.Flows) == 0 {
		return bad("no flows", nil)
	}
	for i, f := range cfg.Flows {
		if !f.Local.Prefix.IsValid() || !f.Remote.Prefix.IsValid() {
			return bad(fmt.Sprintf("flow %d: selectors must be valid prefixes", i), nil)
		}
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.MaxQueue, 16)
	def(&cfg.MaxSAsPerFlow, 8)
	if cfg.DeleteGrace == 0 {
		cfg.DeleteGrace = time.Second
	}
	if r := &cfg.DeleteRetransmit; r.Initial == 0 {
		r.Initial = time.Second
	}
	if r := &cfg.DeleteRetransmit; r.Factor == 0 {
		r.Factor = 2
	}
	if r := &cfg.DeleteRetransmit; r.MaxTries == 0 {
		r.MaxTries = 6
	}
	if cfg.NotifyInterval == 0 {
		cfg.NotifyInterval = time.Second
	}
	if cfg.MaxQueue < 0 || cfg.ReplayWindow < 0 || cfg.Lifetime.Soft < 0 || cfg.Lifetime.Hard < 0 ||
		cfg.RekeyFuzz < 0 || cfg.Linger < 0 || cfg.DeleteGrace < 0 || cfg.NotifyInterval < 0 ||
		cfg.DeleteRetransmit.Initial < 0 || cfg.DeleteRetransmit.Factor < 1 || cfg.DeleteRetransmit.MaxTries < 1 {
		return bad("negative limit", nil)
	}
	hardSec := uint32((cfg.Lifetime.Hard + time.Second - 1) / time.Second)
	if cfg.Proposals == nil {
		cfg.Proposals = []quickmode.Proposal{{Transforms: []quickmode.Transform{DefaultTransform}}}
	}
	props := make([]quickmode.Proposal, len(cfg.Proposals))
	var all []quickmode.Transform
	for i, p := range cfg.Proposals {
		ts := slices.Clone(p.Transforms)
		for j := range ts {
			if _, err := espTransform(ts[j].ESP); err != nil {
				return bad(fmt.Sprintf("proposal %d", i+1), err)
			}
			ts[j].LifeSeconds, ts[j].LifeKilobytes = hardSec, cfg.Lifetime.HardKilobytes
		}
		props[i] = quickmode.Proposal{Transforms: ts}
		all = append(all, ts...)
	}
	cfg.Proposals = props
	if cfg.Policy.Transforms == nil {
		cfg.Policy.Transforms = all
	} else {
		cfg.Policy.Transforms = slices.Clone(cfg.Policy.Transforms)
	}
	for _, t := range cfg.Policy.Transforms {
		if _, err := espTransform(t.ESP); err != nil {
			return bad("policy", err)
		}
	}
	if cfg.Policy.PFS == nil {
		cfg.Policy.PFS = []dh.ID{cfg.PFS}
	}
	x, err := quickmode.New(cfg.Phase1, quickmode.Config{
		Profile: cfg.Profile, Policy: cfg.Policy, Rand: cfg.Rand, MaxHalfOpen: cfg.MaxHalfOpen,
		Retransmit: cfg.Retransmit, ResponderRetransmit: cfg.ResponderRetransmit,
	})
	if err != nil {
		return bad("quick mode", err)
	}
	db, err := sadb.New(sadb.Limits{Flows: len(cfg.Flows), MaxPerFlow: cfg.MaxSAsPerFlow})
	if err != nil {
		return bad("SA database", err)
	}
	c, err := ikecrypto.NewCipher(cfg.Phase1.Encr, cfg.Phase1.Key)
	if err != nil {
		return bad("phase-1 cipher", err)
	}
	last, err := ikecrypto.NewIV(cfg.Phase1.LastBlock)
	if err != nil {
		return bad("phase-1 last block", err)
	}
	cfg.Flows = slices.Clone(cfg.Flows)
	return &Gateway{cfg: cfg, x: x, db: db, cipher: c, last: last, now: cfg.Start,
		queues: make([][][]byte, len(cfg.Flows)), deactivated: map[uint32]time.Duration{}}, nil
}

// NewPair builds both ends of one phase-1 SA derived from seed (a
// pre-shared-key Main Mode with seeded nonces, cookies and DH secret) and
// returns the gateway for cfgA (the phase-1 initiator, 192.0.2.1) and for
// cfgB (198.51.100.2). Phase1 in the configs is ignored; NAT-T is on when
// cfgA.Phase1.NATT is. A nil Rand is seeded from seed, differently per end.
func NewPair(seed uint64, cfgA, cfgB Config) (a, b *Gateway, err error) {
	if cfgA.Phase1, cfgB.Phase1, err = SeedPhase1(seed, cfgA.Phase1.NATT); err != nil {
		return nil, nil, err
	}
	if cfgA.Rand == nil {
		cfgA.Rand = SeedRand(seed, 'A')
	}
	if cfgB.Rand == nil {
		cfgB.Rand = SeedRand(seed, 'B')
	}
	if a, err = New(cfgA); err != nil {
		return nil, nil, err
	}
	if b, err = New(cfgB); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

func seedBytes(seed uint64, who byte) [32]byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	s[8] = who
	return s
}

// espTransform maps a negotiated ESP transform to the data plane's.
func espTransform(t ikecrypto.ESPTransform) (esp.Transform, error) {
	var r esp.Transform
	switch t.ID {
	case ikecrypto.ESPAESCBC:
		r = esp.Transform{Cipher: esp.CipherAESCBC, KeyBits: t.KeyBits}
	case ikecrypto.ESPAESGCM16:
		r = esp.Transform{Cipher: esp.CipherAESGCM16, KeyBits: t.KeyBits}
	case ikecrypto.ESPNULL:
		r = esp.Transform{Cipher: esp.CipherNull}
	default:
		return r, fmt.Errorf("ESP transform %d not supported by the data plane", t.ID)
	}
	switch t.Auth {
	case ikecrypto.AuthNone:
	case ikecrypto.AuthHMACSHA1:
		r.Integrity = esp.IntegrityHMACSHA1_96
	case ikecrypto.AuthHMACSHA256:
		r.Integrity = esp.IntegrityHMACSHA256_128
	default:
		return r, fmt.Errorf("ESP authentication %d not supported by the data plane", t.Auth)
	}
	return r, nil
}

// keyID is a short digest of an SA's transform and keys, equal on both
// ends for one SA and revealing nothing usable about the keys.
func keyID(transform string, sa *quickmode.SA) string {
	h := sha256.New()
	h.Write([]byte(transform))
	h.Write([]byte{0})
	h.Write(sa.EncKey)
	h.Write(sa.Salt)
	h.Write(sa.IntegKey)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:8])
}

// clock converts virtual time to quickmode's.
func clock(d time.Duration) time.Time { return epoch.Add(d) }

// Step implements peer.Peer.
func (g *Gateway) Step(in peer.Input) []peer.Output {
	g.out, g.arena = g.out[:0], g.arena[:0]
	if in.At > g.now {
		g.now = in.At
	}
	switch in.Kind {
	case peer.Receive:
		g.receive(in.Datagram)
	case peer.Send:
		g.send(in.Flow, in.Packet)
	case peer.Tick:
		g.tick()
	case peer.Rekey:
		if in.Flow >= 0 && in.Flow < len(g.cfg.Flows) {
			g.initiate(in.Flow)
		}
	case peer.Delete:
		g.operatorDelete(in.SPI)
	}
	return g.out
}

// NextTimer implements peer.Peer.
func (g *Gateway) NextTimer() (time.Duration, bool) {
	var at time.Duration
	ok := false
	take := func(t time.Duration) {
		if !ok || t < at {
			at, ok = t, true
		}
	}
	if t, has := g.x.NextTimeout(); has {
		take(t.Sub(epoch))
	}
	if t, has := g.db.NextDeadline(); has {
		take(t)
	}
	for _, t := range g.timers {
		take(t.at)
	}
	if t, has := g.nextOwed(); has {
		take(t)
	}
	return at, ok
}

// State implements peer.Peer.
func (g *Gateway) State() peer.State {
	s := peer.State{At: g.now, HalfOpen: g.x.HalfOpen(), SAs: []peer.SA{}, Flows: make([]peer.FlowState, len(g.cfg.Flows))}
	for _, sa := range g.db.All() {
		s.SAs = append(s.SAs, peerSA(sa))
	}
	slices.SortFunc(s.SAs, func(a, b peer.SA) int {
		if a.SPI != b.SPI {
			if a.SPI < b.SPI {
				return -1
			}
			return 1
		}
		return int(a.Direction) - int(b.Direction)
	})
	for i := range s.Flows {
		f := peer.FlowState{Flow: i, Established: g.db.Established(i), Queued: len(g.queues[i])}
		if a := g.db.Active(i); a != nil {
			f.Active = a.SPI
		}
		s.Flows[i] = f
		s.Queued += f.Queued
	}
	return s
}

func peerSA(sa *sadb.SA) peer.SA {
	st := sa.Stats()
	return peer.SA{SPI: sa.SPI, Direction: sa.Direction, Flow: sa.Flow, MessageID: sa.MessageID,
		Transform: sa.Transform, KeyID: sa.KeyID, State: sa.State(), Bytes: st.Bytes, Packets: st.Packets,
		Installed: sa.Installed, SoftAt: sa.Soft.Time, HardAt: sa.Hard.Time}
}

// emit helpers.

func (g *Gateway) saEvent(k peer.SAEventKind, sa *sadb.SA) {
	g.out = append(g.out, peer.Output{Kind: peer.SAEvent, Event: k, SA: peerSA(sa), SPI: sa.SPI,
		Flow: sa.Flow, Direction: sa.Direction})
}

func (g *Gateway) exchangeEvent(k peer.ExchangeEventKind, x *xinfo, reason string) {
	f := x.flow
	if f < 0 {
		f = 0
	}
	g.out = append(g.out, peer.Output{Kind: peer.Exchange, ExchangeEvent: k, MessageID: x.mid,
		Role: x.role.String(), Flow: f, Reason: reason})
}

func (g *Gateway) reject(mid uint32, reason string, notify isakmp.NotifyType) {
	o := peer.Output{Kind: peer.Reject, MessageID: mid, Reason: reason}
	if notify != isakmp.NotifyNone {
		o.Notify = notify.String()
	}
	g.out = append(g.out, o)
}

func (g *Gateway) drop(dir peer.Direction, flow int, spi uint32, reason string, pkt []byte) {
	g.out = append(g.out, peer.Output{Kind: peer.Drop, Direction: dir, Flow: flow, SPI: spi, Reason: reason, Packet: pkt})
}

// transmitIKE frames an ISAKMP message for the configured transport.
func (g *Gateway) transmitIKE(msg []byte) {
	d := peer.Datagram{Transport: peer.UDP500, Bytes: msg}
	if g.cfg.Phase1.NATT {
		start := len(g.arena)
		g.arena = isakmp.AppendNonESPMarker(g.arena, msg)
		d = peer.Datagram{Transport: peer.UDP4500, Bytes: g.arena[start:len(g.arena):len(g.arena)]}
	}
	g.out = append(g.out, peer.Output{Kind: peer.Transmit, Datagram: d})
}

// receive classifies a datagram.
func (g *Gateway) receive(d peer.Datagram) {
	switch d.Transport {
	case peer.UDP500:
		g.receiveIKE(d.Bytes)
	case peer.UDP4500:
		k, body, err := esp.ClassifyUDP(d.Bytes)
		switch {
		case err != nil:
			g.drop(peer.Inbound, 0, 0, peer.ReasonMalformed, nil)
		case k == esp.KindIKE:
			g.receiveIKE(body)
		case k == esp.KindESP:
			g.receiveESP(body)
		}
		// A NAT keepalive needs nothing.
	case peer.ESP:
		g.receiveESP(d.Bytes)
	default:
		g.drop(peer.Inbound, 0, 0, peer.ReasonMalformed, nil)
	}
}

func (g *Gateway) receiveIKE(b []byte) {
	var v isakmp.View
	h, err := v.Start(b)
	if err != nil {
		g.reject(0, "malformed ISAKMP message: "+err.Error(), isakmp.NotifyFor(err))
		return
	}
	switch h.Exchange {
	case isakmp.ExchangeQuickMode:
		evs, err := g.x.HandleDatagram(g.evs[:0], clock(g.now), b)
		g.evs = evs
		if err != nil {
			n := quickmode.Notify(err)
			g.reject(h.MessageID, err.Error(), n)
			if broken(brokenActivateBeforeHash) {
				g.brokenActivate(h.MessageID)
			}
			// A message of another phase-1 SA cannot be answered under ours.
			if !errors.Is(err, quickmode.ErrWrongCookies) {
				g.notifyReject(n)
			}
			return
		}
		g.apply(evs)
	case isakmp.ExchangeInformational:
		g.receiveInfo(&h, v.Ciphertext(), b)
	default:
		g.reject(h.MessageID, "unexpected exchange "+h.Exchange.String(), isakmp.NotifyInvalidExchangeType)
	}
}

var _ peer.Peer = (*Gateway)(nil)
