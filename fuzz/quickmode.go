package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// The Quick Mode targets run over one fixed phase-1 SA, so that a corpus
// input means the same exchange on every machine. Its parameters are
// those of the shipped strongSwan runs (aes128-sha1 IKE SA, ESP
// aes128-sha1 with PFS modp2048 between 10.98.1.1 and 10.98.2.1, peers
// 10.99.0.1 and 10.99.0.2), with keys of our own: captured payload chains
// then reach as far into the exchange as they did in strongSwan.
var (
	qmInitiatorAddr = netip.MustParseAddr("10.99.0.1")
	qmResponderAddr = netip.MustParseAddr("10.99.0.2")
	qmTime          = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	qmESP           = quickmode.Transform{
		ESP:  ikecrypto.ESPTransform{ID: ikecrypto.ESPAESCBC, KeyBits: 128, Auth: ikecrypto.AuthHMACSHA1},
		Mode: quickmode.ModeTunnel,
	}
	// qmRequest is what the initiator of FuzzInitiatorQM2 asks for: the
	// strongSwan initiator's QM1 offer, with the PFS group the input
	// selects (see qmGroups).
	qmRequest = quickmode.Request{
		Proposals: []quickmode.Proposal{{Transforms: []quickmode.Transform{qmESP}}},
		PFS:       dh.MODP2048,
		Local:     quickmode.Selector{Prefix: netip.MustParsePrefix("10.98.1.1/32")},
		Remote:    quickmode.Selector{Prefix: netip.MustParsePrefix("10.98.2.1/32")},
	}
	// qmPolicy is what the responder of FuzzResponderQM1 accepts: the
	// strongSwan offer, two more algorithm sets and a cheap PFS group, so
	// that fuzzed proposals have several ways to be chosen.
	qmPolicy = quickmode.Policy{
		Transforms: []quickmode.Transform{
			qmESP,
			{ESP: ikecrypto.ESPTransform{ID: ikecrypto.ESPAESCBC, KeyBits: 256, Auth: ikecrypto.AuthHMACSHA256}, Mode: quickmode.ModeTunnel},
			{ESP: ikecrypto.ESPTransform{ID: ikecrypto.ESP3DES, Auth: ikecrypto.AuthHMACSHA1}, Mode: quickmode.ModeTransport},
		},
		PFS: []dh.ID{0, dh.MODP2048, dh.ECP256},
	}
)

// qmGroups are the PFS groups the first byte of a FuzzInitiatorQM2 input
// selects for the initiator's offer, modulo 3: none, MODP-2048 (strongSwan's
// offer, which its captured QM2 answers) and ECP-256. MODP-2048 costs
// milliseconds per exchange, ECP-256 and no PFS let the fuzzer run far
// more inputs.
var qmGroups = [...]dh.ID{0, dh.MODP2048, dh.ECP256}

// Selectors of the PFS group in FuzzInitiatorQM2 inputs (first byte).
const (
	QM2NoPFS    byte = 0
	QM2MODP2048 byte = 1
	QM2ECP256   byte = 2
)

// QMMessageID is the message ID of the QM1 FuzzResponderQM1 builds.
const QMMessageID = 0x5eed0001

// qmPhase1 derives the fixed phase-1 SA once, as the initiator sees it.
var qmPhase1 = sync.OnceValues(func() (quickmode.Phase1, error) {
	return quickmode.NewPhase1PSK(quickmode.PSKParams{
		PRF: ikecrypto.PRFSHA1, Encr: ikecrypto.EncrAESCBC, KeyLen: 16,
		PSK: []byte("hitless-fuzz-psk"),
		Ni:  bytes.Repeat([]byte{0x11}, 16), Nr: bytes.Repeat([]byte{0x22}, 16),
		GXY:     bytes.Repeat([]byte{0x33}, 256),
		CookieI: isakmp.Cookie{1, 2, 3, 4, 5, 6, 7, 8}, CookieR: isakmp.Cookie{8, 7, 6, 5, 4, 3, 2, 1},
		LastBlock: bytes.Repeat([]byte{0x44}, 16),
		Local:     qmInitiatorAddr, Peer: qmResponderAddr,
	})
})

