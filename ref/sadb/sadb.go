// Package sadb is the IPsec SA database of the reference gateway: inbound
// SAs by SPI, and per protected flow at most one active outbound SA, the
// installed-but-not-yet-active ("next") ones and the superseded ones that
// are still installed — the current/next/previous keypairs of WireGuard.
//
// It is a pure data structure: it decides nothing about when to install,
// activate or rekey (that is the exchange's Profile and the gateway's
// business), holds no clock and reads no randomness except through
// SoftTime. Lifetimes are virtual times and byte counts; byte counts come
// from each SA's ESP statistics. Every mutation either succeeds completely
// or returns an *Error and changes nothing.
package sadb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/hitless-ike/hitless/ref/esp"
	"github.com/hitless-ike/hitless/ref/peer"
)

// Direction is the direction of an SA as seen by its holder: the seam's
// type, so the gateway reports SAs without converting.
type Direction = peer.Direction

// Directions.
const (
	Inbound  = peer.Inbound
	Outbound = peer.Outbound
)

// State names, as peer.SA.State uses them.
const (
	StateInstalled = "installed" // inbound SAs
	StateActive    = "active"    // the outbound SA protecting its flow
	StateInactive  = "inactive"  // outbound, not yet or no longer active
)

// Lifetime is when an SA expires: after Time since it was installed or
// after Bytes of inner packets; zero fields mean no limit.
type Lifetime struct {
	Time  time.Duration
	Bytes uint64
}

// SA is one installed SA. Fields set by the caller before Install are
// read-only afterwards; the database maintains the rest.
type SA struct {
	SPI       uint32
	Direction Direction
	Flow      int
	// MessageID of the Quick Mode that negotiated it; the inbound and
	// outbound SA of one exchange form a pair.
	MessageID uint32
	ESP       *esp.SA
	Transform string // e.g. "aes128-sha1"
	KeyID     string // short digest of keys and transform
	Installed time.Duration
	// Soft and Hard are absolute: Time is a virtual time (0: none).
	Soft, Hard Lifetime

	active    bool
	proven    bool // outbound: the peer has shown it holds the pair
	seen      bool // inbound: an ESP packet authenticated on it
	softFired bool
	seq       uint64 // install order, for "newest"
}

// Active reports whether the outbound SA protects its flow.
func (s *SA) Active() bool { return s.active }

// Proven reports whether the peer has shown it holds this outbound SA's
// pair (ESP authenticated on the paired inbound SA, or the exchange
// completed).
func (s *SA) Proven() bool { return s.proven }

// SoftExpired reports whether the soft lifetime has passed (as reported
// by Due).
func (s *SA) SoftExpired() bool { return s.softFired }

// Seen reports whether an ESP packet was authenticated on this inbound SA.
func (s *SA) Seen() bool { return s.seen }

// State returns StateInstalled, StateActive or StateInactive.
func (s *SA) State() string {
	switch {
	case s.Direction == Inbound:
		return StateInstalled
	case s.active:
		return StateActive
	}
	return StateInactive
}

// Stats returns the ESP SA's packet and byte counts (zero without one).
func (s *SA) Stats() esp.Stats {
	if s.ESP == nil {
		return esp.Stats{}
	}
	return s.ESP.Stats()
}

// Sentinel errors, usable with errors.Is; the database returns *Error
// values wrapping them.
var (
	// ErrExists: an SA with this SPI and direction is already installed.
	ErrExists = errors.New("sadb: SA already installed")
	// ErrNotFound: no SA with this SPI and direction.
	ErrNotFound = errors.New("sadb: no such SA")
	// ErrFlowFull: the flow already holds Limits.MaxPerFlow SAs.
	ErrFlowFull = errors.New("sadb: too many SAs for the flow")
	// ErrTotalFull: the database already holds Limits.MaxTotal SAs.
	ErrTotalFull = errors.New("sadb: too many SAs")
	// ErrBadFlow: the flow index is outside the configured flows.
	ErrBadFlow = errors.New("sadb: unknown flow")
	// ErrBadSA: the SA is unusable (SPI 0, no direction, no ESP state).
	ErrBadSA = errors.New("sadb: invalid SA")
	// ErrRandom: the randomness given to SoftTime failed.
	ErrRandom = errors.New("sadb: randomness failed")
)

// Error is an error of this package: one of the sentinels, the SPI and
// direction concerned.
type Error struct {
	Kind      error
	SPI       uint32
	Direction Direction
}

// Error formats kind, SPI and direction.
func (e *Error) Error() string {
	return fmt.Sprintf("%v (%v SPI %#08x)", e.Kind, e.Direction, e.SPI)
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Kind }

