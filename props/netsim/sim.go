package netsim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// ObservationKind says what an Observation reports.
type ObservationKind uint8

// Observation kinds.
const (
	// ObservedInput: Input is about to be given to the peer.
	ObservedInput ObservationKind = iota + 1
	// ObservedOutput: the peer answered Output.
	ObservedOutput
	// ObservedNetwork: the network did something to a datagram Side
	// transmitted; Reason is "lost", "filtered" or "duplicated".
	ObservedNetwork
)

// Observation is one thing the observer sees, at virtual time At, on one
// side of one tunnel. Byte slices in it are reused afterwards.
type Observation struct {
	At     time.Duration
	Tunnel int
	Side   Side
	Kind   ObservationKind
	Input  peer.Input  // ObservedInput
	Output peer.Output // ObservedOutput
	// Datagram and Reason are set for ObservedNetwork.
	Datagram peer.Datagram
	Reason   string
}

// ErrNilPeer is returned by New when newPair returns a nil Peer.
var ErrNilPeer = errors.New("netsim: newPair returned a nil peer")

// ErrStuckTimer is matched (errors.Is) by a StuckTimerError.
var ErrStuckTimer = errors.New("netsim: peer timer does not advance")

// StuckTimerError reports a peer whose NextTimer stayed at or before the
// current time after maxTicksAtOnce Ticks at that time; the run stops
// there rather than loop forever.
type StuckTimerError struct {
	Tunnel int
	Side   Side
	At     time.Duration
}

// Error implements error.
func (e *StuckTimerError) Error() string {
	return fmt.Sprintf("netsim: tunnel %d side %v: timer stuck at %v", e.Tunnel, e.Side, e.At)
}

// Is makes errors.Is(err, ErrStuckTimer) true.
func (e *StuckTimerError) Is(target error) bool { return target == ErrStuckTimer }

// maxTicksAtOnce is how many Ticks one peer may take at one instant.
const maxTicksAtOnce = 64

// maxReasons bounds the distinct drop reasons kept; further ones are
// counted under OtherReasons.
const maxReasons = 64

// OtherReasons collects drops whose reason came after maxReasons distinct
// ones, so a peer inventing reasons cannot grow memory without bound.
const OtherReasons = "(other)"

// maxExchangesTracked bounds the in-flight exchanges remembered per peer
// for collision detection; more are counted but not tracked.
const maxExchangesTracked = 16

// pcgStream is mixed into every datagram's stream key.
const pcgStream = 0x6869746c657373 // "hitless"

// genSpec is a Traffic with its derived constants.
type genSpec struct {
	Traffic
	stop     time.Duration
	src, dst [4]byte
}

// genState is one generator instance (one Traffic on one tunnel).
type genState struct {
	seq   uint64        // packets sent
	cycle time.Duration // start of the current on-period
	j     uint64        // packets sent in it
	next  time.Duration // when the scheduled packet is due, if pending
	// pending is set while a traffic event of the current epoch is queued;
	// coasting bumps epoch to void the queued one and schedules anew.
	pending bool
	epoch   uint32
	win     dupWindow // receiver side: which seqs arrived
}

// dupWindow remembers which of the last dupWindowBits sequence numbers
// arrived, so duplicates are found in bounded memory.
type dupWindow struct {
	top  uint64 // highest seq seen + 1; 0 when none
	bits [dupWindowBits / 64]uint64
}

const dupWindowBits = 1024

const (
	markNew = iota
	markDup
	markLate // too far behind to tell
)

func (w *dupWindow) mark(seq uint64) int {
	if seq >= w.top {
		if seq-w.top >= dupWindowBits {
			w.bits = [dupWindowBits / 64]uint64{}
		} else {
			for s := w.top; s < seq; s++ {
				w.bits[s/64%uint64(len(w.bits))] &^= 1 << (s % 64)
			}
		}
		w.top = seq + 1
		w.bits[seq/64%uint64(len(w.bits))] |= 1 << (seq % 64)
		return markNew
	}
	if w.top-seq > dupWindowBits {
		return markLate
	}
	word, bit := &w.bits[seq/64%uint64(len(w.bits))], uint64(1)<<(seq%64)
	if *word&bit != 0 {
		return markDup
	}
	*word |= bit
	return markNew
}

