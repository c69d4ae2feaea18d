package esp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

var coastTransforms = []Transform{
	{CipherAESCBC, 128, IntegrityHMACSHA1_96},
	{CipherAESCBC, 256, IntegrityHMACSHA256_128},
	{CipherAESGCM16, 128, IntegrityNone},
	{CipherNull, 0, IntegrityHMACSHA256_128},
}

// twins returns two SAs built from equal Configs, each with its own IV
// source seeded alike.
func twins(t testing.TB, c func() Config) (a, b *SA) {
	t.Helper()
	a, err := NewSA(c())
	if err != nil {
		t.Fatal(err)
	}
	if b, err = NewSA(c()); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// dropOf returns the fields of a *DropError that must agree between Open
// and CoastOpened (the Detail only for Replay, which both take from the
// window), or nil.
func dropOf(t *testing.T, err error) *DropError {
	t.Helper()
	if err == nil {
		return nil
	}
	var de *DropError
	if !errors.As(err, &de) {
		t.Fatalf("error %v is not a *DropError", err)
	}
	c := *de
	if c.Reason != Replay {
		c.Detail = ""
	}
	return &c
}

// CoastSealed must leave an SA exactly where Seal leaves it: same
// counters, and the next real packet identical byte for byte (same
// sequence number and, for AES-CBC, same position in the IV source).
func TestCoastSealedMatchesSeal(t *testing.T) {
	for _, tc := range []struct {
		class string
		esn   bool
		start uint64 // LastSeq before
		n     uint64
	}{
		{"fresh SA", false, 0, 40},
		{"fresh SA, ESN", true, 0, 40},
		{"up to the last 32-bit number", false, math.MaxUint32 - 41, 40},
		{"across 2^32 with ESN", true, 1<<32 - 20, 40},
		{"n = 0", false, 5, 0},
	} {
		for _, tr := range coastTransforms {
			genuine, coast := twins(t, func() Config { return testConfig(tr, 0x51, tc.esn, 3) })
			genuine.seq, coast.seq = tc.start, tc.start
			p := inner(4, 120)
			for range tc.n {
				if _, err := genuine.Seal(nil, p); err != nil {
					t.Fatalf("%s %v: Seal: %v", tc.class, tr, err)
				}
			}
			if err := coast.CoastSealed(tc.n, len(p)); err != nil {
				t.Fatalf("%s %v: CoastSealed: %v", tc.class, tr, err)
			}
			if d := cmp.Diff(snap(genuine), snap(coast)); d != "" {
				t.Fatalf("%s %v: state differs (-Seal +CoastSealed):\n%s", tc.class, tr, d)
			}
			if genuine.SealBudget() != coast.SealBudget() || genuine.SealBudget() != genuine.maxSeq()-tc.start-tc.n {
				t.Errorf("%s %v: SealBudget after Seal %d, after CoastSealed %d", tc.class, tr, genuine.SealBudget(), coast.SealBudget())
			}
			a, errA := genuine.Seal(nil, p)
			b, errB := coast.Seal(nil, p)
			if errA != nil || errB != nil || !bytes.Equal(a, b) {
				t.Errorf("%s %v: next packets differ (errors %v, %v)", tc.class, tr, errA, errB)
			}
		}
	}
}

// CoastOpened must move the window and counters exactly as Open does, give
// the same verdicts, and leave a receiver that judges later real packets
// exactly as one that opened everything for real.
func TestCoastOpenedMatchesOpen(t *testing.T) {
	const W = MinReplayWindow
	seqs := func(from, to uint64) []uint64 { // inclusive, either direction
		var s []uint64
		for i := from; ; {
			s = append(s, i)
			if i == to {
				return s
			}
			if from < to {
				i++
			} else {
				i--
			}
		}
	}
	cat := func(parts ...[]uint64) []uint64 {
		var s []uint64
		for _, p := range parts {
			s = append(s, p...)
		}
		return s
	}
	for _, tc := range []struct {
		class string
		esn   bool
		top   uint64 // receiver's HighestSeq before
		seqs  []uint64
	}{
		{"in order", false, 0, seqs(1, 200)},
		{"reordered within the window", false, 0, cat(seqs(W, 1), seqs(2*W, W+1), seqs(2*W+1, 3*W))},
		{"duplicates", false, 0, cat(seqs(1, 10), seqs(1, 10), seqs(5, 15))},
		{"losses, then seqs left of the window", false, 0, cat(seqs(1, 5), seqs(40, 200), seqs(6, 39), seqs(130, 140))},
		{"jump beyond the window", false, 0, cat([]uint64{1, 3 * W}, seqs(2*W, 2*W+5), seqs(3*W-1, 3*W-10))},
		{"reordered across 2^32 with ESN", true, 1<<32 - 30, cat(seqs(1<<32+10, 1<<32-20), seqs(1<<32-40, 1<<32-29))},
		{"ESN seq beyond the window's reach", true, 100, []uint64{1<<32 + 50, 1<<32 + 200, 101, 1<<33 + 102}},
		{"last 32-bit numbers", false, math.MaxUint32 - 100, cat(seqs(math.MaxUint32, math.MaxUint32-70), seqs(math.MaxUint32-110, math.MaxUint32-90))},
	} {
		for _, tr := range coastTransforms {
			cfg := func() Config { c := testConfig(tr, 0x77, tc.esn, 4); c.ReplayWindow = W; return c }
			sender, _ := twins(t, cfg)
			genuine, coast := twins(t, cfg)
			genuine.win.top, coast.win.top = tc.top, tc.top
			p := inner(4, 100)
			sealed := map[uint64][]byte{}
			pkt := func(seq uint64) []byte {
				if b, ok := sealed[seq]; ok {
					return b
				}
				sender.seq = seq - 1
				b, err := sender.Seal(nil, p)
				if err != nil {
					t.Fatalf("%s %v: sealing %d: %v", tc.class, tr, seq, err)
				}
				sealed[seq] = b
				return b
			}
			for i, seq := range tc.seqs {
				_, errR := genuine.Open(nil, pkt(seq))
				errC := coast.CoastOpened(seq, len(p))
				if d := cmp.Diff(dropOf(t, errR), dropOf(t, errC)); d != "" {
					t.Fatalf("%s %v: #%d seq %d: verdicts differ (-Open +CoastOpened):\n%s", tc.class, tr, i, seq, d)
				}
				if d := cmp.Diff(snap(genuine), snap(coast)); d != "" {
					t.Fatalf("%s %v: #%d seq %d: state differs:\n%s", tc.class, tr, i, seq, d)
				}
			}
			// Afterwards both receivers judge every real packet alike: the
			// ones seen, their neighbours, and new ones.
			top := genuine.HighestSeq()
			later := append([]uint64(nil), tc.seqs...)
			for _, d := range []uint64{1, 2, W - 1, W, W + 1} {
				later = append(later, top+d)
				if top > d {
					later = append(later, top-d)
				}
			}
			for _, seq := range later {
				if seq == 0 || (!tc.esn && seq > math.MaxUint32) {
					continue
				}
				_, errR := genuine.Open(nil, pkt(seq))
				_, errC := coast.Open(nil, pkt(seq))
				if d := cmp.Diff(dropOf(t, errR), dropOf(t, errC)); d != "" {
					t.Fatalf("%s %v: later seq %d judged differently:\n%s", tc.class, tr, seq, d)
				}
			}
			if d := cmp.Diff(snap(genuine), snap(coast)); d != "" {
				t.Fatalf("%s %v: state differs after later packets:\n%s", tc.class, tr, d)
			}
		}
	}
}

// Past the sequence number space CoastSealed refuses as Seal does, with
// nothing changed (not even the IV source); exactly up to it, it succeeds.
func TestCoastSealedExhaustion(t *testing.T) {
	for _, tc := range []struct {
		class string
		esn   bool
		start uint64
	}{
		{"32-bit space, 3 numbers left", false, math.MaxUint32 - 3},
		{"ESN space, 3 numbers left", true, math.MaxUint64 - 3},
	} {
		ref, sa := twins(t, func() Config { return testConfig(coastTransforms[0], 9, tc.esn, 5) })
		ref.seq, sa.seq = tc.start, tc.start
		if got := sa.SealBudget(); got != 3 {
			t.Fatalf("%s: SealBudget %d, want 3", tc.class, got)
		}
		before := snap(sa)
		err := sa.CoastSealed(4, 100)
		wantDrop(t, tc.class+": one too many", err, Expired)
		if d := cmp.Diff(before, snap(sa)); d != "" {
			t.Fatalf("%s: refused CoastSealed changed state:\n%s", tc.class, d)
		}
		// The IV source did not move: the next packet is the reference's.
		a, _ := ref.Seal(nil, inner(4, 100))
		b, _ := sa.Seal(nil, inner(4, 100))
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: refused CoastSealed consumed IVs", tc.class)
		}
		if err := sa.CoastSealed(2, 100); err != nil || sa.SealBudget() != 0 || sa.LastSeq() != sa.maxSeq() {
			t.Fatalf("%s: exactly the budget: err %v, budget %d", tc.class, err, sa.SealBudget())
		}
		_, err = sa.Seal(nil, inner(4, 100))
		wantDrop(t, tc.class+": Seal when exhausted", err, Expired)
		before = snap(sa)
		wantDrop(t, tc.class+": CoastSealed when exhausted", sa.CoastSealed(1, 100), Expired)
		if err := sa.CoastSealed(0, 100); err != nil || cmp.Diff(before, snap(sa)) != "" {
			t.Fatalf("%s: CoastSealed(0) when exhausted: %v", tc.class, err)
		}
	}
}

