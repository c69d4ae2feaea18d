package quickmode

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// fuzzState is a responder and an initiator with one open and one
// completed exchange each, and the datagrams seen so far.
func fuzzState(t testing.TB) (*pair, *flow, []byte) {
	p := newPair(t, pairOpts{})
	f := p.run(simpleRequest())
	ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
	qm1 := one(t, ev)
	if _, err := p.r.HandleDatagram(nil, p.now, qm1); err != nil {
		t.Fatal(err)
	}
	return p, f, qm1
}

// checkNoChange delivers b to x and fails if an error left state changed
// or came with events.
func checkNoChange(t *testing.T, x *Exchanges, b []byte) {
	before := snapshot(x)
	out, err := x.HandleDatagram(nil, t0, b)
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("untyped error %v", err)
	}
	if len(out) != 0 || snapshot(x) != before {
		t.Fatalf("error %v changed state or produced events", err)
	}
}

// FuzzHandleDatagram feeds arbitrary datagrams to both sides.
func FuzzHandleDatagram(f *testing.F) {
	p, fl, qm1 := fuzzState(f)
	for _, s := range [][]byte{qm1, fl.qm1, fl.qm2, fl.qm3, qm1[:40]} {
		f.Add(s)
	}
	_ = p
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _, _ := fuzzState(t)
		checkNoChange(t, p.r, b)
		checkNoChange(t, p.i, b)
	})
}

// sealRaw encrypts HASH(1) followed by an arbitrary payload chain, so
// that fuzzed bodies get past the HASH check and reach everything after it.
func sealRaw(x *Exchanges, mid uint32, first isakmp.PayloadType, rest []byte) []byte {
	hs := x.p1.PRF.Size()
	h, _ := ikecrypto.Hash1(x.p1.PRF, x.p1.SKEYIDa, mid, rest)
	plain := make([]byte, 4+hs, 4+hs+len(rest))
	plain[0] = byte(first)
	binary.BigEndian.PutUint16(plain[2:], uint16(4+hs))
	copy(plain[4:], h)
	plain = append(plain, rest...)
	iv, _ := ikecrypto.Phase2IV(x.p1.PRF, x.last, mid)
	ct, _, _ := x.cipher.Encrypt(nil, iv, plain)
	m := isakmp.Message{Header: isakmp.Header{InitiatorCookie: x.p1.CookieI, ResponderCookie: x.p1.CookieR,
		NextPayload: isakmp.PayloadHASH, MajorVersion: 1, Exchange: isakmp.ExchangeQuickMode,
		Flags: isakmp.FlagEncryption, MessageID: mid}, Ciphertext: ct}
	b, _ := m.Marshal()
	return b
}

// FuzzResponderBody fuzzes the authenticated body of QM1: proposal
// selection, KE, IDs, NAT-OA and notify handling.
func FuzzResponderBody(f *testing.F) {
	sa, _ := isakmp.AppendPayloads(nil, []isakmp.Payload{saPayload(0, aes128sha1), nonce(16)})
	f.Add(uint8(isakmp.PayloadSA), sa)
	ids, _ := isakmp.AppendPayloads(nil, []isakmp.Payload{saPayload(0, aes128sha1), nonce(16),
		idPayload(Selector{Prefix: mustPrefix("10.0.0.0/8")}), idPayload(Selector{Prefix: mustPrefix("10.9.9.9/32")})})
	f.Add(uint8(isakmp.PayloadSA), ids)
	f.Fuzz(func(t *testing.T, first uint8, rest []byte) {
		if len(rest) > 4096 {
			return
		}
		p, _, _ := fuzzState(t)
		msg := sealRaw(p.i, 0x5eed, isakmp.PayloadType(first), rest)
		before := snapshot(p.r)
		out, err := p.r.HandleDatagram(nil, t0, msg)
		if err != nil {
			if len(out) != 0 || snapshot(p.r) != before {
				t.Fatalf("error %v changed state", err)
			}
			// ErrBadHash is possible: bytes after the end of the chain
			// are padding, which HASH(1) does not cover.
			return
		}
		if len(sends(out)) != 1 {
			t.Fatalf("accepted QM1 without one QM2: %v", kinds("R", out))
		}
	})
}

// FuzzInitiatorBody fuzzes the authenticated body of QM2 for an open
// initiator exchange: reply checks, RESPONDER-LIFETIME, KE, IDs.
func FuzzInitiatorBody(f *testing.F) {
	sa, _ := isakmp.AppendPayloads(nil, []isakmp.Payload{saPayload(0, aes128sha1), nonce(16),
		&isakmp.Notification{DOI: 1, Protocol: 3, Notify: isakmp.NotifyResponderLifetime, SPI: []byte{1, 2, 3, 4}, Data: lifetimeData(60, 0)}})
	f.Add(uint8(isakmp.PayloadSA), sa)
	f.Fuzz(func(t *testing.T, first uint8, rest []byte) {
		if len(rest) > 4096 {
			return
		}
		p, _, _ := fuzzState(t)
		x := p.i
		e := x.open[0]
		hs := x.p1.PRF.Size()
		h, _ := ikecrypto.Hash2(x.p1.PRF, x.p1.SKEYIDa, e.mid, e.ni, rest)
		plain := make([]byte, 4+hs, 4+hs+len(rest))
		plain[0] = first
		binary.BigEndian.PutUint16(plain[2:], uint16(4+hs))
		copy(plain[4:], h)
		plain = append(plain, rest...)
		ct, _, _ := x.cipher.Encrypt(nil, e.iv, plain)
		m := isakmp.Message{Header: isakmp.Header{InitiatorCookie: x.p1.CookieI, ResponderCookie: x.p1.CookieR,
			NextPayload: isakmp.PayloadHASH, MajorVersion: 1, Exchange: isakmp.ExchangeQuickMode,
			Flags: isakmp.FlagEncryption, MessageID: e.mid}, Ciphertext: ct}
		msg, _ := m.Marshal()
		before := snapshot(x)
		out, err := x.HandleDatagram(nil, t0, msg)
		if err != nil {
			if len(out) != 0 || snapshot(x) != before {
				t.Fatalf("error %v changed state", err)
			}
			return
		}
		if len(sends(out)) != 1 {
			t.Fatalf("accepted QM2 without sending QM3: %v", kinds("I", out))
		}
	})
}
