package quickmode

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// craftQM1 builds a QM1 with any payload chain and a correct HASH(1), so
// that checks after the HASH can be reached with bad content.
func craftQM1(t *testing.T, x *Exchanges, mid uint32, ps ...isakmp.Payload) []byte {
	t.Helper()
	iv, err := ikecrypto.Phase2IV(x.p1.PRF, x.last, mid)
	if err != nil {
		t.Fatal(err)
	}
	msg, _, err := x.seal(mid, 0, iv, ps, func(rest []byte) ([]byte, error) {
		return ikecrypto.Hash1(x.p1.PRF, x.p1.SKEYIDa, mid, rest)
	})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func saPayload(group dh.ID, ts ...Transform) *isakmp.SA {
	var trs []isakmp.Transform
	for i, t := range ts {
		trs = append(trs, transformPayload(uint8(i+1), t, group, isakmp.EncapsulationMode(t.Mode)))
	}
	return &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SitIdentityOnly, Proposals: []isakmp.Proposal{
		{Number: 1, Protocol: isakmp.ProtoIPsecESP, SPI: []byte{0, 0, 0x12, 0x34}, Transforms: trs}}}
}

func nonce(n int) *isakmp.Nonce { return &isakmp.Nonce{Data: bytes.Repeat([]byte{7}, n)} }

func patch(b []byte, off int, v ...byte) []byte {
	c := slices.Clone(b)
	copy(c[off:], v)
	return c
}

