package mainmode

import (
	"bytes"
	"encoding/binary"
	"io"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// state is what an exchange waits for.
type state uint8

const (
	stIWaitMM2 state = iota + 1 // initiator sent MM1
	stIWaitMM4                  // initiator sent MM3
	stIWaitMM6                  // initiator sent MM5
	stRWaitMM1                  // responder created
	stRWaitMM3                  // responder sent MM2
	stRWaitMM5                  // responder sent MM4
	stDone
)

// Exchange is one Main Mode exchange, as initiator or responder. It is
// not safe for concurrent use. Receive never modifies a slice it has
// handed out or stored, so that a failed Receive can leave the exchange
// exactly as it was.
type Exchange struct {
	cfg       Config
	group     *dh.Group
	initiator bool
	st        state

	priv     *dh.PrivateKey // nil when gxyFixed is set
	gxyFixed []byte         // VerifyTranscript and tests: the known g^xy

	ckyI, ckyR  isakmp.Cookie
	sai         []byte // SAi_b: MM1's SA payload body
	propNum     uint8  // responder: chosen proposal and transform numbers
	trNum       uint8
	chosenAttrs []isakmp.Attribute // responder: the chosen transform's attributes, echoed
	chosen      transform
	natt        bool // both sides sent the RFC 3947 vendor ID
	peerVIDs    [][]byte

	ni, nr, gxi, gxr  []byte
	natLocal, natPeer bool
	gxy               []byte
	skeyid            []byte
	keys              *ikecrypto.Keys
	key               []byte
	cipher            *ikecrypto.Cipher
	iv                ikecrypto.IV

	peerID       []byte
	peerIC       bool
	hashI, hashR []byte // the values computed (and sent or verified)
	lastBlock    []byte

	recv  [3][]byte // messages received, in order
	nrecv int
	sent  []byte
	res   Result
}

// Result is a completed Main Mode seen from one side.
type Result struct {
	// Phase1 is the ISAKMP SA from this side's view: cookies, keys,
	// Local/Peer the outer addresses, LastBlock the last CBC ciphertext
	// block of MM6 (the phase-2 IV base) and NATT set when a NAT was
	// detected on either side, so that Quick Mode proposes the
	// UDP-encapsulated modes.
	Phase1 quickmode.Phase1
	// NATLocal and NATPeer say which side is behind a NAT per NAT-D
	// (NATLocal is also set by Config.ForceNATT).
	NATLocal, NATPeer bool
	// PeerVendorIDs are the vendor ID payloads the peer sent, in order.
	PeerVendorIDs [][]byte
	// InitialContact: the peer sent INITIAL-CONTACT.
	InitialContact bool
	// PeerID is the body of the peer's ID payload (ID type, protocol,
	// port, data).
	PeerID []byte
	// Lifetime is the phase-1 lifetime in seconds of the chosen
	// transform, 0 if it had none.
	Lifetime time.Duration
}

var zeroCookie isakmp.Cookie

func newExchange(cfg Config, initiator bool) (*Exchange, error) {
	cfg, g, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	return &Exchange{cfg: cfg, group: g, initiator: initiator}, nil
}

// draw reads this side's cookie, nonce and DH key from Config.Rand.
func (x *Exchange) draw() (cky isakmp.Cookie, nonce, pub []byte, err error) {
	for i := 0; cky == zeroCookie; i++ {
		if _, err := io.ReadFull(x.cfg.Rand, cky[:]); err != nil || i == 16 {
			return cky, nil, nil, newErr(ErrRandom, "cookie", err)
		}
	}
	nonce = make([]byte, NonceLen)
	if _, err := io.ReadFull(x.cfg.Rand, nonce); err != nil {
		return cky, nil, nil, newErr(ErrRandom, "nonce", err)
	}
	if x.priv, err = x.group.GenerateKey(x.cfg.Rand); err != nil {
		return cky, nil, nil, newErr(ErrRandom, "DH key", err)
	}
	return cky, nonce, x.priv.Public(), nil
}

// Initiate starts a Main Mode as initiator and returns MM1, a plain
// ISAKMP message for UDP port 500 (no non-ESP marker).
func Initiate(cfg Config) (*Exchange, []byte, error) {
	x, err := newExchange(cfg, true)
	if err != nil {
		return nil, nil, err
	}
	if x.ckyI, x.ni, x.gxi, err = x.draw(); err != nil {
		return nil, nil, err
	}
	p := x.cfg.Proposal
	sa := &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SitIdentityOnly, Proposals: []isakmp.Proposal{{
		Number: 1, Protocol: isakmp.ProtoISAKMP, Transforms: []isakmp.Transform{offerTransform(&p)}}}}
	raw, err := isakmp.AppendPayloads(nil, []isakmp.Payload{sa})
	if err != nil {
		return nil, nil, newErr(ErrBadConfig, "SA encoding", err)
	}
	x.sai = raw[4:]
	msg, err := x.plain(append([]isakmp.Payload{sa}, x.ownVIDs()...))
	if err != nil {
		return nil, nil, err
	}
	x.sent, x.st = msg, stIWaitMM2
	return x, bytes.Clone(msg), nil
}