// Limits bound the database.
type Limits struct {
	// Flows is the number of flows, indexed 0..Flows-1.
	Flows int
	// MaxPerFlow bounds SAs (both directions) per flow; 0 means 8.
	MaxPerFlow int
	// MaxTotal bounds all SAs; 0 means MaxPerFlow*Flows.
	MaxTotal int
}

// DB is the SA database. It is not safe for concurrent use.
type DB struct {
	lim   Limits
	in    map[uint32]*SA
	out   map[uint32]*SA
	all   []*SA // install order: deterministic iteration
	flows []flow
	seq   uint64
}

type flow struct {
	active *SA
	n      int
	ever   bool // an outbound SA was ever activated
}

// New returns an empty database.
func New(lim Limits) (*DB, error) {
	if lim.MaxPerFlow == 0 {
		lim.MaxPerFlow = 8
	}
	if lim.MaxTotal == 0 {
		lim.MaxTotal = lim.MaxPerFlow * lim.Flows
	}
	if lim.Flows < 1 || lim.MaxPerFlow < 2 || lim.MaxTotal < 2 {
		return nil, &Error{Kind: ErrBadSA}
	}
	return &DB{lim: lim, in: map[uint32]*SA{}, out: map[uint32]*SA{}, flows: make([]flow, lim.Flows)}, nil
}

func (db *DB) table(d Direction) map[uint32]*SA {
	if d == Inbound {
		return db.in
	}
	return db.out
}

// Install adds sa, inactive. The database keeps the pointer.
func (db *DB) Install(sa *SA) error {
	e := func(k error) error { return &Error{Kind: k, SPI: sa.SPI, Direction: sa.Direction} }
	switch {
	case sa.SPI == 0 || (sa.Direction != Inbound && sa.Direction != Outbound):
		return e(ErrBadSA)
	case sa.Flow < 0 || sa.Flow >= len(db.flows):
		return e(ErrBadFlow)
	case db.table(sa.Direction)[sa.SPI] != nil:
		return e(ErrExists)
	case db.flows[sa.Flow].n >= db.lim.MaxPerFlow:
		return e(ErrFlowFull)
	case len(db.all) >= db.lim.MaxTotal:
		return e(ErrTotalFull)
	}
	db.seq++
	sa.seq, sa.active, sa.proven, sa.seen, sa.softFired = db.seq, false, false, false, false
	db.table(sa.Direction)[sa.SPI] = sa
	db.all = append(db.all, sa)
	db.flows[sa.Flow].n++
	return nil
}

// Inbound returns the inbound SA with spi, or nil. It does not allocate.
func (db *DB) Inbound(spi uint32) *SA { return db.in[spi] }

// Outbound returns the outbound SA with spi, or nil.
func (db *DB) Outbound(spi uint32) *SA { return db.out[spi] }

// Active returns the active outbound SA of flow, or nil.
func (db *DB) Active(flow int) *SA {
	if flow < 0 || flow >= len(db.flows) {
		return nil
	}
	return db.flows[flow].active
}

// Established reports whether flow ever had an active outbound SA.
func (db *DB) Established(flow int) bool {
	return flow >= 0 && flow < len(db.flows) && db.flows[flow].ever
}

// Pair returns the SA of the other direction negotiated with sa, or nil.
func (db *DB) Pair(sa *SA) *SA {
	for _, o := range db.all {
		if o.MessageID == sa.MessageID && o.Direction != sa.Direction && o.Flow == sa.Flow {
			return o
		}
	}
	return nil
}

// ByMessageID returns the SA of direction d negotiated by Quick Mode mid.
func (db *DB) ByMessageID(mid uint32, d Direction) *SA {
	for _, o := range db.all {
		if o.MessageID == mid && o.Direction == d {
			return o
		}
	}
	return nil
}

// Activate makes outbound SA spi the active one of its flow and returns
// the SA it replaced (nil if none, or if spi was already active).
func (db *DB) Activate(spi uint32) (prev *SA, err error) {
	sa := db.out[spi]
	if sa == nil {
		return nil, &Error{Kind: ErrNotFound, SPI: spi, Direction: Outbound}
	}
	f := &db.flows[sa.Flow]
	if f.active == sa {
		return nil, nil
	}
	prev = f.active
	if prev != nil {
		prev.active = false
	}
	sa.active, f.active, f.ever = true, sa, true
	return prev, nil
}

// MarkSeen records that ESP was authenticated on inbound SA sa, which
// proves the peer holds the pair: the paired outbound SA becomes proven.
// It reports whether this was the first packet.
func (db *DB) MarkSeen(sa *SA) (first bool) {
	if sa.seen {
		return false
	}
	sa.seen = true
	if p := db.Pair(sa); p != nil {
		p.proven = true
	}
	return true
}

// MarkProven records that the exchange mid completed: its outbound SA is
// proven.
func (db *DB) MarkProven(mid uint32) {
	if sa := db.ByMessageID(mid, Outbound); sa != nil {
		sa.proven = true
	}
}