// TestResponderBadInput feeds the responder one bad message per input
// class and checks the typed error and that its state did not change.
func TestResponderBadInput(t *testing.T) {
	p := newPair(t, pairOpts{cfgR: Config{MaxMessageSize: 2048}})
	// An open exchange and a completed one, so that there is state to keep.
	done := p.run(simpleRequest())
	ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
	qm1 := one(t, ev)
	if _, err := p.r.HandleDatagram(nil, p.now, qm1); err != nil {
		t.Fatal(err)
	}
	pi, _ := phase1s(t, p1opts{})
	pi.SKEYIDa = []byte("some other SKEYID_a")
	forger, _ := New(pi, Config{Profile: Hitless, Rand: seeded(9)})
	forged, _, _ := forger.Initiate(nil, t0, simpleRequest())
	ke := &isakmp.KeyExchange{Data: make([]byte, 65)}
	cases := []struct {
		class string
		msg   []byte
		want  []error
	}{
		{"bad HASH (wrong SKEYID_a)", one(t, forged), []error{ErrBadHash}},
		{"bad HASH (tampered HASH value)", craftTamperedHash(t, p.i), []error{ErrBadHash}},
		{"truncated: empty", nil, []error{ErrMalformed}},
		{"truncated: inside header", qm1[:20], []error{ErrMalformed}},
		{"truncated: header only", qm1[:isakmp.HeaderLen], []error{ErrMalformed}},
		{"truncated: last byte cut", qm1[:len(qm1)-1], []error{ErrMalformed}},
		{"trailing bytes", append(slices.Clone(qm1), 0), []error{ErrMalformed}},
		{"oversized datagram", make([]byte, 4096), []error{ErrMessageTooLarge}},
		{"wrong cookies (other phase-1 SA)", patch(qm1, 0, 0xff), []error{ErrWrongCookies}},
		{"wrong exchange type", patch(qm1, 18, byte(isakmp.ExchangeInformational)), []error{ErrNotQuickMode}},
		{"not encrypted", patch(qm1, 19, 0), []error{ErrNotEncrypted}},
		{"M-ID zero", patch(qm1, 20, 0, 0, 0, 0), []error{ErrMessageIDZero}},
		{"cross-exchange: QM1 under another M-ID", patch(qm1, 20, 1, 2, 3, 4), []error{ErrMalformed, ErrBadHash}},
		{"reordered: QM3 before its QM1", reorderedQM3(t), []error{ErrMalformed, ErrBadHash}},
		{"replayed QM3 of a completed exchange", done.qm3, []error{ErrDuplicate}},
		{"out of place: own QM2 reflected", one(t, mustQM2(t, p, qm1)), []error{ErrUnexpectedMessage}},
		{"out of place: QM2 of completed exchange", done.qm2, []error{ErrUnexpectedMessage}},
		{"nonce too long (257)", craftQM1(t, p.i, 77, saPayload(0, aes128sha1), nonce(257)), []error{ErrNonceLength}},
		{"nonce too short (7)", craftQM1(t, p.i, 77, saPayload(0, aes128sha1), nonce(7)), []error{ErrNonceLength}},
		{"missing nonce", craftQM1(t, p.i, 77, saPayload(0, aes128sha1)), []error{ErrMissingPayload}},
		{"missing SA", craftQM1(t, p.i, 77, nonce(16)), []error{ErrMissingPayload}},
		{"SA not right after HASH", craftQM1(t, p.i, 77, nonce(16), saPayload(0, aes128sha1)), []error{ErrUnexpectedPayload}},
		{"repeated nonce", craftQM1(t, p.i, 77, saPayload(0, aes128sha1), nonce(16), nonce(16)), []error{ErrUnexpectedPayload}},
		{"foreign payload (Delete)", craftQM1(t, p.i, 77, saPayload(0, aes128sha1), nonce(16), &isakmp.Delete{DOI: 1, Protocol: 3, SPISize: 4, SPIs: []byte{1, 2, 3, 4}}), []error{ErrUnexpectedPayload}},
		{"error notify inside QM1", craftQM1(t, p.i, 77, saPayload(0, aes128sha1), nonce(16), &isakmp.Notification{DOI: 1, Notify: isakmp.NotifyInvalidSPI}), []error{ErrUnexpectedPayload}},
		{"KE without PFS", craftQM1(t, p.i, 77, saPayload(0, aes128sha1), nonce(16), ke), []error{ErrInvalidKE}},
		{"PFS without KE", craftQM1(t, p.i, 77, saPayload(dh.ECP256, aes128sha1), nonce(16)), []error{ErrInvalidKE}},
		{"KE not on the curve", craftQM1(t, p.i, 77, saPayload(dh.ECP256, aes128sha1), nonce(16), &isakmp.KeyExchange{Data: make([]byte, 64)}), []error{ErrInvalidKE}},
		{"KE wrong length", craftQM1(t, p.i, 77, saPayload(dh.ECP256, aes128sha1), nonce(16), ke), []error{ErrInvalidKE}},
		{"single client ID", craftQM1(t, p.i, 77, saPayload(0, aes128sha1), nonce(16), idPayload(Selector{Prefix: mustPrefix("10.0.0.0/8")})), []error{ErrInvalidID}},
		{"client ID not a prefix (FQDN)", craftQM1(t, p.i, 77, saPayload(0, aes128sha1), nonce(16), &isakmp.Identification{IDType: isakmp.IDFQDN, Data: []byte("a.example")}, idPayload(Selector{Prefix: mustPrefix("10.0.0.0/8")})), []error{ErrInvalidID}},
		{"no acceptable transform (NULL without auth)", craftQM1(t, p.i, 77, saPayload(0, Transform{ESP: ikecrypto.ESPTransform{ID: ikecrypto.ESPNULL}, Mode: ModeTunnel}), nonce(16)), []error{ErrNoProposalChosen}},
		{"reserved SPI", craftQM1(t, p.i, 77, withSPI(saPayload(0, aes128sha1), 0, 0, 0, 5), nonce(16)), []error{ErrNoProposalChosen}},
	}
	for _, c := range cases {
		expectRejected(t, p.r, p.now, "R", c.class, c.msg, c.want...)
	}
	// The open exchange still completes after all that.
	evI, err := p.i.HandleDatagram(nil, p.now, one(t, mustQM2(t, p, qm1)))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := p.r.HandleDatagram(nil, p.now, one(t, evI)); err != nil || !slices.Contains(kinds("R", out), "R completed") {
		t.Errorf("exchange did not survive bad input: %v", err)
	}
}

