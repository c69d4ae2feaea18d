// Package toy is a test double: a deliberately small "toy IPsec" gateway
// implementing peer.Peer, used to develop and test the property harness
// before (and independently of) the reference gateway.
//
// It is not IKE. Its "Quick Mode" is three messages (QM1, QM2, QM3) behind
// an ISAKMP-shaped 28-byte header (so the harness's generic labelling sees a
// Quick Mode message ID), authenticated with HMAC-SHA256 over a pre-shared
// secret. Its "ESP" carries a real SPI and sequence number, AES-CTR
// ciphertext and an HMAC tag, with a 64-packet anti-replay window. What it
// models faithfully is the thing the properties are about: *when* each side
// installs and activates the SAs of a new pair, configured by a Profile the
// same way as the reference gateway's install profiles.
package toy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// Moment is a point of the toy Quick Mode at which an SA is installed or
// activated.
type Moment uint8

// Moments.
const (
	AtQM1 Moment = iota + 1
	AtQM2
	AtQM3
	// AtFirstESPOrQM3: the responder activates its new outbound SA on the
	// first ESP packet received on the new inbound SA, or at QM3.
	AtFirstESPOrQM3
	// AfterQM3: the initiator installs InstallLatency after sending QM3
	// (an asynchronous kernel install, as racoon does through PF_KEY).
	AfterQM3
)

// Profile says when each side installs and activates a new SA pair.
type Profile struct {
	Name         string
	RespInstall  Moment // AtQM1 or AtQM3
	RespActivate Moment // AtQM1, AtQM3 or AtFirstESPOrQM3
	InitInstall  Moment // AtQM2 or AfterQM3 (the initiator activates when it installs)
}

// The profiles of DESIGN.md, reproduced on the toy.
var (
	Hitless               = Profile{"hitless", AtQM1, AtFirstESPOrQM3, AtQM2}
	InstallAtQM3          = Profile{"install-at-qm3", AtQM3, AtQM3, AtQM2}
	InboundQM1OutboundQM3 = Profile{"inbound-qm1-outbound-qm3", AtQM1, AtQM3, AtQM2}
	ActivateAtQM1         = Profile{"activate-at-qm1", AtQM1, AtQM1, AtQM2}
	InitiatorAfterQM3     = Profile{"initiator-after-qm3", AtQM3, AtQM3, AfterQM3}
)

// Config configures one toy peer. Both peers of a pair share Secret and
// Cookie; Tag must differ between them.
type Config struct {
	Profile Profile
	Secret  []byte
	Tag     uint8  // low byte of every message ID this peer allocates
	Seed    uint64 // SPIs come from a PRNG seeded with it
	Flows   int    // number of flows (default 1)

	Retransmit     time.Duration // interval between retransmissions (default 1s)
	MaxRetries     int           // retransmissions before an exchange fails (default 3)
	Soft, Hard     time.Duration // SA lifetimes (default 30s, 60s; Soft 0 disables rekeys)
	Linger         time.Duration // superseded pairs are deleted this long after (default 10s)
	InstallLatency time.Duration // for AfterQM3 (default 10ms)
	QueueLimit     int           // acquire queue per flow (default 8)
	MaxPairs       int           // no new rekey starts with this many pairs on a flow (default 6)
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Retransmit, time.Second)
	def(&c.Soft, 30*time.Second)
	def(&c.Hard, 60*time.Second)
	def(&c.Linger, 10*time.Second)
	def(&c.InstallLatency, 10*time.Millisecond)
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.QueueLimit == 0 {
		c.QueueLimit = 8
	}
	if c.MaxPairs == 0 {
		c.MaxPairs = 6
	}
	if c.Flows == 0 {
		c.Flows = 1
	}
}