// Respond returns a responder waiting for MM1. Its cookie, nonce and DH
// key are drawn now, from Config.Rand.
func Respond(cfg Config) (*Exchange, error) {
	x, err := newExchange(cfg, false)
	if err != nil {
		return nil, err
	}
	if x.ckyR, x.nr, x.gxr, err = x.draw(); err != nil {
		return nil, err
	}
	x.st = stRWaitMM1
	return x, nil
}

// Receive applies one received ISAKMP message (without non-ESP marker)
// and returns what to send back, nil if nothing.
//
// A duplicate of the last message received makes a responder resend its
// last reply (the peer's retransmission timer fired) and changes nothing
// else; other duplicates of messages received before are ignored (nil,
// nil). An Informational message from the peer with an error notify is
// reported as ErrPeerRefused with the peer's notify type (an encrypted one
// only if its HASH verifies). Other Informational messages, and anything
// after Done that is not a retransmission, are ErrUnexpectedMessage: after
// Done, Quick Mode and Informational traffic belong to the phase-2 code
// (ref/quickmode, ref/gateway). Bad input of any kind yields an *Error and
// leaves the exchange unchanged, so that the right message can still
// complete it.
func (x *Exchange) Receive(msg []byte) (reply []byte, err error) {
	if len(msg) > MaxMessageSize {
		return nil, newErr(ErrMalformed, "message larger than MaxMessageSize", nil)
	}
	for i := range x.nrecv {
		if bytes.Equal(msg, x.recv[i]) {
			if !x.initiator && i == x.nrecv-1 {
				return bytes.Clone(x.sent), nil
			}
			return nil, nil
		}
	}
	var v isakmp.View
	h, err := v.Start(msg)
	if err != nil {
		return nil, newErr(ErrMalformed, "header", err)
	}
	if h.Exchange == isakmp.ExchangeInformational {
		return nil, x.informational(&h, &v)
	}
	if h.Exchange != isakmp.ExchangeMainMode {
		return nil, newErr(ErrExchangeType, h.Exchange.String(), nil)
	}
	if x.st == stDone {
		return nil, newErr(ErrUnexpectedMessage, "exchange complete", nil)
	}
	n := *x // work on a copy: an error leaves x as it was
	if reply, err = n.step(&h, &v); err != nil {
		return nil, err
	}
	n.recv[n.nrecv] = bytes.Clone(msg)
	n.nrecv++
	if reply != nil {
		n.sent = reply
	}
	*x = n
	return bytes.Clone(reply), nil
}

func (x *Exchange) step(h *isakmp.Header, v *isakmp.View) ([]byte, error) {
	var err error
	switch x.st {
	case stRWaitMM1:
		if err = x.recvMM1(h, v); err == nil {
			x.st = stRWaitMM3
			return x.buildMM2()
		}
	case stIWaitMM2:
		if err = x.recvMM2(h, v); err == nil {
			x.st = stIWaitMM4
			return x.buildKE()
		}
	case stRWaitMM3:
		if err = x.recvKE(h, v); err == nil {
			x.st = stRWaitMM5
			return x.buildKE()
		}
	case stIWaitMM4:
		if err = x.recvKE(h, v); err == nil {
			x.st = stIWaitMM6
			return x.buildMM5()
		}
	case stRWaitMM5:
		if err = x.recvAuth(h, v); err == nil {
			return x.buildMM6()
		}
	case stIWaitMM6:
		if err = x.recvAuth(h, v); err == nil {
			return nil, x.finish()
		}
	}
	return nil, err
}