type openRekey struct {
	at   time.Duration
	loss uint64
}

type exchangeID struct {
	flow int
	msg  uint32
}

// tunnel is one peer pair and its counters.
type tunnel struct {
	peers     [2]peer.Peer
	links     *[2]Link  // from A, from B; nil: Config.AB and BA
	sent      [2][2]int // datagrams transmitted per side, [ike, esp]
	tickAt    [2]time.Duration
	ticks     [2]uint16
	lack      []time.Duration // recent lack-of-SA drop times, within the window
	open      []openRekey     // activations whose window is still open
	exchange  [2][]exchangeID // in flight per side
	ikeFlight int32           // IKE datagrams on the wire
	espFlight [2]flight       // ESP datagrams on the wire, by sending side
	res       TunnelResult
}

// Sim is one simulation in progress. It is not safe for concurrent use.
type Sim struct {
	cfg    Config
	window time.Duration
	// Every datagram draws its fate from its own stream, keyed by tunnel,
	// side, class and count (reseed), so draws do not depend on how
	// events of different tunnels interleave, and coasting draws the same.
	pcg     rand.PCG
	rng     *rand.Rand
	now     time.Duration
	coastOK bool            // Config.Coast, and at most one generator per side
	limit   time.Duration   // coasting horizon: RunUntil's target, 0 outside it
	actAt   []time.Duration // sorted Action times, for the coasting horizon
	seq     uint64
	events  eventHeap
	timers  timerHeap
	tunnels []tunnel
	gens    []genSpec
	state   []genState // tunnel*len(gens) + gen
	free    [][]byte
	pkt     []byte
	err     error

	nEvents    uint64
	m          counters
	dropIndex  map[string]int
	drops      []ReasonCount
	lat, added Histogram
	rekeys     RekeyStats
	series     []uint64 // deliveries per Config.Bucket
	// sending is set while a generator's Send is being stepped: the ESP
	// datagram it transmits carries that probe (see flight).
	sending struct {
		on    bool
		side  Side
		probe uint64
	}
}

// New builds a simulation of cfg; newPair is called once per tunnel, in
// order, for its two peers. Configuration errors match ErrConfig.
func New(cfg Config, newPair func(tunnel int) (a, b peer.Peer)) (*Sim, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:       cfg,
		window:    cfg.RekeyWindow,
		timers:    newTimerHeap(2 * cfg.Tunnels),
		tunnels:   make([]tunnel, cfg.Tunnels),
		gens:      make([]genSpec, len(cfg.Traffic)),
		state:     make([]genState, cfg.Tunnels*len(cfg.Traffic)),
		dropIndex: make(map[string]int),
		events:    make(eventHeap, 0, cfg.Tunnels*(len(cfg.Traffic)+2)),
	}
	s.rng = rand.New(&s.pcg)
	if cfg.Bucket > 0 {
		s.series = make([]uint64, cfg.Duration/cfg.Bucket+1)
	}
	if s.window == 0 {
		s.window = DefaultRekeyWindow
	}
	for i, t := range cfg.Traffic {
		g := genSpec{Traffic: t, stop: t.Stop}
		if g.stop == 0 || g.stop > cfg.Duration {
			g.stop = cfg.Duration
		}
		from, to := DefaultAddrA, DefaultAddrB
		if t.From == B {
			from, to = to, from
		}
		if t.Src.IsValid() {
			from = t.Src
		}
		if t.Dst.IsValid() {
			to = t.Dst
		}
		g.src, g.dst = from.As4(), to.As4()
		s.gens[i] = g
	}
	for i := range s.tunnels {
		a, b := newPair(i)
		if a == nil || b == nil {
			return nil, fmt.Errorf("%w (tunnel %d)", ErrNilPeer, i)
		}
		s.tunnels[i].peers = [2]peer.Peer{a, b}
		if cfg.TunnelLinks != nil {
			ab, ba := cfg.TunnelLinks(i)
			if err := validateLinks(fmt.Sprintf("TunnelLinks(%d).", i), &ab, &ba); err != nil {
				return nil, err
			}
			s.tunnels[i].links = &[2]Link{ab, ba}
		}
	}
	for i := range s.tunnels {
		for side := A; side <= B; side++ {
			s.syncTimer(i, side, false)
		}
		for g := range s.gens {
			st := &s.state[i*len(s.gens)+g]
			st.cycle = s.gens[g].Start
			if s.gens[g].Start < s.gens[g].stop {
				s.schedule(i, g, s.gens[g].Start)
			}
		}
	}
	for i, a := range cfg.Actions {
		s.actAt = append(s.actAt, a.At)
		if a.Tunnel != AllTunnels {
			s.push(event{at: a.At, kind: evAction, side: a.Side, tunnel: int32(a.Tunnel), idx: int32(i)})
			continue
		}
		for t := range s.tunnels {
			s.push(event{at: a.At, kind: evAction, side: a.Side, tunnel: int32(t), idx: int32(i)})
		}
	}
	slices.Sort(s.actAt)
	// Two generators on one side would share an SA's sequence numbers:
	// coasting them apart would misnumber their packets.
	var sides [2]int
	for _, g := range cfg.Traffic {
		sides[g.From]++
	}
	s.coastOK = cfg.Coast && sides[A] <= 1 && sides[B] <= 1
	return s, nil
}