func withSPI(sa *isakmp.SA, spi ...byte) *isakmp.SA {
	sa.Proposals[0].SPI = spi
	return sa
}

// craftTamperedHash returns a QM1 whose HASH payload value was altered
// before encryption.
func craftTamperedHash(t *testing.T, x *Exchanges) []byte {
	iv, _ := ikecrypto.Phase2IV(x.p1.PRF, x.last, 99)
	msg, _, err := x.seal(99, 0, iv, []isakmp.Payload{saPayload(0, aes128sha1), nonce(16)}, func(rest []byte) ([]byte, error) {
		h, err := ikecrypto.Hash1(x.p1.PRF, x.p1.SKEYIDa, 99, rest)
		h[0] ^= 1
		return h, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// mustQM2 answers qm1 again (a duplicate), returning the responder's QM2.
func mustQM2(t *testing.T, p *pair, qm1 []byte) []Event {
	t.Helper()
	ev, err := p.r.HandleDatagram(nil, p.now, qm1)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// reorderedQM3 returns a QM3 of a fresh exchange on an identical phase-1
// SA, whose QM1 the responder under test never saw.
func reorderedQM3(t *testing.T) []byte {
	q := newPair(t, pairOpts{seedI: 50})
	return q.run(simpleRequest()).qm3
}

// TestInitiatorBadInput: bad QM2s leave the initiator untouched, and the
// genuine QM2 still completes the exchange afterwards.
func TestInitiatorBadInput(t *testing.T) {
	p := newPair(t, pairOpts{})
	ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
	ev2, mid2, _ := p.i.Initiate(nil, p.now, simpleRequest())
	qm1 := one(t, ev)
	qm2 := one(t, mustQM2(t, p, qm1))
	other := one(t, mustQM2(t, p, one(t, ev2)))

	_, pr := phase1s(t, p1opts{})
	pr.SKEYIDa = []byte("another SKEYID_a")
	forger, _ := New(pr, Config{Profile: Hitless, Policy: allPolicy(), Rand: seeded(3)})
	forged, err := forger.HandleDatagram(nil, t0, qm1)
	if !errors.Is(err, ErrBadHash) || len(forged) != 0 {
		t.Fatalf("forger accepted QM1: %v", err)
	}
	// A responder with the right keys but a corrupted SKEYID_a only for
	// QM2: build it by answering with a responder whose SKEYID_a differs
	// after verifying QM1 is not possible, so tamper the ciphertext.
	tampered := patch(qm2, len(qm2)-17, qm2[len(qm2)-17]^0x80)
	cases := []struct {
		class string
		msg   []byte
		want  []error
	}{
		{"bad HASH or body (tampered QM2 ciphertext)", tampered, []error{ErrBadHash, ErrMalformed}},
		{"out of place: own QM1 reflected", qm1, []error{ErrUnexpectedMessage}},
		{"cross-exchange: QM2 of another exchange under this M-ID", patch(other, 20, byte(mid(qm1)>>24), byte(mid(qm1)>>16), byte(mid(qm1)>>8), byte(mid(qm1))), []error{ErrBadHash, ErrMalformed}},
		{"truncated QM2", qm2[:len(qm2)-16], []error{ErrMalformed}},
	}
	_ = mid2
	for _, c := range cases {
		expectRejected(t, p.i, p.now, "I", c.class, c.msg, c.want...)
	}
	if out, err := p.i.HandleDatagram(nil, p.now, qm2); err != nil || !slices.Contains(kinds("I", out), "I completed") {
		t.Errorf("genuine QM2 after bad input: %v", err)
	}
}

func mid(b []byte) uint32 { h, _ := isakmp.ParseHeader(b); return h.MessageID }

// TestHalfOpenBound: past MaxHalfOpen both roles refuse with a typed error
// and no state change.
func TestHalfOpenBound(t *testing.T) {
	p := newPair(t, pairOpts{cfgI: Config{MaxHalfOpen: 3}, cfgR: Config{MaxHalfOpen: 2}})
	var qm1s [][]byte
	for range 3 {
		ev, _, err := p.i.Initiate(nil, p.now, simpleRequest())
		if err != nil {
			t.Fatal(err)
		}
		qm1s = append(qm1s, one(t, ev))
	}
	before := snapshot(p.i)
	if _, _, err := p.i.Initiate(nil, p.now, simpleRequest()); !errors.Is(err, ErrTooManyHalfOpen) {
		t.Errorf("initiator bound: %v", err)
	}
	if snapshot(p.i) != before {
		t.Error("initiator state changed")
	}
	for _, q := range qm1s[:2] {
		if _, err := p.r.HandleDatagram(nil, p.now, q); err != nil {
			t.Fatal(err)
		}
	}
	before = snapshot(p.r)
	if _, err := p.r.HandleDatagram(nil, p.now, qm1s[2]); !errors.Is(err, ErrTooManyHalfOpen) {
		t.Errorf("responder bound: %v", err)
	}
	if snapshot(p.r) != before || p.r.HalfOpen() != 2 {
		t.Error("responder state changed")
	}
	// Duplicates of open exchanges are still answered at the bound.
	if out, err := p.r.HandleDatagram(nil, p.now, qm1s[0]); err != nil || len(sends(out)) != 1 {
		t.Errorf("duplicate at bound: %v", err)
	}
}

// TestCompletedMemoryBounded: the memory of completed exchanges keeps the
// newest MaxCompleted entries only.
func TestCompletedMemoryBounded(t *testing.T) {
	p := newPair(t, pairOpts{cfgR: Config{MaxCompleted: 2}})
	var flows []*flow
	for range 4 {
		flows = append(flows, p.run(simpleRequest()))
	}
	if len(p.r.done) != 2 {
		t.Fatalf("memory holds %d", len(p.r.done))
	}
	if out, err := p.r.HandleDatagram(nil, p.now, flows[3].qm1); err != nil || !bytes.Equal(one(t, out), flows[3].qm2) {
		t.Errorf("newest forgotten: %v", err)
	}
}

// TestMessageIDs: M-IDs are never zero and unique among open and
// remembered exchanges, even when the random source repeats itself.
func TestMessageIDs(t *testing.T) {
	pi, _ := phase1s(t, p1opts{})
	// Draws: M-ID 0 (rejected), M-ID 5, then SPI and nonce; second
	// Initiate draws 5 again (in use, rejected) then 6.
	src := bytes.NewReader(slices.Concat(
		[]byte{0, 0, 0, 0}, []byte{0, 0, 0, 5}, []byte{0, 0, 1, 0}, make([]byte, 32),
		[]byte{0, 0, 0, 5}, []byte{0, 0, 0, 6}, []byte{0, 0, 1, 1}, make([]byte, 32)))
	x, err := New(pi, Config{Profile: Hitless, Rand: src})
	if err != nil {
		t.Fatal(err)
	}
	_, m1, err1 := x.Initiate(nil, t0, simpleRequest())
	_, m2, err2 := x.Initiate(nil, t0, simpleRequest())
	if err1 != nil || err2 != nil || m1 != 5 || m2 != 6 {
		t.Errorf("M-IDs %d %d (%v %v)", m1, m2, err1, err2)
	}
	// Exhausted randomness is a typed error, not a panic.
	if _, _, err := x.Initiate(nil, t0, simpleRequest()); !errors.Is(err, ErrRandom) {
		t.Errorf("exhausted rand: %v", err)
	}
}

func TestNotifyMapping(t *testing.T) {
	p := newPair(t, pairOpts{})
	ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
	qm1 := one(t, ev)
	_, err := p.r.HandleDatagram(nil, p.now, patch(qm1, 17, 0x20)) // class: ISAKMP version 2
	if !errors.Is(err, ErrMalformed) || Notify(err) != isakmp.NotifyInvalidMajorVersion {
		t.Errorf("version: %v -> %v", err, Notify(err))
	}
	for kind, want := range map[error]isakmp.NotifyType{
		ErrBadHash: isakmp.NotifyInvalidHashInformation, ErrNoProposalChosen: isakmp.NotifyNoProposalChosen,
		ErrMessageIDZero: isakmp.NotifyInvalidMessageID, ErrWrongCookies: isakmp.NotifyInvalidCookie,
		ErrInvalidKE: isakmp.NotifyInvalidKeyInformation, ErrInvalidID: isakmp.NotifyInvalidIDInformation,
	} {
		if got := Notify(newErr(kind, 1, "", nil)); got != want {
			t.Errorf("%v: %v", kind, got)
		}
	}
	if Notify(nil) != isakmp.NotifyNone {
		t.Error("nil")
	}
}

func TestBadConfig(t *testing.T) {
	pi, _ := phase1s(t, p1opts{})
	short := pi
	short.LastBlock = []byte{1, 2, 3} // class: IV base not one cipher block
	nokey := pi
	nokey.SKEYIDa = nil // class: missing SKEYID_a
	natt := pi
	natt.NATT, natt.Peer = true, netip.Addr{} // class: NAT-T without addresses
	for _, c := range []struct {
		class string
		p1    Phase1
		cfg   Config
	}{
		{"nil Rand", pi, Config{Profile: Hitless}},
		{"invalid profile", pi, Config{Rand: seeded(1)}},
		{"nonce length 300", pi, Config{Profile: Hitless, Rand: seeded(1), NonceLen: 300}},
		{"short last block", short, Config{Profile: Hitless, Rand: seeded(1)}},
		{"no SKEYID_a", nokey, Config{Profile: Hitless, Rand: seeded(1)}},
		{"NAT-T without addresses", natt, Config{Profile: Hitless, Rand: seeded(1)}},
	} {
		if _, err := New(c.p1, c.cfg); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: %v", c.class, err)
		}
	}
	x, _ := New(pi, Config{Profile: Hitless, Rand: seeded(1)})
	for _, c := range []struct {
		class string
		req   Request
	}{
		{"no proposals", Request{}},
		{"unsupported transform", simpleRequest(Transform{ESP: ikecrypto.ESPTransform{ID: 99}, Mode: ModeTunnel})},
		{"no mode", simpleRequest(Transform{ESP: aes128sha1.ESP})},
		{"single client ID", Request{Proposals: simpleRequest().Proposals, Local: Selector{Prefix: mustPrefix("10.0.0.0/8")}}},
		{"unknown PFS group", Request{Proposals: simpleRequest().Proposals, PFS: 77}},
	} {
		before := snapshot(x)
		if _, _, err := x.Initiate(nil, t0, c.req); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: %v", c.class, err)
		}
		if snapshot(x) != before {
			t.Errorf("%s: state changed", c.class)
		}
	}
}

// craftQM2 builds a QM2 for the open initiator exchange e with any payload
// chain and a correct HASH(2).
func craftQM2(t *testing.T, x *Exchanges, e *exchange, ps ...isakmp.Payload) []byte {
	t.Helper()
	msg, _, err := x.seal(e.mid, 0, e.iv, ps, func(rest []byte) ([]byte, error) {
		return ikecrypto.Hash2(x.p1.PRF, x.p1.SKEYIDa, e.mid, e.ni, rest)
	})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// TestInitiatorBadReply: authenticated QM2s whose content the initiator
// must refuse, one per input class, each without state change.
func TestInitiatorBadReply(t *testing.T) {
	p := newPair(t, pairOpts{})
	req := simpleRequest(aes128sha1)
	if _, _, err := p.i.Initiate(nil, p.now, req); err != nil {
		t.Fatal(err)
	}
	e := p.i.open[0]
	spi := func(sa *isakmp.SA, b ...byte) *isakmp.SA { sa.Proposals[0].SPI = b; return sa }
	two := saPayload(0, aes128sha1)
	two.Proposals = append(two.Proposals, two.Proposals[0])
	two.Proposals[1].Number = 2
	id := idPayload(Selector{Prefix: mustPrefix("10.0.0.0/8")})
	cases := []struct {
		class string
		ps    []isakmp.Payload
		want  error
	}{
		{"transform not offered", []isakmp.Payload{saPayload(0, aes256sha256), nonce(16)}, ErrNoProposalChosen},
		{"proposal number not offered", []isakmp.Payload{withNum(saPayload(0, aes128sha1), 7), nonce(16)}, ErrNoProposalChosen},
		{"several proposals in reply", []isakmp.Payload{two, nonce(16)}, ErrNoProposalChosen},
		{"several transforms in reply", []isakmp.Payload{saPayload(0, aes128sha1, aes128sha1), nonce(16)}, ErrNoProposalChosen},
		{"PFS group not offered", []isakmp.Payload{saPayload(dh.ECP256, aes128sha1), nonce(16)}, ErrNoProposalChosen},
		{"reserved SPI", []isakmp.Payload{spi(saPayload(0, aes128sha1), 0, 0, 0, 9), nonce(16)}, ErrInvalidSPI},
		{"missing nonce", []isakmp.Payload{saPayload(0, aes128sha1)}, ErrMissingPayload},
		{"nonce too long", []isakmp.Payload{saPayload(0, aes128sha1), nonce(300)}, ErrNonceLength},
		{"KE without PFS", []isakmp.Payload{saPayload(0, aes128sha1), nonce(16), &isakmp.KeyExchange{Data: make([]byte, 32)}}, ErrInvalidKE},
		{"client IDs returned but not sent", []isakmp.Payload{saPayload(0, aes128sha1), nonce(16), id, id}, ErrInvalidID},
		{"malformed RESPONDER-LIFETIME", []isakmp.Payload{saPayload(0, aes128sha1), nonce(16), &isakmp.Notification{DOI: 1, Protocol: 3, Notify: isakmp.NotifyResponderLifetime, SPI: []byte{1, 2, 3, 4}, Data: []byte{0, 1}}}, ErrMalformed},
	}
	for _, c := range cases {
		expectRejected(t, p.i, p.now, "I", c.class, craftQM2(t, p.i, e, c.ps...), c.want)
	}
	// A valid reply that lowers the lifetime through the notify is taken.
	out, err := p.i.HandleDatagram(nil, p.now, craftQM2(t, p.i, e, saPayload(0, aes128sha1), nonce(16),
		&isakmp.Notification{DOI: 1, Protocol: 3, Notify: isakmp.NotifyResponderLifetime, SPI: []byte{1, 2, 3, 4}, Data: lifetimeData(60, 0)}))
	if sa, ok := find(out, EventInstalledOutbound); err != nil || !ok || sa.Transform.LifeSeconds != 60 || sa.SPI != 0x1234 {
		t.Errorf("valid crafted reply: %v %+v", err, sa)
	}
}

func withNum(sa *isakmp.SA, n uint8) *isakmp.SA {
	sa.Proposals[0].Number = n
	return sa
}

// TestBundlesSkipped: proposals sharing a number (AH and ESP together) are
// not supported and are passed over for the next proposal.
func TestBundlesSkipped(t *testing.T) {
	p := newPair(t, pairOpts{})
	sa := saPayload(0, aes128sha1)
	ah := isakmp.Proposal{Number: 1, Protocol: isakmp.ProtoIPsecAH, SPI: []byte{0, 0, 0x55, 0x55},
		Transforms: []isakmp.Transform{{Number: 1, ID: uint8(isakmp.AHSHA)}}}
	second := saPayload(0, aes256sha256).Proposals[0]
	second.Number = 2
	sa.Proposals = append(sa.Proposals, ah, second)
	out, err := p.r.HandleDatagram(nil, p.now, craftQM1(t, p.i, 42, sa, nonce(16)))
	got, ok := find(out, EventInstalledInbound)
	if err != nil || !ok || got.Transform.ESP != aes256sha256.ESP {
		t.Errorf("bundle not skipped: %v %+v", err, got.Transform)
	}
}
