package quickmode

import (
	"bytes"
	"slices"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// choose walks the initiator's proposals in its order and returns the
// first transform the policy accepts, with lifetimes lowered to the
// policy's maxima. Proposals sharing a number (AND-ed protocol bundles)
// are not supported and skipped.
func (x *Exchanges) choose(mid uint32, sa isakmp.SAReader) (o offer, effSec, effKB uint32, err error) {
	have, last := false, -1
	for sa.Next() {
		p := sa.Proposal()
		if int(p.Number) == last {
			if have && o.propNum == p.Number {
				have = false
			}
			continue
		}
		if have {
			break
		}
		last = int(p.Number)
		if p.Protocol != isakmp.ProtoIPsecESP || len(p.SPI) != 4 {
			continue
		}
		var spi uint32
		for _, c := range p.SPI {
			spi = spi<<8 | uint32(c)
		}
		if spi <= 255 {
			continue
		}
		for p.Next() {
			c, ok := readTransform(p.Transform())
			if !ok || c.udp != x.p1.NATT || !slices.Contains(x.cfg.Policy.PFS, c.group) {
				continue
			}
			for _, t := range x.cfg.Policy.Transforms {
				if t.ESP != c.t.ESP || t.Mode != c.t.Mode {
					continue
				}
				c.propNum, c.spi = p.Number, spi
				o, have = c, true
				effSec, effKB = lowerLife(c.t, t.LifeSeconds, t.LifeKilobytes)
				break
			}
			if have {
				break
			}
		}
		if err := p.Err(); err != nil {
			return o, 0, 0, newErr(ErrMalformed, mid, "", err)
		}
	}
	if err := sa.Err(); err != nil {
		return o, 0, 0, newErr(ErrMalformed, mid, "", err)
	}
	if !have {
		return o, 0, 0, newErr(ErrNoProposalChosen, mid, "", nil)
	}
	return o, effSec, effKB, nil
}

func (x *Exchanges) responderQM1(dst []Event, now time.Time, h *isakmp.Header, b, ct []byte) ([]Event, error) {
	mid := h.MessageID
	if len(x.open) >= x.cfg.MaxHalfOpen {
		return dst, newErr(ErrTooManyHalfOpen, mid, "", nil)
	}
	iv, err := ikecrypto.Phase2IV(x.p1.PRF, x.last, mid)
	if err != nil {
		return dst, newErr(ErrBadConfig, mid, "phase-2 IV", err)
	}
	var m body
	ivAfter1, err := x.openBody(h, ct, iv, &m)
	if err != nil {
		return dst, err
	}
	if m.nonce == nil || !m.hasSA {
		return dst, newErr(ErrMissingPayload, mid, "QM1 needs SA and Ni", nil)
	}
	if err := ikecrypto.VerifyHash1(x.p1.PRF, x.p1.SKEYIDa, mid, m.rest, m.hash); err != nil {
		return dst, newErr(ErrBadHash, mid, "HASH(1)", err)
	}
	// Authenticated; nothing changes until every check below has passed.
	o, effSec, effKB, err := x.choose(mid, m.sa)
	if err != nil {
		return dst, err
	}
	// RESPONDER-LIFETIME tells the initiator when policy lowered a lifetime.
	propSec, propKB := lowerLife(o.t, 0, 0)
	lowered := effSec != propSec || effKB != propKB
	if (o.group != 0) != m.hasKE {
		return dst, newErr(ErrInvalidKE, mid, "KE presence does not match the PFS group", nil)
	}
	var group *dh.Group
	if o.group != 0 {
		if group, err = dh.Lookup(o.group); err != nil {
			return dst, newErr(ErrNoProposalChosen, mid, "PFS group", err)
		}
		if err := group.CheckPublic(m.ke); err != nil {
			return dst, newErr(ErrInvalidKE, mid, "", err)
		}
	}
	local, remote := x.defaultSelectors()
	switch m.nIDs {
	case 0:
	case 2:
		ci, ok1 := selector(&m.ids[0])
		cr, ok2 := selector(&m.ids[1])
		if !ok1 || !ok2 {
			return dst, newErr(ErrInvalidID, mid, "client ID is not an address or subnet", nil)
		}
		local, remote = cr, ci
	default:
		return dst, newErr(ErrInvalidID, mid, "single client ID", nil)
	}
	if m.nOA == 1 {
		return dst, newErr(ErrUnexpectedPayload, mid, "single NAT-OA", nil)
	}
	commit := x.cfg.Profile.CommitBit || h.Flags&isakmp.FlagCommit != 0

	spiR, err := x.newSPI()
	if err != nil {
		return dst, err
	}
	nr, err := x.nonce()
	if err != nil {
		return dst, err
	}
	e := &exchange{role: Responder, st: waitQM3, mid: mid, spiI: o.spi, commit: commit,
		ni: append([]byte(nil), m.nonce...), nr: nr}
	var gqm []byte
	var priv *dh.PrivateKey
	if group != nil {
		if priv, err = group.GenerateKey(x.cfg.Rand); err != nil {
			return dst, newErr(ErrRandom, mid, "PFS key", err)
		}
		if gqm, err = priv.SharedSecret(m.ke); err != nil {
			return dst, newErr(ErrInvalidKE, mid, "", err)
		}
	}
	eff := o
	eff.t.LifeSeconds, eff.t.LifeKilobytes = effSec, effKB
	if err := x.keys(e, &eff, spiR, gqm, local, remote, m.oa[0].Addr, m.oa[1].Addr); err != nil {
		return dst, err
	}

	// QM2: HASH(2), SA, Nr [, KE] [, IDci, IDcr] [, NAT-OAi, NAT-OAr] [, N(RESPONDER-LIFETIME)].
	sa := &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SitIdentityOnly, Proposals: []isakmp.Proposal{{
		Number: o.propNum, Protocol: isakmp.ProtoIPsecESP, SPI: spiBytes(spiR),
		Transforms: []isakmp.Transform{transformPayload(o.trNum, o.t, o.group, isakmp.EncapsulationMode(o.encap))},
	}}}
	ps := make([]isakmp.Payload, 0, 8)
	ps = append(ps, sa, &isakmp.Nonce{Data: nr})
	if priv != nil {
		ps = append(ps, &isakmp.KeyExchange{Data: priv.Public()})
	}
	if m.nIDs == 2 {
		ps = append(ps, &m.ids[0], &m.ids[1])
	}
	if o.udp && o.t.Mode == ModeTransport {
		ps = append(ps, x.natOA(Responder)...)
	}
	if lowered {
		ps = append(ps, &isakmp.Notification{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoIPsecESP,
			Notify: isakmp.NotifyResponderLifetime, SPI: spiBytes(o.spi), Data: lifetimeData(effSec, effKB)})
	}
	var flags isakmp.Flags
	if commit {
		flags = isakmp.FlagCommit
	}
	qm2, ivAfter2, err := x.seal(mid, flags, ivAfter1, ps, func(rest []byte) ([]byte, error) {
		return ikecrypto.Hash2(x.p1.PRF, x.p1.SKEYIDa, mid, e.ni, rest)
	})
	if err != nil {
		return dst, err
	}
	e.iv, e.recv, e.sent = ivAfter2, append([]byte(nil), b...), qm2
	e.deadline = now.Add(x.cfg.ResponderTimeout)
	e.timer, e.tries = e.deadline, x.cfg.Retransmit.MaxTries
	if x.cfg.ResponderRetransmit {
		e.tries, e.interval = 1, x.cfg.Retransmit.Initial
		if t := now.Add(e.interval); t.Before(e.deadline) {
			e.timer = t
		}
	}
	x.open = append(x.open, e)
	dst = x.stage(dst, e, StageQM1)
	return append(dst, Event{Kind: EventSend, Role: Responder, MessageID: mid, Datagram: qm2}), nil
}