// Refusals leave the SA unchanged and carry what Open would say.
func TestCoastRefusalsLeaveSAUnchanged(t *testing.T) {
	c := func() Config { c := testConfig(coastTransforms[0], 0x99, false, 6); c.ReplayWindow = 64; return c }
	sender, _ := twins(t, c)
	_, sa := twins(t, c)
	p := inner(4, 80)
	var pkts [][]byte
	for range 200 {
		b, _ := sender.Seal(nil, p)
		pkts = append(pkts, b)
	}
	for _, seq := range []uint64{1, 2, 3, 150} {
		if err := sa.CoastOpened(seq, len(p)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		class  string
		seq    uint64
		len    int
		reason Reason
		detail string
	}{
		{"sequence number zero", 0, 80, Replay, "sequence number zero is never sent"},
		{"duplicate", 150, 80, Replay, "duplicate sequence number"},
		{"left of the window", 3, 80, Replay, "left of the replay window"},
		{"left of the window, never seen", 50, 80, Replay, "left of the replay window"},
		{"above 2^32 without ESN", 1<<32 + 151, 80, AuthFailed, ""},
		{"inner length below an IPv4 header", 151, 19, Malformed, ""},
		{"inner length above 65535", 151, 65536, Malformed, ""},
	} {
		before := snap(sa)
		err := sa.CoastOpened(tc.seq, tc.len)
		wantDrop(t, tc.class, err, tc.reason)
		if de := dropOf(t, err); tc.detail != "" && de.Detail != tc.detail {
			t.Errorf("%s: detail %q, want %q", tc.class, de.Detail, tc.detail)
		}
		if d := cmp.Diff(before, snap(sa)); d != "" {
			t.Fatalf("%s: state changed:\n%s", tc.class, d)
		}
		if tc.reason == Replay && tc.seq != 0 {
			// Open says the same of the real packet.
			_, errO := sa.Open(nil, pkts[tc.seq-1])
			if d := cmp.Diff(dropOf(t, errO), dropOf(t, err)); d != "" {
				t.Errorf("%s: Open and CoastOpened disagree:\n%s", tc.class, d)
			}
		}
	}
	for _, n := range []int{0, 19, 65536} {
		before := snap(sender)
		wantDrop(t, "CoastSealed of an impossible inner length", sender.CoastSealed(1, n), Malformed)
		if d := cmp.Diff(before, snap(sender)); d != "" {
			t.Fatalf("CoastSealed(1, %d) changed state:\n%s", n, d)
		}
	}
}

// When the IV source fails mid-stretch, CoastSealed applies the packets
// Seal would have sealed before the failure.
func TestCoastSealedIVSourceFails(t *testing.T) {
	failing := func() Config {
		c := testConfig(coastTransforms[0], 0x42, false, 7)
		c.Rand = io.MultiReader(io.LimitReader(c.Rand, 2*16+5), iotest.ErrReader(errors.New("entropy gone")))
		return c
	}
	genuine, coast := twins(t, failing)
	for range 5 {
		_, _ = genuine.Seal(nil, inner(4, 64))
	}
	err := coast.CoastSealed(5, 64)
	if !errors.Is(err, ErrRandom) {
		t.Fatalf("err %v, want ErrRandom", err)
	}
	if d := cmp.Diff(snap(genuine), snap(coast)); d != "" || coast.LastSeq() != 2 {
		t.Fatalf("after a failing IV source (-Seal +CoastSealed):\n%s", d)
	}
}

func BenchmarkCoastOpened(b *testing.B) {
	_, in := pair(b, testConfig(coastTransforms[0], 1, true, 1))
	seq := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		if err := in.CoastOpened(seq, 1400); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCoastSealed is per packet: AES-CBC still draws an IV each.
func BenchmarkCoastSealed(b *testing.B) {
	for _, tr := range []Transform{coastTransforms[0], coastTransforms[2]} {
		b.Run(tr.String(), func(b *testing.B) {
			out, _ := pair(b, testConfig(tr, 1, true, 1))
			b.ReportAllocs()
			for b.Loop() {
				if err := out.CoastSealed(1, 1400); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