// Message layout: an ISAKMP-shaped header, a body, a truncated HMAC.
const (
	hdrLen   = 28
	bodyLen  = 1 + 4 + 4 + 1 // kind, spi1, spi2, flow
	macLen   = 16
	msgLen   = hdrLen + bodyLen + macLen
	espHdr   = 8
	exchQM   = 32 // ISAKMP exchange type Quick Mode
	exchInfo = 5  // ISAKMP exchange type Informational
)

const (
	kQM1 = iota + 1
	kQM2
	kQM3
	kDelete
)

type sa struct {
	peer.SA
	rank        uint32 // message ID: a Lamport counter in the high bits
	enc         []byte
	auth        []byte
	seq         uint32 // outbound: last sequence number sent
	top         uint32 // inbound: highest sequence number seen
	window      uint64 // inbound: bit i set if top-i was seen
	deleteAt    time.Duration
	lifeRekeyed bool
}

type exchange struct {
	id        uint32
	flow      int
	initiator bool
	spiIn     uint32 // our inbound SPI
	spiOut    uint32 // the peer's inbound SPI
	last      []byte // last message we sent, for retransmission
	nextSend  time.Duration
	tries     int
	done      bool // initiator: QM3 sent; responder: QM3 received
	installed bool
	installAt time.Duration // AfterQM3 pending install, 0 if none
	doneAt    time.Duration
}

type flow struct {
	established bool
	active      uint32 // active outbound SPI
	queue       [][]byte
}

// Peer is a toy gateway. It implements peer.Peer.
type Peer struct {
	cfg   Config
	rng   *rand.Rand
	now   time.Duration
	clock uint32 // Lamport counter for message IDs
	sas   []*sa  // inbound and outbound
	exch  []*exchange
	seen  []uint32 // message IDs of finished exchanges (bounded)
	flows []flow
	out   []peer.Output
}

// New returns a toy peer.
func New(cfg Config) *Peer {
	cfg.defaults()
	return &Peer{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(cfg.Tag))), flows: make([]flow, cfg.Flows)}
}

// NextTimer implements peer.Peer.
func (p *Peer) NextTimer() (time.Duration, bool) {
	var at time.Duration
	ok := false
	min := func(t time.Duration) {
		if t > 0 && (!ok || t < at) {
			at, ok = t, true
		}
	}
	for _, e := range p.exch {
		if !e.done {
			min(e.nextSend)
		}
		min(e.installAt)
	}
	for _, s := range p.sas {
		min(s.deleteAt)
		min(s.HardAt)
		if !s.lifeRekeyed && s.Direction == peer.Outbound && s.State == "active" {
			min(s.SoftAt)
		}
	}
	return at, ok
}

// State implements peer.Peer.
func (p *Peer) State() peer.State {
	st := peer.State{At: p.now, HalfOpen: 0}
	for _, s := range p.sas {
		st.SAs = append(st.SAs, s.SA)
	}
	slices.SortFunc(st.SAs, func(a, b peer.SA) int {
		if a.SPI != b.SPI {
			if a.SPI < b.SPI {
				return -1
			}
			return 1
		}
		return int(a.Direction) - int(b.Direction)
	})
	for i, f := range p.flows {
		st.Flows = append(st.Flows, peer.FlowState{Flow: i, Established: f.established, Active: f.active, Queued: len(f.queue)})
		st.Queued += len(f.queue)
	}
	for _, e := range p.exch {
		if !e.done || e.installAt != 0 {
			st.HalfOpen++
		}
	}
	return st
}

// Step implements peer.Peer.
func (p *Peer) Step(in peer.Input) []peer.Output {
	p.out = p.out[:0]
	if in.At > p.now {
		p.now = in.At
	}
	switch in.Kind {
	case peer.Tick:
		p.timers()
	case peer.Send:
		p.send(in.Flow, in.Packet)
	case peer.Rekey:
		if in.Flow >= 0 && in.Flow < len(p.flows) {
			p.start(in.Flow)
		}
	case peer.Delete:
		p.operatorDelete(in.SPI)
	case peer.Receive:
		if in.Datagram.Transport == peer.ESP {
			p.esp(in.Datagram.Bytes)
		} else if in.Datagram.Transport == peer.UDP500 {
			p.ike(in.Datagram.Bytes)
		} else {
			p.emit(peer.Output{Kind: peer.Reject, Reason: "unsupported-transport"})
		}
	}
	return p.out
}

