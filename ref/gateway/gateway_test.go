package gateway

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

func TestFirstNegotiation(t *testing.T) {
	// Three packets sent before any SA exist are queued (acquire) and go
	// out once the initiator's outbound SA is active. Only install-at-qm3
	// loses them: they overtake QM3 to a responder without the SA yet.
	// activate-at-qm1 loses B's queued packet the other way: B sends on
	// the new SA before A has QM2.
	lost := map[string]int{quickmode.InstallAtQM3.Name: 3}
	lostAtA := map[string]int{quickmode.ActivateAtQM1.Name: 1}
	for _, p := range quickmode.Profiles {
		t.Run(p.Name, func(t *testing.T) {
			h := newHarness(t, 1, p, nil)
			for range 3 {
				h.send(h.a)
			}
			if n := countEvents(h.a, func(o peer.Output) bool { return o.Kind == peer.Exchange && o.ExchangeEvent == peer.Started }); n != 1 {
				t.Fatalf("%d exchanges started for 3 acquires, want 1", n)
			}
			if st := h.a.g.State(); st.Queued != 3 || st.Flows[0].Established || st.HalfOpen != 1 {
				t.Fatalf("before negotiation: %+v", st)
			}
			h.send(h.b) // the responder does not initiate; it queues too
			if h.b.g.State().HalfOpen != 0 || h.b.g.State().Queued != 1 {
				t.Fatalf("responder started an exchange: %+v", h.b.g.State())
			}
			h.settle()
			if got := len(h.b.delivered); got != 3-lost[p.Name] {
				t.Errorf("B delivered %d of 3 queued packets (%s)", got, h.dump())
			}
			if h.b.drops[peer.ReasonUnknownSPI] != lost[p.Name] {
				t.Errorf("B unknown-spi drops = %d, want %d", h.b.drops[peer.ReasonUnknownSPI], lost[p.Name])
			}
			if len(h.a.delivered) != 1-lostAtA[p.Name] || h.a.drops[peer.ReasonUnknownSPI] != lostAtA[p.Name] {
				t.Errorf("A delivered %d of B's 1 queued packet, drops %v", len(h.a.delivered), h.a.drops)
			}
			for _, s := range []*side{h.a, h.b} {
				st := s.g.State()
				if st.Queued != 0 || st.HalfOpen != 0 || !st.Flows[0].Established || len(st.SAs) != 2 {
					t.Errorf("%v after negotiation: %+v", s, st)
				}
			}
			h.agree()
		})
	}
}

func TestRekeyInterleavings(t *testing.T) {
	// A rekeys; at every point between Quick Mode messages both sides send
	// a packet that arrives before the next IKE message. want is the
	// number of unknown-spi drops at A and at B.
	want := map[string][2]int{
		quickmode.Hitless.Name:               {0, 0},
		quickmode.InstallAtQM3.Name:          {0, 1}, // A's new SPI between QM2 and QM3
		quickmode.InboundQM1OutboundQM3.Name: {0, 0},
		quickmode.ActivateAtQM1.Name:         {1, 0}, // B's new SPI before A has QM2
		quickmode.InitiatorAfterQM3.Name:     {0, 1}, // A's new SPI while QM3 travels
		quickmode.CommitBit.Name:             {0, 0},
	}
	for _, p := range quickmode.Profiles {
		t.Run(p.Name, func(t *testing.T) {
			h := newHarness(t, 2, p, nil)
			h.establish()
			h.step(h.a, peer.Input{Kind: peer.Rekey})
			sent := 0
			for point := 0; ; point++ {
				h.send(h.a)
				h.send(h.b)
				sent += 2
				h.deliverESP(h.a)
				h.deliverESP(h.b)
				if !h.deliverIKE(h.b) && !h.deliverIKE(h.a) {
					break
				}
			}
			got := [2]int{h.lackDrops(h.a), h.lackDrops(h.b)}
			if got != want[p.Name] {
				t.Errorf("lack-of-SA drops A,B = %v, want %v\n%s", got, want[p.Name], h.dump())
			}
			if d := len(h.a.delivered) + len(h.b.delivered) + got[0] + got[1]; d != sent {
				t.Errorf("%d packets sent, %d delivered or dropped for lack of SA", sent, d)
			}
			h.agree()
			for _, s := range []*side{h.a, h.b} {
				st := s.g.State()
				if len(st.SAs) != 4 || st.HalfOpen != 0 {
					t.Errorf("%v: want old and new pair, no open exchange: %+v", s, st)
				}
			}
		})
	}
}