// Run simulates cfg for cfg.Duration and returns the result. A stuck peer
// timer ends the run early with Result.Err set.
func Run(cfg Config, newPair func(tunnel int) (a, b peer.Peer)) (Result, error) {
	s, err := New(cfg, newPair)
	if err != nil {
		return Result{}, err
	}
	s.RunUntil(cfg.Duration)
	return s.Result(), nil
}

// Now is the current virtual time.
func (s *Sim) Now() time.Duration { return s.now }

// Err is the error that stopped the run early, if any.
func (s *Sim) Err() error { return s.err }

func (s *Sim) push(e event) {
	s.seq++
	e.seq = s.seq
	s.events.push(e)
}

// peek returns the time of the next event and whether it is a timer.
func (s *Sim) peek() (at time.Duration, timer, ok bool) {
	for len(s.events) > 0 && s.stale(&s.events[0]) {
		s.events.pop()
	}
	var ev *event
	if len(s.events) > 0 {
		ev = &s.events[0]
	}
	if len(s.timers.h) > 0 {
		t := &s.timers.h[0]
		if ev == nil || t.at < ev.at || (t.at == ev.at && t.seq < ev.seq) {
			return t.at, true, true
		}
	}
	if ev == nil {
		return 0, false, false
	}
	return ev.at, false, true
}

// Step runs the next event, if there is one due no later than the end of
// the run, and reports whether it did.
func (s *Sim) Step() bool {
	if s.err != nil {
		return false
	}
	at, timer, ok := s.peek()
	if !ok || at > s.cfg.Duration {
		return false
	}
	s.now = at
	s.nEvents++
	if timer {
		id := s.timers.h[0].peer
		s.timers.remove(id)
		t, side := int(id/2), Side(id%2)
		s.stepPeer(t, side, peer.Input{Kind: peer.Tick, At: at})
		return true
	}
	e := s.events.pop()
	switch e.kind {
	case evDatagram:
		if s.coastOK {
			s.landed(&s.tunnels[e.tunnel], e.side.other(), e.ike, e.buf)
		}
		s.stepPeer(int(e.tunnel), e.side, peer.Input{Kind: peer.Receive, At: at,
			Datagram: peer.Datagram{Transport: peer.Transport(e.trans), Bytes: e.buf}})
		s.free = append(s.free, e.buf[:0])
	case evTraffic:
		s.state[int(e.tunnel)*len(s.gens)+int(e.idx)].pending = false
		if !s.coast(int(e.tunnel), int(e.idx)) {
			s.generate(int(e.tunnel), int(e.idx))
		}
	case evAction:
		s.act(int(e.tunnel), &s.cfg.Actions[e.idx])
	}
	return true
}