// Float reports that a NAT was detected (from MM3 on for a responder,
// from MM4 on for an initiator): MM5 and everything after it, Quick Mode
// and ESP included, go on UDP port 4500, IKE behind the non-ESP marker.
// A responder still answers MM3 (with MM4) where it came from.
func (x *Exchange) Float() bool { return x.natt && (x.natLocal || x.natPeer) }

// Done reports that the exchange completed (MM6 sent or received).
func (x *Exchange) Done() bool { return x.st == stDone }

// Initiator reports whether this side initiated the exchange.
func (x *Exchange) Initiator() bool { return x.initiator }

// LastSent returns a copy of the last message this side sent (nil for a
// responder before MM1), for the caller's retransmission timer: the
// initiator retransmits it until the next reply arrives; a responder only
// resends it when a duplicate arrives, which Receive does by itself.
func (x *Exchange) LastSent() []byte { return bytes.Clone(x.sent) }

// Result returns the completed exchange, or an error matching ErrNotDone.
// The slices are copies.
func (x *Exchange) Result() (Result, error) {
	if x.st != stDone {
		return Result{}, newErr(ErrNotDone, "", nil)
	}
	r := x.res
	p := &r.Phase1
	p.SKEYIDd, p.SKEYIDa, p.SKEYIDe = bytes.Clone(p.SKEYIDd), bytes.Clone(p.SKEYIDa), bytes.Clone(p.SKEYIDe)
	p.Key, p.LastBlock = bytes.Clone(p.Key), bytes.Clone(p.LastBlock)
	r.PeerVendorIDs = cloneAll(r.PeerVendorIDs)
	r.PeerID = bytes.Clone(r.PeerID)
	return r, nil
}

func cloneAll(bs [][]byte) [][]byte {
	if bs == nil {
		return nil
	}
	out := make([][]byte, len(bs))
	for i, b := range bs {
		out[i] = bytes.Clone(b)
	}
	return out
}

func (x *Exchange) header(flags isakmp.Flags) isakmp.Header {
	return isakmp.Header{InitiatorCookie: x.ckyI, ResponderCookie: x.ckyR, MajorVersion: 1,
		Exchange: isakmp.ExchangeMainMode, Flags: flags}
}

func (x *Exchange) plain(ps []isakmp.Payload) ([]byte, error) {
	m := isakmp.Message{Header: x.header(0), Payloads: ps}
	b, err := m.Marshal()
	if err != nil {
		return nil, newErr(ErrBadConfig, "encoding", err)
	}
	return b, nil
}

// seal encrypts ps under the current IV and moves the IV on.
func (x *Exchange) seal(ps []isakmp.Payload) ([]byte, error) {
	pt, err := isakmp.AppendPayloads(nil, ps)
	if err != nil {
		return nil, newErr(ErrBadConfig, "encoding", err)
	}
	ct, next, err := x.cipher.Encrypt(nil, x.iv, pt)
	if err != nil {
		return nil, newErr(ErrBadConfig, "encryption", err)
	}
	m := isakmp.Message{Header: x.header(isakmp.FlagEncryption), Ciphertext: ct}
	m.Header.NextPayload = ps[0].Type()
	b, err := m.Marshal()
	if err != nil {
		return nil, newErr(ErrBadConfig, "encoding", err)
	}
	x.iv = next
	return b, nil
}

// ownVIDs are the vendor IDs of MM1 or MM2. A responder announces NAT-T
// only to a peer that did.
func (x *Exchange) ownVIDs() []isakmp.Payload {
	var ps []isakmp.Payload
	for _, v := range x.cfg.VendorIDs {
		ps = append(ps, &isakmp.VendorID{Data: v})
	}
	if x.cfg.NATT && (x.initiator || x.natt) {
		ps = append(ps, &isakmp.VendorID{Data: []byte(VendorIDRFC3947)})
	}
	return ps
}