func TestHitlessLostQM3(t *testing.T) {
	h := newHarness(t, 3, quickmode.Hitless, nil)
	h.establish()
	oldB := h.b.g.State().Flows[0].Active
	h.step(h.a, peer.Input{Kind: peer.Rekey})
	h.deliverIKE(h.b) // QM1
	h.deliverIKE(h.a) // QM2; QM3 goes out
	qm3 := h.lose(h.b, indexOf(h.b, true))
	if h.b.g.State().Flows[0].Active != oldB {
		t.Fatal("B activated before any proof")
	}
	h.send(h.a) // on the new SA
	h.deliverESP(h.b)
	newB := h.b.g.State().Flows[0].Active
	if newB == oldB {
		t.Fatal("B did not activate on the first ESP packet")
	}
	if n := countEvents(h.b, func(o peer.Output) bool { return o.Kind == peer.Exchange && o.ExchangeEvent == peer.Completed }); n != 1 {
		t.Errorf("B completed %d exchanges, want 1", n)
	}
	h.send(h.b)
	h.deliverESP(h.a)
	if len(h.a.delivered) != 1 || len(h.b.delivered) != 1 || h.lackDrops(h.a)+h.lackDrops(h.b) != 0 {
		t.Errorf("delivered A %v B %v\n%s", h.a.delivered, h.b.delivered, h.dump())
	}
	if h.b.g.State().HalfOpen != 0 {
		t.Error("B still waits for QM3")
	}
	h.agree()

	// The lost QM3 arrives late: genuine, it is accepted with no output
	// and no change; tampered (bad HASH(3)), it is a Reject.
	tampered := peer.Datagram{Transport: qm3.Transport, Bytes: bytes.Clone(qm3.Bytes)}
	tampered.Bytes[len(tampered.Bytes)-1] ^= 0x80
	for _, tc := range []struct {
		class  string
		d      peer.Datagram
		notify string // "" for accepted
	}{
		{"genuine late QM3", qm3, ""},
		{"late QM3 retransmitted", qm3, ""},
		{"late QM3 with tampered HASH(3)", tampered, "INVALID-HASH-INFORMATION"},
	} {
		before := h.b.g.State()
		outs := h.step(h.b, peer.Input{Kind: peer.Receive, Datagram: tc.d})
		if tc.notify == "" && len(outs) != 0 ||
			tc.notify != "" && (len(outs) != 1 || outs[0].Kind != peer.Reject || outs[0].Notify != tc.notify) {
			t.Errorf("%s: outputs %+v", tc.class, outs)
		}
		if d := cmp.Diff(before, h.b.g.State()); d != "" {
			t.Errorf("%s changed state:\n%s", tc.class, d)
		}
	}
}

func TestDeleteRekeyed(t *testing.T) {
	// B's packet on the old SPI is in flight when A processes QM2. With
	// delete_rekeyed A has already deleted the old inbound SA.
	for _, del := range []bool{false, true} {
		h := newHarness(t, 4, quickmode.Hitless, func(a, b *Config) { a.DeleteRekeyed = del })
		h.establish()
		h.step(h.a, peer.Input{Kind: peer.Rekey})
		h.deliverIKE(h.b) // QM1
		h.send(h.b)       // old SPI, in flight
		h.deliverIKE(h.a) // QM2 -> QM3
		h.deliverESP(h.a)
		want := 0
		if del {
			want = 1
		}
		if got := h.a.drops[peer.ReasonUnknownSPI]; got != want {
			t.Errorf("DeleteRekeyed=%v: A unknown-spi drops = %d, want %d", del, got, want)
		}
	}
}

func TestDeleteOvertakesQM3(t *testing.T) {
	h := newHarness(t, 5, quickmode.InstallAtQM3, func(a, b *Config) { a.DeleteOldAfterRekey = true })
	h.establish()
	h.step(h.a, peer.Input{Kind: peer.Rekey})
	h.deliverIKE(h.b) // QM1
	h.deliverIKE(h.a) // QM2 -> QM3, then Delete for the old pair
	if n := len(h.b.inflight); n != 2 {
		t.Fatalf("%d datagrams toward B, want QM3 and Delete", n)
	}
	h.deliver(h.b, 1) // the Delete overtakes QM3
	if st := h.b.g.State(); st.Flows[0].Active != 0 || len(st.SAs) != 0 {
		t.Fatalf("B after the Delete: %+v", st)
	}
	h.send(h.b) // no active SA
	h.send(h.a) // new SPI, not installed at B
	h.deliverESP(h.b)
	if h.b.drops[peer.ReasonNoActiveSA] != 1 || h.b.drops[peer.ReasonUnknownSPI] != 1 {
		t.Errorf("B drops %v, want one no-active-sa and one unknown-spi", h.b.drops)
	}
	h.deliverIKE(h.b) // QM3 at last
	h.send(h.a)
	h.send(h.b)
	h.settle()
	if len(h.a.delivered) != 1 || len(h.b.delivered) != 1 {
		t.Errorf("after QM3: delivered A %v B %v", h.a.delivered, h.b.delivered)
	}
	h.agree()
}

