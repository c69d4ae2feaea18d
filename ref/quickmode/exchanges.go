package quickmode

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// state is where an open exchange waits.
type state uint8

const (
	waitQM2       state = iota + 1 // initiator sent QM1
	waitConnected                  // initiator sent QM3 under the commit bit
	waitQM3                        // responder sent QM2
)

// exchange is one open (half-open) Quick Mode.
type exchange struct {
	role     Role
	st       state
	mid      uint32
	iv       ikecrypto.IV // decrypts the next message we expect
	ni, nr   []byte
	req      Request        // initiator: what was offered
	priv     *dh.PrivateKey // initiator: PFS key until QM2
	spiI     uint32         // initiator's inbound SPI (from QM1)
	in, out  SA             // keyed SAs, valid once negotiated
	inDone   bool           // inbound installed
	outDone  bool           // outbound installed
	active   bool           // outbound activated
	commit   bool           // CONNECTED expected (initiator) or owed (responder)
	recv     []byte         // last message received (QM1 or QM2), for duplicates
	sent     []byte         // last message sent, for retransmission
	tries    int
	interval time.Duration
	timer    time.Time // next time HandleTimeout has work for this exchange
	deadline time.Time // responder: when it gives up waiting for QM3
}

// done is the memory of a completed exchange: the messages it may see
// again and what to answer to each.
type done struct {
	role           Role
	mid            uint32
	recv1, resend1 []byte // QM1 -> QM2 (responder), QM2 -> QM3 (initiator)
	recv2, resend2 []byte // QM3 -> CONNECTED (responder, commit bit); CONNECTED -> nothing

	// A responder completed by ESP before QM3 (StageFirstESPOrQM3) still
	// expects the initiator's QM3, which the initiator sent before that
	// ESP packet. late keeps what decrypts (the IV after QM2) and verifies
	// (both nonces) it, so that a genuine late QM3 is accepted and a
	// forged one rejected; inSPI names CONNECTED if the commit bit owes
	// one. Nonces are at most 256 bytes, and MaxCompleted bounds entries.
	late   bool
	iv     ikecrypto.IV
	ni, nr []byte
	commit bool
	inSPI  uint32
}

// Exchanges runs every Quick Mode exchange of one phase-1 SA, as
// initiator and as responder, and routes messages by message ID. It is not
// safe for concurrent use.
type Exchanges struct {
	p1     Phase1
	cfg    Config
	cipher *ikecrypto.Cipher
	last   ikecrypto.IV
	open   []*exchange // in creation order, for deterministic timers
	done   []done      // ring, oldest first
	in     []byte      // decrypted input scratch
	out    []byte      // plaintext output scratch
	ct     []byte      // ciphertext scratch
}

// New returns the Exchanges of phase-1 SA p1.
func New(p1 Phase1, cfg Config) (*Exchanges, error) {
	if err := p1.check(); err != nil {
		return nil, err
	}
	if err := cfg.Profile.Validate(); err != nil {
		return nil, err
	}
	if cfg.Rand == nil {
		return nil, newErr(ErrBadConfig, 0, "Rand is nil", nil)
	}
	c, err := ikecrypto.NewCipher(p1.Encr, p1.Key)
	if err != nil {
		return nil, newErr(ErrBadConfig, 0, "phase-1 cipher", err)
	}
	last, err := ikecrypto.NewIV(p1.LastBlock)
	if err != nil || last.Len() != c.BlockSize() {
		return nil, newErr(ErrBadConfig, 0, "phase-1 last CBC block", err)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.NonceLen, 32)
	def(&cfg.MaxHalfOpen, 16)
	def(&cfg.MaxCompleted, 32)
	def(&cfg.MaxMessageSize, 16384)
	def(&cfg.Retransmit.Factor, 2)
	def(&cfg.Retransmit.MaxTries, 5)
	if cfg.Retransmit.Initial == 0 {
		cfg.Retransmit.Initial = 500 * time.Millisecond
	}
	if cfg.ResponderTimeout == 0 {
		cfg.ResponderTimeout = 60 * time.Second
	}
	if cfg.NonceLen < ikecrypto.MinNonceLen || cfg.NonceLen > ikecrypto.MaxNonceLen ||
		cfg.MaxHalfOpen < 0 || cfg.MaxCompleted < 0 || cfg.Retransmit.Factor < 1 ||
		cfg.Retransmit.MaxTries < 1 || cfg.Retransmit.Initial < 0 || cfg.MaxMessageSize < isakmp.HeaderLen {
		return nil, newErr(ErrBadConfig, 0, "limits out of range", nil)
	}
	p1.SKEYIDd = append([]byte(nil), p1.SKEYIDd...)
	p1.SKEYIDa = append([]byte(nil), p1.SKEYIDa...)
	return &Exchanges{p1: p1, cfg: cfg, cipher: c, last: last}, nil
}

