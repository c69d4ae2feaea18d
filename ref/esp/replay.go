package esp

// Anti-replay window sizes, in packets (RFC 4303 §3.4.3).
const (
	// DefaultReplayWindow is used when Config.ReplayWindow is zero. It is
	// larger than the RFC's minimum of 32 so that moderate reordering by the
	// network (or the simulator) is not mistaken for replay.
	DefaultReplayWindow = 128
	// MinReplayWindow is the smallest window accepted.
	MinReplayWindow = 64
	// MaxReplayWindow bounds the bitmap's memory (8 KiB).
	MaxReplayWindow = 1 << 16
)

// window is the receiver's anti-replay state: the highest authenticated
// sequence number and a bitmap of the size() numbers ending at it. The
// bitmap is a ring indexed by seq mod size(), so advancing it clears only
// the bits that scroll in instead of shifting every word.
type window struct {
	top  uint64   // highest authenticated sequence number; 0 before the first
	bits []uint64 // len(bits)*64 == window size
}

func newWindow(size int) window { return window{bits: make([]uint64, size/64)} }

func (w *window) size() uint64 { return uint64(len(w.bits)) * 64 }

func (w *window) bit(seq uint64) (word int, mask uint64) {
	i := seq % w.size()
	return int(i / 64), 1 << (i % 64)
}

// infer expands the 32 transmitted bits of a sequence number to 64 with
// the receiver's guess of the high half (RFC 4303 Appendix A2.2). A wrong
// guess is caught by the ICV, which covers the high half.
func (w *window) infer(lo uint32, esn bool) uint64 {
	if !esn {
		return uint64(lo)
	}
	wsize := uint32(w.size())
	tl, th := uint32(w.top), uint32(w.top>>32)
	bottom := tl - wsize + 1 // wraps when the window spans two subspaces
	if tl >= wsize-1 {
		// Case A: the window lies within one 2^32 subspace.
		if lo >= bottom {
			return uint64(th)<<32 | uint64(lo)
		}
		return uint64(th+1)<<32 | uint64(lo)
	}
	// Case B: the window straddles the start of subspace th.
	if lo >= bottom && th > 0 {
		return uint64(th-1)<<32 | uint64(lo)
	}
	return uint64(th)<<32 | uint64(lo)
}

// check reports why seq must be dropped, or "" if it may be processed.
// It changes nothing: the window moves only after authentication.
func (w *window) check(seq uint64) string {
	switch {
	case seq == 0:
		return "sequence number zero is never sent"
	case seq > w.top:
		return ""
	case w.top-seq >= w.size():
		return "left of the replay window"
	}
	word, mask := w.bit(seq)
	if w.bits[word]&mask != 0 {
		return "duplicate sequence number"
	}
	return ""
}

// update records an authenticated seq that passed check.
func (w *window) update(seq uint64) {
	if seq > w.top {
		if seq-w.top >= w.size() {
			clear(w.bits)
		} else {
			for s := w.top + 1; s < seq; s++ {
				word, mask := w.bit(s)
				w.bits[word] &^= mask
			}
		}
		w.top = seq
	}
	word, mask := w.bit(seq)
	w.bits[word] |= mask
}