func TestLifetimesByTime(t *testing.T) {
	h := newHarness(t, 6, quickmode.Hitless, func(a, b *Config) {
		for _, c := range []*Config{a, b} {
			c.Lifetime = Lifetimes{Soft: 50 * time.Second, Hard: 100 * time.Second}
			c.RekeyFuzz = 10 * time.Second
		}
	})
	h.establish()
	first := h.a.g.State().SAs
	if first[0].HardAt != 100*time.Second || first[0].SoftAt <= 45*time.Second || first[0].SoftAt > 50*time.Second {
		t.Fatalf("lifetimes of the first pair: %+v", first[0])
	}
	for at := time.Second; at <= 300*time.Second; at += time.Second {
		h.advance(at)
		h.send(h.a)
		h.send(h.b)
		h.settle()
		for _, s := range []*side{h.a, h.b} {
			if n := len(s.g.State().SAs); n > 6 {
				t.Fatalf("%v holds %d SAs at %v", s, n, at)
			}
		}
	}
	soft := countEvents(h.a, func(o peer.Output) bool { return o.Kind == peer.SAEvent && o.Event == peer.SoftExpired })
	rekeys := countEvents(h.a, func(o peer.Output) bool { return o.Kind == peer.Exchange && o.ExchangeEvent == peer.Completed }) +
		countEvents(h.b, func(o peer.Output) bool { return o.Kind == peer.Exchange && o.ExchangeEvent == peer.Completed })
	if soft == 0 || rekeys < 2*5 {
		t.Errorf("%d soft expiries at A, %d exchange completions in 300 s", soft, rekeys)
	}
	for _, sa := range first {
		if st := h.a.g.State(); hasSA(&st, sa) {
			t.Errorf("first SA %#x %v outlived its hard lifetime", sa.SPI, sa.Direction)
		}
	}
	if h.lackDrops(h.a)+h.lackDrops(h.b) != 0 {
		t.Errorf("drops across rekeys: %s", h.dump())
	}
	h.agree()
}

func TestLifetimesByBytes(t *testing.T) {
	h := newHarness(t, 7, quickmode.Hitless, func(a, b *Config) {
		// Only A counts a soft volume, so that one side rekeys; A deletes
		// the old pairs after each rekey, since superseded SAs carry no
		// more bytes toward their hard volume.
		a.Lifetime = Lifetimes{SoftKilobytes: 1, HardKilobytes: 2}
		b.Lifetime = Lifetimes{HardKilobytes: 2}
		a.DeleteOldAfterRekey = true
	})
	h.establish()
	first := h.a.g.State().SAs
	for range 100 {
		h.nextID++
		h.step(h.a, peer.Input{Kind: peer.Send, Packet: ipv4(h.nextID, 100)})
		h.settle()
		h.send(h.b)
		h.settle()
		// B keeps the inbound SA of a pair A deleted for DeleteGrace.
		h.advance(h.now + 3*time.Second)
	}
	soft := countEvents(h.a, func(o peer.Output) bool { return o.Kind == peer.SAEvent && o.Event == peer.SoftExpired })
	if soft == 0 {
		t.Fatal("no soft expiry by bytes")
	}
	for _, sa := range first {
		if st := h.a.g.State(); hasSA(&st, sa) {
			t.Errorf("first SA %#x %v outlived its byte limit", sa.SPI, sa.Direction)
		}
	}
	if h.lackDrops(h.a)+h.lackDrops(h.b) != 0 {
		t.Errorf("drops across rekeys: %s", h.dump())
	}
	h.agree()
}