// checkHeader applies the header rules of the message x waits for.
func (x *Exchange) checkHeader(h *isakmp.Header, encrypted bool) error {
	switch {
	case h.MessageID != 0:
		return newErr(ErrMessageID, "", nil)
	case h.Flags&(isakmp.FlagCommit|isakmp.FlagAuthOnly) != 0:
		return newErr(ErrFlags, "", nil)
	}
	switch x.st {
	case stRWaitMM1:
		if h.InitiatorCookie == zeroCookie || h.ResponderCookie != zeroCookie {
			return newErr(ErrWrongCookies, "MM1 needs CKY-I and a zero CKY-R", nil)
		}
	case stIWaitMM2:
		if h.InitiatorCookie != x.ckyI || h.ResponderCookie == zeroCookie {
			return newErr(ErrWrongCookies, "", nil)
		}
	default:
		if h.InitiatorCookie != x.ckyI || h.ResponderCookie != x.ckyR {
			return newErr(ErrWrongCookies, "", nil)
		}
	}
	if e := h.Flags&isakmp.FlagEncryption != 0; e != encrypted {
		if e {
			return newErr(ErrUnexpectedMessage, "encrypted message where a plain one is due", nil)
		}
		return newErr(ErrUnexpectedMessage, "plain message where an encrypted one is due", nil)
	}
	return nil
}

// scanSA walks MM1 or MM2: one SA first, then vendor IDs and status
// notifies.
func scanSA(v *isakmp.View) (sa isakmp.SAReader, body []byte, vids [][]byte, err error) {
	for i := 0; v.Next(); i++ {
		switch v.Type() {
		case isakmp.PayloadSA:
			if i != 0 {
				return sa, nil, nil, newErr(ErrUnexpectedPayload, "SA must be the first payload, once", nil)
			}
			if sa, err = v.SA(); err != nil {
				return sa, nil, nil, newErr(ErrMalformed, "", err)
			}
			body = v.Body()
		case isakmp.PayloadVID:
			vids = append(vids, v.Body())
		case isakmp.PayloadN:
			if err := notifyPayload(v); err != nil {
				return sa, nil, nil, err
			}
		default:
			return sa, nil, nil, newErr(ErrUnexpectedPayload, v.Type().String()+" in SA message", nil)
		}
	}
	if err := v.Err(); err != nil {
		return sa, nil, nil, newErr(ErrMalformed, "", err)
	}
	if body == nil {
		return sa, nil, nil, newErr(ErrMissingPayload, "SA", nil)
	}
	return sa, body, vids, nil
}

// recvMM1 picks the first offered transform that matches Config.Proposal.
func (x *Exchange) recvMM1(h *isakmp.Header, v *isakmp.View) error {
	if err := x.checkHeader(h, false); err != nil {
		return err
	}
	sa, body, vids, err := scanSA(v)
	if err != nil {
		return err
	}
	found := false
	for !found && sa.Next() {
		pr := sa.Proposal()
		if pr.Protocol != isakmp.ProtoISAKMP {
			continue
		}
		for !found && pr.Next() {
			tr := pr.Transform()
			t, attrs, ok := readTransform(tr)
			if ok && t.matches(&x.cfg.Proposal) {
				found = true
				x.propNum, x.trNum, x.chosen, x.chosenAttrs = pr.Number, tr.Number, t, attrs
			}
		}
		if err := pr.Err(); err != nil {
			return newErr(ErrMalformed, "", err)
		}
	}
	if err := sa.Err(); err != nil {
		return newErr(ErrMalformed, "", err)
	}
	if !found {
		return newErr(ErrNoProposalChosen, "no transform matches "+x.proposalString(), nil)
	}
	x.ckyI = h.InitiatorCookie
	x.sai = bytes.Clone(body)
	x.peerVIDs = cloneAll(vids)
	x.natt = x.cfg.NATT && hasVID(vids, VendorIDRFC3947)
	return nil
}

func (x *Exchange) proposalString() string {
	p := x.cfg.Proposal
	return p.Encr.String() + "/" + p.PRF.String() + "/" + x.group.String() + "/PSK"
}