// ErrHarness is wrapped by the errors of the Quick Mode harness itself
// (its fixed phase 1 or its own QM1 failed), never by those of the code
// under test.
var ErrHarness = errors.New("fuzz: Quick Mode harness failed")

// newQM returns a fresh Exchanges on the fixed phase-1 SA: the initiator
// side or the responder side, with randomness seeded by seed.
func newQM(role quickmode.Role, seed uint64) (*quickmode.Exchanges, quickmode.Phase1, error) {
	p1, err := qmPhase1()
	if err != nil {
		return nil, p1, errors.Join(ErrHarness, err)
	}
	cfg := quickmode.Config{Profile: quickmode.Hitless, Rand: rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})}
	if role == quickmode.Responder {
		p1 = p1.Reverse()
		cfg.Policy = qmPolicy
	}
	x, err := quickmode.New(p1, cfg)
	if err != nil {
		return nil, p1, errors.Join(ErrHarness, err)
	}
	return x, p1, nil
}

// splitChain reads the framing of the QM1 and QM2 targets: the first byte
// is the type of the first payload after HASH (the HASH payload's next
// payload), the rest is the payload chain, generic headers included. An
// empty input is an empty chain after a HASH whose next payload is NONE.
func splitChain(b []byte) (isakmp.PayloadType, []byte) {
	if len(b) == 0 {
		return isakmp.PayloadNone, nil
	}
	return isakmp.PayloadType(b[0]), b[1:]
}

// sealQM builds an encrypted Quick Mode message: a HASH payload carrying
// hash (with one bit flipped if corrupt), followed by chain whose first
// payload is first, encrypted with iv under the phase-1 key.
func sealQM(p1 quickmode.Phase1, iv ikecrypto.IV, mid uint32, first isakmp.PayloadType, hash, chain []byte, corrupt bool) ([]byte, error) {
	c, err := ikecrypto.NewCipher(p1.Encr, p1.Key)
	if err != nil {
		return nil, errors.Join(ErrHarness, err)
	}
	plain := make([]byte, 4+len(hash), 4+len(hash)+len(chain))
	plain[0] = byte(first)
	binary.BigEndian.PutUint16(plain[2:], uint16(4+len(hash)))
	copy(plain[4:], hash)
	if corrupt {
		plain[4] ^= 0x80
	}
	plain = append(plain, chain...)
	ct, _, err := c.Encrypt(nil, iv, plain)
	if err != nil {
		return nil, errors.Join(ErrHarness, err)
	}
	m := isakmp.Message{Header: isakmp.Header{
		InitiatorCookie: p1.CookieI, ResponderCookie: p1.CookieR,
		NextPayload: isakmp.PayloadHASH, MajorVersion: 1, Exchange: isakmp.ExchangeQuickMode,
		Flags: isakmp.FlagEncryption, MessageID: mid,
	}, Ciphertext: ct}
	return m.Marshal()
}

// qm1Messages returns the QM1 of an input of FuzzResponderQM1 with a
// correct HASH(1) and with a corrupted one.
func qm1Messages(p1 quickmode.Phase1, b []byte) (good, bad []byte, err error) {
	first, chain := splitChain(b)
	h, err := ikecrypto.Hash1(p1.PRF, p1.SKEYIDa, QMMessageID, chain)
	if err != nil {
		return nil, nil, errors.Join(ErrHarness, err)
	}
	last, err := ikecrypto.NewIV(p1.LastBlock)
	if err != nil {
		return nil, nil, errors.Join(ErrHarness, err)
	}
	iv, err := ikecrypto.Phase2IV(p1.PRF, last, QMMessageID)
	if err != nil {
		return nil, nil, errors.Join(ErrHarness, err)
	}
	if good, err = sealQM(p1, iv, QMMessageID, first, h, chain, false); err != nil {
		return nil, nil, err
	}
	bad, err = sealQM(p1, iv, QMMessageID, first, h, chain, true)
	return good, bad, err
}

