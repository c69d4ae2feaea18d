package mainmode

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// Transcript is a recorded Main Mode exchange between two other
// implementations, with what is not on the wire.
type Transcript struct {
	// Messages are MM1 to MM6 as ISAKMP messages (no non-ESP marker).
	Messages [6][]byte
	// PSK is the pre-shared key.
	PSK []byte
	// GXY is the DH shared secret g^xy (the private values are not on
	// the wire).
	GXY []byte
	// Proposal is the transform the initiator offered; zero fields take
	// the defaults of Config.Proposal.
	Proposal Proposal
	// Initiator and Responder are the outer address:port of each side,
	// as each saw the other (the NAT-D inputs).
	Initiator, Responder netip.AddrPort
	// NATT: both sides were configured for RFC 3947 NAT-T.
	NATT bool
}

// Verification is what VerifyTranscript derived and checked.
type Verification struct {
	// SKEYID and Keys are the phase-1 key schedule; Key is the cipher
	// key (Ka); IV is the first phase-1 IV, hash(g^xi | g^xr).
	SKEYID []byte
	Keys   ikecrypto.Keys
	Key    []byte
	IV     []byte
	// IVAfterMM5 and IVAfterMM6 are the CBC chain after each encrypted
	// message (the last ciphertext blocks).
	IVAfterMM5, IVAfterMM6 []byte
	// HashI and HashR are the computed values that verified MM5 and MM6.
	HashI, HashR []byte
	// NATDInitiator and NATDResponder are the NAT-D hashes computed for
	// the initiator's and the responder's address (RFC 3947 §3.2).
	NATDInitiator, NATDResponder []byte
	// Plain5 and Plain6 are the decrypted bodies of MM5 and MM6,
	// padding included.
	Plain5, Plain6 []byte
	// Initiator and Responder are the Results each side's checks give.
	Initiator, Responder Result
}

