package esp

import (
	"errors"
	"testing"

	"pgregory.net/rapid"
)

func TestWindowEdges(t *testing.T) {
	for _, size := range []int{64, 1024} {
		w := newWindow(size)
		W := uint64(size)
		accept := func(seq uint64) {
			t.Helper()
			if why := w.check(seq); why != "" {
				t.Fatalf("W=%d top=%d: seq %d rejected: %s", size, w.top, seq, why)
			}
			w.update(seq)
		}
		reject := func(seq uint64, why string) {
			t.Helper()
			if got := w.check(seq); got != why {
				t.Fatalf("W=%d top=%d: seq %d: %q, want %q", size, w.top, seq, got, why)
			}
		}
		reject(0, "sequence number zero is never sent")
		accept(1)
		reject(1, "duplicate sequence number")
		top := 10 * W
		accept(top)
		accept(top - W + 1) // oldest number still inside the window
		reject(top-W+1, "duplicate sequence number")
		reject(top-W, "left of the replay window")
		reject(1, "left of the replay window")
		for s := top - W + 2; s < top; s++ {
			accept(s) // out of order, anywhere inside the window
		}
		for s := top - W + 1; s <= top; s++ {
			reject(s, "duplicate sequence number")
		}
		// Advancing by less than W keeps the overlap and clears the rest.
		accept(top + W/2)
		reject(top, "duplicate sequence number")
		accept(top + 1)
		reject(top-W/2, "left of the replay window")
		reject(top-W/2+1, "duplicate sequence number") // kept from before the move
		accept(top + 2)
		// A jump of exactly W forgets everything before it.
		top = w.top
		accept(top + W)
		reject(top, "left of the replay window")
		accept(top + 1)
	}
}

// The window must agree with the plain definition of RFC 4303 §3.4.3:
// accept a non-zero number that was never accepted and is within W of the
// highest one accepted.
func TestWindowModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		size := 64 * rapid.IntRange(1, 4).Draw(t, "words")
		w := newWindow(size)
		seen := map[uint64]bool{}
		var top uint64
		base := rapid.Uint64Range(0, 1<<40).Draw(t, "base")
		for range rapid.IntRange(1, 300).Draw(t, "n") {
			seq := base + rapid.Uint64Range(0, uint64(3*size)).Draw(t, "delta")
			if rapid.IntRange(0, 4).Draw(t, "jump") == 0 {
				base += rapid.Uint64Range(0, uint64(2*size)).Draw(t, "advance")
			}
			want := seq != 0 && !seen[seq] && (seq > top || top-seq < uint64(size))
			if got := w.check(seq) == ""; got != want {
				t.Fatalf("W=%d top=%d seq=%d: accept=%v, model %v", size, top, seq, got, want)
			}
			if want && rapid.Bool().Draw(t, "authentic") {
				w.update(seq)
				seen[seq] = true
				top = max(top, seq)
			}
		}
	})
}

// infer must place the sequence number in the 2^32 numbers starting at the
// bottom of the window (RFC 4303 Appendix A2.1), and with ESN off return
// the transmitted bits.
func TestInferModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		size := 64 * rapid.IntRange(1, 16).Draw(t, "words")
		w := newWindow(size)
		w.top = rapid.OneOf(
			rapid.Uint64Range(0, 1<<62),
			rapid.Uint64Range(0, 3*uint64(size)),
			rapid.Uint64Range(1<<32-uint64(size), 1<<32+uint64(size)),
		).Draw(t, "top")
		var bottom uint64
		if w.top+1 >= uint64(size) {
			bottom = w.top + 1 - uint64(size)
		}
		// Values next to the window's edges are where the cases split.
		lo := rapid.OneOf(
			rapid.Uint32(),
			rapid.Custom(func(t *rapid.T) uint32 {
				return uint32(bottom) + uint32(rapid.IntRange(-2, 2).Draw(t, "d"))
			}),
			rapid.Custom(func(t *rapid.T) uint32 {
				return uint32(w.top) + uint32(rapid.IntRange(-2, 2).Draw(t, "d"))
			}),
		).Draw(t, "lo")
		want := bottom + uint64(lo-uint32(bottom))
		if got := w.infer(lo, true); got != want {
			t.Fatalf("W=%d top=%#x lo=%#x: infer=%#x, want %#x", size, w.top, lo, got, want)
		}
		if got := w.infer(lo, false); got != uint64(lo) {
			t.Fatalf("without ESN: %#x", got)
		}
	})
}

// Across the 2^32 boundary, ESN packets arriving out of order within the
// window are all delivered once, and their replays are dropped.
func TestESNWrap(t *testing.T) {
	for _, size := range []int{64, 1024} {
		for _, tr := range []Transform{allTransforms[0], allTransforms[6]} {
			c := testConfig(tr, 0x42, true, 9)
			c.ReplayWindow = size
			out, in := pair(t, c)
			out.seq = 1<<32 - 40
			in.win.top = out.seq
			var pkts [][]byte
			for range 80 {
				p, err := out.Seal(nil, inner(4, 40))
				if err != nil {
					t.Fatal(err)
				}
				pkts = append(pkts, p)
			}
			// Deliver in pairs swapped, then the whole lot again.
			for i := 0; i+1 < len(pkts); i += 2 {
				for _, j := range []int{i + 1, i} {
					if _, err := in.Open(nil, pkts[j]); err != nil {
						t.Fatalf("%v W=%d packet %d: %v", tr, size, j, err)
					}
				}
			}
			if in.HighestSeq() != 1<<32+40 {
				t.Fatalf("highest %#x", in.HighestSeq())
			}
			for j, p := range pkts {
				if _, err := in.Open(nil, p); !errors.Is(err, Replay) && !errors.Is(err, AuthFailed) {
					t.Fatalf("%v W=%d replay of %d: %v", tr, size, j, err)
				}
			}
		}
	}
}

// TestInferEdges walks the case boundaries of Appendix A deterministically.
func TestInferEdges(t *testing.T) {
	for _, size := range []uint64{64, 1024} {
		w := newWindow(int(size))
		for _, top := range []uint64{0, 1, size - 2, size - 1, size, 1<<32 - 1, 1 << 32,
			1<<32 + size - 2, 1<<32 + size - 1, 1<<32 + size, 3<<32 + 5} {
			w.top = top
			var bottom uint64
			if top+1 >= size {
				bottom = top + 1 - size
			}
			for _, d := range []uint32{0, 1, 2, 1<<31 - 1, 1 << 31, 1<<32 - 2, 1<<32 - 1} {
				for _, lo := range []uint32{uint32(bottom) + d, uint32(top) + d} {
					want := bottom + uint64(lo-uint32(bottom))
					if got := w.infer(lo, true); got != want {
						t.Errorf("W=%d top=%#x lo=%#x: infer=%#x, want %#x", size, top, lo, got, want)
					}
				}
			}
		}
	}
}