// RespondQM1 runs one input of FuzzResponderQM1 (first payload type, then
// the payload chain after HASH(1)) through a fresh responder and returns
// what it did: the events and error of the responder, or an error
// wrapping ErrHarness. The corpus manifests are checked with it.
func RespondQM1(b []byte) ([]quickmode.Event, error) {
	r, p1, err := newQM(quickmode.Responder, 1)
	if err != nil {
		return nil, err
	}
	good, _, err := qm1Messages(p1, b)
	if err != nil {
		return nil, err
	}
	return r.HandleDatagram(nil, qmTime, good)
}

// ResponderQM1 is the property of FuzzResponderQM1 for one input b: the
// first byte is the type of the payload after HASH(1), the rest the
// payload chain of QM1 (SA, Nonce, [KE], [IDci, IDcr], ...). The harness
// computes HASH(1) over the chain, encrypts it with the phase-2 IV of
// QMMessageID and hands it to a fresh responder, once with the HASH
// corrupted and then intact. A corrupted HASH must be refused with no
// event and no state change; a refused message likewise, with a typed
// error; an accepted one must install a consistent SA pair and send QM2.
func ResponderQM1(t T, b []byte) {
	r, p1, err := newQM(quickmode.Responder, 1)
	if err != nil {
		t.Fatal(err)
	}
	good, bad, err := qm1Messages(p1, b)
	if err != nil {
		t.Fatal(err)
	}
	before := stateOf(r)
	checkRefused(t, r, bad, before, "corrupted HASH(1)")
	ev, err := r.HandleDatagram(nil, qmTime, good)
	if err != nil {
		checkRejected(t, r, ev, err, before)
		return
	}
	checkEvents(t, ev, quickmode.Responder, QMMessageID)
	if got := stateOf(r); got.halfOpen != before.halfOpen+1 {
		t.Fatalf("accepted QM1: %d half-open exchanges, want %d", got.halfOpen, before.halfOpen+1)
	}
}

// qmInitiator is an initiator that has sent its QM1, and what the
// harness learned from that QM1: the nonce HASH(2) covers and the IV QM2
// is encrypted with (the last ciphertext block of QM1).
type qmInitiator struct {
	x   *quickmode.Exchanges
	p1  quickmode.Phase1
	mid uint32
	ni  []byte
	iv  ikecrypto.IV
}

// startInitiator starts the exchange FuzzInitiatorQM2 answers, offering
// PFS group qmGroups[sel%3], and reads back its QM1 through the exported
// API only.
func startInitiator(sel byte) (*qmInitiator, error) {
	x, p1, err := newQM(quickmode.Initiator, 2)
	if err != nil {
		return nil, err
	}
	req := qmRequest
	req.PFS = qmGroups[int(sel)%len(qmGroups)]
	ev, mid, err := x.Initiate(nil, qmTime, req)
	if err != nil || len(ev) != 1 || ev[0].Kind != quickmode.EventSend {
		return nil, errors.Join(ErrHarness, err, errors.New("the initiator did not send one QM1"))
	}
	qm1 := ev[0].Datagram
	m, err := isakmp.Parse(qm1)
	if err != nil {
		return nil, errors.Join(ErrHarness, err)
	}
	c, err := ikecrypto.NewCipher(p1.Encr, p1.Key)
	if err != nil {
		return nil, errors.Join(ErrHarness, err)
	}
	last, err := ikecrypto.NewIV(p1.LastBlock)
	if err != nil {
		return nil, errors.Join(ErrHarness, err)
	}
	iv, err := ikecrypto.Phase2IV(p1.PRF, last, mid)
	if err != nil {
		return nil, errors.Join(ErrHarness, err)
	}
	plain, next, err := c.Decrypt(nil, iv, m.Ciphertext)
	if err != nil {
		return nil, errors.Join(ErrHarness, err)
	}
	body, err := isakmp.ParsePayloads(m.Header.NextPayload, plain, isakmp.ParseOptions{})
	if err != nil {
		return nil, errors.Join(ErrHarness, err)
	}
	for _, p := range body.Payloads {
		if n, ok := p.(*isakmp.Nonce); ok {
			return &qmInitiator{x: x, p1: p1, mid: mid, ni: n.Data, iv: next}, nil
		}
	}
	return nil, errors.Join(ErrHarness, errors.New("QM1 without nonce"))
}