func TestSimultaneousRekey(t *testing.T) {
	// Both sides start a rekey of the flow at once; the Quick Modes cross.
	// Whatever the order of the IKE messages, both sides end on the pair of
	// the lower M-ID with the redundant pair gone. Profiles that lose
	// traffic in an ordinary rekey lose some here too; the others none.
	lossless := map[string]bool{quickmode.Hitless.Name: true, quickmode.InboundQM1OutboundQM3.Name: true,
		quickmode.CommitBit.Name: true}
	for _, p := range quickmode.Profiles {
		for seed := uint64(10); seed < 13; seed++ {
			for order := range 3 { // alternate, A first, B first
				h := newHarness(t, seed, p, nil)
				h.establish()
				h.step(h.a, peer.Input{Kind: peer.Rekey})
				h.step(h.b, peer.Input{Kind: peer.Rekey})
				mids := map[string]uint32{}
				for _, s := range []*side{h.a, h.b} {
					for _, o := range s.events {
						if o.Kind == peer.Exchange && o.ExchangeEvent == peer.Started {
							mids[s.name] = o.MessageID
						}
					}
				}
				win := min(mids["A"], mids["B"])
				for turn := 0; ; turn++ {
					h.send(h.a)
					h.send(h.b)
					h.deliverESP(h.a)
					h.deliverESP(h.b)
					first, second := h.a, h.b
					if (order == 0 && turn%2 == 1) || order == 2 {
						first, second = second, first
					}
					if !h.deliverIKE(first) && !h.deliverIKE(second) {
						break
					}
				}
				h.advance(h.now + 3*time.Second) // past DeleteGrace
				h.send(h.a)
				h.send(h.b)
				h.settle()
				h.agree()
				for _, s := range []*side{h.a, h.b} {
					st := s.g.State()
					act, _ := st.Lookup(st.Flows[0].Active, peer.Outbound)
					if act.MessageID != win {
						t.Errorf("%s seed %d order %d: %v active pair from M-ID %#x, want the lower %#x",
							p.Name, seed, order, s, act.MessageID, win)
					}
					if len(st.SAs) != 4 || st.HalfOpen != 0 {
						t.Errorf("%s seed %d order %d: %v holds %d SAs, want old and winning pair: %+v",
							p.Name, seed, order, s, len(st.SAs), st.SAs)
					}
				}
				if drops := h.lackDrops(h.a) + h.lackDrops(h.b); lossless[p.Name] != (drops == 0) {
					t.Errorf("%s seed %d order %d: %d drops for lack of SA\n%s", p.Name, seed, order, drops, h.dump())
				}
			}
		}
	}
}

// forgeDelete builds an Informational Delete for spi on g's phase-1 SA,
// with HASH(1) keyed by skeyidA.
func forgeDelete(t *testing.T, g *Gateway, skeyidA []byte, spi uint32) peer.Datagram {
	t.Helper()
	var spis [4]byte
	binary.BigEndian.PutUint32(spis[:], spi)
	return forgeInfo(t, g, skeyidA, &isakmp.Delete{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoIPsecESP, SPISize: 4, SPIs: spis[:]})
}

var forged byte // M-ID of the next forged message

// forgeInfo builds an Informational exchange carrying p on g's phase-1
// SA with HASH(1) keyed by skeyidA, without touching g.
func forgeInfo(t *testing.T, g *Gateway, skeyidA []byte, p isakmp.Payload) peer.Datagram {
	t.Helper()
	f := &Gateway{cfg: g.cfg, cipher: g.cipher, last: g.last}
	f.cfg.Phase1.SKEYIDa = skeyidA
	forged++
	f.cfg.Rand = bytes.NewReader([]byte{1, 2, forged, 1})
	f.sendInfo(p)
	if len(f.out) != 1 || f.out[0].Kind != peer.Transmit {
		t.Fatalf("forging: %+v", f.out)
	}
	return f.out[0].Datagram
}