// HalfOpen returns the number of open exchanges.
func (x *Exchanges) HalfOpen() int { return len(x.open) }

// NextTimeout returns when HandleTimeout next has work, if ever.
func (x *Exchanges) NextTimeout() (time.Time, bool) {
	var t time.Time
	for _, e := range x.open {
		if t.IsZero() || e.timer.Before(t) {
			t = e.timer
		}
	}
	return t, !t.IsZero()
}

func (x *Exchanges) find(mid uint32) *exchange {
	for _, e := range x.open {
		if e.mid == mid {
			return e
		}
	}
	return nil
}

func (x *Exchanges) findDone(mid uint32) *done {
	for i := range x.done {
		if x.done[i].mid == mid {
			return &x.done[i]
		}
	}
	return nil
}

func (x *Exchanges) remove(e *exchange) {
	for i, o := range x.open {
		if o == e {
			x.open = append(x.open[:i], x.open[i+1:]...)
			return
		}
	}
}

// complete moves e to the memory of completed exchanges.
func (x *Exchanges) complete(e *exchange, d done) {
	x.remove(e)
	d.role, d.mid = e.role, e.mid
	if x.cfg.MaxCompleted == 0 {
		return
	}
	if len(x.done) == x.cfg.MaxCompleted {
		copy(x.done, x.done[1:])
		x.done = x.done[:len(x.done)-1]
	}
	x.done = append(x.done, d)
}

func (x *Exchanges) random(b []byte) error {
	if _, err := io.ReadFull(x.cfg.Rand, b); err != nil {
		return newErr(ErrRandom, 0, "", err)
	}
	return nil
}

// newMID draws a message ID that is non-zero and not in use or remembered
// on this phase-1 SA.
func (x *Exchanges) newMID() (uint32, error) {
	var b [4]byte
	for range 16 {
		if err := x.random(b[:]); err != nil {
			return 0, err
		}
		m := binary.BigEndian.Uint32(b[:])
		if m != 0 && x.find(m) == nil && x.findDone(m) == nil {
			return m, nil
		}
	}
	return 0, newErr(ErrRandom, 0, "no unused message ID drawn", nil)
}

// newSPI draws an SPI outside the reserved range 0..255 (RFC 4303 §2.1).
func (x *Exchanges) newSPI() (uint32, error) {
	var b [4]byte
	for range 16 {
		if err := x.random(b[:]); err != nil {
			return 0, err
		}
		if s := binary.BigEndian.Uint32(b[:]); s > 255 {
			return s, nil
		}
	}
	return 0, newErr(ErrRandom, 0, "no usable SPI drawn", nil)
}

func (x *Exchanges) nonce() ([]byte, error) {
	n := make([]byte, x.cfg.NonceLen)
	return n, x.random(n)
}