func (p *Peer) emit(o peer.Output) { p.out = append(p.out, o) }

// --- application and ESP ---

func (p *Peer) send(fl int, pkt []byte) {
	if fl < 0 || fl >= len(p.flows) {
		p.emit(peer.Output{Kind: peer.Drop, Direction: peer.Outbound, Reason: peer.ReasonNoFlow, Packet: pkt})
		return
	}
	f := &p.flows[fl]
	if !f.established {
		if len(f.queue) >= p.cfg.QueueLimit {
			p.emit(peer.Output{Kind: peer.Drop, Direction: peer.Outbound, Flow: fl, Reason: peer.ReasonQueueFull, Packet: pkt})
			return
		}
		f.queue = append(f.queue, slices.Clone(pkt))
		p.emit(peer.Output{Kind: peer.Queue, Flow: fl, Packet: pkt})
		p.start(fl)
		return
	}
	s := p.find(f.active, peer.Outbound)
	if s == nil {
		p.emit(peer.Output{Kind: peer.Drop, Direction: peer.Outbound, Flow: fl, Reason: peer.ReasonNoActiveSA, Packet: pkt})
		return
	}
	s.seq++
	b := make([]byte, espHdr, espHdr+len(pkt)+macLen)
	binary.BigEndian.PutUint32(b, s.SPI)
	binary.BigEndian.PutUint32(b[4:], s.seq)
	b = append(b, pkt...)
	ctr(s.enc, b[:espHdr], b[espHdr:])
	b = append(b, mac(s.auth, b)...)
	s.Bytes += uint64(len(pkt))
	s.Packets++
	p.emit(peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.ESP, Bytes: b}, Flow: fl, SPI: s.SPI})
}

func (p *Peer) esp(b []byte) {
	if len(b) < espHdr+macLen {
		p.emit(peer.Output{Kind: peer.Drop, Direction: peer.Inbound, Reason: peer.ReasonMalformed})
		return
	}
	spi, seq := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	s := p.find(spi, peer.Inbound)
	if s == nil {
		p.emit(peer.Output{Kind: peer.Drop, Direction: peer.Inbound, SPI: spi, Reason: peer.ReasonUnknownSPI})
		return
	}
	body := b[:len(b)-macLen]
	if !hmac.Equal(mac(s.auth, body), b[len(b)-macLen:]) {
		p.emit(peer.Output{Kind: peer.Drop, Direction: peer.Inbound, SPI: spi, Flow: s.Flow, Reason: peer.ReasonAuthFailed})
		return
	}
	if !s.replayOK(seq) {
		p.emit(peer.Output{Kind: peer.Drop, Direction: peer.Inbound, SPI: spi, Flow: s.Flow, Reason: peer.ReasonReplay})
		return
	}
	pkt := slices.Clone(body[espHdr:])
	ctr(s.enc, b[:espHdr], pkt)
	s.Bytes += uint64(len(pkt))
	s.Packets++
	// Hitless responder: ESP on the new inbound SA proves the initiator
	// has the pair, so the new outbound SA may protect traffic now.
	for _, e := range p.exch {
		if !e.initiator && e.spiIn == spi && !e.done && p.cfg.Profile.RespActivate == AtFirstESPOrQM3 {
			p.activate(e.flow, e.spiOut)
		}
	}
	p.emit(peer.Output{Kind: peer.Deliver, SPI: spi, Flow: s.Flow, Packet: pkt})
}