func TestInformationalDelete(t *testing.T) {
	h := newHarness(t, 8, quickmode.Hitless, nil)
	h.establish()
	bIn := h.b.g.State().Flows[0].Active // B's outbound = A's inbound SPI
	good := forgeDelete(t, h.a.g, h.a.g.cfg.Phase1.SKEYIDa, bIn)
	wrongKey := append([]byte(nil), h.a.g.cfg.Phase1.SKEYIDa...)
	wrongKey[0] ^= 1
	bad := forgeDelete(t, h.a.g, wrongKey, bIn)
	truncated := peer.Datagram{Transport: good.Transport, Bytes: good.Bytes[:len(good.Bytes)-16]}
	otherCookies := peer.Datagram{Transport: good.Transport, Bytes: append([]byte(nil), good.Bytes...)}
	otherCookies.Bytes[0] ^= 1

	for _, tc := range []struct {
		name   string // input class
		d      peer.Datagram
		notify string
	}{
		{"bad HASH(1)", bad, "INVALID-HASH-INFORMATION"},
		{"truncated message", truncated, ""},
		{"cookies of another ISAKMP SA", otherCookies, "INVALID-COOKIE"},
		{"Delete for another protocol", forgeInfo(t, h.a.g, h.a.g.cfg.Phase1.SKEYIDa,
			&isakmp.Delete{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoIPsecAH, SPISize: 4, SPIs: []byte{1, 2, 3, 4}}), "INVALID-PROTOCOL-ID"},
		{"payload other than D or N", forgeInfo(t, h.a.g, h.a.g.cfg.Phase1.SKEYIDa, &isakmp.Nonce{Data: make([]byte, 16)}), "INVALID-PAYLOAD-TYPE"},
	} {
		before := h.b.g.State()
		outs := h.step(h.b, peer.Input{Kind: peer.Receive, Datagram: tc.d})
		if len(outs) != 1 || outs[0].Kind != peer.Reject || (tc.notify != "" && outs[0].Notify != tc.notify) {
			t.Errorf("%s: outputs %+v", tc.name, outs)
		}
		if d := cmp.Diff(before, h.b.g.State()); d != "" {
			t.Errorf("%s changed state (-before +after):\n%s", tc.name, d)
		}
	}
	// An authenticated Notification is accepted and changes no SA.
	before := h.b.g.State()
	n := forgeInfo(t, h.a.g, h.a.g.cfg.Phase1.SKEYIDa, &isakmp.Notification{DOI: isakmp.DOIIPsec,
		Protocol: isakmp.ProtoIPsecESP, Notify: isakmp.NotifyInvalidSPI, SPI: []byte{0, 0, 1, 0}})
	if outs := h.step(h.b, peer.Input{Kind: peer.Receive, Datagram: n}); len(outs) != 0 {
		t.Errorf("Notification: %+v", outs)
	}
	if d := cmp.Diff(before, h.b.g.State()); d != "" {
		t.Errorf("Notification changed SAs:\n%s", d)
	}
	// A genuine Delete removes the pair at once; B answers with its own
	// Delete DeleteGrace after it last sent on the pair (it was active).
	outs := h.step(h.b, peer.Input{Kind: peer.Receive, Datagram: good})
	if countKind(outs, peer.SAEvent) != 2 || countKind(outs, peer.Transmit) != 0 {
		t.Fatalf("genuine Delete: %+v", outs)
	}
	if st := h.b.g.State(); len(st.SAs) != 0 || st.Flows[0].Active != 0 {
		t.Fatalf("B after Delete: %+v", st)
	}
	if at, ok := h.b.g.NextTimer(); !ok || at != h.now+time.Second {
		t.Fatalf("B's NextTimer = %v %v, want the answer DeleteGrace later", at, ok)
	}
	h.now += time.Second
	if outs := h.step(h.b, peer.Input{Kind: peer.Tick}); countKind(outs, peer.Transmit) != 1 {
		t.Fatalf("B's answer: %+v", outs)
	}
	h.a.inflight = nil
	before = h.b.g.State()
	outs = h.step(h.b, peer.Input{Kind: peer.Receive, Datagram: good})
	if len(outs) != 1 || outs[0].Kind != peer.Reject {
		t.Errorf("replayed Delete: %+v", outs)
	}
	if d := cmp.Diff(before, h.b.g.State()); d != "" {
		t.Errorf("replay changed state:\n%s", d)
	}
}

func TestOperatorDelete(t *testing.T) {
	h := newHarness(t, 9, quickmode.Hitless, nil)
	h.establish()
	aIn := h.b.g.State().Flows[0].Active
	h.step(h.a, peer.Input{Kind: peer.Delete, SPI: aIn})
	h.settle()
	h.advance(h.now + 2*time.Second) // B's inbound SA goes DeleteGrace after the Delete
	for _, s := range []*side{h.a, h.b} {
		if st := s.g.State(); len(st.SAs) != 0 || st.Flows[0].Active != 0 || !st.Flows[0].Established {
			t.Errorf("%v after operator Delete: %+v", s, st)
		}
	}
	h.send(h.a)
	if h.a.drops[peer.ReasonNoActiveSA] != 1 {
		t.Errorf("send after delete: %v", h.a.drops)
	}
	outs := h.step(h.a, peer.Input{Kind: peer.Delete, SPI: 12345})
	if len(outs) != 1 || outs[0].Kind != peer.Reject {
		t.Errorf("delete of unknown SPI: %+v", outs)
	}
}

