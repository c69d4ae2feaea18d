package quickmode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// lateRun runs a hitless exchange whose QM3 is held back until ESP on the
// new SA has completed the responder; it returns the held QM3 and the QM2.
func lateRun(t testing.TB, p *pair, req Request) (mid uint32, qm2, qm3 []byte, evI []Event) {
	t.Helper()
	ev, mid, err := p.i.Initiate(nil, p.now, req)
	if err != nil {
		t.Fatal(err)
	}
	evR, err := p.r.HandleDatagram(nil, p.now, one(t, ev))
	if err != nil {
		t.Fatal(err)
	}
	qm2 = one(t, evR)
	if evI, err = p.i.HandleDatagram(nil, p.now, qm2); err != nil {
		t.Fatal(err)
	}
	qm3 = one(t, evI)
	in, _ := find(evR, EventInstalledInbound)
	got, err := p.r.HandleESP(nil, p.now, in.SPI)
	if err != nil || !slices.Equal(kinds("R", got), []string{"R activated-outbound", "R completed"}) {
		t.Fatalf("ESP did not complete the responder: %v %v", err, kinds("R", got))
	}
	return mid, qm2, qm3, evI
}

// craftQM3 seals a QM3 for mid under the IV after QM2 the responder keeps,
// with hash computed by h over ni, nr and extra payloads ps.
func craftQM3(t *testing.T, p *pair, mid uint32, h func(ni, nr []byte) []byte, ps ...isakmp.Payload) []byte {
	t.Helper()
	d := p.r.findDone(mid)
	if d == nil || !d.late {
		t.Fatal("no late-QM3 memory")
	}
	msg, _, err := p.i.seal(mid, 0, d.iv, ps, func([]byte) ([]byte, error) { return h(d.ni, d.nr), nil })
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(msg)
}

// TestLateQM3 checks that a hitless responder completed by ESP accepts a
// late genuine QM3 silently, any number of times, and rejects every bad
// one with a typed error, no events and no state change.
func TestLateQM3(t *testing.T) {
	p := newPair(t, pairOpts{})
	other := p.run(simpleRequest()) // another completed exchange, for cross-exchange input
	mid, qm2, qm3, _ := lateRun(t, p, simpleRequest())

	for i := range 2 { // the first copy, then a retransmission of it
		before := snapshot(p.r)
		out, err := p.r.HandleDatagram(nil, p.now, qm3)
		if err != nil || len(out) != 0 {
			t.Errorf("genuine late QM3 #%d: %v %v", i+1, err, kinds("R", out))
		}
		if snapshot(p.r) != before {
			t.Errorf("genuine late QM3 #%d changed state", i+1)
		}
	}

	hash3 := func(ni, nr []byte) []byte {
		h, err := ikecrypto.Hash3(p.i.p1.PRF, p.i.p1.SKEYIDa, mid, ni, nr)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	flipped := func(ni, nr []byte) []byte { h := hash3(ni, nr); h[0] ^= 1; return h }
	swapped := func(ni, nr []byte) []byte { return hash3(nr, ni) }
	otherKey := func(ni, nr []byte) []byte {
		h, _ := ikecrypto.Hash3(p.i.p1.PRF, []byte("another SKEYID_a"), mid, ni, nr)
		return h
	}
	tampered := slices.Clone(qm3)
	tampered[len(tampered)-1] ^= 0x80 // last block holds the end of HASH(3)

	cases := []struct {
		class string
		msg   []byte
		want  []error
	}{
		{"forged: HASH(3) value altered", craftQM3(t, p, mid, flipped), []error{ErrBadHash}},
		{"forged: HASH(3) over swapped nonces", craftQM3(t, p, mid, swapped), []error{ErrBadHash}},
		{"forged: HASH(3) under another SKEYID_a", craftQM3(t, p, mid, otherKey), []error{ErrBadHash}},
		{"tampered: ciphertext of the genuine QM3", tampered, []error{ErrBadHash}},
		{"cross-exchange: QM3 of another exchange under this M-ID", patch(other.qm3, 20, binary.BigEndian.AppendUint32(nil, mid)...), []error{ErrMalformed, ErrBadHash}},
		{"extra payload after a valid HASH(3)", craftQM3(t, p, mid, hash3, nonce(16)), []error{ErrUnexpectedPayload}},
		{"truncated: last block cut", qm3[:len(qm3)-16], []error{ErrMalformed}},
		{"out of place: own QM2 reflected", qm2, []error{ErrUnexpectedMessage}},
	}
	for _, c := range cases {
		expectRejected(t, p.r, p.now, "R", c.class, c.msg, c.want...)
	}
	// The bad ones left the memory intact: the genuine QM3 still verifies.
	if out, err := p.r.HandleDatagram(nil, p.now, qm3); err != nil || len(out) != 0 {
		t.Errorf("genuine late QM3 after bad ones: %v %v", err, kinds("R", out))
	}
}

// TestLateQM3Forgotten: once MaxCompleted newer exchanges pushed the entry
// out, a late QM3 is no longer recognised and is rejected, never accepted.
func TestLateQM3Forgotten(t *testing.T) {
	p := newPair(t, pairOpts{cfgR: Config{MaxCompleted: 2}})
	_, _, qm3, _ := lateRun(t, p, simpleRequest())
	p.run(simpleRequest())
	p.run(simpleRequest())
	before := snapshot(p.r)
	out, err := p.r.HandleDatagram(nil, p.now, qm3)
	var typed *Error
	if !errors.As(err, &typed) || len(out) != 0 || snapshot(p.r) != before {
		t.Errorf("forgotten late QM3: %v %v", err, kinds("R", out))
	}
}

// TestLateQM3CommitBit: an initiator that set the commit bit waits for
// CONNECTED, so a responder completed by ESP answers its late QM3 with
// CONNECTED, which the initiator verifies, without changing its own state.
func TestLateQM3CommitBit(t *testing.T) {
	p := newPair(t, pairOpts{profile: CommitBit, profileR: Hitless})
	mid, _, qm3, _ := lateRun(t, p, simpleRequest())
	var conn []byte
	for i := range 2 { // QM3 and its retransmission each get CONNECTED
		before := snapshot(p.r)
		out, err := p.r.HandleDatagram(nil, p.now, qm3)
		if err != nil || !slices.Equal(kinds("R", out), []string{"R send"}) {
			t.Fatalf("late QM3 #%d under commit: %v %v", i+1, err, kinds("R", out))
		}
		if snapshot(p.r) != before {
			t.Errorf("late QM3 #%d changed state", i+1)
		}
		if conn != nil && !bytes.Equal(conn, out[0].Datagram) {
			t.Error("CONNECTED differs between answers")
		}
		conn = out[0].Datagram
	}
	got, err := p.i.HandleDatagram(nil, p.now, conn)
	if err != nil || !slices.Equal(kinds("I", got), []string{"I activated-outbound", "I completed"}) {
		t.Errorf("initiator on CONNECTED: %v %v", err, kinds("I", got))
	}
	if p.i.find(mid) != nil {
		t.Error("initiator exchange still open")
	}
}

// BenchmarkLateQM3 measures accepting a genuine late QM3: decryption,
// parse and HASH(3) verification.
func BenchmarkLateQM3(b *testing.B) {
	p := newPair(b, pairOpts{})
	_, _, qm3, _ := lateRun(b, p, simpleRequest())
	var ev []Event
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if ev, err = p.r.HandleDatagram(ev[:0], p.now, qm3); err != nil || len(ev) != 0 {
			b.Fatal(err)
		}
	}
}