// seal builds HDR*, HASH, payloads: hashFn gets the bytes after the HASH
// payload. It returns the datagram and the IV after it.
func (x *Exchanges) seal(mid uint32, flags isakmp.Flags, iv ikecrypto.IV, ps []isakmp.Payload,
	hashFn func(rest []byte) ([]byte, error)) ([]byte, ikecrypto.IV, error) {
	hs := x.p1.PRF.Size()
	plain := append(x.out[:0], make([]byte, 4+hs)...)
	plain, err := isakmp.AppendPayloads(plain, ps)
	if err != nil {
		return nil, iv, newErr(ErrBadConfig, mid, "encoding", err)
	}
	x.out = plain
	h, err := hashFn(plain[4+hs:])
	if err != nil {
		return nil, iv, newErr(ErrBadConfig, mid, "hash", err)
	}
	if len(ps) > 0 {
		plain[0] = byte(ps[0].Type())
	}
	plain[1] = 0
	binary.BigEndian.PutUint16(plain[2:4], uint16(4+hs))
	copy(plain[4:], h)
	ct, next, err := x.cipher.Encrypt(x.ct[:0], iv, plain)
	if err != nil {
		return nil, iv, newErr(ErrBadConfig, mid, "encryption", err)
	}
	x.ct = ct
	m := isakmp.Message{Header: isakmp.Header{
		InitiatorCookie: x.p1.CookieI, ResponderCookie: x.p1.CookieR,
		NextPayload: isakmp.PayloadHASH, MajorVersion: 1, Exchange: isakmp.ExchangeQuickMode,
		Flags: isakmp.FlagEncryption | flags, MessageID: mid,
	}, Ciphertext: ct}
	out, err := m.AppendMarshal(make([]byte, 0, isakmp.HeaderLen+len(ct)))
	if err != nil {
		return nil, iv, newErr(ErrBadConfig, mid, "encoding", err)
	}
	return out, next, nil
}

// open decrypts the body of a checked datagram and parses it into b.
func (x *Exchanges) openBody(h *isakmp.Header, ct []byte, iv ikecrypto.IV, b *body) (ikecrypto.IV, error) {
	plain, next, err := x.cipher.Decrypt(x.in[:0], iv, ct)
	if err != nil {
		return iv, newErr(ErrMalformed, h.MessageID, "decryption", err)
	}
	x.in = plain
	return next, parseBody(h.MessageID, h.NextPayload, plain, b)
}

// HandleDatagram processes one ISAKMP message received on this phase-1
// SA and appends the resulting events to dst. On error nothing has
// changed and dst is returned as it was.
func (x *Exchanges) HandleDatagram(dst []Event, now time.Time, b []byte) ([]Event, error) {
	if len(b) > x.cfg.MaxMessageSize {
		return dst, newErr(ErrMessageTooLarge, 0, "", nil)
	}
	var v isakmp.View
	h, err := v.Start(b)
	if err != nil {
		return dst, newErr(ErrMalformed, 0, "header", err)
	}
	switch {
	case h.InitiatorCookie != x.p1.CookieI || h.ResponderCookie != x.p1.CookieR:
		return dst, newErr(ErrWrongCookies, h.MessageID, "", nil)
	case h.Exchange != isakmp.ExchangeQuickMode:
		return dst, newErr(ErrNotQuickMode, h.MessageID, h.Exchange.String(), nil)
	case h.Flags&isakmp.FlagEncryption == 0 || h.Flags&isakmp.FlagAuthOnly != 0:
		return dst, newErr(ErrNotEncrypted, h.MessageID, "", nil)
	case h.MessageID == 0:
		return dst, newErr(ErrMessageIDZero, 0, "", nil)
	}
	ct := v.Ciphertext()
	if e := x.find(h.MessageID); e != nil {
		switch e.st {
		case waitQM2:
			return x.initiatorQM2(dst, now, e, &h, b, ct)
		case waitConnected:
			return x.initiatorConnected(dst, e, &h, b, ct)
		default:
			return x.responderQM3(dst, e, &h, b, ct)
		}
	}
	if d := x.findDone(h.MessageID); d != nil {
		switch {
		case bytes.Equal(b, d.recv1):
			return append(dst, Event{Kind: EventSend, Role: d.role, MessageID: d.mid, Datagram: d.resend1}), nil
		case d.recv2 != nil && bytes.Equal(b, d.recv2) && d.resend2 != nil:
			return append(dst, Event{Kind: EventSend, Role: d.role, MessageID: d.mid, Datagram: d.resend2}), nil
		case d.recv2 != nil && bytes.Equal(b, d.recv2):
			return dst, newErr(ErrDuplicate, d.mid, "", nil)
		case d.late && bytes.Equal(b, d.resend1):
			return dst, newErr(ErrUnexpectedMessage, d.mid, "own QM2 reflected", nil)
		case d.late:
			return x.lateQM3(dst, d, &h, ct)
		}
		return dst, newErr(ErrUnexpectedMessage, d.mid, "exchange already completed", nil)
	}
	return x.responderQM1(dst, now, &h, b, ct)
}

