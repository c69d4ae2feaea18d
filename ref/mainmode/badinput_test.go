package mainmode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// sealedBy returns a message encrypted with the keys and IV that x has
// after taking in (MM4 for an initiator, MM5 for a responder), with the
// payloads ps gives: a well-encrypted MM5 or MM6 with chosen contents.
func sealedBy(t *testing.T, x Exchange, in []byte, ps func(x *Exchange) []isakmp.Payload) []byte {
	t.Helper()
	var v isakmp.View
	h, err := v.Start(in)
	if err != nil {
		t.Fatal(err)
	}
	if x.initiator {
		err = x.recvKE(&h, &v)
	} else {
		err = x.recvAuth(&h, &v)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := x.seal(ps(&x))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// informational builds an Informational message with a notify, plain or
// (with x's keys and current IV) encrypted with a HASH(1); badHash
// corrupts the HASH.
func informational(t *testing.T, x *Exchange, notify isakmp.NotifyType, encrypted, badHash bool) []byte {
	t.Helper()
	n := &isakmp.Notification{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoISAKMP, Notify: notify,
		SPI: append(x.ckyI[:], x.ckyR[:]...)}
	hd := x.header(0)
	hd.Exchange = isakmp.ExchangeInformational
	if !encrypted {
		b, err := (&isakmp.Message{Header: hd, Payloads: []isakmp.Payload{n}}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const mid = 0x01020304
	prf := x.cfg.Proposal.PRF
	raw, _ := isakmp.AppendPayloads(nil, []isakmp.Payload{n})
	h1, _ := ikecrypto.InfoHash(prf, x.keys.SKEYIDa, mid, raw)
	if badHash {
		h1[0] ^= 1
	}
	pt, _ := isakmp.AppendPayloads(nil, []isakmp.Payload{&isakmp.Hash{Data: h1}, n})
	iv, _ := ikecrypto.Phase2IV(prf, x.iv, mid)
	ct, _, err := x.cipher.Encrypt(nil, iv, pt)
	if err != nil {
		t.Fatal(err)
	}
	hd.Flags, hd.MessageID, hd.NextPayload = isakmp.FlagEncryption, mid, isakmp.PayloadHASH
	b, err := (&isakmp.Message{Header: hd, Ciphertext: ct}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func setByte(b []byte, i int, v byte) []byte {
	b = bytes.Clone(b)
	b[i] = v
	return b
}

func xorByte(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 0x01
	return b
}

// withLength fixes the header length after cutting or growing a message.
func withLength(b []byte) []byte {
	b = bytes.Clone(b)
	binary.BigEndian.PutUint32(b[24:28], uint32(len(b)))
	return b
}

// Every class of bad input gives a typed error with the right notify and
// changes nothing: the state digest is unchanged and the genuine message
// then yields byte for byte the reply of the genuine run.
func TestBadInput(t *testing.T) {
	ci, cr := configs(11, true)
	ci.ForceNATT = true
	ru := runExchange(t, ci, cr)
	m := ru.msgs
	anyNotify := isakmp.NotifyType(0xffff)
	mutKE := func(f func(ps []isakmp.Payload) []isakmp.Payload) []byte {
		return reparse(t, m[2], func(msg *isakmp.Message) { msg.Payloads = f(msg.Payloads) })
	}
	ke := func(data []byte) []byte {
		return mutKE(func(ps []isakmp.Payload) []isakmp.Payload {
			ps[0] = &isakmp.KeyExchange{Data: data}
			return ps
		})
	}
	modp := ru.r.group.PublicLen()
	one := make([]byte, modp)
	one[modp-1] = 1
	offer := func(p Proposal) []byte {
		c, _ := configs(12, true)
		c.Proposal = p
		_, mm1, err := Initiate(c)
		if err != nil {
			t.Fatal(err)
		}
		return mm1
	}
	wrongPSK := ru.snapI[1]
	wrongPSK.cfg.PSK = []byte("wrong-psk")
	badMM5, err := wrongPSK.Receive(m[3])
	if err != nil {
		t.Fatal(err)
	}
	mm5With := func(ps func(x *Exchange) []isakmp.Payload) []byte { return sealedBy(t, ru.snapI[1], m[3], ps) }
	mm6With := func(ps func(x *Exchange) []isakmp.Payload) []byte { return sealedBy(t, ru.snapR[2], m[4], ps) }
	idHash := func(x *Exchange, hash []byte) []isakmp.Payload {
		id, _ := x.ownID()
		return []isakmp.Payload{id, &isakmp.Hash{Data: hash}}
	}
	ownHash := func(x *Exchange) []byte {
		_, idb := x.ownID()
		f := ikecrypto.HashI
		if !x.initiator {
			f = ikecrypto.HashR
		}
		h, err := f(x.cfg.Proposal.PRF, x.skeyid, x.gxi, x.gxr, x.ckyI[:], x.ckyR[:], x.sai, idb)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	flip := func(b []byte) []byte { b = bytes.Clone(b); b[0] ^= 1; return b }
	// the responder's view after MM3: keys, IV for an encrypted Informational
	rKeys := ru.snapR[2]
	iKeys := ru.snapI[2]

	cases := []struct {
		name   string
		side   byte // 'R' or 'I'
		k      int  // snapshot index: R waits for MM(2k+1), I for MM(2k+2)
		msg    []byte
		kind   error
		notify isakmp.NotifyType
		also   error
	}{
		// Framing.
		{"truncated header", 'R', 0, m[0][:20], ErrMalformed, isakmp.NotifyPayloadMalformed, isakmp.ErrTruncated},
		{"truncated body", 'R', 0, m[0][:len(m[0])-3], ErrMalformed, isakmp.NotifyPayloadMalformed, isakmp.ErrTruncated},
		{"truncated KE message", 'R', 1, withLength(m[2][:100]), ErrMalformed, isakmp.NotifyUnequalPayloadLengths, nil},
		{"empty", 'I', 0, nil, ErrMalformed, isakmp.NotifyPayloadMalformed, nil},
		{"huge message", 'R', 0, withLength(append(bytes.Clone(m[0]), make([]byte, MaxMessageSize)...)), ErrMalformed, isakmp.NotifyPayloadMalformed, nil},
		{"payload length past the end", 'R', 0, setByte(setByte(m[0], 30, 0xff), 31, 0xff), ErrMalformed, isakmp.NotifyUnequalPayloadLengths, nil},
		{"garbage after header", 'R', 1, withLength(append(bytes.Clone(m[2][:28]), bytes.Repeat([]byte{0xa5}, 64)...)), ErrMalformed, anyNotify, nil},
		{"unassigned first payload type", 'R', 0, setByte(m[0], 16, 99), ErrMalformed, isakmp.NotifyInvalidPayloadType, nil},
		{"private-use payload in MM1", 'R', 0, reparse(t, m[0], func(msg *isakmp.Message) {
			msg.Payloads = append(msg.Payloads, &isakmp.Unknown{PayloadType: 200, Data: bytes.Repeat([]byte{7}, 3000)})
		}), ErrUnexpectedPayload, isakmp.NotifyInvalidPayloadType, nil},
		{"major version 2", 'R', 0, setByte(m[0], 17, 0x20), ErrMalformed, isakmp.NotifyInvalidMajorVersion, nil},
		// Header rules.
		{"wrong exchange type (Aggressive)", 'R', 0, setByte(m[0], 18, 4), ErrExchangeType, isakmp.NotifyInvalidExchangeType, nil},
		{"wrong exchange type (Quick Mode)", 'I', 1, setByte(m[3], 18, 32), ErrExchangeType, isakmp.NotifyInvalidExchangeType, nil},
		{"non-zero message ID", 'R', 1, setByte(m[2], 23, 1), ErrMessageID, isakmp.NotifyInvalidMessageID, nil},
		{"commit flag", 'I', 0, setByte(m[1], 19, 2), ErrFlags, isakmp.NotifyInvalidFlags, nil},
		{"MM1 with responder cookie", 'R', 0, xorByte(m[0], 8), ErrWrongCookies, isakmp.NotifyInvalidCookie, nil},
		{"wrong initiator cookie", 'R', 1, xorByte(m[2], 0), ErrWrongCookies, isakmp.NotifyInvalidCookie, nil},
		{"wrong responder cookie", 'R', 2, xorByte(m[4], 15), ErrWrongCookies, isakmp.NotifyInvalidCookie, nil},
		{"wrong initiator cookie in MM2", 'I', 0, xorByte(m[1], 3), ErrWrongCookies, isakmp.NotifyInvalidCookie, nil},
		{"zero responder cookie in MM2", 'I', 0, reparse(t, m[1], func(msg *isakmp.Message) { msg.Header.ResponderCookie = zeroCookie }), ErrWrongCookies, isakmp.NotifyInvalidCookie, nil},
		{"wrong responder cookie in MM6", 'I', 2, xorByte(m[5], 9), ErrWrongCookies, isakmp.NotifyInvalidCookie, nil},
		// Messages out of place.
		{"MM3 at a fresh responder", 'R', 0, m[2], ErrWrongCookies, isakmp.NotifyInvalidCookie, nil},
		{"encrypted MM1", 'R', 0, setByte(m[0], 19, 1), ErrUnexpectedMessage, 0, nil},
		{"MM5 before MM3", 'R', 1, m[4], ErrUnexpectedMessage, 0, nil},
		{"changed MM1 after MM2", 'R', 1, reparse(t, m[0], func(msg *isakmp.Message) {
			msg.Payloads = append(msg.Payloads, &isakmp.VendorID{Data: []byte("x")})
		}), ErrWrongCookies, isakmp.NotifyInvalidCookie, nil},
		{"changed MM3 where MM5 is due", 'R', 2, ke(ru.i.gxi[:modp-1]), ErrUnexpectedMessage, 0, nil},
		{"MM5 reflected to the initiator", 'I', 2, m[4], ErrAuthFailed, isakmp.NotifyAuthenticationFailed, nil},
		{"MM4 reflected to the responder", 'R', 1, m[3], ErrUnexpectedMessage, 0, nil},
		{"MM3 reflected to the initiator", 'I', 1, m[2], ErrUnexpectedMessage, 0, nil},
		{"MM2 reflected to the responder", 'R', 1, m[1], ErrUnexpectedPayload, isakmp.NotifyInvalidPayloadType, nil},
		{"changed MM5 after completion", 'R', 3, xorByte(m[4], len(m[4])-20), ErrUnexpectedMessage, 0, nil},
		{"changed MM6 after completion", 'I', 3, xorByte(m[5], len(m[5])-1), ErrUnexpectedMessage, 0, nil},
		// Proposals.
		{"no acceptable proposal (3DES)", 'R', 0, offer(Proposal{Encr: ikecrypto.Encr3DESCBC}), ErrNoProposalChosen, isakmp.NotifyNoProposalChosen, nil},
		{"no acceptable proposal (group 5)", 'R', 0, offer(Proposal{Group: dh.MODP1536}), ErrNoProposalChosen, isakmp.NotifyNoProposalChosen, nil},
		{"no acceptable proposal (AES-256)", 'R', 0, offer(Proposal{KeyLen: 32}), ErrNoProposalChosen, isakmp.NotifyNoProposalChosen, nil},
		{"MM1 without SA", 'R', 0, reparse(t, m[0], func(msg *isakmp.Message) { msg.Payloads = msg.Payloads[1:] }), ErrMissingPayload, isakmp.NotifyPayloadMalformed, nil},
		{"responder chose another hash", 'I', 0, reparse(t, m[1], func(msg *isakmp.Message) {
			sa := msg.Payloads[0].(*isakmp.SA)
			sa.Proposals[0].Transforms[0].Attributes[2].Value = uint16(ikecrypto.PRFSHA256)
		}), ErrNoProposalChosen, isakmp.NotifyNoProposalChosen, nil},
		{"responder chose two proposals", 'I', 0, reparse(t, m[1], func(msg *isakmp.Message) {
			sa := msg.Payloads[0].(*isakmp.SA)
			p := sa.Proposals[0]
			p.Number = 2
			sa.Proposals = append(sa.Proposals, p)
		}), ErrNoProposalChosen, isakmp.NotifyNoProposalChosen, nil},
		// KE messages.
		{"KE one byte short", 'R', 1, ke(ru.i.gxi[:modp-1]), ErrInvalidKE, isakmp.NotifyInvalidKeyInformation, nil},
		{"KE far too long", 'I', 1, reparse(t, m[3], func(msg *isakmp.Message) {
			msg.Payloads[0] = &isakmp.KeyExchange{Data: make([]byte, 4000)}
		}), ErrInvalidKE, isakmp.NotifyInvalidKeyInformation, nil},
		{"DH public value 1", 'R', 1, ke(one), ErrInvalidKE, isakmp.NotifyInvalidKeyInformation, dh.ErrPublicRange},
		{"DH public value above p", 'I', 1, reparse(t, m[3], func(msg *isakmp.Message) {
			msg.Payloads[0] = &isakmp.KeyExchange{Data: bytes.Repeat([]byte{0xff}, modp)}
		}), ErrInvalidKE, isakmp.NotifyInvalidKeyInformation, dh.ErrPublicRange},
		{"nonce of 4 bytes", 'R', 1, mutKE(func(ps []isakmp.Payload) []isakmp.Payload {
			ps[1] = &isakmp.Nonce{Data: []byte{1, 2, 3, 4}}
			return ps
		}), ErrInvalidNonce, isakmp.NotifyPayloadMalformed, nil},
		{"no nonce", 'R', 1, mutKE(func(ps []isakmp.Payload) []isakmp.Payload { return append(ps[:1], ps[2:]...) }), ErrMissingPayload, isakmp.NotifyPayloadMalformed, nil},
		{"no KE", 'R', 1, mutKE(func(ps []isakmp.Payload) []isakmp.Payload { return ps[1:] }), ErrMissingPayload, isakmp.NotifyPayloadMalformed, nil},
		{"repeated KE", 'R', 1, mutKE(func(ps []isakmp.Payload) []isakmp.Payload { return append(ps, ps[0]) }), ErrUnexpectedPayload, isakmp.NotifyInvalidPayloadType, nil},
		{"no NAT-D though NAT-T negotiated", 'R', 1, mutKE(func(ps []isakmp.Payload) []isakmp.Payload { return ps[:2] }), ErrInvalidNATD, isakmp.NotifyPayloadMalformed, nil},
		{"NAT-D of wrong length", 'R', 1, mutKE(func(ps []isakmp.Payload) []isakmp.Payload {
			ps[2] = &isakmp.NATD{Hash: []byte{1, 2, 3}}
			return ps
		}), ErrInvalidNATD, isakmp.NotifyPayloadMalformed, nil},
		{"SA in MM3", 'R', 1, mutKE(func(ps []isakmp.Payload) []isakmp.Payload {
			return append(ps, mustParse(t, m[0]).Payloads[0])
		}), ErrUnexpectedPayload, isakmp.NotifyInvalidPayloadType, nil},
		{"error notify in MM3", 'R', 1, mutKE(func(ps []isakmp.Payload) []isakmp.Payload {
			return append(ps, &isakmp.Notification{DOI: isakmp.DOIIPsec, Notify: isakmp.NotifyInvalidKeyInformation})
		}), ErrPeerRefused, isakmp.NotifyInvalidKeyInformation, nil},
		// Encrypted messages.
		{"MM5 under a wrong PSK", 'R', 2, badMM5, ErrAuthFailed, isakmp.NotifyAuthenticationFailed, nil},
		{"bad HASH_I", 'R', 2, mm5With(func(x *Exchange) []isakmp.Payload { return idHash(x, flip(ownHash(x))) }), ErrAuthFailed, isakmp.NotifyAuthenticationFailed, ikecrypto.ErrHashMismatch},
		{"truncated HASH_I", 'R', 2, mm5With(func(x *Exchange) []isakmp.Payload { return idHash(x, ownHash(x)[:8]) }), ErrAuthFailed, isakmp.NotifyAuthenticationFailed, nil},
		{"MM5 without HASH", 'R', 2, mm5With(func(x *Exchange) []isakmp.Payload { return idHash(x, nil)[:1] }), ErrMissingPayload, isakmp.NotifyPayloadMalformed, nil},
		{"MM5 with KE", 'R', 2, mm5With(func(x *Exchange) []isakmp.Payload {
			return append(idHash(x, ownHash(x)), &isakmp.KeyExchange{Data: x.gxi})
		}), ErrUnexpectedPayload, isakmp.NotifyInvalidPayloadType, nil},
		{"MM5 ID with TCP port 80", 'R', 2, mm5With(func(x *Exchange) []isakmp.Payload {
			ps := idHash(x, ownHash(x))
			ps[0] = &isakmp.Identification{IDType: isakmp.IDIPv4Addr, Protocol: 6, Port: 80, Data: addrI.Addr().AsSlice()}
			return ps
		}), ErrInvalidID, isakmp.NotifyInvalidIDInformation, nil},
		{"error notify in MM5", 'R', 2, mm5With(func(x *Exchange) []isakmp.Payload {
			return append(idHash(x, ownHash(x)), &isakmp.Notification{DOI: isakmp.DOIIPsec, Notify: isakmp.NotifyInvalidIDInformation})
		}), ErrPeerRefused, isakmp.NotifyInvalidIDInformation, nil},
		{"undecryptable MM5 (not whole blocks)", 'R', 2, withLength(m[4][:len(m[4])-1]), ErrDecrypt, isakmp.NotifyPayloadMalformed, nil},
		{"MM5 first block corrupted", 'R', 2, xorByte(m[4], isakmp.HeaderLen), ErrAuthFailed, isakmp.NotifyAuthenticationFailed, nil},
		{"bad HASH_R", 'I', 2, mm6With(func(x *Exchange) []isakmp.Payload { return idHash(x, flip(ownHash(x))) }), ErrAuthFailed, isakmp.NotifyAuthenticationFailed, ikecrypto.ErrHashMismatch},
		{"undecryptable MM6 (empty body)", 'I', 2, withLength(m[5][:isakmp.HeaderLen]), ErrDecrypt, isakmp.NotifyPayloadMalformed, nil},
		// The peer refuses.
		{"plain Informational NO-PROPOSAL-CHOSEN", 'I', 0, informational(t, &ru.snapI[0], isakmp.NotifyNoProposalChosen, false, false), ErrPeerRefused, isakmp.NotifyNoProposalChosen, nil},
		{"plain Informational INVALID-ID-INFORMATION", 'I', 2, informational(t, &iKeys, isakmp.NotifyInvalidIDInformation, false, false), ErrPeerRefused, isakmp.NotifyInvalidIDInformation, nil},
		{"encrypted Informational AUTHENTICATION-FAILED", 'R', 2, informational(t, &rKeys, isakmp.NotifyAuthenticationFailed, true, false), ErrPeerRefused, isakmp.NotifyAuthenticationFailed, nil},
		{"encrypted Informational with bad HASH", 'R', 2, informational(t, &rKeys, isakmp.NotifyAuthenticationFailed, true, true), ErrBadHash, isakmp.NotifyInvalidHashInformation, ikecrypto.ErrHashMismatch},
		{"plain Informational with a status notify (R-U-THERE)", 'I', 1, informational(t, &iKeys, isakmp.NotifyRUThere, false, false), ErrUnexpectedMessage, 0, nil},
		{"Informational for a fresh responder", 'R', 0, informational(t, &rKeys, isakmp.NotifyAuthenticationFailed, false, false), ErrWrongCookies, isakmp.NotifyInvalidCookie, nil},
		{"Informational for another SA", 'I', 1, xorByte(informational(t, &iKeys, isakmp.NotifyAuthenticationFailed, false, false), 2), ErrWrongCookies, isakmp.NotifyInvalidCookie, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var x Exchange
			var genuine, reply []byte
			if c.side == 'R' {
				x, genuine = ru.snapR[c.k], m[min(2*c.k, 4)]
				if c.k < 3 {
					reply = m[2*c.k+1]
				} else {
					reply = m[5] // a duplicate MM5: MM6 again
				}
			} else {
				x, genuine = ru.snapI[c.k], m[min(2*c.k+1, 5)]
				if c.k < 2 {
					reply = m[2*c.k+2]
				}
			}
			before := x.digest()
			out, err := x.Receive(c.msg)
			if err == nil {
				t.Fatalf("accepted, replied %d bytes", len(out))
			}
			if c.notify == anyNotify {
				wantErr(t, err, c.kind, NotifyFor(err))
				if NotifyFor(err) == isakmp.NotifyNone {
					t.Fatalf("%v: no notify", err)
				}
			} else {
				wantErr(t, err, c.kind, c.notify)
			}
			if c.also != nil && !errors.Is(err, c.also) {
				t.Fatalf("%v does not wrap %v", err, c.also)
			}
			if out != nil {
				t.Fatal("reply with an error")
			}
			if x.digest() != before {
				t.Fatal("state changed")
			}
			out, err = x.Receive(genuine)
			if err != nil {
				t.Fatalf("genuine message refused afterwards: %v", err)
			}
			if !bytes.Equal(out, reply) {
				t.Fatalf("reply to the genuine message differs from the genuine run")
			}
			if c.k == 2 && !x.Done() {
				t.Fatal("not done")
			}
		})
	}
}

// Duplicates: the responder resends its last reply to a duplicate of the
// last message and ignores older ones; the initiator ignores every
// duplicate. None changes the state.
func TestDuplicates(t *testing.T) {
	ci, cr := configs(21, true)
	ru := runExchange(t, ci, cr)
	m := ru.msgs
	for k := 1; k <= 3; k++ {
		r := ru.snapR[k]
		before := r.digest()
		out, err := r.Receive(m[2*k-2])
		if err != nil || !bytes.Equal(out, m[2*k-1]) {
			t.Fatalf("responder after MM%d: duplicate answered %v %x", 2*k-1, err, out)
		}
		for j := 0; j < k-1; j++ {
			if out, err := r.Receive(m[2*j]); err != nil || out != nil {
				t.Fatalf("responder after MM%d: old MM%d answered %v %x", 2*k-1, 2*j+1, err, out)
			}
		}
		if r.digest() != before {
			t.Fatalf("responder after MM%d: duplicate changed the state", 2*k-1)
		}
		i := ru.snapI[k]
		before = i.digest()
		for j := 0; j < k; j++ {
			if out, err := i.Receive(m[2*j+1]); err != nil || out != nil {
				t.Fatalf("initiator after MM%d: duplicate MM%d answered %v %x", 2*k, 2*j+2, err, out)
			}
		}
		if i.digest() != before {
			t.Fatalf("initiator after MM%d: duplicate changed the state", 2*k)
		}
	}
	// The digest sees a change (so the checks above can fail).
	r := ru.snapR[1]
	before := r.digest()
	if _, err := r.Receive(m[2]); err != nil || r.digest() == before {
		t.Fatal("a genuine step does not change the digest")
	}
}
