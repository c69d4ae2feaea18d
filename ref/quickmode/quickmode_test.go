package quickmode

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// TestProfileEventOrder pins, for every profile, the exact order of SA
// events on both sides relative to QM1, QM2, QM3 (and CONNECTED).
func TestProfileEventOrder(t *testing.T) {
	want := map[string][]string{
		"hitless": {"I send",
			"R installed-inbound", "R installed-outbound", "R send",
			"I installed-inbound", "I installed-outbound", "I activated-outbound", "I send", "I completed",
			"R activated-outbound", "R completed"},
		"install-at-qm3": {"I send",
			"R send",
			"I installed-inbound", "I installed-outbound", "I activated-outbound", "I send", "I completed",
			"R installed-inbound", "R installed-outbound", "R activated-outbound", "R completed"},
		"inbound-qm1-outbound-qm3": {"I send",
			"R installed-inbound", "R send",
			"I installed-inbound", "I installed-outbound", "I activated-outbound", "I send", "I completed",
			"R installed-outbound", "R activated-outbound", "R completed"},
		"activate-at-qm1": {"I send",
			"R installed-inbound", "R installed-outbound", "R activated-outbound", "R send",
			"I installed-inbound", "I installed-outbound", "I activated-outbound", "I send", "I completed",
			"R completed"},
		"initiator-after-qm3": {"I send",
			"R send",
			"I send", "I installed-inbound", "I installed-outbound", "I activated-outbound", "I completed",
			"R installed-inbound", "R installed-outbound", "R activated-outbound", "R completed"},
		"commit-bit": {"I send",
			"R send",
			"I installed-inbound", "I installed-outbound", "I send",
			"R installed-inbound", "R installed-outbound", "R send", "R activated-outbound", "R completed",
			"I activated-outbound", "I completed"},
	}
	for _, prof := range Profiles {
		t.Run(prof.Name, func(t *testing.T) {
			p := newPair(t, pairOpts{profile: prof})
			f := p.run(simpleRequest())
			if !slices.Equal(f.trace, want[prof.Name]) {
				t.Errorf("event order\n got %q\nwant %q", f.trace, want[prof.Name])
			}
			checkAgree(t, f)
		})
	}
}

// TestInstallAtQM3NotBeforeQM3 is the negative form: after QM1 the
// strongSwan-like responder has installed nothing, the hitless one has.
func TestInstallAtQM3NotBeforeQM3(t *testing.T) {
	for _, c := range []struct {
		prof      Profile
		installed bool
	}{{InstallAtQM3, false}, {InitiatorAfterQM3, false}, {CommitBit, false}, {Hitless, true}, {InboundQM1OutboundQM3, true}} {
		p := newPair(t, pairOpts{profile: c.prof})
		ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
		evR, err := p.r.HandleDatagram(nil, p.now, one(t, ev))
		if err != nil {
			t.Fatal(err)
		}
		_, got := find(evR, EventInstalledInbound)
		if got != c.installed {
			t.Errorf("%s: inbound installed after QM1 = %v, want %v", c.prof.Name, got, c.installed)
		}
		if _, act := find(evR, EventActivatedOutbound); act {
			t.Errorf("%s: activated outbound at QM1", c.prof.Name)
		}
	}
}

// checkAgree asserts both sides derived the same SA per direction, each
// direction keyed by the SPI its receiver chose.
func checkAgree(t *testing.T, f *flow) {
	t.Helper()
	all := slices.Concat(f.evI1, f.evI2, f.evI4)
	iIn, ok1 := find(all, EventInstalledInbound)
	iOut, ok2 := find(all, EventInstalledOutbound)
	rIn, ok3 := find(slices.Concat(f.evR1, f.evR3), EventInstalledInbound)
	rOut, ok4 := find(slices.Concat(f.evR1, f.evR3), EventInstalledOutbound)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		t.Fatalf("missing installs: %v", f.trace)
	}
	same := func(a, b SA) bool {
		return a.SPI == b.SPI && bytes.Equal(a.EncKey, b.EncKey) && bytes.Equal(a.Salt, b.Salt) &&
			bytes.Equal(a.IntegKey, b.IntegKey) && a.Transform == b.Transform && a.Encap == b.Encap &&
			a.Local == b.Remote && a.Remote == b.Local && a.PFS == b.PFS
	}
	if !same(iOut, rIn) || !same(rOut, iIn) {
		t.Errorf("sides disagree:\n I out %+v\n R in  %+v\n R out %+v\n I in  %+v", iOut, rIn, rOut, iIn)
	}
	if iIn.SPI == iOut.SPI || bytes.Equal(iIn.EncKey, iOut.EncKey) && len(iIn.EncKey) > 0 || bytes.Equal(iIn.IntegKey, iOut.IntegKey) && len(iIn.IntegKey) > 0 {
		t.Errorf("directions share SPI or keys")
	}
	if iIn.Direction != Inbound || iOut.Direction != Outbound {
		t.Errorf("directions mislabelled")
	}
}