func (x *Exchange) buildMM2() ([]byte, error) {
	sa := &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SitIdentityOnly, Proposals: []isakmp.Proposal{{
		Number: x.propNum, Protocol: isakmp.ProtoISAKMP,
		Transforms: []isakmp.Transform{{Number: x.trNum, ID: uint8(isakmp.KeyIKE), Attributes: x.chosenAttrs}}}}}
	return x.plain(append([]isakmp.Payload{sa}, x.ownVIDs()...))
}

// recvMM2 checks that the responder chose the offered transform.
func (x *Exchange) recvMM2(h *isakmp.Header, v *isakmp.View) error {
	if err := x.checkHeader(h, false); err != nil {
		return err
	}
	sa, _, vids, err := scanSA(v)
	if err != nil {
		return err
	}
	props, ok := 0, false
	var chosen transform
	for sa.Next() {
		props++
		pr := sa.Proposal()
		trs := 0
		for pr.Next() {
			trs++
			t, _, good := readTransform(pr.Transform())
			ok = good && trs == 1 && pr.Protocol == isakmp.ProtoISAKMP && t.matches(&x.cfg.Proposal)
			chosen = t
		}
		if err := pr.Err(); err != nil {
			return newErr(ErrMalformed, "", err)
		}
		ok = ok && trs == 1
	}
	if err := sa.Err(); err != nil {
		return newErr(ErrMalformed, "", err)
	}
	if !ok || props != 1 {
		return newErr(ErrNoProposalChosen, "responder's choice is not the offered transform", nil)
	}
	x.ckyR = h.ResponderCookie
	x.chosen = chosen
	x.peerVIDs = cloneAll(vids)
	x.natt = x.cfg.NATT && hasVID(vids, VendorIDRFC3947)
	return nil
}

// buildKE builds MM3 or MM4: KE, nonce and, with NAT-T, NAT-D for the
// peer's address and then for this side's (or a fake under ForceNATT).
func (x *Exchange) buildKE() ([]byte, error) {
	pub, nonce := x.gxr, x.nr
	if x.initiator {
		pub, nonce = x.gxi, x.ni
	}
	ps := []isakmp.Payload{&isakmp.KeyExchange{Data: pub}, &isakmp.Nonce{Data: nonce}}
	if x.natt {
		prf := x.cfg.Proposal.PRF
		local := natdHash(prf, x.ckyI, x.ckyR, x.cfg.Local)
		if x.cfg.ForceNATT {
			local = fakeNATDHash(prf, x.ckyI, x.ckyR, x.cfg.Local)
		}
		ps = append(ps, &isakmp.NATD{Hash: natdHash(prf, x.ckyI, x.ckyR, x.cfg.Peer)}, &isakmp.NATD{Hash: local})
	}
	return x.plain(ps)
}

// sharedSecret validates the peer's public value and returns g^xy.
func (x *Exchange) sharedSecret(pub []byte) ([]byte, error) {
	if x.gxyFixed != nil {
		if err := x.group.CheckPublic(pub); err != nil {
			return nil, err
		}
		return x.gxyFixed, nil
	}
	return x.priv.SharedSecret(pub)
}

// recvKE takes MM3 (responder) or MM4 (initiator): the peer's public value
// and nonce, NAT detection, then the keys.
func (x *Exchange) recvKE(h *isakmp.Header, v *isakmp.View) error {
	if err := x.checkHeader(h, false); err != nil {
		return err
	}
	m, err := scanKE(v)
	if err != nil {
		return err
	}
	ownKE, ownNonce := x.gxr, x.nr
	if x.initiator {
		ownKE, ownNonce = x.gxi, x.ni
	}
	if bytes.Equal(m.ke, ownKE) || bytes.Equal(m.nonce, ownNonce) {
		return newErr(ErrUnexpectedMessage, "own KE or nonce reflected", nil)
	}
	if len(m.ke) != x.group.PublicLen() {
		return newErr(ErrInvalidKE, "KE length for "+x.group.String(), nil)
	}
	if x.natt {
		if x.natLocal, x.natPeer, err = detectNAT(x.cfg.Proposal.PRF, x.ckyI, x.ckyR, m.natd, x.cfg.Local, x.cfg.Peer); err != nil {
			return err
		}
		x.natLocal = x.natLocal || x.cfg.ForceNATT
	}
	if x.initiator {
		x.gxr, x.nr = bytes.Clone(m.ke), bytes.Clone(m.nonce)
	} else {
		x.gxi, x.ni = bytes.Clone(m.ke), bytes.Clone(m.nonce)
	}
	if len(m.vids) > 0 {
		x.peerVIDs = append(cloneAll(x.peerVIDs), cloneAll(m.vids)...)
	}
	gxy, err := x.sharedSecret(m.ke)
	if err != nil {
		return newErr(ErrInvalidKE, "", err)
	}
	return x.deriveKeys(gxy)
}