// VerifyTranscript checks a recorded exchange with the code Receive runs:
// a responder takes MM1, MM3 and MM5 and an initiator MM2, MM4 and MM6,
// each with its own values set from the other messages of the transcript
// (its cookie, nonce and public value) and g^xy given instead of computed.
// It chooses the proposal, detects NATs from the NAT-D payloads, derives
// the keys, decrypts MM5 and MM6 and verifies HASH_I and HASH_R. It fails
// with the error Receive would give at the first message that does not
// check.
func VerifyTranscript(t Transcript) (*Verification, error) {
	base := Config{PSK: t.PSK, Proposal: t.Proposal, NATT: t.NATT, Rand: bytes.NewReader(nil)}
	ic, rc := base, base
	ic.Local, ic.Peer = t.Initiator, t.Responder
	rc.Local, rc.Peer = t.Responder, t.Initiator
	in, err := newExchange(ic, true)
	if err != nil {
		return nil, err
	}
	re, err := newExchange(rc, false)
	if err != nil {
		return nil, err
	}
	if len(t.GXY) == 0 {
		return nil, newErr(ErrBadConfig, "transcript without g^xy", nil)
	}
	in.gxyFixed, re.gxyFixed = bytes.Clone(t.GXY), bytes.Clone(t.GXY)

	var hs [6]isakmp.Header
	var views [6]isakmp.View
	start := func(i int) (*isakmp.Header, *isakmp.View, error) {
		h, err := views[i].Start(t.Messages[i])
		if err != nil {
			return nil, nil, fmt.Errorf("MM%d: %w", i+1, newErr(ErrMalformed, "header", err))
		}
		hs[i] = h
		return &hs[i], &views[i], nil
	}
	// The KE messages' own values: each side's nonce and public value.
	own := func(i int) (keMsg, error) {
		var v isakmp.View
		if _, err := v.Start(t.Messages[i]); err != nil {
			return keMsg{}, fmt.Errorf("MM%d: %w", i+1, newErr(ErrMalformed, "header", err))
		}
		m, err := scanKE(&v)
		if err != nil {
			return keMsg{}, fmt.Errorf("MM%d: %w", i+1, err)
		}
		return m, nil
	}

	// MM1 at the responder; the initiator's SAi_b is what it sent.
	re.st = stRWaitMM1
	h, v, err := start(0)
	if err != nil {
		return nil, err
	}
	if err := re.recvMM1(h, v); err != nil {
		return nil, fmt.Errorf("MM1: %w", err)
	}
	in.ckyI, in.sai, in.st = h.InitiatorCookie, re.sai, stIWaitMM2
	// MM2 at the initiator.
	if h, v, err = start(1); err != nil {
		return nil, err
	}
	if err := in.recvMM2(h, v); err != nil {
		return nil, fmt.Errorf("MM2: %w", err)
	}
	re.ckyR = h.ResponderCookie
	re.natt = re.natt && in.natt // the responder announced NAT-T back
	// MM3 at the responder and MM4 at the initiator.
	m3, err := own(2)
	if err != nil {
		return nil, err
	}
	m4, err := own(3)
	if err != nil {
		return nil, err
	}
	in.gxi, in.ni = bytes.Clone(m3.ke), bytes.Clone(m3.nonce)
	re.gxr, re.nr = bytes.Clone(m4.ke), bytes.Clone(m4.nonce)
	re.st, in.st = stRWaitMM3, stIWaitMM4
	if h, v, err = start(2); err != nil {
		return nil, err
	}
	if err := re.recvKE(h, v); err != nil {
		return nil, fmt.Errorf("MM3: %w", err)
	}
	if h, v, err = start(3); err != nil {
		return nil, err
	}
	if err := in.recvKE(h, v); err != nil {
		return nil, fmt.Errorf("MM4: %w", err)
	}
	iv0 := in.iv.Bytes()
	// MM5 at the responder; the initiator's chain moves on by MM5.
	re.st = stRWaitMM5
	if h, v, err = start(4); err != nil {
		return nil, err
	}
	if err := re.recvAuth(h, v); err != nil {
		return nil, fmt.Errorf("MM5: %w", err)
	}
	ivAfter5 := re.iv
	in.iv, in.st = ivAfter5, stIWaitMM6
	// MM6 at the initiator, and the responder's LastBlock from MM6.
	if h, v, err = start(5); err != nil {
		return nil, err
	}
	if err := in.recvAuth(h, v); err != nil {
		return nil, fmt.Errorf("MM6: %w", err)
	}
	// The responder's HASH_R for the ID strongSwan sent is the one the
	// initiator verified; the responder only needs its LastBlock.
	re.hashR, re.lastBlock = in.hashR, in.lastBlock
	if err := in.finish(); err != nil {
		return nil, err
	}
	if err := re.finish(); err != nil {
		return nil, err
	}
	dec := func(iv ikecrypto.IV, i int) []byte {
		pt, _, _ := in.cipher.Decrypt(nil, iv, views[i].Ciphertext())
		return pt
	}
	iv0v, _ := ikecrypto.NewIV(iv0)
	out := &Verification{
		SKEYID: bytes.Clone(in.skeyid), Keys: *in.keys, Key: bytes.Clone(in.key), IV: iv0,
		IVAfterMM5: ivAfter5.Bytes(), IVAfterMM6: bytes.Clone(in.lastBlock),
		HashI: bytes.Clone(re.hashI), HashR: bytes.Clone(in.hashR),
		NATDInitiator: natdHash(in.cfg.Proposal.PRF, in.ckyI, in.ckyR, t.Initiator),
		NATDResponder: natdHash(in.cfg.Proposal.PRF, in.ckyI, in.ckyR, t.Responder),
		Plain5:        dec(iv0v, 4), Plain6: dec(ivAfter5, 5),
	}
	if out.Initiator, err = in.Result(); err != nil {
		return nil, err
	}
	if out.Responder, err = re.Result(); err != nil {
		return nil, err
	}
	if !bytes.Equal(re.key, in.key) || !bytes.Equal(re.keys.SKEYIDd, in.keys.SKEYIDd) {
		return nil, newErr(ErrBadConfig, "the two sides' keys disagree", nil)
	}
	return out, nil
}
