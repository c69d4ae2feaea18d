package quickmode

import (
	"bytes"
	"fmt"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

func (r *Request) check() error {
	bad := func(s string) error { return newErr(ErrBadConfig, 0, "request: "+s, nil) }
	if len(r.Proposals) == 0 || len(r.Proposals) > 255 {
		return bad("1..255 proposals needed")
	}
	for _, p := range r.Proposals {
		if len(p.Transforms) == 0 || len(p.Transforms) > 255 {
			return bad("1..255 transforms per proposal needed")
		}
		for _, t := range p.Transforms {
			if _, err := t.ESP.KeymatLen(); err != nil {
				return newErr(ErrBadConfig, 0, "request", err)
			}
			if t.Mode != ModeTunnel && t.Mode != ModeTransport {
				return bad("mode")
			}
		}
	}
	if r.Local.Prefix.IsValid() != r.Remote.Prefix.IsValid() {
		return bad("client IDs come in pairs")
	}
	return nil
}

// Initiate starts a Quick Mode as initiator and appends the QM1 datagram
// to dst. It returns the exchange's message ID.
func (x *Exchanges) Initiate(dst []Event, now time.Time, req Request) ([]Event, uint32, error) {
	if err := req.check(); err != nil {
		return dst, 0, err
	}
	var group *dh.Group
	if req.PFS != 0 {
		g, err := dh.Lookup(req.PFS)
		if err != nil {
			return dst, 0, newErr(ErrBadConfig, 0, "request: PFS group", err)
		}
		group = g
	}
	if len(x.open) >= x.cfg.MaxHalfOpen {
		return dst, 0, newErr(ErrTooManyHalfOpen, 0, "", nil)
	}
	mid, err := x.newMID()
	if err != nil {
		return dst, 0, err
	}
	spi, err := x.newSPI()
	if err != nil {
		return dst, 0, err
	}
	ni, err := x.nonce()
	if err != nil {
		return dst, 0, err
	}
	e := &exchange{role: Initiator, st: waitQM2, mid: mid, ni: ni, req: req, spiI: spi, commit: x.cfg.Profile.CommitBit}

	sa := &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SitIdentityOnly,
		Proposals: make([]isakmp.Proposal, len(req.Proposals))}
	transport := false
	spiB := spiBytes(spi)
	for i, p := range req.Proposals {
		ts := make([]isakmp.Transform, len(p.Transforms))
		for j, t := range p.Transforms {
			transport = transport || t.Mode == ModeTransport
			ts[j] = transformPayload(uint8(j+1), t, req.PFS, t.Mode.wire(x.p1.NATT, x.p1.NATTDraft))
		}
		sa.Proposals[i] = isakmp.Proposal{Number: uint8(i + 1), Protocol: isakmp.ProtoIPsecESP, SPI: spiB, Transforms: ts}
	}
	ps := make([]isakmp.Payload, 0, 7)
	ps = append(ps, sa, &isakmp.Nonce{Data: ni})
	if group != nil {
		if e.priv, err = group.GenerateKey(x.cfg.Rand); err != nil {
			return dst, 0, newErr(ErrRandom, mid, "PFS key", err)
		}
		ps = append(ps, &isakmp.KeyExchange{Data: e.priv.Public()})
	}
	if req.Local.Prefix.IsValid() {
		ps = append(ps, idPayload(req.Local), idPayload(req.Remote))
	}
	if x.p1.NATT && transport {
		ps = append(ps, x.natOA(Initiator)...)
	}
	iv, err := ikecrypto.Phase2IV(x.p1.PRF, x.last, mid)
	if err != nil {
		return dst, 0, newErr(ErrBadConfig, mid, "phase-2 IV", err)
	}
	var flags isakmp.Flags
	if e.commit {
		flags = isakmp.FlagCommit
	}
	msg, next, err := x.seal(mid, flags, iv, ps, func(rest []byte) ([]byte, error) {
		return ikecrypto.Hash1(x.p1.PRF, x.p1.SKEYIDa, mid, rest)
	})
	if err != nil {
		return dst, 0, err
	}
	e.iv, e.sent, e.tries, e.interval = next, msg, 1, x.cfg.Retransmit.Initial
	e.timer = now.Add(e.interval)
	x.open = append(x.open, e)
	return append(dst, Event{Kind: EventSend, Role: Initiator, MessageID: mid, Datagram: msg}), mid, nil
}