// deriveKeys computes SKEYID, SKEYID_d/a/e, the cipher key and the first
// phase-1 IV (RFC 2409 §5, Appendix B).
func (x *Exchange) deriveKeys(gxy []byte) error {
	p := x.cfg.Proposal
	skeyid, err := ikecrypto.SKEYIDPreSharedKey(p.PRF, x.cfg.PSK, x.ni, x.nr)
	if err != nil {
		return newErr(ErrBadConfig, "SKEYID", err)
	}
	keys, err := ikecrypto.DeriveKeys(p.PRF, skeyid, gxy, x.ckyI[:], x.ckyR[:])
	if err != nil {
		return newErr(ErrBadConfig, "SKEYID_*", err)
	}
	key, err := ikecrypto.CipherKey(p.PRF, keys.SKEYIDe, p.KeyLen)
	if err != nil {
		return newErr(ErrBadConfig, "cipher key", err)
	}
	c, err := ikecrypto.NewCipher(p.Encr, key)
	if err != nil {
		return newErr(ErrBadConfig, "cipher", err)
	}
	iv, err := ikecrypto.Phase1IV(p.PRF, x.gxi, x.gxr, c.BlockSize())
	if err != nil {
		return newErr(ErrBadConfig, "phase-1 IV", err)
	}
	x.gxy, x.skeyid, x.keys, x.key, x.cipher, x.iv = bytes.Clone(gxy), skeyid, keys, key, c, iv
	return nil
}

// ownID returns this side's ID payload and its body (IDii_b or IDir_b).
func (x *Exchange) ownID() (*isakmp.Identification, []byte) {
	id := isakmp.IDFromAddr(x.cfg.Local.Addr(), 17, 500)
	body := binary.BigEndian.AppendUint16([]byte{byte(id.IDType), id.Protocol}, id.Port)
	return &id, append(body, id.Data...)
}

func (x *Exchange) buildMM5() ([]byte, error) {
	id, idb := x.ownID()
	hi, err := ikecrypto.HashI(x.cfg.Proposal.PRF, x.skeyid, x.gxi, x.gxr, x.ckyI[:], x.ckyR[:], x.sai, idb)
	if err != nil {
		return nil, newErr(ErrBadConfig, "HASH_I", err)
	}
	x.hashI = hi
	ps := []isakmp.Payload{id, &isakmp.Hash{Data: hi}}
	if x.cfg.InitialContact {
		ps = append(ps, &isakmp.Notification{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoISAKMP,
			Notify: isakmp.NotifyInitialContact, SPI: append(x.ckyI[:], x.ckyR[:]...)})
	}
	return x.seal(ps)
}

func (x *Exchange) buildMM6() ([]byte, error) {
	id, idb := x.ownID()
	hr, err := ikecrypto.HashR(x.cfg.Proposal.PRF, x.skeyid, x.gxi, x.gxr, x.ckyI[:], x.ckyR[:], x.sai, idb)
	if err != nil {
		return nil, newErr(ErrBadConfig, "HASH_R", err)
	}
	x.hashR = hr
	b, err := x.seal([]isakmp.Payload{id, &isakmp.Hash{Data: hr}})
	if err != nil {
		return nil, err
	}
	x.lastBlock = x.iv.Bytes()
	return b, x.finish()
}

// authMsg is what MM5 or MM6 carries.
type authMsg struct {
	id     isakmp.Identification
	idBody []byte
	hash   []byte
	ic     bool
	next   ikecrypto.IV
}