// qm2Messages returns the QM2 of an input of FuzzInitiatorQM2 with a
// correct HASH(2) and with a corrupted one.
func (in *qmInitiator) qm2Messages(b []byte) (good, bad []byte, err error) {
	first, chain := splitChain(b)
	h, err := ikecrypto.Hash2(in.p1.PRF, in.p1.SKEYIDa, in.mid, in.ni, chain)
	if err != nil {
		return nil, nil, errors.Join(ErrHarness, err)
	}
	if good, err = sealQM(in.p1, in.iv, in.mid, first, h, chain, false); err != nil {
		return nil, nil, err
	}
	bad, err = sealQM(in.p1, in.iv, in.mid, first, h, chain, true)
	return good, bad, err
}

// splitQM2 reads the framing of the QM2 target: the PFS selector (see
// qmGroups), then the framing of splitChain. An empty input selects no
// PFS.
func splitQM2(b []byte) (sel byte, chain []byte) {
	if len(b) == 0 {
		return QM2NoPFS, nil
	}
	return b[0], b[1:]
}

// AnswerQM2 runs one input of FuzzInitiatorQM2 (PFS selector, first
// payload type, then the payload chain after HASH(2)) as the answer to a
// fresh initiator's QM1 and returns the initiator's events and error, or
// an error wrapping ErrHarness. The corpus manifests are checked with it.
func AnswerQM2(b []byte) ([]quickmode.Event, error) {
	sel, b := splitQM2(b)
	in, err := startInitiator(sel)
	if err != nil {
		return nil, err
	}
	good, _, err := in.qm2Messages(b)
	if err != nil {
		return nil, err
	}
	return in.x.HandleDatagram(nil, qmTime, good)
}

// InitiatorQM2 is the property of FuzzInitiatorQM2 for one input b: the
// first byte selects the PFS group the initiator offers (QM2NoPFS,
// QM2MODP2048, QM2ECP256, modulo 3), the rest is framed as for
// ResponderQM1 but holds the chain after HASH(2). The initiator first
// sends a real QM1 (seeded randomness); the harness computes HASH(2) with
// that QM1's nonce, encrypts with the IV chained from QM1 and delivers
// it, once with the HASH corrupted and then intact, with the checks of
// ResponderQM1; an accepted QM2 must install, activate and complete, and
// send QM3.
func InitiatorQM2(t T, b []byte) {
	sel, b := splitQM2(b)
	in, err := startInitiator(sel)
	if err != nil {
		t.Fatal(err)
	}
	good, bad, err := in.qm2Messages(b)
	if err != nil {
		t.Fatal(err)
	}
	before := stateOf(in.x)
	checkRefused(t, in.x, bad, before, "corrupted HASH(2)")
	ev, err := in.x.HandleDatagram(nil, qmTime, good)
	if err != nil {
		checkRejected(t, in.x, ev, err, before)
		return
	}
	checkEvents(t, ev, quickmode.Initiator, in.mid)
	if got := stateOf(in.x); got.halfOpen != before.halfOpen-1 {
		t.Fatalf("accepted QM2: %d half-open exchanges, want %d", got.halfOpen, before.halfOpen-1)
	}
}

// qmState is what the exported API shows of an Exchanges.
type qmState struct {
	halfOpen int
	next     time.Time
	timer    bool
}

func stateOf(x *quickmode.Exchanges) qmState {
	next, ok := x.NextTimeout()
	return qmState{x.HalfOpen(), next, ok}
}

// checkRefused delivers b, which must fail authentication, and checks
// that it is refused with no event and no change.
func checkRefused(t T, x *quickmode.Exchanges, b []byte, before qmState, what string) {
	t.Helper()
	ev, err := x.HandleDatagram(nil, qmTime, b)
	if err == nil {
		t.Fatalf("%s accepted with events %v", what, kindsOf(ev))
	}
	checkRejected(t, x, ev, err, before)
}

