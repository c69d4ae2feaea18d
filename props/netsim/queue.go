package netsim

import "time"

// evKind says what an event does when it fires.
type evKind uint8

const (
	evDatagram evKind = iota + 1 // deliver buf to side of tunnel
	evTraffic                    // generator idx of tunnel sends a packet
	evAction                     // Config.Actions[idx] on tunnel
)

// event is one timestamped entry of the queue. It is a plain struct, kept
// by value in the heap slice, so scheduling boxes nothing.
type event struct {
	at     time.Duration
	seq    uint64 // scheduling order: breaks ties between equal at
	kind   evKind
	side   Side  // receiving side (datagram) or acting side
	trans  uint8 // peer.Transport of a datagram
	ike    bool  // datagram is IKE (decided at transmit)
	tunnel int32
	idx    int32  // generator or action index
	epoch  uint32 // traffic: the generator's epoch when scheduled (stale if it moved on)
	buf    []byte // datagram bytes, owned by the queue until fired
}

func (e *event) before(o *event) bool {
	return e.at < o.at || (e.at == o.at && e.seq < o.seq)
}

// eventHeap is a 4-ary min-heap ordered by (at, seq). Four children per
// node halve the depth of a binary heap, and sifting moves a hole instead
// of swapping, so each level copies one event rather than two.
type eventHeap []event

const heapArity = 4

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / heapArity
		if !e.before(&s[p]) {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = e
}

func (h *eventHeap) pop() event {
	s := *h
	top := s[0]
	n := len(s) - 1
	last := s[n]
	s[n] = event{} // release buf
	s = s[:n]
	*h = s
	if n == 0 {
		return top
	}
	i := 0
	for {
		c := heapArity*i + 1
		if c >= n {
			break
		}
		m := c
		for k := c + 1; k < c+heapArity && k < n; k++ {
			if s[k].before(&s[m]) {
				m = k
			}
		}
		if !s[m].before(&last) {
			break
		}
		s[i] = s[m]
		i = m
	}
	s[i] = last
	return top
}

// timerHeap keeps at most one pending Tick per peer, indexed so that a
// peer's timer can be moved or cancelled in O(log n) without leaving stale
// entries behind.
type timerHeap struct {
	h   []timerEntry
	pos []int32 // peer id -> index in h, -1 when none
}

type timerEntry struct {
	at   time.Duration
	seq  uint64
	peer int32 // 2*tunnel + side
}

func (t *timerEntry) before(o *timerEntry) bool {
	return t.at < o.at || (t.at == o.at && t.seq < o.seq)
}

func newTimerHeap(peers int) timerHeap {
	pos := make([]int32, peers)
	for i := range pos {
		pos[i] = -1
	}
	return timerHeap{h: make([]timerEntry, 0, peers), pos: pos}
}

func (t *timerHeap) swap(i, j int) {
	t.h[i], t.h[j] = t.h[j], t.h[i]
	t.pos[t.h[i].peer] = int32(i)
	t.pos[t.h[j].peer] = int32(j)
}

func (t *timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.h[i].before(&t.h[p]) {
			break
		}
		t.swap(i, p)
		i = p
	}
}

func (t *timerHeap) down(i int) {
	n := len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && t.h[r].before(&t.h[l]) {
			m = r
		}
		if !t.h[m].before(&t.h[i]) {
			return
		}
		t.swap(i, m)
		i = m
	}
}

// set schedules peer's timer at at (seq orders it among equal times),
// replacing any pending one.
func (t *timerHeap) set(peer int32, at time.Duration, seq uint64) {
	if i := t.pos[peer]; i >= 0 {
		e := &t.h[i]
		e.at, e.seq = at, seq
		t.up(int(i))
		t.down(int(t.pos[peer]))
		return
	}
	t.h = append(t.h, timerEntry{at: at, seq: seq, peer: peer})
	i := len(t.h) - 1
	t.pos[peer] = int32(i)
	t.up(i)
}

// pending returns peer's scheduled time, if any.
func (t *timerHeap) pending(peer int32) (time.Duration, bool) {
	if i := t.pos[peer]; i >= 0 {
		return t.h[i].at, true
	}
	return 0, false
}

// remove cancels peer's timer.
func (t *timerHeap) remove(peer int32) {
	i := int(t.pos[peer])
	if i < 0 {
		return
	}
	n := len(t.h) - 1
	if i != n {
		t.swap(i, n)
	}
	t.h = t.h[:n]
	t.pos[peer] = -1
	if i < n {
		p := t.h[i].peer
		t.up(i)
		t.down(int(t.pos[p]))
	}
}