// RunUntil runs every event due at or before t (and before the end of the
// run), then moves the clock to t.
func (s *Sim) RunUntil(t time.Duration) {
	s.limit = min(t, s.cfg.Duration)
	defer func() { s.limit = 0 }()
	for {
		at, _, ok := s.peek()
		if !ok || at > t || !s.Step() {
			break
		}
	}
	if s.err == nil && t > s.now {
		s.now = min(t, s.cfg.Duration)
	}
}

func (s *Sim) generate(t, g int) {
	spec := &s.gens[g]
	st := &s.state[t*len(s.gens)+g]
	s.pkt = buildPacket(s.pkt, spec.Size, spec.src, spec.dst, spec.Flow,
		probe{tunnel: uint32(t), gen: uint16(g), side: spec.From, seq: st.seq, sent: s.now})
	st.seq++
	s.m.sent++
	s.tunnels[t].res.Sent++
	s.sending.on, s.sending.side, s.sending.probe = true, spec.From, st.seq-1
	s.stepPeer(t, spec.From, peer.Input{Kind: peer.Send, At: s.now, Flow: spec.Flow, Packet: s.pkt})
	s.sending.on = false
	if next, ok := nextSend(spec, st); ok {
		s.schedule(t, g, next)
	}
}

// nextSend moves generator st past the packet just sent and returns when
// the next one is due, if before the generator stops.
func nextSend(spec *genSpec, st *genState) (time.Duration, bool) {
	st.j++
	// The k-th packet of an on-period is due at a fixed offset from its
	// start, so rounding never accumulates.
	off := float64(st.j) * float64(time.Second) / spec.Rate
	if spec.On > 0 && spec.Off > 0 && off >= float64(spec.On) {
		st.cycle += spec.On + spec.Off
		st.j, off = 0, 0
	}
	if off >= float64(spec.stop-st.cycle) {
		return 0, false // also keeps the conversion below in range
	}
	next := st.cycle + time.Duration(off)
	return next, next < spec.stop
}

// schedule queues generator g of tunnel t to send at.
func (s *Sim) schedule(t, g int, at time.Duration) {
	st := &s.state[t*len(s.gens)+g]
	st.next, st.pending = at, true
	s.push(event{at: at, kind: evTraffic, tunnel: int32(t), idx: int32(g), epoch: st.epoch})
}

// stale reports a traffic event voided by coasting.
func (s *Sim) stale(e *event) bool {
	return e.kind == evTraffic && e.epoch != s.state[int(e.tunnel)*len(s.gens)+int(e.idx)].epoch
}

func (s *Sim) act(t int, a *Action) {
	in := peer.Input{Kind: a.Kind, At: s.now, Flow: a.Flow, SPI: a.SPI}
	if a.Kind == peer.Delete && a.SPI == 0 {
		spi, ok := activePair(s.tunnels[t].peers[a.Side].State(), a.Flow)
		if !ok {
			s.m.skipped++
			return
		}
		in.SPI = spi
	}
	s.stepPeer(t, a.Side, in)
}

// activePair finds the inbound SPI paired (same Quick Mode) with the active
// outbound SA of flow.
func activePair(st peer.State, flow int) (uint32, bool) {
	var out *peer.SA
	for i := range st.SAs {
		sa := &st.SAs[i]
		if sa.Flow == flow && sa.Direction == peer.Outbound && sa.State == "active" {
			out = sa
			break
		}
	}
	if out == nil {
		return 0, false
	}
	for _, sa := range st.SAs {
		if sa.Flow == flow && sa.Direction == peer.Inbound && sa.MessageID == out.MessageID {
			return sa.SPI, true
		}
	}
	return 0, false
}

