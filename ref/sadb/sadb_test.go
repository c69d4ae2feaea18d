package sadb

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/ref/esp"
)

func newESP(t testing.TB, spi uint32) *esp.SA {
	t.Helper()
	s, err := esp.NewSA(esp.Config{SPI: spi, Transform: esp.Transform{Cipher: esp.CipherAESGCM16, KeyBits: 128},
		EncKey: bytes.Repeat([]byte{byte(spi)}, 20)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sa(t testing.TB, spi uint32, d Direction, flow int, mid uint32) *SA {
	return &SA{SPI: spi, Direction: d, Flow: flow, MessageID: mid, ESP: newESP(t, spi)}
}

func mustDB(t testing.TB, lim Limits) *DB {
	t.Helper()
	db, err := New(lim)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestInstallErrors(t *testing.T) {
	tests := []struct {
		name  string // input class
		setup []*SA
		sa    *SA
		want  error
	}{
		{"reserved SPI 0", nil, &SA{SPI: 0, Direction: Inbound}, ErrBadSA},
		{"no direction", nil, &SA{SPI: 300}, ErrBadSA},
		{"flow index negative", nil, &SA{SPI: 300, Direction: Inbound, Flow: -1}, ErrBadFlow},
		{"flow index too large", nil, &SA{SPI: 300, Direction: Inbound, Flow: 2}, ErrBadFlow},
		{"duplicate SPI same direction", []*SA{{SPI: 300, Direction: Inbound}}, &SA{SPI: 300, Direction: Inbound}, ErrExists},
		{"per-flow bound", []*SA{{SPI: 300, Direction: Inbound}, {SPI: 301, Direction: Outbound}},
			&SA{SPI: 302, Direction: Inbound}, ErrFlowFull},
		{"total bound", []*SA{{SPI: 300, Direction: Inbound}, {SPI: 301, Direction: Inbound, Flow: 1}, {SPI: 302, Direction: Inbound, Flow: 1}},
			&SA{SPI: 303, Direction: Outbound}, ErrTotalFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := mustDB(t, Limits{Flows: 2, MaxPerFlow: 2, MaxTotal: 3})
			for _, s := range tt.setup {
				if err := db.Install(s); err != nil {
					t.Fatal(err)
				}
			}
			n := db.Len()
			err := db.Install(tt.sa)
			var e *Error
			if !errors.Is(err, tt.want) || !errors.As(err, &e) {
				t.Fatalf("Install = %v, want %v", err, tt.want)
			}
			if db.Len() != n {
				t.Errorf("failed Install changed the database: %d SAs, was %d", db.Len(), n)
			}
		})
	}
}

func TestSameSPIBothDirections(t *testing.T) {
	// Inbound SPIs are ours and outbound ones the peer's: they may collide.
	db := mustDB(t, Limits{Flows: 1})
	if err := db.Install(sa(t, 300, Inbound, 0, 1)); err != nil {
		t.Fatal(err)
	}
	if err := db.Install(sa(t, 300, Outbound, 0, 1)); err != nil {
		t.Fatal(err)
	}
	if db.Inbound(300) == db.Outbound(300) || db.Inbound(300) == nil {
		t.Fatal("directions share a table")
	}
}

func TestActivateAndDelete(t *testing.T) {
	tests := []struct {
		name       string
		proveNew   bool // the peer has shown it holds the new pair
		viaSeen    bool // proven by ESP on the paired inbound SA, not completion
		wantActive uint32
	}{
		{"delete active, newer proven by completion", true, false, 0x200},
		{"delete active, newer proven by ESP", true, true, 0x200},
		{"delete active, newer unproven", false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := mustDB(t, Limits{Flows: 1})
			for _, s := range []*SA{sa(t, 0x100, Outbound, 0, 1), sa(t, 0x101, Inbound, 0, 1),
				sa(t, 0x200, Outbound, 0, 2), sa(t, 0x201, Inbound, 0, 2)} {
				if err := db.Install(s); err != nil {
					t.Fatal(err)
				}
			}
			if db.Established(0) {
				t.Fatal("established before any activation")
			}
			if prev, err := db.Activate(0x100); err != nil || prev != nil {
				t.Fatalf("Activate = %v, %v", prev, err)
			}
			if !db.Established(0) || db.Active(0).SPI != 0x100 || db.Active(0).State() != StateActive {
				t.Fatal("not active")
			}
			if db.Outbound(0x200).State() != StateInactive || db.Inbound(0x201).State() != StateInstalled {
				t.Fatal("states")
			}
			if tt.proveNew {
				if tt.viaSeen {
					if !db.MarkSeen(db.Inbound(0x201)) || db.MarkSeen(db.Inbound(0x201)) {
						t.Fatal("MarkSeen first/again")
					}
				} else {
					db.MarkProven(2)
				}
			}
			gone, next, err := db.Delete(Outbound, 0x100)
			if err != nil || gone.SPI != 0x100 {
				t.Fatal(err)
			}
			var got uint32
			if a := db.Active(0); a != nil {
				got = a.SPI
			}
			if got != tt.wantActive || (next != nil) != (tt.wantActive != 0) {
				t.Errorf("active after delete = %#x (next %v), want %#x", got, next, tt.wantActive)
			}
			if _, _, err := db.Delete(Outbound, 0x100); !errors.Is(err, ErrNotFound) {
				t.Errorf("second delete: %v", err)
			}
			if db.FlowLen(0) != 3 {
				t.Errorf("FlowLen = %d", db.FlowLen(0))
			}
		})
	}
}

func TestActivateReplaces(t *testing.T) {
	db := mustDB(t, Limits{Flows: 1})
	db.Install(sa(t, 0x100, Outbound, 0, 1))
	db.Install(sa(t, 0x200, Outbound, 0, 2))
	db.Activate(0x100)
	prev, err := db.Activate(0x200)
	if err != nil || prev == nil || prev.SPI != 0x100 || prev.Active() {
		t.Fatalf("Activate = %v, %v", prev, err)
	}
	if _, err := db.Activate(0x999); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown SPI: %v", err)
	}
}

func TestDue(t *testing.T) {
	db := mustDB(t, Limits{Flows: 1})
	s := sa(t, 0x100, Outbound, 0, 1)
	s.Soft, s.Hard = Lifetime{Time: 10 * time.Second, Bytes: 100}, Lifetime{Time: 20 * time.Second, Bytes: 200}
	db.Install(s)
	if at, ok := db.NextDeadline(); !ok || at != 10*time.Second {
		t.Fatalf("NextDeadline = %v %v", at, ok)
	}
	if e := db.Due(nil, 9*time.Second); len(e) != 0 {
		t.Fatalf("early: %v", e)
	}
	if e := db.Due(nil, 10*time.Second); len(e) != 1 || e[0].Kind != SoftExpiry {
		t.Fatalf("soft: %v", e)
	}
	if e := db.Due(nil, 11*time.Second); len(e) != 0 {
		t.Fatalf("soft fired twice: %v", e)
	}
	if at, _ := db.NextDeadline(); at != 20*time.Second {
		t.Fatalf("NextDeadline after soft = %v", at)
	}
	// Bytes: a fresh SA crosses its byte limits through ESP traffic.
	b := sa(t, 0x200, Outbound, 0, 2)
	b.Soft, b.Hard = Lifetime{Bytes: 40}, Lifetime{Bytes: 80}
	db.Install(b)
	pkt := make([]byte, 20)
	pkt[0], pkt[3] = 0x45, 20
	kinds := func() (k []ExpiryKind) {
		for _, e := range db.Due(nil, 0) {
			if e.SA == b {
				k = append(k, e.Kind)
			}
		}
		return k
	}
	var seen []ExpiryKind
	for range 4 {
		if _, err := b.ESP.Seal(nil, pkt); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, kinds()...)
	}
	if len(seen) != 2 || seen[0] != SoftExpiry || seen[1] != HardExpiry {
		t.Errorf("byte expiries = %v, want soft then hard", seen)
	}
	if e := db.Due(nil, 20*time.Second); len(e) < 1 || e[0].Kind != HardExpiry {
		t.Errorf("hard by time: %v", e)
	}
}

