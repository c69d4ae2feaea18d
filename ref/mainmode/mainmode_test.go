package mainmode

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Initiator and responder complete Main Mode in process, agree on the
// phase-1 SA, float to 4500 exactly when a NAT is detected (at MM4 for the
// initiator, MM3 for the responder), and the Phase1 runs a Quick Mode and
// carries a packet through the existing gateway.
func TestInProcess(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		natt, forceI, forceR bool
		float                bool
	}{
		{"no NAT-T", false, false, false, false},
		{"NAT-T, no NAT", true, false, false, false},
		{"NAT-T, initiator forces", true, true, false, true},
		{"NAT-T, responder forces", true, false, true, true},
		{"NAT-T, both force (libipsec)", true, true, true, true},
		{"force without NAT-T has no effect", false, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ci, cr := configs(1, tc.natt)
			ci.ForceNATT, cr.ForceNATT = tc.forceI, tc.forceR
			i, mm1, err := Initiate(ci)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Respond(cr)
			if err != nil {
				t.Fatal(err)
			}
			step := func(x *Exchange, in []byte, floatAfter bool, name string) []byte {
				t.Helper()
				if x.Float() {
					t.Fatalf("%s: Float before it", name)
				}
				out, err := x.Receive(in)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if x.Float() != floatAfter {
					t.Fatalf("%s: Float()=%v after it, want %v", name, x.Float(), floatAfter)
				}
				return out
			}
			mm2 := step(r, mm1, false, "MM1")
			mm3 := step(i, mm2, false, "MM2")
			mm4 := step(r, mm3, tc.float, "MM3")
			if i.Done() || r.Done() {
				t.Fatal("done too early")
			}
			mm5 := step(i, mm4, tc.float, "MM4")
			if _, err := i.Result(); err == nil {
				t.Fatal("Result before Done")
			}
			mm6, err := r.Receive(mm5)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Done() {
				t.Fatal("responder not done after MM5")
			}
			if out, err := i.Receive(mm6); err != nil || out != nil {
				t.Fatalf("MM6: %v %x", err, out)
			}
			if !i.Done() || !bytes.Equal(i.LastSent(), mm5) || !bytes.Equal(r.LastSent(), mm6) {
				t.Fatal("not done or LastSent wrong")
			}
			ri, err := i.Result()
			if err != nil {
				t.Fatal(err)
			}
			rr, err := r.Result()
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(ri.Phase1, rr.Phase1.Reverse(), addrCmp); d != "" {
				t.Fatalf("phase 1 differs (-initiator +responder reversed):\n%s", d)
			}
			p := ri.Phase1
			if p.Local != addrI.Addr() || p.Peer != addrR.Addr() || p.NATT != tc.float ||
				!bytes.Equal(p.LastBlock, mm6[len(mm6)-16:]) || len(p.Key) != 16 || p.PRF != ikecrypto.PRFSHA1 {
				t.Fatalf("initiator phase 1 %+v", p)
			}
			if ri.NATLocal != (tc.natt && tc.forceI) || ri.NATPeer != (tc.natt && tc.forceR) ||
				rr.NATLocal != (tc.natt && tc.forceR) || rr.NATPeer != (tc.natt && tc.forceI) {
				t.Fatalf("NAT flags: initiator %v/%v responder %v/%v", ri.NATLocal, ri.NATPeer, rr.NATLocal, rr.NATPeer)
			}
			if !rr.InitialContact || ri.InitialContact || ri.Lifetime != DefaultLifetime {
				t.Fatalf("initial contact %v/%v lifetime %v", rr.InitialContact, ri.InitialContact, ri.Lifetime)
			}
			if hasVID(ri.PeerVendorIDs, VendorIDRFC3947) != tc.natt || hasVID(rr.PeerVendorIDs, VendorIDRFC3947) != tc.natt {
				t.Fatalf("vendor IDs %x / %x", ri.PeerVendorIDs, rr.PeerVendorIDs)
			}
			wantID := []byte{1, 17, 1, 244, 198, 51, 100, 2}
			if !bytes.Equal(ri.PeerID, wantID) || !bytes.Equal(rr.PeerID[4:], addrI.Addr().AsSlice()) {
				t.Fatalf("peer IDs %x %x", ri.PeerID, rr.PeerID)
			}
			quickModeOver(t, ri.Phase1, rr.Phase1)
		})
	}
}

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// quickModeOver runs one Quick Mode with the existing gateway on the two
// Phase1 views and delivers one packet each way.
func quickModeOver(t *testing.T, pi, pr quickmode.Phase1) {
	t.Helper()
	flows := []gateway.Flow{{
		Local:  quickmode.Selector{Prefix: netip.MustParsePrefix("10.1.0.0/16")},
		Remote: quickmode.Selector{Prefix: netip.MustParsePrefix("10.2.0.0/16")},
	}}
	a, err := gateway.New(gateway.Config{Profile: quickmode.Hitless, Phase1: pi, Flows: flows, Initiator: true, Rand: seeded(77)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := gateway.New(gateway.Config{Profile: quickmode.Hitless, Phase1: pr, Flows: gateway.Mirror(flows), Rand: seeded(78)})
	if err != nil {
		t.Fatal(err)
	}
	ab := []byte{0x45, 0, 0, 20, 0, 1, 0, 0, 64, 59, 0, 0, 10, 1, 0, 1, 10, 2, 0, 1}
	ba := []byte{0x45, 0, 0, 20, 0, 2, 0, 0, 64, 59, 0, 0, 10, 2, 0, 1, 10, 1, 0, 1}
	type hop struct {
		to *gateway.Gateway
		d  peer.Datagram
	}
	var wire []hop
	delivered := map[*gateway.Gateway][][]byte{}
	transports := map[peer.Transport]int{}
	step := func(g, other *gateway.Gateway, in peer.Input) {
		for _, o := range g.Step(in) {
			switch o.Kind {
			case peer.Transmit:
				transports[o.Datagram.Transport]++
				wire = append(wire, hop{other, peer.Datagram{Transport: o.Datagram.Transport, Bytes: bytes.Clone(o.Datagram.Bytes)}})
			case peer.Deliver:
				delivered[g] = append(delivered[g], bytes.Clone(o.Packet))
			}
		}
	}
	pump := func() {
		for n := 0; len(wire) > 0; n++ {
			if n > 100 {
				t.Fatal("no quiescence")
			}
			h := wire[0]
			wire = wire[1:]
			if h.to == a {
				step(a, b, peer.Input{Kind: peer.Receive, Datagram: h.d})
			} else {
				step(b, a, peer.Input{Kind: peer.Receive, Datagram: h.d})
			}
		}
	}
	step(a, b, peer.Input{Kind: peer.Send, Packet: ab})
	pump()
	step(b, a, peer.Input{Kind: peer.Send, Packet: ba})
	pump()
	if len(delivered[b]) != 1 || !bytes.Equal(delivered[b][0], ab) || len(delivered[a]) != 1 || !bytes.Equal(delivered[a][0], ba) {
		t.Fatalf("delivered %x to B, %x to A (transports %v)", delivered[b], delivered[a], transports)
	}
	if pi.NATT != (transports[peer.UDP4500] > 0) {
		t.Fatalf("NATT %v but transports %v", pi.NATT, transports)
	}
}

// Config validation: each unusable field is refused with ErrBadConfig.
func TestBadConfig(t *testing.T) {
	ci, _ := configs(1, true)
	for name, f := range map[string]func(c *Config){
		"empty PSK":      func(c *Config) { c.PSK = nil },
		"nil Rand":       func(c *Config) { c.Rand = nil },
		"no Local":       func(c *Config) { c.Local = netip.AddrPort{} },
		"zero lifetime":  func(c *Config) { c.Proposal.Lifetime = time.Millisecond },
		"unknown group":  func(c *Config) { c.Proposal.Group = 99 },
		"unknown hash":   func(c *Config) { c.Proposal.PRF = 3 },
		"bad key length": func(c *Config) { c.Proposal.KeyLen = 17 },
		"empty VID":      func(c *Config) { c.VendorIDs = [][]byte{{}} },
	} {
		c := ci
		f(&c)
		if _, _, err := Initiate(c); err == nil {
			t.Errorf("%s: Initiate accepted", name)
		} else {
			wantErr(t, err, ErrBadConfig, 0)
		}
		if _, err := Respond(c); err == nil {
			t.Errorf("%s: Respond accepted", name)
		}
	}
}

// Different groups and ciphers run through the same code.
func TestProposals(t *testing.T) {
	for _, p := range []Proposal{
		{Group: 19},
		{Group: 31, PRF: ikecrypto.PRFSHA256, KeyLen: 32},
		{Encr: ikecrypto.Encr3DESCBC, PRF: ikecrypto.PRFMD5, Group: 2},
	} {
		ci, cr := configs(3, true)
		ci.Proposal, cr.Proposal = p, p
		ru := runExchange(t, ci, cr)
		ri, _ := ru.i.Result()
		rr, _ := ru.r.Result()
		if d := cmp.Diff(ri.Phase1, rr.Phase1.Reverse(), addrCmp); d != "" {
			t.Fatalf("%+v: %s", p, d)
		}
	}
}

// A real NAT in front of the initiator: it knows itself as 10.0.0.1:500,
// the responder sees 203.0.113.7:4500. The initiator detects that it is
// behind a NAT from the first NAT-D of MM4, the responder that the peer is
// from the second NAT-D of MM3; both float, and Quick Mode still runs.
func TestRealNAT(t *testing.T) {
	ci, cr := configs(41, true)
	ci.Local = netip.MustParseAddrPort("10.0.0.1:500")
	cr.Peer = netip.MustParseAddrPort("203.0.113.7:4500")
	ru := runExchange(t, ci, cr)
	ri, _ := ru.i.Result()
	rr, _ := ru.r.Result()
	if !ri.NATLocal || ri.NATPeer || rr.NATLocal || !rr.NATPeer || !ri.Phase1.NATT || !rr.Phase1.NATT {
		t.Fatalf("initiator %v/%v responder %v/%v", ri.NATLocal, ri.NATPeer, rr.NATLocal, rr.NATPeer)
	}
	if !ru.snapI[2].Float() || !ru.snapR[2].Float() || ru.snapI[1].Float() || ru.snapR[1].Float() {
		t.Fatal("float at the wrong moment")
	}
	if ri.Phase1.Peer != cr.Local.Addr() || rr.Phase1.Peer != cr.Peer.Addr() {
		t.Fatalf("addresses %v %v", ri.Phase1.Peer, rr.Phase1.Peer)
	}
	pi, pr := ri.Phase1, rr.Phase1.Reverse()
	pr.Local = pi.Local
	if d := cmp.Diff(pi, pr, addrCmp); d != "" {
		t.Fatal(d)
	}
	quickModeOver(t, ri.Phase1, rr.Phase1)
}