func (x *Exchanges) responderQM3(dst []Event, e *exchange, h *isakmp.Header, b, ct []byte) ([]Event, error) {
	mid := e.mid
	switch {
	case bytes.Equal(b, e.recv): // QM1 again: our QM2 was lost
		return append(dst, Event{Kind: EventSend, Role: Responder, MessageID: mid, Datagram: e.sent}), nil
	case bytes.Equal(b, e.sent):
		return dst, newErr(ErrUnexpectedMessage, mid, "own QM2 reflected", nil)
	}
	var m body
	ivAfter3, err := x.openBody(h, ct, e.iv, &m)
	if err != nil {
		return dst, err
	}
	if m.others != 0 {
		return dst, newErr(ErrUnexpectedPayload, mid, "QM3 carries only HASH(3)", nil)
	}
	if err := ikecrypto.VerifyHash3(x.p1.PRF, x.p1.SKEYIDa, mid, e.ni, e.nr, m.hash); err != nil {
		return dst, newErr(ErrBadHash, mid, "HASH(3)", err)
	}
	var connected []byte
	if e.commit {
		if connected, err = x.connected(mid, e.in.SPI, ivAfter3); err != nil {
			return dst, err
		}
	}
	recv3 := append([]byte(nil), b...)
	dst = x.stage(dst, e, StageQM3)
	if connected != nil {
		dst = append(dst, Event{Kind: EventSend, Role: Responder, MessageID: mid, Datagram: connected})
		dst = x.stage(dst, e, StageConnected)
	}
	dst = append(dst, Event{Kind: EventCompleted, Role: Responder, MessageID: mid})
	x.complete(e, done{recv1: e.recv, resend1: e.sent, recv2: recv3, resend2: connected})
	return dst, nil
}