func (s *Sim) stepPeer(t int, side Side, in peer.Input) {
	p := s.tunnels[t].peers[side]
	obs := s.cfg.Observer
	if obs != nil {
		obs(Observation{At: s.now, Tunnel: t, Side: side, Kind: ObservedInput, Input: in})
	}
	outs := p.Step(in)
	for i := range outs {
		o := &outs[i]
		if obs != nil {
			obs(Observation{At: s.now, Tunnel: t, Side: side, Kind: ObservedOutput, Output: *o})
		}
		s.handle(t, side, o)
	}
	s.syncTimer(t, side, in.Kind == peer.Tick)
}

// syncTimer keeps exactly one pending Tick for the peer, at its NextTimer.
func (s *Sim) syncTimer(t int, side Side, ticked bool) {
	tun := &s.tunnels[t]
	id := int32(2*t) + int32(side)
	at, ok := tun.peers[side].NextTimer()
	if !ok {
		s.timers.remove(id)
		return
	}
	if at <= s.now {
		at = s.now
		if ticked {
			if tun.tickAt[side] != s.now {
				tun.tickAt[side], tun.ticks[side] = s.now, 0
			}
			tun.ticks[side]++
			if tun.ticks[side] >= maxTicksAtOnce {
				s.timers.remove(id)
				s.err = &StuckTimerError{Tunnel: t, Side: side, At: s.now}
				return
			}
		}
	}
	if cur, has := s.timers.pending(id); has && cur == at {
		return
	}
	s.seq++
	s.timers.set(id, at, s.seq)
}

// link is the link from side of tunnel t.
func (s *Sim) link(t int, from Side) *Link {
	if l := s.tunnels[t].links; l != nil {
		return &l[from]
	}
	if from == A {
		return &s.cfg.AB
	}
	return &s.cfg.BA
}

func (s *Sim) handle(t int, side Side, o *peer.Output) {
	tun := &s.tunnels[t]
	switch o.Kind {
	case peer.Transmit:
		s.transmit(t, side, o.Datagram)
	case peer.Deliver:
		s.deliver(t, side, o.Packet)
	case peer.Drop:
		s.m.dropped++
		tun.res.Dropped++
		s.countDrop(o.Reason)
		if peer.LackOfActiveSA(o.Reason) {
			s.m.lack++
			tun.res.LackOfActiveSA++
			s.lackDrop(tun)
		}
	case peer.Queue:
		s.m.queued++
	case peer.Reject:
		s.m.rejected++
	case peer.SAEvent:
		if o.Event == peer.Activated {
			s.activated(tun)
		}
	case peer.Exchange:
		s.exchange(tun, side, o)
	}
}

func (s *Sim) countDrop(reason string) {
	if i, ok := s.dropIndex[reason]; ok {
		s.drops[i].Count++
		return
	}
	if len(s.drops) >= maxReasons {
		reason = OtherReasons
		if i, ok := s.dropIndex[reason]; ok {
			s.drops[i].Count++
			return
		}
	}
	s.dropIndex[reason] = len(s.drops)
	s.drops = append(s.drops, ReasonCount{Reason: reason, Count: 1})
}

func (s *Sim) observeNet(t int, side Side, d peer.Datagram, reason string) {
	if obs := s.cfg.Observer; obs != nil {
		obs(Observation{At: s.now, Tunnel: t, Side: side, Kind: ObservedNetwork, Datagram: d, Reason: reason})
	}
}