// openAuth decrypts and walks MM5 or MM6: ID, HASH, then notifies or
// vendor IDs.
func (x *Exchange) openAuth(h *isakmp.Header, v *isakmp.View) (authMsg, error) {
	var m authMsg
	ct := v.Ciphertext()
	if len(ct) == 0 || len(ct)%x.cipher.BlockSize() != 0 {
		return m, newErr(ErrDecrypt, "ciphertext is not a whole number of blocks", nil)
	}
	pt, next, err := x.cipher.Decrypt(nil, x.iv, ct)
	if err != nil {
		return m, newErr(ErrDecrypt, "", err)
	}
	m.next = next
	var pv isakmp.View
	pv.StartPayloads(h.NextPayload, pt, isakmp.ParseOptions{})
	for pv.Next() {
		switch pv.Type() {
		case isakmp.PayloadID:
			if m.idBody != nil {
				return m, newErr(ErrUnexpectedPayload, "repeated ID", nil)
			}
			if m.id, err = pv.Identification(); err != nil {
				return m, newErr(ErrMalformed, "", err)
			}
			m.idBody = pv.Body()
		case isakmp.PayloadHASH:
			if m.hash != nil {
				return m, newErr(ErrUnexpectedPayload, "repeated HASH", nil)
			}
			m.hash = pv.Body()
		case isakmp.PayloadN:
			n, err := pv.Notification()
			if err != nil {
				return m, newErr(ErrMalformed, "", err)
			}
			if n.Notify.IsError() {
				return m, &Error{Kind: ErrPeerRefused, Notify: n.Notify, Detail: "notify in MM5/MM6"}
			}
			m.ic = m.ic || n.Notify == isakmp.NotifyInitialContact
		case isakmp.PayloadVID:
		default:
			return m, newErr(ErrUnexpectedPayload, pv.Type().String()+" in MM5/MM6", nil)
		}
	}
	if err := pv.Err(); err != nil {
		// With pre-shared keys a wrong key decrypts to garbage.
		return m, &Error{Kind: ErrAuthFailed, Notify: isakmp.NotifyAuthenticationFailed,
			Detail: "decrypted body does not parse (pre-shared key mismatch or corruption)", Err: err}
	}
	switch {
	case m.idBody == nil:
		return m, newErr(ErrMissingPayload, "ID", nil)
	case m.hash == nil:
		return m, newErr(ErrMissingPayload, "HASH", nil)
	}
	return m, checkPeerID(&m.id)
}

// recvAuth takes MM5 (responder: HASH_I) or MM6 (initiator: HASH_R).
func (x *Exchange) recvAuth(h *isakmp.Header, v *isakmp.View) error {
	if err := x.checkHeader(h, true); err != nil {
		return err
	}
	m, err := x.openAuth(h, v)
	if err != nil {
		return err
	}
	hashFn, which := ikecrypto.HashI, "HASH_I"
	if x.initiator {
		hashFn, which = ikecrypto.HashR, "HASH_R"
	}
	want, err := hashFn(x.cfg.Proposal.PRF, x.skeyid, x.gxi, x.gxr, x.ckyI[:], x.ckyR[:], x.sai, m.idBody)
	if err != nil {
		return newErr(ErrBadConfig, which, err)
	}
	if err := ikecrypto.Verify(want, m.hash); err != nil {
		return newErr(ErrAuthFailed, which+" does not verify", err)
	}
	if x.initiator {
		x.hashR, x.lastBlock = want, m.next.Bytes()
	} else {
		x.hashI = want
	}
	x.peerID, x.peerIC, x.iv = bytes.Clone(m.idBody), m.ic, m.next
	return nil
}

// finish builds the Result with quickmode.NewPhase1PSK, which derives the
// keys once more; they must agree with those used here.
func (x *Exchange) finish() error {
	p := x.cfg.Proposal
	p1, err := quickmode.NewPhase1PSK(quickmode.PSKParams{
		PRF: p.PRF, Encr: p.Encr, KeyLen: p.KeyLen, PSK: x.cfg.PSK, Ni: x.ni, Nr: x.nr, GXY: x.gxy,
		CookieI: x.ckyI, CookieR: x.ckyR, LastBlock: x.lastBlock,
		Local: x.cfg.Local.Addr().Unmap(), Peer: x.cfg.Peer.Addr().Unmap(), NATT: x.Float(),
	})
	if err != nil {
		return newErr(ErrBadConfig, "phase 1", err)
	}
	if !bytes.Equal(p1.Key, x.key) || !bytes.Equal(p1.SKEYIDa, x.keys.SKEYIDa) {
		return newErr(ErrBadConfig, "phase-1 keys disagree with quickmode.NewPhase1PSK", nil)
	}
	x.res = Result{Phase1: p1, NATLocal: x.natLocal, NATPeer: x.natPeer, PeerVendorIDs: x.peerVIDs,
		InitialContact: x.peerIC, PeerID: x.peerID, Lifetime: time.Duration(x.chosen.lifeSec) * time.Second}
	x.st = stDone
	return nil
}

