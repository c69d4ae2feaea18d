package quickmode

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// Tests drive both sides in memory with a virtual clock and no goroutines,
// in the style of golang.org/x/net/quic's tests.

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

type p1opts struct {
	natt, draft bool
	encr        ikecrypto.Encr
	keyLen      int
	prf         ikecrypto.PRF
}

// phase1s derives the two views of one phase-1 SA from fixed inputs.
func phase1s(t testing.TB, o p1opts) (ini, resp Phase1) {
	t.Helper()
	if o.encr == 0 {
		o.encr, o.keyLen = ikecrypto.EncrAESCBC, 16
	}
	if o.prf == 0 {
		o.prf = ikecrypto.PRFSHA1
	}
	bs := 16
	if o.encr == ikecrypto.Encr3DESCBC {
		bs = 8
	}
	p, err := NewPhase1PSK(PSKParams{
		PRF: o.prf, Encr: o.encr, KeyLen: o.keyLen, PSK: []byte("hitless test psk"),
		Ni: []byte("initiator nonce 0123"), Nr: []byte("responder nonce 4567"),
		GXY:     []byte("a phase-1 shared secret, any bytes will do"),
		CookieI: isakmp.Cookie{1, 2, 3, 4, 5, 6, 7, 8}, CookieR: isakmp.Cookie{9, 10, 11, 12, 13, 14, 15, 16},
		LastBlock: make([]byte, bs),
		Local:     netip.MustParseAddr("192.0.2.1"), Peer: netip.MustParseAddr("198.51.100.2"),
		NATT: o.natt, NATTDraft: o.draft,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.LastBlock[0] = 0x42
	return p, p.Reverse()
}

var (
	aes128sha1   = Transform{ESP: ikecrypto.ESPTransform{ID: ikecrypto.ESPAESCBC, KeyBits: 128, Auth: ikecrypto.AuthHMACSHA1}, Mode: ModeTunnel}
	aes256sha256 = Transform{ESP: ikecrypto.ESPTransform{ID: ikecrypto.ESPAESCBC, KeyBits: 256, Auth: ikecrypto.AuthHMACSHA256}, Mode: ModeTunnel}
)

func allPolicy() Policy {
	var ts []Transform
	for _, m := range []Mode{ModeTunnel, ModeTransport} {
		for _, e := range espSets {
			ts = append(ts, Transform{ESP: e, Mode: m})
		}
	}
	return Policy{Transforms: ts, PFS: []dh.ID{0, dh.MODP2048, dh.ECP256, dh.Curve25519}}
}

var espSets = []ikecrypto.ESPTransform{
	{ID: ikecrypto.ESPAESCBC, KeyBits: 128, Auth: ikecrypto.AuthHMACSHA1},
	{ID: ikecrypto.ESPAESCBC, KeyBits: 192, Auth: ikecrypto.AuthHMACSHA1},
	{ID: ikecrypto.ESPAESCBC, KeyBits: 256, Auth: ikecrypto.AuthHMACSHA256},
	{ID: ikecrypto.ESPAESCBC, KeyBits: 128, Auth: ikecrypto.AuthHMACSHA256},
	{ID: ikecrypto.ESPAESGCM16, KeyBits: 128},
	{ID: ikecrypto.ESPAESGCM16, KeyBits: 256},
	{ID: ikecrypto.ESPNULL, Auth: ikecrypto.AuthHMACSHA1},
	{ID: ikecrypto.ESPNULL, Auth: ikecrypto.AuthHMACSHA256},
}

// pair is an initiator and a responder sharing one phase-1 SA.
type pair struct {
	t    testing.TB
	now  time.Time
	i, r *Exchanges
}

type pairOpts struct {
	p1           p1opts
	profile      Profile
	profileR     Profile // responder's, if not profile
	policy       *Policy
	cfgI, cfgR   Config // optional overrides of limits
	seedI, seedR byte
}

func newPair(t testing.TB, o pairOpts) *pair {
	t.Helper()
	pi, pr := phase1s(t, o.p1)
	if o.profile.Name == "" {
		o.profile = Hitless
	}
	pol := allPolicy()
	if o.policy != nil {
		pol = *o.policy
	}
	ci, cr := o.cfgI, o.cfgR
	ci.Profile, cr.Profile = o.profile, o.profile
	if o.profileR.Name != "" {
		cr.Profile = o.profileR
	}
	ci.Policy, cr.Policy = pol, pol
	ci.Rand, cr.Rand = seeded(o.seedI+1), seeded(o.seedR+100)
	i, err := New(pi, ci)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(pr, cr)
	if err != nil {
		t.Fatal(err)
	}
	return &pair{t: t, now: t0, i: i, r: r}
}

func simpleRequest(ts ...Transform) Request {
	if len(ts) == 0 {
		ts = []Transform{aes128sha1}
	}
	return Request{Proposals: []Proposal{{Transforms: ts}}}
}

// sends returns the datagrams among evs.
func sends(evs []Event) [][]byte {
	var out [][]byte
	for _, e := range evs {
		if e.Kind == EventSend {
			out = append(out, e.Datagram)
		}
	}
	return out
}

func one(t testing.TB, evs []Event) []byte {
	t.Helper()
	s := sends(evs)
	if len(s) != 1 {
		t.Fatalf("want one datagram, got %d in %v", len(s), kinds("", evs))
	}
	return s[0]
}

// kinds renders events as "<side> <kind>" lines.
func kinds(side string, evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, side+" "+e.Kind.String())
	}
	return out
}