// checkReply matches the responder's SA payload against what was offered:
// one proposal, one transform, equal to an offered one except for lower
// lifetimes.
func (x *Exchanges) checkReply(e *exchange, sa isakmp.SAReader) (offer, error) {
	mid := e.mid
	if !sa.Next() {
		return offer{}, newErr(ErrMalformed, mid, "SA without proposal", sa.Err())
	}
	p := sa.Proposal()
	if p.Protocol != isakmp.ProtoIPsecESP || p.NumTransforms != 1 || int(p.Number) < 1 || int(p.Number) > len(e.req.Proposals) {
		return offer{}, newErr(ErrNoProposalChosen, mid, "reply is not one offered ESP proposal", nil)
	}
	if len(p.SPI) != 4 {
		return offer{}, newErr(ErrInvalidSPI, mid, "", nil)
	}
	num := p.Number
	var spi uint32
	for _, c := range p.SPI {
		spi = spi<<8 | uint32(c)
	}
	if spi <= 255 {
		return offer{}, newErr(ErrInvalidSPI, mid, fmt.Sprintf("SPI %d", spi), nil)
	}
	if !p.Next() {
		return offer{}, newErr(ErrMalformed, mid, "proposal without transform", p.Err())
	}
	o, ok := readTransform(p.Transform())
	if sa.Next() {
		return offer{}, newErr(ErrNoProposalChosen, mid, "reply has several proposals", nil)
	}
	if err := sa.Err(); err != nil {
		return offer{}, newErr(ErrMalformed, mid, "", err)
	}
	o.propNum, o.spi = num, spi
	if !ok || o.group != e.req.PFS || o.udp != x.p1.NATT || (o.udp && o.draft != x.p1.NATTDraft) {
		return offer{}, newErr(ErrNoProposalChosen, mid, "reply transform not offered", nil)
	}
	for _, t := range e.req.Proposals[num-1].Transforms {
		if t.ESP != o.t.ESP || t.Mode != o.t.Mode {
			continue
		}
		sec, kb := lowerLife(t, o.t.LifeSeconds, o.t.LifeKilobytes)
		o.t.LifeSeconds, o.t.LifeKilobytes = sec, kb
		return o, nil
	}
	return offer{}, newErr(ErrNoProposalChosen, mid, "reply transform not offered", nil)
}

// lowerLife returns the effective lifetimes of t when the peer asks for
// sec/kb (0: no limit asked): a peer may lower lifetimes, never raise them.
func lowerLife(t Transform, sec, kb uint32) (uint32, uint32) {
	s := t.LifeSeconds
	if s == 0 {
		s = DefaultLifeSeconds
	}
	if sec != 0 && sec < s {
		s = sec
	}
	k := t.LifeKilobytes
	if kb != 0 && (k == 0 || kb < k) {
		k = kb
	}
	return s, k
}