// Delete removes the SA spi of direction d. When it was the active
// outbound SA, the newest other proven outbound SA of its flow becomes
// active (returned as next); if there is none, the flow has no active SA.
func (db *DB) Delete(d Direction, spi uint32) (gone, next *SA, err error) {
	t := db.table(d)
	sa := t[spi]
	if sa == nil {
		return nil, nil, &Error{Kind: ErrNotFound, SPI: spi, Direction: d}
	}
	delete(t, spi)
	db.all = slices.DeleteFunc(db.all, func(o *SA) bool { return o == sa })
	f := &db.flows[sa.Flow]
	f.n--
	if f.active == sa {
		sa.active, f.active = false, nil
		for _, o := range db.all {
			if o.Flow == sa.Flow && o.Direction == Outbound && o.proven && (next == nil || o.seq > next.seq) {
				next = o
			}
		}
		if next != nil {
			next.active, f.active = true, next
		}
	}
	return sa, next, nil
}

// All returns the installed SAs in install order. The slice is the
// database's own: do not modify it, and do not keep it across mutations.
func (db *DB) All() []*SA { return db.all }

// Len returns the number of installed SAs.
func (db *DB) Len() int { return len(db.all) }

// FlowLen returns the number of SAs installed for flow.
func (db *DB) FlowLen(flow int) int {
	if flow < 0 || flow >= len(db.flows) {
		return 0
	}
	return db.flows[flow].n
}

// ExpiryKind says which lifetime passed.
type ExpiryKind uint8

// Expiry kinds.
const (
	SoftExpiry ExpiryKind = iota + 1 // rekey now
	HardExpiry                       // delete now
)

// Expiry is one lifetime that passed.
type Expiry struct {
	Kind ExpiryKind
	SA   *SA
}

// SeqSoftMargin is how many sequence numbers an outbound SA has left when
// it soft-expires whatever its lifetimes: a sender must rekey before the
// counter would cycle (RFC 4303 §3.3.3), and a rekey needs time. In
// practice only 32-bit sequence numbers get there; the margin is about 6 %
// of their space, minutes at a million packets a second.
const SeqSoftMargin = 1 << 28

// SeqSoftDue reports whether outbound SA s is within SeqSoftMargin of the
// end of its sequence space.
func (s *SA) SeqSoftDue() bool {
	return s.Direction == Outbound && s.ESP != nil && s.ESP.SealBudget() <= SeqSoftMargin
}

// Due appends to dst the lifetimes that have passed at now, each soft
// expiry once, in install order, and returns it. Hard-expired SAs stay
// installed until the caller deletes them. An outbound SA near the end of
// its sequence space soft-expires too (SeqSoftMargin).
func (db *DB) Due(dst []Expiry, now time.Duration) []Expiry {
	for _, sa := range db.all {
		st := sa.Stats()
		if (sa.Hard.Time != 0 && now >= sa.Hard.Time) || (sa.Hard.Bytes != 0 && st.Bytes >= sa.Hard.Bytes) {
			dst = append(dst, Expiry{HardExpiry, sa})
			continue
		}
		if !sa.softFired && ((sa.Soft.Time != 0 && now >= sa.Soft.Time) || (sa.Soft.Bytes != 0 && st.Bytes >= sa.Soft.Bytes) || sa.SeqSoftDue()) {
			sa.softFired = true
			dst = append(dst, Expiry{SoftExpiry, sa})
		}
	}
	return dst
}

// NextDeadline returns the earliest time lifetime of any SA still to
// fire. Byte lifetimes have no time; the caller checks Due after traffic.
func (db *DB) NextDeadline() (time.Duration, bool) {
	var t time.Duration
	ok := false
	take := func(v time.Duration) {
		if v != 0 && (!ok || v < t) {
			t, ok = v, true
		}
	}
	for _, sa := range db.all {
		if !sa.softFired {
			take(sa.Soft.Time)
		}
		take(sa.Hard.Time)
	}
	return t, ok
}

// SoftTime returns the soft lifetime shortened by a uniformly random
// amount in [0, fuzz), drawn from r, so that two peers configured alike
// do not start their rekeys at the same moment (strongSwan's rand_time).
// A fuzz of zero returns soft without reading r; the result is never
// below half of soft.
func SoftTime(soft, fuzz time.Duration, r io.Reader) (time.Duration, error) {
	if fuzz <= 0 || soft <= 0 {
		return soft, nil
	}
	if fuzz > soft/2 {
		fuzz = soft / 2
	}
	if fuzz <= 0 {
		return soft, nil
	}
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrRandom, err)
	}
	return soft - time.Duration(binary.BigEndian.Uint64(b[:])%uint64(fuzz)), nil
}