// checkRejected checks a refused message: a typed *quickmode.Error with a
// sentinel kind, no events, no state change.
func checkRejected(t T, x *quickmode.Exchanges, ev []quickmode.Event, err error, before qmState) {
	t.Helper()
	var qe *quickmode.Error
	if !errors.As(err, &qe) || qe.Kind == nil || !errors.Is(err, qe.Kind) {
		t.Fatalf("error %T %v is not a *quickmode.Error with a kind", err, err)
	}
	if len(ev) != 0 {
		t.Fatalf("error %v came with events %v", err, kindsOf(ev))
	}
	if got := stateOf(x); got != before {
		t.Fatalf("error %v changed state: %+v, was %+v", err, got, before)
	}
}

// checkEvents checks the events of an accepted QM1 (responder) or QM2
// (initiator) under the Hitless profile: one inbound and one outbound SA
// of this exchange, with non-reserved SPIs and keys of the length their
// transform needs, installed before the one datagram sent; the initiator
// also activates its outbound SA and completes.
func checkEvents(t T, ev []quickmode.Event, role quickmode.Role, mid uint32) {
	t.Helper()
	var in, out, sends, active, done int
	for i, e := range ev {
		if e.MessageID != mid || e.Role != role {
			t.Fatalf("event %d %v: M-ID %#x role %v, want %#x %v", i, e.Kind, e.MessageID, e.Role, mid, role)
		}
		switch e.Kind {
		case quickmode.EventSend:
			sends++
			if _, err := isakmp.Parse(e.Datagram); err != nil {
				t.Fatalf("sent datagram does not parse: %v", err)
			}
		case quickmode.EventInstalledInbound, quickmode.EventInstalledOutbound:
			if sends != 0 {
				t.Fatalf("SA installed after the reply was sent: %v", kindsOf(ev))
			}
			if e.Kind == quickmode.EventInstalledInbound {
				in++
			} else {
				out++
			}
			checkSA(t, e.SA)
		case quickmode.EventActivatedOutbound, quickmode.EventCompleted:
			if role == quickmode.Responder {
				t.Fatalf("responder %v at QM1 under the hitless profile", e.Kind)
			}
			if e.Kind == quickmode.EventCompleted {
				done++
			} else {
				active++
				checkSA(t, e.SA)
			}
		default:
			t.Fatalf("unexpected event %v", e.Kind)
		}
	}
	if in != 1 || out != 1 || sends != 1 {
		t.Fatalf("accepted message: %d inbound, %d outbound SAs, %d sends: %v", in, out, sends, kindsOf(ev))
	}
	// The hitless initiator activates and completes at QM2.
	if role == quickmode.Initiator && (active != 1 || done != 1) {
		t.Fatalf("accepted QM2: %d activations, %d completions: %v", active, done, kindsOf(ev))
	}
}

// checkSA checks one installed SA against its own transform.
func checkSA(t T, sa quickmode.SA) {
	t.Helper()
	if sa.SPI < 256 {
		t.Fatalf("%v SA with reserved SPI %d", sa.Direction, sa.SPI)
	}
	n, err := sa.Transform.ESP.KeymatLen()
	if err != nil {
		t.Fatalf("installed SA with transform %+v: %v", sa.Transform.ESP, err)
	}
	if got := len(sa.EncKey) + len(sa.Salt) + len(sa.IntegKey); got != n {
		t.Fatalf("%v SA %#x: %d key bytes, transform %+v needs %d", sa.Direction, sa.SPI, got, sa.Transform.ESP, n)
	}
	if !slicesContain(qmPolicy.Transforms, sa.Transform) {
		t.Fatalf("%v SA with transform %+v nobody asked for", sa.Direction, sa.Transform)
	}
}

// slicesContain reports whether ts holds t's algorithms and mode (the
// lifetimes of a negotiated SA are the effective ones). The policy holds
// the initiator's offer too.
func slicesContain(ts []quickmode.Transform, t quickmode.Transform) bool {
	for _, x := range ts {
		if x.ESP == t.ESP && x.Mode == t.Mode {
			return true
		}
	}
	return false
}

func kindsOf(ev []quickmode.Event) []string {
	s := make([]string, len(ev))
	for i, e := range ev {
		s[i] = e.Kind.String()
	}
	return s
}