func (s *sa) replayOK(seq uint32) bool {
	switch {
	case seq == 0:
		return false
	case seq > s.top:
		d := seq - s.top
		if d >= 64 {
			s.window = 0
		} else {
			s.window <<= d
		}
		s.window |= 1
		s.top = seq
		return true
	case s.top-seq >= 64:
		return false
	default:
		bit := uint64(1) << (s.top - seq)
		if s.window&bit != 0 {
			return false
		}
		s.window |= bit
		return true
	}
}

// --- IKE ---

func (p *Peer) start(fl int) {
	for _, e := range p.exch {
		if e.flow == fl && e.initiator && !e.done {
			return // one negotiation per flow at a time
		}
	}
	if p.pairs(fl) >= p.cfg.MaxPairs {
		return
	}
	p.clock++
	e := &exchange{id: p.clock<<8 | uint32(p.cfg.Tag), flow: fl, initiator: true, spiIn: p.spi()}
	p.exch = append(p.exch, e)
	p.emit(peer.Output{Kind: peer.Exchange, ExchangeEvent: peer.Started, MessageID: e.id, Role: "initiator", Flow: fl})
	p.transmit(e, p.msg(kQM1, e.id, e.spiIn, 0, fl))
}

func (p *Peer) transmit(e *exchange, m []byte) {
	e.last = m
	e.nextSend = p.now + p.cfg.Retransmit
	p.emit(peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.UDP500, Bytes: m}, MessageID: e.id})
}

func (p *Peer) ike(b []byte) {
	if len(b) != msgLen || !hmac.Equal(mac(p.cfg.Secret, b[:hdrLen+bodyLen]), b[hdrLen+bodyLen:]) {
		p.emit(peer.Output{Kind: peer.Reject, Reason: "authentication", Notify: "INVALID-HASH-INFORMATION"})
		return
	}
	id := binary.BigEndian.Uint32(b[20:])
	body := b[hdrLen:]
	kind, spi1, spi2, fl := body[0], binary.BigEndian.Uint32(body[1:]), binary.BigEndian.Uint32(body[5:]), int(body[9])
	if fl >= len(p.flows) {
		p.emit(peer.Output{Kind: peer.Reject, Reason: "no-flow", MessageID: id, Notify: "INVALID-ID-INFORMATION"})
		return
	}
	if c := id >> 8; c > p.clock {
		p.clock = c
	}
	e := p.lookup(id)
	switch kind {
	case kQM1:
		switch {
		case e != nil && !e.initiator && !e.done:
			p.transmit(e, e.last) // duplicate QM1: our QM2 was lost
		case e != nil || slices.Contains(p.seen, id):
			// replay of a finished exchange: ignore
		case p.pairs(fl) > p.cfg.MaxPairs:
			// Stale pairs (a lost Delete) may pile up on one side only;
			// refusing keeps the SA table bounded whatever the peer does.
			p.emit(peer.Output{Kind: peer.Reject, Reason: "too-many-sas", MessageID: id, Notify: "NO-PROPOSAL-CHOSEN"})
		default:
			e = &exchange{id: id, flow: fl, spiIn: p.spi(), spiOut: spi1}
			p.exch = append(p.exch, e)
			p.emit(peer.Output{Kind: peer.Exchange, ExchangeEvent: peer.Started, MessageID: id, Role: "responder", Flow: fl})
			if p.cfg.Profile.RespInstall == AtQM1 {
				p.install(e)
			}
			if p.cfg.Profile.RespActivate == AtQM1 {
				p.activate(fl, e.spiOut)
			}
			p.transmit(e, p.msg(kQM2, id, spi1, e.spiIn, fl))
		}
	case kQM2:
		if e == nil || !e.initiator || spi1 != e.spiIn {
			return
		}
		if e.done {
			p.emit(peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.UDP500, Bytes: e.last}, MessageID: id})
			return
		}
		e.spiOut = spi2
		e.done, e.doneAt = true, p.now
		m := p.msg(kQM3, id, e.spiIn, e.spiOut, fl)
		p.transmit(e, m)
		if p.cfg.Profile.InitInstall == AfterQM3 {
			e.installAt = p.now + p.cfg.InstallLatency
		} else {
			p.install(e)
			p.activate(fl, e.spiOut)
		}
		p.emit(peer.Output{Kind: peer.Exchange, ExchangeEvent: peer.Completed, MessageID: id, Role: "initiator", Flow: fl})
	case kQM3:
		if e == nil || e.initiator || e.done {
			return
		}
		e.done, e.doneAt = true, p.now
		if !e.installed {
			p.install(e)
		}
		p.activate(fl, e.spiOut)
		p.emit(peer.Output{Kind: peer.Exchange, ExchangeEvent: peer.Completed, MessageID: id, Role: "responder", Flow: fl})
	case kDelete:
		// spi1 is the sender's inbound SPI: our outbound.
		if s := p.find(spi1, peer.Outbound); s != nil {
			p.deletePair(s.MessageID)
		}
	}
}