// Input class: an operator deletes the half of a pair the responder
// installed at QM1 while the exchange is still open. QM3 must not install
// the other half: an outbound SA without its inbound would be activated
// and send ESP the initiator has been told to drop.
func TestOperatorDeleteMidExchange(t *testing.T) {
	for _, p := range []quickmode.Profile{quickmode.Hitless, quickmode.InboundQM1OutboundQM3} {
		h := newHarness(t, 11, p, nil)
		h.establish()
		h.step(h.a, peer.Input{Kind: peer.Rekey})
		h.deliverIKE(h.b) // QM1: B installs its new inbound SA
		var mid uint32
		var in uint32
		for _, sa := range h.b.g.State().SAs {
			if sa.Direction == peer.Inbound && sa.MessageID != h.b.g.db.Active(0).MessageID {
				mid, in = sa.MessageID, sa.SPI
			}
		}
		if in == 0 {
			t.Fatalf("%s: B installed no new inbound SA at QM1", p.Name)
		}
		h.step(h.b, peer.Input{Kind: peer.Delete, SPI: in})
		h.deliverIKE(h.a) // QM2 (B's Delete follows it)
		h.deliverIKE(h.b) // QM3
		for _, sa := range h.b.g.State().SAs {
			if sa.MessageID == mid {
				t.Errorf("%s: QM3 installed %v SA %#x of the pair the operator deleted", p.Name, sa.Direction, sa.SPI)
			}
		}
		h.settle()
		h.advance(h.now + 5*time.Second)
		for _, s := range []*side{h.a, h.b} {
			for _, sa := range s.g.State().SAs {
				if sa.MessageID == mid {
					t.Errorf("%s: %v still holds %v SA %#x of the deleted pair", p.Name, s, sa.Direction, sa.SPI)
				}
			}
		}
		h.reset()
		h.send(h.a)
		h.send(h.b)
		h.settle()
		if len(h.a.delivered) != 1 || len(h.b.delivered) != 1 {
			t.Errorf("%s: traffic after the delete: delivered A %v B %v, drops A %v B %v", p.Name, h.a.delivered, h.b.delivered, h.a.drops, h.b.drops)
		}
	}
}

func countKind(outs []peer.Output, k peer.OutputKind) int {
	n := 0
	for _, o := range outs {
		if o.Kind == k {
			n++
		}
	}
	return n
}

func TestBadInput(t *testing.T) {
	h := newHarness(t, 11, quickmode.Hitless, nil)
	h.establish()
	h.send(h.a)
	h.send(h.a)
	esp, fresh := h.b.inflight[0].Bytes, h.b.inflight[1].Bytes
	h.deliver(h.b, 0)
	tampered := append([]byte(nil), fresh...)
	tampered[len(tampered)-1] ^= 1
	unknown := append([]byte(nil), esp...)
	unknown[0] ^= 0x80
	qm := forgeDelete(t, h.a.g, h.a.g.cfg.Phase1.SKEYIDa, 1)
	qm.Bytes[18] = 32 // Quick Mode exchange type with an Informational body
	h.step(h.a, peer.Input{Kind: peer.Rekey})
	qm1 := h.lose(h.b, indexOf(h.b, true))
	badHashQM1 := peer.Datagram{Transport: qm1.Transport, Bytes: append([]byte(nil), qm1.Bytes...)}
	badHashQM1.Bytes[len(badHashQM1.Bytes)-20] ^= 1 // garbles the last blocks of the body
	wrongMID := peer.Datagram{Transport: qm1.Transport, Bytes: append([]byte(nil), qm1.Bytes...)}
	wrongMID.Bytes[23] ^= 1 // decrypts under another phase-2 IV
	for _, tc := range []struct {
		name   string // input class
		d      peer.Datagram
		reason string // Drop reason, or "" for Reject
	}{
		{"ESP truncated header", peer.Datagram{Transport: peer.ESP, Bytes: esp[:5]}, peer.ReasonMalformed},
		{"ESP SPI zero", peer.Datagram{Transport: peer.ESP, Bytes: make([]byte, 40)}, peer.ReasonMalformed},
		{"ESP unknown SPI", peer.Datagram{Transport: peer.ESP, Bytes: unknown}, peer.ReasonUnknownSPI},
		{"ESP ICV tampered", peer.Datagram{Transport: peer.ESP, Bytes: tampered}, peer.ReasonAuthFailed},
		{"ESP replayed", peer.Datagram{Transport: peer.ESP, Bytes: esp}, peer.ReasonReplay},
		{"ESP truncated body", peer.Datagram{Transport: peer.ESP, Bytes: esp[:20]}, peer.ReasonMalformed},
		{"UDP 4500 too short", peer.Datagram{Transport: peer.UDP4500, Bytes: []byte{1, 2}}, peer.ReasonMalformed},
		{"unknown transport", peer.Datagram{Transport: 9, Bytes: esp}, peer.ReasonMalformed},
		{"IKE garbage", peer.Datagram{Transport: peer.UDP500, Bytes: []byte("not isakmp at all, no")}, ""},
		{"IKE empty", peer.Datagram{Transport: peer.UDP500}, ""},
		{"IKE body of another exchange type", qm, ""},
		{"Quick Mode body tampered", badHashQM1, ""},
		{"Quick Mode under another M-ID", wrongMID, ""},
	} {
		before := h.b.g.State()
		outs := h.step(h.b, peer.Input{Kind: peer.Receive, Datagram: tc.d})
		ok := len(outs) == 1 && ((tc.reason == "" && outs[0].Kind == peer.Reject) ||
			(outs[0].Kind == peer.Drop && outs[0].Reason == tc.reason))
		if !ok {
			t.Errorf("%s: outputs %+v", tc.name, outs)
		}
		if d := cmp.Diff(before, h.b.g.State()); d != "" {
			t.Errorf("%s changed state:\n%s", tc.name, d)
		}
	}
	if outs := h.step(h.b, peer.Input{Kind: peer.Receive, Datagram: peer.Datagram{Transport: peer.UDP4500, Bytes: []byte{0xff}}}); len(outs) != 0 {
		t.Errorf("NAT keepalive: %+v", outs)
	}
	if outs := h.step(h.b, peer.Input{Kind: peer.Send, Flow: 7, Packet: ipv4(1, 20)}); len(outs) != 1 || outs[0].Reason != peer.ReasonNoFlow {
		t.Errorf("send on unknown flow: %+v", outs)
	}
	if outs := h.step(h.b, peer.Input{Kind: peer.Send, Packet: []byte{1, 2, 3}}); len(outs) != 1 || outs[0].Reason != peer.ReasonMalformed {
		t.Errorf("send of a non-IP packet: %+v", outs)
	}
}