func (s *Sim) transmit(t int, side Side, d peer.Datagram) {
	tun := &s.tunnels[t]
	ike := d.IsIKE()
	lc, class := &s.link(t, side).ESP, 1
	if ike {
		lc, class = &s.link(t, side).IKE, 0
	}
	tun.sent[side][class]++
	s.reseed(t, side, class, tun.sent[side][class])
	if ike {
		s.m.net.IKESent++
	} else {
		s.m.net.ESPSent++
	}
	if lc.Filter != nil && lc.Filter(FilterInfo{At: s.now, Tunnel: t, From: side, N: tun.sent[side][class], Datagram: d}) {
		s.m.net.Filtered++
		s.observeNet(t, side, d, "filtered")
		return
	}
	if lc.LossProb > 0 && s.rng.Float64() < lc.LossProb {
		if ike {
			s.m.net.IKELost++
		} else {
			s.m.net.ESPLost++
			tun.res.NetLost++
		}
		s.observeNet(t, side, d, "lost")
		return
	}
	copies := 1
	if lc.DupProb > 0 && s.rng.Float64() < lc.DupProb {
		copies = 2
		s.m.net.Duplicated++
		s.observeNet(t, side, d, "duplicated")
	}
	for range copies {
		var buf []byte
		if n := len(s.free); n > 0 {
			buf, s.free = s.free[n-1], s.free[:n-1]
		}
		if s.coastOK {
			s.departed(tun, side, ike, d.Bytes)
		}
		s.push(event{
			at: s.now + s.delay(lc), kind: evDatagram, side: side.other(), trans: uint8(d.Transport),
			ike: ike, tunnel: int32(t), buf: append(buf, d.Bytes...),
		})
	}
}

// departed and landed keep the tunnel's datagrams in flight: coasting
// needs to know what is on the wire (and nothing else does).
func (s *Sim) departed(tun *tunnel, from Side, ike bool, b []byte) {
	if ike {
		tun.ikeFlight++
		return
	}
	id := espID(b)
	if s.sending.on && s.sending.side == from {
		id.probe, id.known = s.sending.probe, true
	}
	tun.espFlight[from].add(id)
}

func (s *Sim) landed(tun *tunnel, from Side, ike bool, b []byte) {
	if ike {
		tun.ikeFlight--
		return
	}
	tun.espFlight[from].land(b)
}

// flight is the ESP datagrams on the wire from one side, by SPI and
// sequence number (low 32 bits), in the order they left, with the probe
// (generator sequence number) of those sealed as their Send was stepped:
// what coasting needs to know of them is whether they are all on one SA
// and how far behind the oldest is. Datagrams land roughly in order, so
// finding one is short.
type flight struct {
	q    []flying
	head int // q[:head] have landed
	n    int // in flight
}

type flying struct {
	spi, seq uint32
	runt     bool // too short to name an SA
	landed   bool
	known    bool   // sealed by the Send of probe (not flushed from a queue)
	probe    uint64 // if known
}

func espID(b []byte) flying {
	if len(b) < 8 {
		return flying{runt: true}
	}
	return flying{spi: binary.BigEndian.Uint32(b), seq: binary.BigEndian.Uint32(b[4:])}
}

func (f *flight) add(d flying) {
	f.q = append(f.q, d)
	f.n++
}

func (f *flight) land(b []byte) {
	id := espID(b)
	for i := f.head; i < len(f.q); i++ {
		if d := &f.q[i]; !d.landed && d.spi == id.spi && d.seq == id.seq && d.runt == id.runt {
			d.landed = true
			f.n--
			break
		}
	}
	for f.head < len(f.q) && f.q[f.head].landed {
		f.head++
	}
	if f.head == len(f.q) {
		f.q, f.head = f.q[:0], 0
	} else if f.head > len(f.q)/2 && f.head > 16 {
		f.q, f.head = f.q[:copy(f.q, f.q[f.head:])], 0
	}
}

// on reports whether every datagram in flight is on SA spi with a known
// probe, and if so the sequence number and probe of the oldest (the first
// to leave).
func (f *flight) on(spi uint32) (oldest uint32, probe uint64, ok bool) {
	if f.n == 0 {
		return 0, 0, false
	}
	for _, d := range f.q[f.head:] {
		if !d.landed && (d.runt || d.spi != spi || !d.known) {
			return 0, 0, false
		}
	}
	return f.q[f.head].seq, f.q[f.head].probe, true
}