func (p *Peer) msg(kind byte, id, spi1, spi2 uint32, fl int) []byte {
	b := make([]byte, hdrLen+bodyLen, msgLen)
	copy(b, "toy-cky!toy-cky?")
	b[17] = 0x10
	b[18] = exchQM
	if kind == kDelete {
		b[18] = exchInfo
	}
	b[19] = 1
	binary.BigEndian.PutUint32(b[20:], id)
	binary.BigEndian.PutUint32(b[24:], msgLen)
	b[hdrLen] = kind
	binary.BigEndian.PutUint32(b[hdrLen+1:], spi1)
	binary.BigEndian.PutUint32(b[hdrLen+5:], spi2)
	b[hdrLen+9] = byte(fl)
	return append(b, mac(p.cfg.Secret, b)...)
}

// --- SA database ---

func (p *Peer) install(e *exchange) {
	e.installed = true
	in := p.newSA(e, e.spiIn, peer.Inbound)
	out := p.newSA(e, e.spiOut, peer.Outbound)
	out.State = "inactive"
	p.sas = append(p.sas, in, out)
	p.emit(peer.Output{Kind: peer.SAEvent, Event: peer.Installed, SA: in.SA, SPI: in.SPI, Flow: e.flow, Direction: peer.Inbound})
	p.emit(peer.Output{Kind: peer.SAEvent, Event: peer.Installed, SA: out.SA, SPI: out.SPI, Flow: e.flow, Direction: peer.Outbound})
}

func (p *Peer) newSA(e *exchange, spi uint32, d peer.Direction) *sa {
	k := func(label string) []byte {
		h := hmac.New(sha256.New, p.cfg.Secret)
		h.Write([]byte(label))
		binary.Write(h, binary.BigEndian, [2]uint32{e.id, spi})
		return h.Sum(nil)
	}
	s := &sa{rank: e.id, enc: k("enc")[:16], auth: k("auth")}
	s.SA = peer.SA{SPI: spi, Direction: d, Flow: e.flow, MessageID: e.id,
		Transform: "toy-aes128-ctr/hmac-sha256-128", KeyID: hex.EncodeToString(k("id")[:6]),
		State: "installed", Installed: p.now, SoftAt: p.now + p.cfg.Soft, HardAt: p.now + p.cfg.Hard}
	if p.cfg.Soft <= 0 {
		s.SoftAt = 0
	}
	return s
}