func (x *Exchanges) initiatorQM2(dst []Event, now time.Time, e *exchange, h *isakmp.Header, b, ct []byte) ([]Event, error) {
	mid := e.mid
	if bytes.Equal(b, e.sent) {
		return dst, newErr(ErrUnexpectedMessage, mid, "own QM1 reflected", nil)
	}
	var m body
	ivAfter, err := x.openBody(h, ct, e.iv, &m)
	if err != nil {
		return dst, err
	}
	if m.nonce == nil || !m.hasSA {
		return dst, newErr(ErrMissingPayload, mid, "QM2 needs SA and Nr", nil)
	}
	if err := ikecrypto.VerifyHash2(x.p1.PRF, x.p1.SKEYIDa, mid, e.ni, m.rest, m.hash); err != nil {
		return dst, newErr(ErrBadHash, mid, "HASH(2)", err)
	}
	// Authenticated from here on; still nothing changes until all checks pass.
	o, err := x.checkReply(e, m.sa)
	if err != nil {
		return dst, err
	}
	if m.hasLife {
		sec, kb, ok := parseLifetime(m.lifetime)
		if !ok {
			return dst, newErr(ErrMalformed, mid, "RESPONDER-LIFETIME", nil)
		}
		o.t.LifeSeconds, o.t.LifeKilobytes = lowerLife(o.t, sec, kb)
	}
	var gqm []byte
	switch {
	case e.priv != nil && !m.hasKE, e.priv == nil && m.hasKE:
		return dst, newErr(ErrInvalidKE, mid, "KE presence does not match PFS", nil)
	case e.priv != nil:
		if gqm, err = e.priv.SharedSecret(m.ke); err != nil {
			return dst, newErr(ErrInvalidKE, mid, "", err)
		}
	}
	local, remote := x.defaultSelectors()
	if e.req.Local.Prefix.IsValid() {
		if m.nIDs != 2 {
			return dst, newErr(ErrInvalidID, mid, "client IDs not returned", nil)
		}
		ci, ok1 := selector(&m.ids[0])
		cr, ok2 := selector(&m.ids[1])
		if !ok1 || !ok2 || ci != e.req.Local || cr != e.req.Remote {
			return dst, newErr(ErrInvalidID, mid, "client IDs differ from those sent", nil)
		}
		local, remote = e.req.Local, e.req.Remote
	} else if m.nIDs != 0 {
		return dst, newErr(ErrInvalidID, mid, "client IDs not sent but returned", nil)
	}
	if m.nOA == 1 {
		return dst, newErr(ErrUnexpectedPayload, mid, "single NAT-OA", nil)
	}
	var oai, oar = m.oa[0].Addr, m.oa[1].Addr
	nr := append([]byte(nil), m.nonce...)
	recv := append([]byte(nil), b...)

	ne := *e // work on a copy: e changes only once everything succeeded
	ne.nr = nr
	ne.commit = h.Flags&isakmp.FlagCommit != 0
	if err := x.keys(&ne, &o, 0, gqm, local, remote, oai, oar); err != nil {
		return dst, err
	}
	qm3, ivAfter3, err := x.seal(mid, h.Flags&isakmp.FlagCommit, ivAfter, nil, func([]byte) ([]byte, error) {
		return ikecrypto.Hash3(x.p1.PRF, x.p1.SKEYIDa, mid, ne.ni, ne.nr)
	})
	if err != nil {
		return dst, err
	}
	ne.priv, ne.recv, ne.sent = nil, recv, qm3
	*e = ne
	dst = x.stage(dst, e, StageQM2)
	dst = append(dst, Event{Kind: EventSend, Role: Initiator, MessageID: mid, Datagram: qm3})
	dst = x.stage(dst, e, StageAfterQM3)
	if e.commit {
		// Wait for CONNECTED, retransmitting QM3 until it arrives.
		e.st, e.iv, e.tries, e.interval = waitConnected, ivAfter3, 1, x.cfg.Retransmit.Initial
		e.timer = now.Add(e.interval)
		return dst, nil
	}
	dst = append(dst, Event{Kind: EventCompleted, Role: Initiator, MessageID: mid})
	x.complete(e, done{recv1: recv, resend1: qm3})
	return dst, nil
}

func (x *Exchanges) initiatorConnected(dst []Event, e *exchange, h *isakmp.Header, b, ct []byte) ([]Event, error) {
	mid := e.mid
	switch {
	case bytes.Equal(b, e.recv): // QM2 again: our QM3 was lost
		return append(dst, Event{Kind: EventSend, Role: Initiator, MessageID: mid, Datagram: e.sent}), nil
	case bytes.Equal(b, e.sent):
		return dst, newErr(ErrUnexpectedMessage, mid, "own QM3 reflected", nil)
	}
	var m body
	if _, err := x.openBody(h, ct, e.iv, &m); err != nil {
		return dst, err
	}
	if !m.connected || m.others != 1 {
		return dst, newErr(ErrUnexpectedPayload, mid, "expected HASH, N(CONNECTED)", nil)
	}
	if err := ikecrypto.VerifyInfoHash(x.p1.PRF, x.p1.SKEYIDa, mid, m.rest, m.hash); err != nil {
		return dst, newErr(ErrBadHash, mid, "HASH(4)", err)
	}
	dst = x.stage(dst, e, StageConnected)
	dst = append(dst, Event{Kind: EventCompleted, Role: Initiator, MessageID: mid})
	x.complete(e, done{recv1: e.recv, resend1: e.sent, recv2: append([]byte(nil), b...)})
	return dst, nil
}