// delay draws one datagram's one-way delay on lc; it is never below
// lc.Delay.
func (s *Sim) delay(lc *LinkConfig) time.Duration {
	d := lc.Delay
	if j := lc.Jitter; j > 0 {
		switch lc.Dist {
		case Normal:
			x := float64(j)/2 + s.rng.NormFloat64()*float64(j)/6
			d += time.Duration(min(max(x, 0), float64(j)))
		default:
			d += time.Duration(s.rng.Int64N(int64(j) + 1))
		}
	}
	if lc.ReorderProb > 0 && s.rng.Float64() < lc.ReorderProb {
		d += lc.ReorderDelay
		s.m.net.Reordered++
	}
	return d
}

func (s *Sim) deliver(t int, side Side, pkt []byte) {
	p, ok := parsePacket(pkt)
	if !ok || int(p.tunnel) != t || p.side != side.other() || int(p.gen) >= len(s.gens) ||
		s.gens[p.gen].From != p.side || p.sent > s.now {
		s.m.foreign++
		return
	}
	if p.seq >= s.state[t*len(s.gens)+int(p.gen)].seq {
		s.m.foreign++
		return
	}
	s.arrived(t, int(p.gen), p.seq, p.sent, s.now)
}

// arrived counts the delivery at time at of packet seq of generator g of
// tunnel t, sent at sent.
func (s *Sim) arrived(t, g int, seq uint64, sent, at time.Duration) {
	st := &s.state[t*len(s.gens)+g]
	tun := &s.tunnels[t]
	switch st.win.mark(seq) {
	case markDup:
		s.m.dups++
		tun.res.Duplicates++
		return
	case markLate:
		s.m.late++
	}
	s.m.delivered++
	tun.res.Delivered++
	if len(s.series) > 0 {
		s.series[min(int(at/s.cfg.Bucket), len(s.series)-1)]++
	}
	lat := at - sent
	s.lat.Record(lat)
	s.added.Record(lat - s.link(t, s.gens[g].From).ESP.Delay)
	tun.res.MaxLatency = max(tun.res.MaxLatency, lat)
}

// closeRekeys finalises activations whose window ended before now.
func (s *Sim) closeRekeys(tun *tunnel) {
	n := 0
	for _, r := range tun.open {
		if r.at+s.window >= s.now {
			tun.open[n] = r
			n++
			continue
		}
		s.rekeys.add(r.loss)
		tun.res.Activations++
		tun.res.RekeyLoss += r.loss
		tun.res.MaxRekeyLoss = max(tun.res.MaxRekeyLoss, r.loss)
	}
	tun.open = tun.open[:n]
}

// pruneLack forgets drops too old to fall in a new activation's window.
func (s *Sim) pruneLack(tun *tunnel) {
	k := 0
	for k < len(tun.lack) && tun.lack[k] < s.now-s.window {
		k++
	}
	if k > 0 {
		tun.lack = tun.lack[:copy(tun.lack, tun.lack[k:])]
	}
}

func (s *Sim) lackDrop(tun *tunnel) {
	s.closeRekeys(tun)
	for i := range tun.open {
		tun.open[i].loss++
	}
	s.pruneLack(tun)
	tun.lack = append(tun.lack, s.now)
}

func (s *Sim) activated(tun *tunnel) {
	s.closeRekeys(tun)
	s.pruneLack(tun)
	tun.open = append(tun.open, openRekey{at: s.now, loss: uint64(len(tun.lack))})
}

func (s *Sim) exchange(tun *tunnel, side Side, o *peer.Output) {
	ex := &tun.exchange[side]
	switch o.ExchangeEvent {
	case peer.Started:
		s.m.exch.Started++
		for _, e := range *ex {
			if e.flow == o.Flow {
				s.m.exch.Collided++
				break
			}
		}
		if len(*ex) < maxExchangesTracked {
			*ex = append(*ex, exchangeID{flow: o.Flow, msg: o.MessageID})
		}
		return
	case peer.Completed:
		s.m.exch.Completed++
	case peer.Failed:
		s.m.exch.Failed++
	default:
		return
	}
	for i, e := range *ex {
		if e.msg == o.MessageID && e.flow == o.Flow {
			*ex = append((*ex)[:i], (*ex)[i+1:]...)
			break
		}
	}
}