func TestBounds(t *testing.T) {
	h := newHarness(t, 12, quickmode.Hitless, func(a, b *Config) { a.MaxQueue = 2 })
	for range 3 {
		h.send(h.a)
	}
	if h.a.drops[peer.ReasonQueueFull] != 1 || h.a.g.State().Queued != 2 {
		t.Errorf("acquire queue: drops %v state %+v", h.a.drops, h.a.g.State())
	}
	// The first negotiation fails when nobody answers: queued packets go.
	for {
		h.b.inflight = nil // nobody answers
		at, ok := h.a.g.NextTimer()
		if !ok {
			break
		}
		h.now = at
		h.step(h.a, peer.Input{Kind: peer.Tick})
	}
	if h.a.drops[peer.ReasonNegotiation] != 2 || h.a.g.State().Queued != 0 || h.a.g.State().HalfOpen != 0 {
		t.Errorf("after failed negotiation: drops %v state %+v", h.a.drops, h.a.g.State())
	}

	// SAs per flow: rekeys beyond the bound are refused at install time.
	h = newHarness(t, 13, quickmode.Hitless, func(a, b *Config) { a.MaxSAsPerFlow, b.MaxSAsPerFlow = 4, 4 })
	h.establish()
	for range 3 {
		h.step(h.a, peer.Input{Kind: peer.Rekey})
		h.settle()
	}
	for _, s := range []*side{h.a, h.b} {
		if n := len(s.g.State().SAs); n > 4 {
			t.Errorf("%v holds %d SAs, bound 4", s, n)
		}
	}
	if countEvents(h.a, func(o peer.Output) bool { return o.Kind == peer.Exchange && o.ExchangeEvent == peer.Failed }) == 0 {
		t.Error("initiator did not refuse a rekey on a full flow")
	}
	// A responder with a lower bound rejects the install and keeps none
	// of the pair.
	h = newHarness(t, 13, quickmode.Hitless, func(a, b *Config) { b.MaxSAsPerFlow = 4 })
	h.establish()
	for range 2 {
		h.step(h.a, peer.Input{Kind: peer.Rekey})
		h.settle()
	}
	if n := len(h.b.g.State().SAs); n > 4 {
		t.Errorf("B holds %d SAs, bound 4", n)
	}
	if countEvents(h.b, func(o peer.Output) bool { return o.Kind == peer.Reject }) == 0 {
		t.Error("no rejection when the responder's flow was full")
	}
}

