package netsim

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestEventHeapOrdersByTimeThenSchedule(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	var h eventHeap
	for i := range 2000 {
		// Few distinct times, so ties are common.
		h.push(event{at: time.Duration(r.IntN(10)), seq: uint64(i)})
	}
	prev := h.pop()
	for len(h) > 0 {
		e := h.pop()
		if e.before(&prev) {
			t.Fatalf("(%v,%d) popped after (%v,%d)", e.at, e.seq, prev.at, prev.seq)
		}
		prev = e
	}
}

// TestTimerHeapMatchesModel drives the indexed heap with random set and
// remove calls and checks it against a plain per-peer table.
func TestTimerHeapMatchesModel(t *testing.T) {
	const peers = 50
	r := rand.New(rand.NewPCG(1, 1))
	h := newTimerHeap(peers)
	type ent struct {
		at  time.Duration
		seq uint64
		ok  bool
	}
	var model [peers]ent
	var seq uint64
	for range 20000 {
		p := int32(r.IntN(peers))
		switch r.IntN(3) {
		case 0, 1:
			seq++
			at := time.Duration(r.IntN(20))
			h.set(p, at, seq)
			model[p] = ent{at, seq, true}
		case 2:
			h.remove(p)
			model[p] = ent{}
		}
		// The top is the model's minimum; every position is consistent.
		best := int32(-1)
		for i, e := range model {
			if e.ok && (best < 0 || e.at < model[best].at || (e.at == model[best].at && e.seq < model[best].seq)) {
				best = int32(i)
			}
		}
		if best < 0 {
			if len(h.h) != 0 {
				t.Fatal("heap not empty")
			}
			continue
		}
		if h.h[0].peer != best {
			t.Fatalf("top %d, want %d", h.h[0].peer, best)
		}
		for i, e := range h.h {
			if h.pos[e.peer] != int32(i) || model[e.peer].at != e.at {
				t.Fatalf("entry %d inconsistent", i)
			}
		}
	}
}

func TestDupWindow(t *testing.T) {
	var w dupWindow
	steps := []struct {
		class string
		seq   uint64
		want  int
	}{
		{"first", 0, markNew},
		{"in order", 1, markNew},
		{"duplicate of newest", 1, markDup},
		{"gap", 10, markNew},
		{"reordered into gap", 5, markNew},
		{"duplicate of reordered", 5, markDup},
		{"jump beyond window", 10 + 2*dupWindowBits, markNew},
		{"old, unknowable", 10, markLate},
		{"edge of window, unseen", 11 + dupWindowBits, markNew},
		{"edge of window, seen", 11 + dupWindowBits, markDup},
		{"just outside window", 10 + dupWindowBits, markLate},
	}
	for _, s := range steps {
		if got := w.mark(s.seq); got != s.want {
			t.Errorf("%s (seq %d): %d, want %d", s.class, s.seq, got, s.want)
		}
	}
}