// connected builds the commit-bit CONNECTED notify (RFC 2408 §3.1, RFC 2409
// §5.5) for inbound SPI spi, encrypted under iv, the IV after QM3.
func (x *Exchanges) connected(mid, spi uint32, iv ikecrypto.IV) ([]byte, error) {
	n := &isakmp.Notification{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoIPsecESP,
		Notify: isakmp.NotifyConnected, SPI: spiBytes(spi)}
	msg, _, err := x.seal(mid, isakmp.FlagCommit, iv, []isakmp.Payload{n}, func(rest []byte) ([]byte, error) {
		return ikecrypto.Hash4(x.p1.PRF, x.p1.SKEYIDa, mid, rest)
	})
	return msg, err
}

// lateQM3 handles a QM3 for a responder exchange that ESP on the new SA
// already completed. A genuine one changes nothing and needs no answer,
// except CONNECTED when the commit bit owes it: that message is a pure
// function of the exchange, so it is rebuilt rather than stored, and every
// retransmitted QM3 gets it again. Anything else is an error, as for QM3.
func (x *Exchanges) lateQM3(dst []Event, d *done, h *isakmp.Header, ct []byte) ([]Event, error) {
	mid := d.mid
	var m body
	ivAfter3, err := x.openBody(h, ct, d.iv, &m)
	if err != nil {
		return dst, err
	}
	if m.others != 0 {
		return dst, newErr(ErrUnexpectedPayload, mid, "QM3 carries only HASH(3)", nil)
	}
	if err := ikecrypto.VerifyHash3(x.p1.PRF, x.p1.SKEYIDa, mid, d.ni, d.nr, m.hash); err != nil {
		return dst, newErr(ErrBadHash, mid, "late HASH(3)", err)
	}
	if !d.commit {
		return dst, nil
	}
	connected, err := x.connected(mid, d.inSPI, ivAfter3)
	if err != nil {
		return dst, err
	}
	return append(dst, Event{Kind: EventSend, Role: Responder, MessageID: mid, Datagram: connected}), nil
}