// activate makes outbound SA spi the active one of flow fl, unless a pair
// with a higher rank (a later negotiation, by Lamport order) is already
// active: both sides then converge on the same pair after a collision.
func (p *Peer) activate(fl int, spi uint32) {
	s := p.find(spi, peer.Outbound)
	f := &p.flows[fl]
	if s == nil || f.active == spi {
		return
	}
	if cur := p.find(f.active, peer.Outbound); cur != nil {
		if cur.rank > s.rank {
			p.scheduleDeletes(fl)
			return
		}
		cur.State = "inactive"
		p.emit(peer.Output{Kind: peer.SAEvent, Event: peer.Deactivated, SA: cur.SA, SPI: cur.SPI, Flow: fl, Direction: peer.Outbound})
	}
	s.State = "active"
	f.active = spi
	p.emit(peer.Output{Kind: peer.SAEvent, Event: peer.Activated, SA: s.SA, SPI: spi, Flow: fl, Direction: peer.Outbound})
	if !f.established {
		f.established = true
		q := f.queue
		f.queue = nil
		for _, pkt := range q {
			p.send(fl, pkt)
		}
	}
	p.scheduleDeletes(fl)
}

// scheduleDeletes arranges for every pair this peer initiated on fl that
// is not the active one to be deleted after Linger.
func (p *Peer) scheduleDeletes(fl int) {
	active := p.find(p.flows[fl].active, peer.Outbound)
	for _, s := range p.sas {
		if s.Flow != fl || s.deleteAt != 0 || active == nil || s.MessageID == active.MessageID {
			continue
		}
		if e := p.lookup(s.MessageID); e != nil && !e.done {
			continue // still negotiating
		}
		if s.MessageID&0xff == uint32(p.cfg.Tag) {
			s.deleteAt = p.now + p.cfg.Linger
		}
	}
}

func (p *Peer) deletePair(id uint32) {
	var fl = -1
	var floor uint32 // rank of the deleted pair if it was active
	for _, s := range p.sas {
		if s.MessageID == id && s.Direction == peer.Outbound && s.State == "active" {
			floor = s.rank
		}
	}
	p.sas = slices.DeleteFunc(p.sas, func(s *sa) bool {
		if s.MessageID != id {
			return false
		}
		fl = s.Flow
		p.emit(peer.Output{Kind: peer.SAEvent, Event: peer.Deleted, SA: s.SA, SPI: s.SPI, Flow: s.Flow, Direction: s.Direction})
		return true
	})
	if fl < 0 {
		return
	}
	f := &p.flows[fl]
	if floor == 0 {
		return // the active pair is untouched (or there was none)
	}
	// The active pair went: fall back to a newer pair of a finished
	// negotiation (never to a superseded one: its peer may have deleted
	// it), or start over.
	f.active = 0
	var best *sa
	for _, s := range p.sas {
		if s.Flow == fl && s.Direction == peer.Outbound && s.rank > floor && (best == nil || s.rank > best.rank) {
			if e := p.lookup(s.MessageID); e == nil || e.done || (!e.initiator && p.cfg.Profile.RespActivate == AtQM1) {
				best = s
			}
		}
	}
	if best != nil {
		p.activate(fl, best.SPI)
		return
	}
	f.established = false
}

func (p *Peer) operatorDelete(spi uint32) {
	s := p.find(spi, peer.Inbound)
	if s == nil {
		p.emit(peer.Output{Kind: peer.Reject, Reason: "unknown-spi", SPI: spi})
		return
	}
	id, fl := s.MessageID, s.Flow
	p.deletePair(id)
	p.emit(peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.UDP500, Bytes: p.msg(kDelete, p.infoID(), spi, 0, fl)}})
}

func (p *Peer) infoID() uint32 {
	p.clock++
	return p.clock<<8 | uint32(p.cfg.Tag)
}

// --- timers ---