func TestNATT(t *testing.T) {
	h := newHarness(t, 14, quickmode.Hitless, func(a, b *Config) { a.Phase1.NATT = true })
	h.send(h.a)
	if d := h.b.inflight[0]; d.Transport != peer.UDP4500 || !d.IsIKE() {
		t.Fatalf("QM1 not behind the non-ESP marker on 4500: %v", d.Transport)
	}
	h.settle()
	h.send(h.b)
	if d := h.a.inflight[0]; d.Transport != peer.UDP4500 || d.IsIKE() {
		t.Fatalf("ESP not in UDP 4500: %v", d.Transport)
	}
	h.settle()
	if len(h.a.delivered) != 1 || len(h.b.delivered) != 1 {
		t.Errorf("delivered A %v B %v", h.a.delivered, h.b.delivered)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no flows", Config{Profile: quickmode.Hitless}},
		{"invalid selector", Config{Profile: quickmode.Hitless, Flows: []Flow{{}}}},
		{"unsupported ESP transform", Config{Profile: quickmode.Hitless, Flows: testFlows,
			Proposals: []quickmode.Proposal{{Transforms: []quickmode.Transform{{Mode: quickmode.ModeTunnel}}}}}},
		{"invalid profile", Config{Flows: testFlows}},
		{"negative queue", Config{Profile: quickmode.Hitless, Flows: testFlows, MaxQueue: -1}},
	} {
		if _, _, err := NewPair(1, tc.cfg, tc.cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := New(Config{Profile: quickmode.Hitless, Flows: testFlows}); !errors.Is(err, ErrConfig) {
		t.Errorf("nil Rand: %v", err)
	}
}

func hasSA(st *peer.State, sa peer.SA) bool {
	_, ok := st.Lookup(sa.SPI, sa.Direction)
	return ok
}

func TestLinger(t *testing.T) {
	h := newHarness(t, 15, quickmode.Hitless, func(a, b *Config) { a.Linger = 5 * time.Second })
	h.establish()
	h.step(h.a, peer.Input{Kind: peer.Rekey})
	h.settle()
	h.send(h.a)
	h.send(h.b)
	h.settle()
	for _, s := range []*side{h.a, h.b} {
		if n := len(s.g.State().SAs); n != 4 {
			t.Fatalf("%v holds %d SAs during the linger time, want 4", s, n)
		}
	}
	if at, ok := h.a.g.NextTimer(); !ok || at != h.now+5*time.Second {
		t.Fatalf("NextTimer = %v %v, want the linger deadline", at, ok)
	}
	h.advance(h.now + 5*time.Second)
	// Superseded for Linger, the old pair goes with one Delete each way.
	for _, s := range []*side{h.a, h.b} {
		if n := len(s.g.State().SAs); n != 2 {
			t.Errorf("%v holds %d SAs after the linger time, want 2", s, n)
		}
	}
	h.send(h.a)
	h.send(h.b)
	h.settle()
	if h.lackDrops(h.a)+h.lackDrops(h.b) != 0 || len(h.a.delivered)+len(h.b.delivered) != 4 {
		t.Errorf("traffic: %s", h.dump())
	}
	h.agree()
}

func TestRandomDatagrams(t *testing.T) {
	// Input class: arbitrary bytes on every transport, including ones that
	// start like an ISAKMP header of this phase-1 SA. Nothing may panic or
	// change state.
	h := newHarness(t, 16, quickmode.Hitless, nil)
	h.establish()
	h.send(h.a)
	valid := h.lose(h.b, 0).Bytes
	hdr := forgeDelete(t, h.a.g, h.a.g.cfg.Phase1.SKEYIDa, 1).Bytes[:28]
	r := rand.New(rand.NewPCG(1, 2))
	before := h.b.g.State()
	for i := range 3000 {
		b := make([]byte, r.IntN(200))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		switch i % 4 {
		case 1: // a real SPI and sequence number, random body
			b = append(append([]byte(nil), valid[:8]...), b...)
		case 2: // a real ISAKMP header, random body
			b = append(append([]byte(nil), hdr...), b...)
		}
		tr := []peer.Transport{peer.UDP500, peer.UDP4500, peer.ESP}[r.IntN(3)]
		outs := h.step(h.b, peer.Input{Kind: peer.Receive, Datagram: peer.Datagram{Transport: tr, Bytes: b}})
		for _, o := range outs {
			if o.Kind != peer.Drop && o.Kind != peer.Reject {
				t.Fatalf("random input %x on %v: %+v", b, tr, o)
			}
			if o.Kind == peer.Drop && peer.LackOfActiveSA(o.Reason) && o.Reason != peer.ReasonUnknownSPI {
				t.Fatalf("random input counted as %s", o.Reason)
			}
		}
	}
	if d := cmp.Diff(before, h.b.g.State()); d != "" {
		t.Errorf("random input changed state:\n%s", d)
	}
}