// Input class: SAs that sealed almost 2^32 packets, with no lifetimes at
// all. The outbound one soft-expires once, at the packet that brings it
// within SeqSoftMargin of the end of its space; an inbound one never does
// (the sender rekeys), nor one with extended sequence numbers (its space
// is 2^64).
func TestDueNearSequenceEnd(t *testing.T) {
	db := mustDB(t, Limits{Flows: 1})
	out, in := sa(t, 0x100, Outbound, 0, 1), sa(t, 0x200, Inbound, 0, 1)
	esn, err := esp.NewSA(esp.Config{SPI: 0x300, Transform: esp.Transform{Cipher: esp.CipherAESGCM16, KeyBits: 128},
		EncKey: bytes.Repeat([]byte{3}, 20), ESN: true})
	if err != nil {
		t.Fatal(err)
	}
	wide := &SA{SPI: 0x300, Direction: Outbound, Flow: 0, MessageID: 2, ESP: esn}
	n := out.ESP.SealBudget() - SeqSoftMargin - 1
	for _, s := range []*SA{out, in, wide} {
		if err := db.Install(s); err != nil {
			t.Fatal(err)
		}
		if err := s.ESP.CoastSealed(n, 20); err != nil {
			t.Fatal(err)
		}
	}
	if e := db.Due(nil, 0); len(e) != 0 {
		t.Fatalf("one packet short of the margin: %v", e)
	}
	for _, s := range []*SA{out, in, wide} {
		if err := s.ESP.CoastSealed(1, 20); err != nil {
			t.Fatal(err)
		}
	}
	if e := db.Due(nil, 0); len(e) != 1 || e[0].SA != out || e[0].Kind != SoftExpiry {
		t.Fatalf("at the margin: %v, want one soft expiry of the 32-bit outbound SA", e)
	}
	if e := db.Due(nil, 0); len(e) != 0 {
		t.Fatalf("soft fired twice: %v", e)
	}
}