// informational reports an Informational message from the peer: its
// error notify as ErrPeerRefused. An encrypted one (keys exist) must carry
// a valid HASH(1) (RFC 2409 §5.7) under the IV hash(last block | M-ID).
func (x *Exchange) informational(h *isakmp.Header, v *isakmp.View) error {
	switch {
	case x.st == stRWaitMM1 || h.InitiatorCookie != x.ckyI:
		return newErr(ErrWrongCookies, "Informational for another exchange", nil)
	case h.ResponderCookie != x.ckyR && h.ResponderCookie != zeroCookie && x.ckyR != zeroCookie:
		return newErr(ErrWrongCookies, "Informational for another exchange", nil)
	}
	if h.Flags&isakmp.FlagEncryption == 0 {
		for v.Next() {
			if v.Type() == isakmp.PayloadN {
				n, err := v.Notification()
				if err != nil {
					return newErr(ErrMalformed, "", err)
				}
				return refusal(n.Notify, "unauthenticated Informational")
			}
		}
		if err := v.Err(); err != nil {
			return newErr(ErrMalformed, "", err)
		}
		return newErr(ErrUnexpectedMessage, "Informational without notify", nil)
	}
	if x.cipher == nil {
		return newErr(ErrUnexpectedMessage, "encrypted Informational before keys", nil)
	}
	if h.MessageID == 0 {
		return newErr(ErrMessageID, "Informational with message ID 0", nil)
	}
	prf := x.cfg.Proposal.PRF
	ct := v.Ciphertext()
	if len(ct) == 0 || len(ct)%x.cipher.BlockSize() != 0 {
		return newErr(ErrDecrypt, "ciphertext is not a whole number of blocks", nil)
	}
	iv, err := ikecrypto.Phase2IV(prf, x.iv, h.MessageID)
	if err != nil {
		return newErr(ErrDecrypt, "", err)
	}
	pt, _, err := x.cipher.Decrypt(nil, iv, ct)
	if err != nil {
		return newErr(ErrDecrypt, "", err)
	}
	var pv isakmp.View
	pv.StartPayloads(h.NextPayload, pt, isakmp.ParseOptions{})
	if !pv.Next() || pv.Type() != isakmp.PayloadHASH {
		return newErr(ErrBadHash, "Informational does not start with HASH", pv.Err())
	}
	hash, end := pv.Body(), pv.Offset()+len(pv.Raw())
	var note *isakmp.Notification
	for pv.Next() {
		if pv.Type() == isakmp.PayloadN && note == nil {
			n, err := pv.Notification()
			if err != nil {
				return newErr(ErrMalformed, "", err)
			}
			note = &n
		}
	}
	if err := pv.Err(); err != nil {
		return newErr(ErrBadHash, "Informational does not parse", err)
	}
	rest := pt[end : len(pt)-len(pv.Padding())]
	if err := ikecrypto.VerifyInfoHash(prf, x.keys.SKEYIDa, h.MessageID, rest, hash); err != nil {
		return newErr(ErrBadHash, "Informational", err)
	}
	if note == nil {
		return newErr(ErrUnexpectedMessage, "Informational without notify", nil)
	}
	return refusal(note.Notify, "Informational")
}

// refusal reports an Informational notify: an error type is the peer
// refusing; a status one (R-U-THERE, ...) is no business of Main Mode.
func refusal(n isakmp.NotifyType, where string) error {
	if !n.IsError() {
		return newErr(ErrUnexpectedMessage, where+" with status notify "+n.String(), nil)
	}
	return &Error{Kind: ErrPeerRefused, Notify: n, Detail: where}
}