func find(evs []Event, k EventKind) (SA, bool) {
	for _, e := range evs {
		if e.Kind == k {
			return e.SA, true
		}
	}
	return SA{}, false
}

// flow is a complete run: the events of each step.
type flow struct {
	mid                    uint32
	qm1, qm2, qm3, conn    []byte
	evI1, evR1, evI2, evR3 []Event
	evI4                   []Event
	trace                  []string
}

// run performs a complete exchange, delivering every datagram once.
func (p *pair) run(req Request) *flow {
	p.t.Helper()
	f := &flow{}
	var err error
	f.evI1, f.mid, err = p.i.Initiate(nil, p.now, req)
	if err != nil {
		p.t.Fatalf("Initiate: %v", err)
	}
	f.qm1 = one(p.t, f.evI1)
	if f.evR1, err = p.r.HandleDatagram(nil, p.now, f.qm1); err != nil {
		p.t.Fatalf("QM1: %v", err)
	}
	f.qm2 = one(p.t, f.evR1)
	if f.evI2, err = p.i.HandleDatagram(nil, p.now, f.qm2); err != nil {
		p.t.Fatalf("QM2: %v", err)
	}
	f.qm3 = one(p.t, f.evI2)
	if f.evR3, err = p.r.HandleDatagram(nil, p.now, f.qm3); err != nil {
		p.t.Fatalf("QM3: %v", err)
	}
	if s := sends(f.evR3); len(s) == 1 {
		f.conn = s[0]
		if f.evI4, err = p.i.HandleDatagram(nil, p.now, f.conn); err != nil {
			p.t.Fatalf("CONNECTED: %v", err)
		}
	}
	for _, s := range [][]string{kinds("I", f.evI1), kinds("R", f.evR1), kinds("I", f.evI2), kinds("R", f.evR3), kinds("I", f.evI4)} {
		f.trace = append(f.trace, s...)
	}
	return f
}

// snapshot renders all state of x, to show that bad input changed nothing.
func snapshot(x *Exchanges) string {
	var b strings.Builder
	for _, e := range x.open {
		fmt.Fprintf(&b, "open %+v\n", *e)
	}
	for _, d := range x.done {
		fmt.Fprintf(&b, "done %+v\n", d)
	}
	return b.String()
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// expectRejected delivers msg to x and fails unless x refuses it with a
// typed *Error matching one of want (mapped to INVALID-HASH-INFORMATION
// when it is a bad hash), without events and without a state change.
func expectRejected(t *testing.T, x *Exchanges, now time.Time, side, class string, msg []byte, want ...error) {
	t.Helper()
	before := snapshot(x)
	out, err := x.HandleDatagram(nil, now, msg)
	ok := false
	for _, w := range want {
		ok = ok || errors.Is(err, w)
	}
	var typed *Error
	if !ok || !errors.As(err, &typed) {
		t.Errorf("%s: got %v, want one of %v", class, err, want)
	}
	if errors.Is(err, ErrBadHash) && Notify(err) != isakmp.NotifyInvalidHashInformation {
		t.Errorf("%s: notify %v", class, Notify(err))
	}
	if len(out) != 0 {
		t.Errorf("%s: produced events %v", class, kinds(side, out))
	}
	if snapshot(x) != before {
		t.Errorf("%s: state changed", class)
	}
}