func (p *Peer) timers() {
	for _, e := range slices.Clone(p.exch) {
		if e.installAt != 0 && e.installAt <= p.now {
			e.installAt = 0
			p.install(e)
			p.activate(e.flow, e.spiOut)
		}
		if !e.done && e.nextSend <= p.now {
			if e.tries >= p.cfg.MaxRetries {
				p.fail(e)
				continue
			}
			e.tries++
			p.transmit(e, e.last)
		}
	}
	// Forget finished exchanges once nothing can need them any more.
	p.exch = slices.DeleteFunc(p.exch, func(e *exchange) bool {
		if e.done && e.installAt == 0 && p.now-e.doneAt > p.cfg.Linger {
			p.remember(e.id)
			return true
		}
		return false
	})
	for _, s := range slices.Clone(p.sas) {
		if p.find(s.SPI, s.Direction) == nil {
			continue
		}
		switch {
		case s.deleteAt != 0 && s.deleteAt <= p.now:
			var in uint32
			for _, t := range p.sas {
				if t.MessageID == s.MessageID && t.Direction == peer.Inbound {
					in = t.SPI
				}
			}
			p.deletePair(s.MessageID)
			p.emit(peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.UDP500, Bytes: p.msg(kDelete, p.infoID(), in, 0, s.Flow)}})
		case s.HardAt != 0 && s.HardAt <= p.now:
			p.deletePair(s.MessageID)
		case s.SoftAt != 0 && s.SoftAt <= p.now && !s.lifeRekeyed && s.State == "active":
			s.lifeRekeyed = true
			p.emit(peer.Output{Kind: peer.SAEvent, Event: peer.SoftExpired, SA: s.SA, SPI: s.SPI, Flow: s.Flow, Direction: peer.Outbound})
			p.start(s.Flow)
		}
	}
}

func (p *Peer) fail(e *exchange) {
	p.exch = slices.DeleteFunc(p.exch, func(x *exchange) bool { return x == e })
	p.remember(e.id)
	p.emit(peer.Output{Kind: peer.Exchange, ExchangeEvent: peer.Failed, MessageID: e.id, Reason: "timeout", Flow: e.flow})
	p.deletePair(e.id)
}

func (p *Peer) remember(id uint32) {
	if len(p.seen) >= 256 {
		p.seen = p.seen[1:]
	}
	p.seen = append(p.seen, id)
}

// --- helpers ---

func (p *Peer) find(spi uint32, d peer.Direction) *sa {
	if spi == 0 {
		return nil
	}
	for _, s := range p.sas {
		if s.SPI == spi && s.Direction == d {
			return s
		}
	}
	return nil
}

func (p *Peer) lookup(id uint32) *exchange {
	for _, e := range p.exch {
		if e.id == id {
			return e
		}
	}
	return nil
}

func (p *Peer) pairs(fl int) int {
	n := 0
	for _, s := range p.sas {
		if s.Flow == fl && s.Direction == peer.Inbound {
			n++
		}
	}
	return n
}

func (p *Peer) spi() uint32 {
	for {
		// Tag in the top byte keeps the two peers' SPIs disjoint, so a
		// ladder reader can tell whose inbound SA an SPI names.
		s := uint32(p.cfg.Tag)<<24 | p.rng.Uint32()&0xffffff
		if s>>8 != 0 && p.find(s, peer.Inbound) == nil {
			return s
		}
	}
}

func mac(key, b []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(b)
	return h.Sum(nil)[:macLen]
}

func ctr(key, iv8, b []byte) {
	blk, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // key is always 16 bytes
	}
	var iv [16]byte
	copy(iv[:], iv8)
	cipher.NewCTR(blk, iv[:]).XORKeyStream(b, b)
}

// NewPair returns two toy peers A (tag 0xA1) and B (tag 0xB2) sharing a
// secret, both using profile (the responder and initiator halves of a
// profile apply to whichever side plays that role in an exchange).
func NewPair(profile Profile, seed uint64, tune func(*Config)) (a, b *Peer) {
	ca := Config{Profile: profile, Secret: []byte("toy shared secret"), Tag: 0xA1, Seed: seed}
	cb := ca
	cb.Tag, cb.Seed = 0xB2, seed^0x9e3779b97f4a7c15
	if tune != nil {
		tune(&ca)
		tune(&cb)
	}
	return New(ca), New(cb)
}