func TestSoftTime(t *testing.T) {
	r := rand.NewChaCha8([32]byte{1})
	lo, hi := time.Hour, time.Duration(0)
	for range 200 {
		s, err := SoftTime(100*time.Second, 10*time.Second, r)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi = min(lo, s), max(hi, s)
	}
	if lo <= 90*time.Second || hi > 100*time.Second || hi-lo < 5*time.Second {
		t.Errorf("range [%v, %v] not a spread within (90s, 100s]", lo, hi)
	}
	if s, _ := SoftTime(100*time.Second, 0, nil); s != 100*time.Second {
		t.Errorf("no fuzz: %v", s)
	}
	if s, _ := SoftTime(10*time.Second, time.Hour, r); s < 5*time.Second {
		t.Errorf("fuzz not capped at half: %v", s)
	}
	if _, err := SoftTime(10*time.Second, time.Second, bytes.NewReader(nil)); !errors.Is(err, ErrRandom) {
		t.Errorf("failing reader: %v", err)
	}
}

func TestNewLimits(t *testing.T) {
	if _, err := New(Limits{}); err == nil {
		t.Error("no flows accepted")
	}
	if _, err := New(Limits{Flows: 1, MaxPerFlow: 1}); err == nil {
		t.Error("room for less than a pair accepted")
	}
}

func BenchmarkInbound(b *testing.B) {
	db := mustDB(b, Limits{Flows: 1})
	db.Install(sa(b, 0x100, Inbound, 0, 1))
	b.ReportAllocs()
	for b.Loop() {
		if db.Inbound(0x100) == nil {
			b.Fatal("missing")
		}
	}
}