// TestKeymatIndependent recomputes one direction's KEYMAT from the
// nonces and SPI seen on the wire, independently of the exchange code.
func TestKeymatIndependent(t *testing.T) {
	p := newPair(t, pairOpts{})
	f := p.run(simpleRequest(aes256sha256))
	pi, _ := phase1s(t, p1opts{})
	ni, nr := nonceOf(t, pi, f.qm1, nil), nonceOf(t, pi, f.qm2, f.qm1)
	rIn, _ := find(f.evR1, EventInstalledInbound)
	spi := []byte{byte(rIn.SPI >> 24), byte(rIn.SPI >> 16), byte(rIn.SPI >> 8), byte(rIn.SPI)}
	km, err := ikecrypto.KEYMAT(pi.PRF, pi.SKEYIDd, nil, 3, spi, ni, nr, 64)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(km[:32], rIn.EncKey) || !bytes.Equal(km[32:], rIn.IntegKey) {
		t.Errorf("KEYMAT split differs from RFC 2409 §5.5 order")
	}
}

// nonceOf decrypts a Quick Mode message (QM1, or QM2 given the QM1 before
// it) and returns its nonce body.
func nonceOf(t *testing.T, p Phase1, msg, prev []byte) []byte {
	t.Helper()
	c, _ := ikecrypto.NewCipher(p.Encr, p.Key)
	last, _ := ikecrypto.NewIV(p.LastBlock)
	h, _ := isakmp.ParseHeader(msg)
	iv, _ := ikecrypto.Phase2IV(p.PRF, last, h.MessageID)
	if prev != nil {
		_, iv, _ = c.Decrypt(nil, iv, prev[isakmp.HeaderLen:])
	}
	plain, _, err := c.Decrypt(nil, iv, msg[isakmp.HeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	bd, err := isakmp.ParsePayloads(h.NextPayload, plain, isakmp.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pl := range bd.Payloads {
		if n, ok := pl.(*isakmp.Nonce); ok {
			return n.Data
		}
	}
	t.Fatal("no nonce")
	return nil
}

func TestTransformsAndPFS(t *testing.T) {
	for _, es := range espSets {
		p := newPair(t, pairOpts{})
		tr := Transform{ESP: es, Mode: ModeTunnel}
		f := p.run(simpleRequest(tr))
		checkAgree(t, f)
		sa, _ := find(f.evI2, EventInstalledOutbound)
		if sa.Transform.ESP != es {
			t.Errorf("negotiated %+v, want %+v", sa.Transform.ESP, es)
		}
		if es.ID == ikecrypto.ESPAESGCM16 && (len(sa.Salt) != 4 || len(sa.IntegKey) != 0) {
			t.Errorf("GCM keys: salt %d integ %d", len(sa.Salt), len(sa.IntegKey))
		}
	}
	for _, g := range []dh.ID{dh.MODP2048, dh.ECP256, dh.Curve25519} {
		p := newPair(t, pairOpts{})
		req := simpleRequest()
		req.PFS = g
		f := p.run(req)
		checkAgree(t, f)
		sa, _ := find(f.evI2, EventInstalledOutbound)
		if sa.PFS != g {
			t.Errorf("PFS %v, want %v", sa.PFS, g)
		}
		// Same exchange without PFS must give other keys.
		q := newPair(t, pairOpts{})
		g0 := q.run(simpleRequest())
		sb, _ := find(g0.evI2, EventInstalledOutbound)
		if bytes.Equal(sa.EncKey, sb.EncKey) {
			t.Errorf("group %v: PFS did not change keys", g)
		}
	}
}

func TestPFSGroupRefused(t *testing.T) {
	pol := allPolicy()
	pol.PFS = []dh.ID{dh.ECP256}
	p := newPair(t, pairOpts{policy: &pol})
	req := simpleRequest()
	req.PFS = dh.Curve25519
	ev, _, _ := p.i.Initiate(nil, p.now, req)
	before := snapshot(p.r)
	_, err := p.r.HandleDatagram(nil, p.now, one(t, ev))
	if !errors.Is(err, ErrNoProposalChosen) || Notify(err) != isakmp.NotifyNoProposalChosen {
		t.Errorf("got %v", err)
	}
	if snapshot(p.r) != before {
		t.Error("state changed")
	}
}

func TestClientIDs(t *testing.T) {
	p := newPair(t, pairOpts{})
	req := simpleRequest()
	req.Local = Selector{Prefix: mustPrefix("10.1.0.0/16")}
	req.Remote = Selector{Prefix: mustPrefix("10.2.3.4/32"), Protocol: 17, Port: 500}
	f := p.run(req)
	checkAgree(t, f)
	sa, _ := find(f.evI2, EventInstalledOutbound)
	if sa.Local != req.Local || sa.Remote != req.Remote {
		t.Errorf("selectors %+v %+v", sa.Local, sa.Remote)
	}
	// Without IDs the SA covers the phase-1 addresses.
	q := newPair(t, pairOpts{})
	g := q.run(simpleRequest())
	sb, _ := find(g.evI2, EventInstalledOutbound)
	if sb.Local.Prefix.String() != "192.0.2.1/32" || sb.Remote.Prefix.String() != "198.51.100.2/32" {
		t.Errorf("default selectors %v %v", sb.Local, sb.Remote)
	}
}

func TestNATT(t *testing.T) {
	for _, c := range []struct {
		draft bool
		mode  Mode
		encap isakmp.EncapsulationMode
		oa    bool
	}{
		{false, ModeTransport, isakmp.EncapUDPTransport, true},
		{true, ModeTransport, isakmp.EncapUDPTransportDraft, true},
		{false, ModeTunnel, isakmp.EncapUDPTunnel, false},
		{true, ModeTunnel, isakmp.EncapUDPTunnelDraft, false},
	} {
		p := newPair(t, pairOpts{p1: p1opts{natt: true, draft: c.draft}})
		tr := aes128sha1
		tr.Mode = c.mode
		f := p.run(simpleRequest(tr))
		checkAgree(t, f)
		iOut, _ := find(f.evI2, EventInstalledOutbound)
		rIn, _ := find(f.evR1, EventInstalledInbound)
		if iOut.Encap != c.encap || !iOut.UDPEncap {
			t.Errorf("%+v: encap %v", c, iOut.Encap)
		}
		if c.oa {
			// Each side records the addresses the peer sent.
			if iOut.NATOAi.String() != "192.0.2.1" || iOut.NATOAr.String() != "198.51.100.2" ||
				rIn.NATOAi != iOut.NATOAi || rIn.NATOAr != iOut.NATOAr {
				t.Errorf("%+v: NAT-OA I %v %v R %v %v", c, iOut.NATOAi, iOut.NATOAr, rIn.NATOAi, rIn.NATOAr)
			}
		} else if iOut.NATOAi.IsValid() || rIn.NATOAi.IsValid() {
			t.Errorf("%+v: NAT-OA in tunnel mode", c)
		}
	}
	// A NAT-T phase 1 refuses plain modes: the initiator offers UDP
	// modes, so make the responder think there is no NAT.
	pi, _ := phase1s(t, p1opts{natt: true})
	_, pr := phase1s(t, p1opts{})
	i, _ := New(pi, Config{Profile: Hitless, Rand: seeded(1)})
	r, _ := New(pr, Config{Profile: Hitless, Policy: allPolicy(), Rand: seeded(2)})
	ev, _, _ := i.Initiate(nil, t0, simpleRequest())
	if _, err := r.HandleDatagram(nil, t0, one(t, ev)); !errors.Is(err, ErrNoProposalChosen) {
		t.Errorf("UDP mode without NAT-T: %v", err)
	}
}

func TestResponderLifetime(t *testing.T) {
	pol := allPolicy()
	for i := range pol.Transforms {
		pol.Transforms[i].LifeSeconds = 3600
		pol.Transforms[i].LifeKilobytes = 1000
	}
	p := newPair(t, pairOpts{policy: &pol})
	tr := aes128sha1
	tr.LifeKilobytes = 50000 // seconds left out: 28800 by default
	f := p.run(simpleRequest(tr))
	for _, evs := range [][]Event{f.evI2, f.evR3, f.evR1} {
		for _, e := range evs {
			if e.Kind == EventInstalledInbound || e.Kind == EventInstalledOutbound {
				if e.SA.Transform.LifeSeconds != 3600 || e.SA.Transform.LifeKilobytes != 1000 {
					t.Errorf("%v %v lifetimes %d s %d kB", e.Role, e.Kind, e.SA.Transform.LifeSeconds, e.SA.Transform.LifeKilobytes)
				}
			}
		}
	}
	// Policy above the offer: no lowering, offer kept.
	q := newPair(t, pairOpts{})
	tr.LifeSeconds = 1200
	g := q.run(simpleRequest(tr))
	sa, _ := find(g.evI2, EventInstalledOutbound)
	if sa.Transform.LifeSeconds != 1200 || sa.Transform.LifeKilobytes != 50000 {
		t.Errorf("unlowered lifetimes %+v", sa.Transform)
	}
}

func TestProposalSelection(t *testing.T) {
	gcm := Transform{ESP: ikecrypto.ESPTransform{ID: ikecrypto.ESPAESGCM16, KeyBits: 256}, Mode: ModeTunnel}
	pol := Policy{Transforms: []Transform{aes256sha256, gcm}, PFS: []dh.ID{0}}
	p := newPair(t, pairOpts{policy: &pol})
	req := Request{Proposals: []Proposal{
		{Transforms: []Transform{aes128sha1}},                                             // refused
		{Transforms: []Transform{{ESP: espSets[6], Mode: ModeTunnel}, aes256sha256, gcm}}, // second transform wins
	}}
	f := p.run(req)
	sa, _ := find(f.evI2, EventInstalledOutbound)
	if sa.Transform.ESP != aes256sha256.ESP {
		t.Errorf("chose %+v", sa.Transform.ESP)
	}
	checkAgree(t, f)

	// Nothing acceptable.
	q := newPair(t, pairOpts{policy: &pol})
	ev, _, _ := q.i.Initiate(nil, q.now, simpleRequest(aes128sha1))
	before := snapshot(q.r)
	_, err := q.r.HandleDatagram(nil, q.now, one(t, ev))
	if !errors.Is(err, ErrNoProposalChosen) || Notify(err) != isakmp.NotifyNoProposalChosen {
		t.Errorf("no match: %v", err)
	}
	if snapshot(q.r) != before {
		t.Error("no match changed state")
	}
}

func TestCommitBitLostConnected(t *testing.T) {
	p := newPair(t, pairOpts{profile: CommitBit, cfgI: Config{Retransmit: Backoff{Initial: time.Second}}})
	ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
	evR, _ := p.r.HandleDatagram(nil, p.now, one(t, ev))
	evI, _ := p.i.HandleDatagram(nil, p.now, one(t, evR))
	if _, act := find(evI, EventActivatedOutbound); act {
		t.Fatal("initiator activated before CONNECTED")
	}
	qm3 := one(t, evI)
	evR3, _ := p.r.HandleDatagram(nil, p.now, qm3)
	conn := one(t, evR3) // lost
	next, ok := p.i.NextTimeout()
	if !ok || !next.Equal(p.now.Add(time.Second)) {
		t.Fatalf("QM3 retransmission timer %v %v", next, ok)
	}
	re := p.i.HandleTimeout(nil, next)
	if !bytes.Equal(one(t, re), qm3) {
		t.Fatal("QM3 not retransmitted")
	}
	again, err := p.r.HandleDatagram(nil, next, qm3)
	if err != nil || !bytes.Equal(one(t, again), conn) {
		t.Fatalf("CONNECTED not resent: %v", err)
	}
	evI4, err := p.i.HandleDatagram(nil, next, conn)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kinds("I", evI4), []string{"I activated-outbound", "I completed"}) {
		t.Errorf("got %v", kinds("I", evI4))
	}
	if _, ok := p.i.NextTimeout(); ok {
		t.Error("timer left after CONNECTED")
	}
}

func TestRetransmitBackoffThenFail(t *testing.T) {
	p := newPair(t, pairOpts{cfgI: Config{Retransmit: Backoff{Initial: time.Second, Factor: 3, MaxTries: 3}}})
	ev, mid, _ := p.i.Initiate(nil, p.now, simpleRequest())
	qm1 := one(t, ev)
	var at []time.Duration
	var last []Event
	for range 10 {
		next, ok := p.i.NextTimeout()
		if !ok {
			break
		}
		// Nothing happens just before the deadline.
		if evs := p.i.HandleTimeout(nil, next.Add(-time.Nanosecond)); len(evs) != 0 {
			t.Fatalf("early timer: %v", kinds("I", evs))
		}
		last = p.i.HandleTimeout(nil, next)
		at = append(at, next.Sub(t0))
		for _, d := range sends(last) {
			if !bytes.Equal(d, qm1) {
				t.Error("retransmission differs from QM1")
			}
		}
	}
	// Sends at 0 (Initiate), 1s, 1+3s; failure 9s later.
	if !slices.Equal(at, []time.Duration{time.Second, 4 * time.Second, 13 * time.Second}) {
		t.Errorf("timer instants %v", at)
	}
	if len(last) != 1 || last[0].Kind != EventFailed || last[0].MessageID != mid ||
		!strings.Contains(last[0].Reason, ErrRetransmitLimit.Error()) {
		t.Errorf("final events %+v", last)
	}
	if p.i.HalfOpen() != 0 {
		t.Error("failed exchange still open")
	}
}

func TestDuplicateQM1ResendsQM2(t *testing.T) {
	for _, after := range []bool{false, true} {
		p := newPair(t, pairOpts{})
		ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
		qm1 := one(t, ev)
		evR, _ := p.r.HandleDatagram(nil, p.now, qm1)
		qm2 := one(t, evR)
		if after {
			evI, _ := p.i.HandleDatagram(nil, p.now, qm2)
			if _, err := p.r.HandleDatagram(nil, p.now, one(t, evI)); err != nil {
				t.Fatal(err)
			}
		}
		before := snapshot(p.r)
		dup, err := p.r.HandleDatagram(nil, p.now, qm1)
		if err != nil {
			t.Fatal(err)
		}
		if len(dup) != 1 || !bytes.Equal(one(t, dup), qm2) {
			t.Errorf("after QM3=%v: duplicate QM1 gave %v", after, kinds("R", dup))
		}
		if snapshot(p.r) != before {
			t.Error("duplicate QM1 changed state")
		}
	}
}

func TestDuplicateQM2ResendsQM3(t *testing.T) {
	p := newPair(t, pairOpts{})
	f := p.run(simpleRequest())
	before := snapshot(p.i)
	dup, err := p.i.HandleDatagram(nil, p.now, f.qm2)
	if err != nil || len(dup) != 1 || !bytes.Equal(one(t, dup), f.qm3) {
		t.Fatalf("duplicate QM2: %v %v", err, kinds("I", dup))
	}
	if snapshot(p.i) != before {
		t.Error("state changed")
	}
	// The resent QM3 is itself a duplicate for the responder.
	if _, err := p.r.HandleDatagram(nil, p.now, f.qm3); !errors.Is(err, ErrDuplicate) {
		t.Errorf("replayed QM3: %v", err)
	}
}

// TestLostQM3 shows the point of the hitless profile: with QM3 lost, the
// first ESP packet on the new inbound SA activates the responder.
func TestLostQM3(t *testing.T) {
	for _, prof := range []Profile{Hitless, InstallAtQM3} {
		p := newPair(t, pairOpts{profile: prof})
		ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
		evR, _ := p.r.HandleDatagram(nil, p.now, one(t, ev))
		evI, _ := p.i.HandleDatagram(nil, p.now, one(t, evR))
		_ = one(t, evI) // QM3 lost
		iOut, _ := find(evI, EventActivatedOutbound)
		got, err := p.r.HandleESP(nil, p.now, iOut.SPI)
		switch prof.Name {
		case "hitless":
			if err != nil || !slices.Equal(kinds("R", got), []string{"R activated-outbound", "R completed"}) {
				t.Errorf("hitless: %v %v", err, kinds("R", got))
			}
			// A late genuine QM3 is verified, accepted and changes nothing
			// (TestLateQM3 covers the bad ones).
			before := snapshot(p.r)
			if out, err := p.r.HandleDatagram(nil, p.now, one(t, evI)); err != nil || len(out) != 0 {
				t.Errorf("late QM3: %v %v", err, kinds("R", out))
			}
			if snapshot(p.r) != before {
				t.Error("late QM3 changed state")
			}
		case "install-at-qm3":
			if !errors.Is(err, ErrUnknownSPI) || len(got) != 0 {
				t.Errorf("install-at-qm3 reacted to ESP: %v %v", err, got)
			}
			// The responder gives up: nothing was installed, nothing deleted.
			out := p.r.HandleTimeout(nil, p.now.Add(time.Hour))
			if !slices.Equal(kinds("R", out), []string{"R failed"}) {
				t.Errorf("timeout: %v", kinds("R", out))
			}
		}
	}
}

func TestResponderTimeoutDeletesInstalled(t *testing.T) {
	p := newPair(t, pairOpts{cfgR: Config{ResponderTimeout: 10 * time.Second}})
	ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
	p.r.HandleDatagram(nil, p.now, one(t, ev))
	if evs := p.r.HandleTimeout(nil, p.now.Add(9*time.Second)); len(evs) != 0 {
		t.Fatal("early")
	}
	out := p.r.HandleTimeout(nil, p.now.Add(10*time.Second))
	if !slices.Equal(kinds("R", out), []string{"R deleted", "R deleted", "R failed"}) {
		t.Errorf("got %v", kinds("R", out))
	}
}

func TestProfileNames(t *testing.T) {
	for _, p := range Profiles {
		q, err := ParseProfile(p.String())
		if err != nil || q != p {
			t.Errorf("%s: %v", p.Name, err)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
	if _, err := ParseProfile("nope"); !errors.Is(err, ErrBadConfig) {
		t.Error("unknown name accepted")
	}
	bad := Hitless
	bad.ResponderActivate = StageQM2 // class: stage the responder never reaches
	if err := bad.Validate(); !errors.Is(err, ErrBadConfig) {
		t.Error("bad profile accepted")
	}
	bad = InstallAtQM3
	bad.ResponderActivate = StageFirstESPOrQM3 // class: ESP trigger without inbound at QM1
	if err := bad.Validate(); !errors.Is(err, ErrBadConfig) {
		t.Error("bad profile accepted")
	}
}

// TestLostQM3ResponderRetransmit: with ResponderRetransmit a profile
// without the ESP trigger recovers a lost QM3: the responder resends QM2,
// the completed initiator answers the duplicate with QM3 again.
func TestLostQM3ResponderRetransmit(t *testing.T) {
	p := newPair(t, pairOpts{profile: InstallAtQM3,
		cfgR: Config{ResponderRetransmit: true, Retransmit: Backoff{Initial: time.Second}, ResponderTimeout: 10 * time.Second}})
	ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
	evR, _ := p.r.HandleDatagram(nil, p.now, one(t, ev))
	qm2 := one(t, evR)
	evI, _ := p.i.HandleDatagram(nil, p.now, qm2)
	qm3 := one(t, evI) // lost
	next, _ := p.r.NextTimeout()
	if !next.Equal(t0.Add(time.Second)) {
		t.Fatalf("responder timer %v", next)
	}
	re := p.r.HandleTimeout(nil, next)
	if !bytes.Equal(one(t, re), qm2) {
		t.Fatal("QM2 not retransmitted")
	}
	again, err := p.i.HandleDatagram(nil, next, qm2)
	if err != nil || !bytes.Equal(one(t, again), qm3) {
		t.Fatalf("initiator did not resend QM3: %v", err)
	}
	out, err := p.r.HandleDatagram(nil, next, qm3)
	if err != nil || !slices.Equal(kinds("R", out), []string{"R installed-inbound", "R installed-outbound", "R activated-outbound", "R completed"}) {
		t.Errorf("got %v %v", err, kinds("R", out))
	}
}

// TestResponderRetransmitGivesUp: retransmissions stop at MaxTries and the
// responder fails at its deadline, not before.
func TestResponderRetransmitGivesUp(t *testing.T) {
	p := newPair(t, pairOpts{profile: InstallAtQM3,
		cfgR: Config{ResponderRetransmit: true, Retransmit: Backoff{Initial: time.Second, MaxTries: 3}, ResponderTimeout: 30 * time.Second}})
	ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
	p.r.HandleDatagram(nil, p.now, one(t, ev))
	var trace []string
	for range 10 {
		next, ok := p.r.NextTimeout()
		if !ok {
			break
		}
		for _, k := range kinds("R", p.r.HandleTimeout(nil, next)) {
			trace = append(trace, next.Sub(t0).String()+" "+k)
		}
	}
	want := []string{"1s R send", "3s R send", "30s R failed"}
	if !slices.Equal(trace, want) {
		t.Errorf("got %v, want %v", trace, want)
	}
}

// TestCommitBitSetByResponderOnly: a hitless initiator facing a
// commit-bit responder still waits for CONNECTED before activating, and a
// responder honours a commit bit set in QM1 although its profile does not.
func TestCommitBitSetByOneSide(t *testing.T) {
	p := newPair(t, pairOpts{profile: Hitless, profileR: CommitBit})
	f := p.run(simpleRequest())
	want := []string{"I send", "R send",
		"I installed-inbound", "I installed-outbound", "I send",
		"R installed-inbound", "R installed-outbound", "R send", "R activated-outbound", "R completed",
		"I activated-outbound", "I completed"}
	if !slices.Equal(f.trace, want) {
		t.Errorf("responder commit bit:\n got %q\nwant %q", f.trace, want)
	}
	q := newPair(t, pairOpts{profile: CommitBit, profileR: Hitless})
	g := q.run(simpleRequest())
	want = []string{"I send",
		"R installed-inbound", "R installed-outbound", "R send",
		"I installed-inbound", "I installed-outbound", "I send",
		"R activated-outbound", "R send", "R completed",
		"I activated-outbound", "I completed"}
	if !slices.Equal(g.trace, want) {
		t.Errorf("initiator commit bit:\n got %q\nwant %q", g.trace, want)
	}
	checkAgree(t, g)
}

// TestCommitBitNoConnected: without CONNECTED the initiator gives up after
// its retransmissions and withdraws the SAs it installed at QM2.
func TestCommitBitNoConnected(t *testing.T) {
	p := newPair(t, pairOpts{profile: CommitBit, cfgI: Config{Retransmit: Backoff{Initial: time.Second, MaxTries: 2}}})
	ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
	evR, _ := p.r.HandleDatagram(nil, p.now, one(t, ev))
	p.i.HandleDatagram(nil, p.now, one(t, evR))
	var got []string
	for range 5 {
		next, ok := p.i.NextTimeout()
		if !ok {
			break
		}
		got = append(got, kinds("I", p.i.HandleTimeout(nil, next))...)
	}
	want := []string{"I send", "I deleted", "I deleted", "I failed"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestESPWithoutTrigger: profiles that activate at QM3 ignore ESP on the
// new inbound SA; state does not change.
func TestESPWithoutTrigger(t *testing.T) {
	p := newPair(t, pairOpts{profile: InboundQM1OutboundQM3})
	ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
	evR, _ := p.r.HandleDatagram(nil, p.now, one(t, ev))
	in, _ := find(evR, EventInstalledInbound)
	before := snapshot(p.r)
	out, err := p.r.HandleESP(nil, p.now, in.SPI)
	if err != nil || len(out) != 0 || snapshot(p.r) != before {
		t.Errorf("ESP changed a QM3-activating responder: %v %v", err, kinds("R", out))
	}
}