// HandleTimeout runs the timers due at now: initiator retransmissions and
// their give-up, and the responder's wait for QM3.
func (x *Exchanges) HandleTimeout(dst []Event, now time.Time) []Event {
	for i := 0; i < len(x.open); {
		e := x.open[i]
		if e.timer.After(now) {
			i++
			continue
		}
		retransmit := e.tries < x.cfg.Retransmit.MaxTries
		if e.role == Responder {
			retransmit = retransmit && now.Before(e.deadline)
		}
		if retransmit {
			e.tries++
			e.interval *= time.Duration(x.cfg.Retransmit.Factor)
			e.timer = now.Add(e.interval)
			if e.role == Responder && (e.tries >= x.cfg.Retransmit.MaxTries || e.timer.After(e.deadline)) {
				e.timer = e.deadline
			}
			dst = append(dst, Event{Kind: EventSend, Role: e.role, MessageID: e.mid, Datagram: e.sent})
			i++
			continue
		}
		kind := ErrRetransmitLimit
		if e.role == Responder {
			kind = ErrResponderTimeout
		}
		dst = x.fail(dst, e, newErr(kind, e.mid, "", nil))
	}
	return dst
}

// fail abandons e: SAs it installed are deleted, then EventFailed.
func (x *Exchanges) fail(dst []Event, e *exchange, err error) []Event {
	if e.inDone {
		dst = append(dst, Event{Kind: EventDeleted, Role: e.role, MessageID: e.mid, SA: e.in})
	}
	if e.outDone {
		dst = append(dst, Event{Kind: EventDeleted, Role: e.role, MessageID: e.mid, SA: e.out})
	}
	x.remove(e)
	return append(dst, Event{Kind: EventFailed, Role: e.role, MessageID: e.mid, Notify: Notify(err), Reason: err.Error()})
}

// HandleESP tells the Exchanges that an ESP packet was authenticated on
// inbound SPI spi. A responder whose profile activates on the first ESP
// packet activates the new outbound SA and completes; it keeps what
// verifies the QM3 still to come, which is then accepted with no events
// (or answered with CONNECTED under the commit bit). An SPI that no open
// exchange owns yields ErrUnknownSPI, which callers may ignore.
func (x *Exchanges) HandleESP(dst []Event, now time.Time, spi uint32) ([]Event, error) {
	for _, e := range x.open {
		if e.role != Responder || !e.inDone || e.in.SPI != spi {
			continue
		}
		if x.cfg.Profile.ResponderActivate != StageFirstESPOrQM3 || e.active {
			return dst, nil
		}
		dst = x.stage(dst, e, StageFirstESPOrQM3)
		dst = append(dst, Event{Kind: EventCompleted, Role: e.role, MessageID: e.mid})
		x.complete(e, done{recv1: e.recv, resend1: e.sent,
			late: true, iv: e.iv, ni: e.ni, nr: e.nr, commit: e.commit, inSPI: e.in.SPI})
		return dst, nil
	}
	return dst, newErr(ErrUnknownSPI, 0, "", nil)
}

// stage appends the install and activation events the profile schedules at
// s for e's side, each at most once.
func (x *Exchanges) stage(dst []Event, e *exchange, s Stage) []Event {
	p := x.cfg.Profile
	in, out, act := p.ResponderInbound, p.ResponderOutbound, p.ResponderActivate
	if e.role == Initiator {
		in, out, act = p.InitiatorInbound, p.InitiatorOutbound, p.InitiatorActivate
		switch {
		case e.commit:
			// The peer set the commit bit: RFC 2408 §3.1 forbids using
			// the SA before its CONNECTED, whatever the profile says.
			act = StageConnected
		case act == StageConnected:
			// Without the commit bit there is no CONNECTED to wait for.
			act = StageAfterQM3
		}
	} else if act == StageFirstESPOrQM3 && s == StageQM3 {
		act = StageQM3
	}
	ev := func(k EventKind, sa SA) {
		dst = append(dst, Event{Kind: k, Role: e.role, MessageID: e.mid, SA: sa})
	}
	if in == s && !e.inDone {
		e.inDone = true
		ev(EventInstalledInbound, e.in)
	}
	if out == s && !e.outDone {
		e.outDone = true
		ev(EventInstalledOutbound, e.out)
	}
	if act == s && !e.active {
		e.active = true
		ev(EventActivatedOutbound, e.out)
	}
	return dst
}

// keys computes both directions' KEYMAT and fills e.in and e.out. Each
// direction is keyed by the SPI its receiver chose (RFC 2409 §5.5).
func (x *Exchanges) keys(e *exchange, o *offer, spiR uint32, gqm []byte, local, remote Selector, oai, oar netip.Addr) error {
	n, err := o.t.ESP.KeymatLen()
	if err != nil {
		return newErr(ErrNoProposalChosen, e.mid, "", err)
	}
	base := SA{MessageID: e.mid, Protocol: isakmp.ProtoIPsecESP, Transform: o.t, PFS: o.group,
		Encap: isakmp.EncapsulationMode(o.encap), UDPEncap: o.udp, Local: local, Remote: remote,
		NATOAi: oai, NATOAr: oar}
	mk := func(spi uint32, dir Direction) (SA, error) {
		km, err := ikecrypto.KEYMAT(x.p1.PRF, x.p1.SKEYIDd, gqm, ikecrypto.ProtoESP, spiBytes(spi), e.ni, e.nr, n)
		if err != nil {
			return SA{}, newErr(ErrBadConfig, e.mid, "KEYMAT", err)
		}
		k, err := o.t.ESP.Split(km)
		if err != nil {
			return SA{}, newErr(ErrBadConfig, e.mid, "KEYMAT", err)
		}
		sa := base
		sa.Direction, sa.SPI = dir, spi
		sa.EncKey, sa.Salt, sa.IntegKey = k.Encr, k.Salt, k.Integ
		return sa, nil
	}
	inSPI, outSPI := spiR, e.spiI // responder: spiR is its own
	if e.role == Initiator {
		inSPI, outSPI = e.spiI, o.spi // o.spi: the responder's, from QM2
	}
	if e.in, err = mk(inSPI, Inbound); err != nil {
		return err
	}
	e.out, err = mk(outSPI, Outbound)
	return err
}

// defaultSelectors are the SA's selectors without client IDs: the two
// phase-1 addresses.
func (x *Exchanges) defaultSelectors() (local, remote Selector) {
	if x.p1.Local.IsValid() {
		local.Prefix = netip.PrefixFrom(x.p1.Local, x.p1.Local.BitLen())
	}
	if x.p1.Peer.IsValid() {
		remote.Prefix = netip.PrefixFrom(x.p1.Peer, x.p1.Peer.BitLen())
	}
	return local, remote
}

// natOA returns the NAT-OA payloads for UDP-encapsulated transport mode
// (RFC 3947 §5.2): the initiator's and the responder's original address as
// this side knows them.
func (x *Exchanges) natOA(role Role) []isakmp.Payload {
	ai, ar := x.p1.Local, x.p1.Peer
	if role == Responder {
		ai, ar = ar, ai
	}
	mk := func(a netip.Addr) *isakmp.NATOA {
		t := isakmp.IDIPv4Addr
		if a.Is6() {
			t = isakmp.IDIPv6Addr
		}
		return &isakmp.NATOA{IDType: t, Addr: a, Draft: x.p1.NATTDraft}
	}
	return []isakmp.Payload{mk(ai), mk(ar)}
}
