package props

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/hitless-ike/hitless/props/ladder"
	"github.com/hitless-ike/hitless/ref/peer"
)

// Side is one of the two peers of a pair.
type Side uint8

// Sides.
const (
	SideA Side = iota
	SideB
)

// String returns "A" or "B".
func (s Side) String() string {
	if s == SideA {
		return "A"
	}
	return "B"
}

func (s Side) other() Side { return 1 - s }

func (s Side) column() ladder.Column {
	if s == SideA {
		return ladder.A
	}
	return ladder.B
}

// historyLen bounds the datagrams kept for replay and forgery.
const historyLen = 32

// flight is one datagram in the simulated network.
type flight struct {
	id     int
	from   Side
	d      peer.Datagram // owned copy
	sentAt time.Duration
	label  string
	msgID  uint32
	ike    bool
	late   bool // outlived MaxDelay (counted once as a loss)
}

// Machine is the harness's state for one schedule: two peers, the network
// between them, virtual time and the record of what happened. Its methods
// are the schedule's actions; the rapid state machine draws their
// parameters, and tests may call them directly to script a schedule.
type Machine struct {
	info    PairInfo
	enforce bool
	check   [len(propertyNames)]bool
	peers   [2]peer.Peer

	now     time.Duration
	flights []*flight
	history []*flight
	nextID  int
	nextPkt uint64

	delivered map[uint64]bool
	sent      map[uint64]sentProbe
	losses    map[uint32]int
	opDeleted map[uint32]bool
	// opDeletedMID: message IDs (shared by both sides' SAs of one
	// exchange) of pairs an operator deleted, so that the SAs of such a
	// pair installed later (e.g. a responder's outbound SA at QM3) count
	// as deleted by the operator too.
	opDeletedMID map[uint32]bool
	taint        string
	labels       labeller

	trace        ladder.Trace
	cur          *ladder.Step
	violations   []Violation
	classified   map[string]int
	injecting    bool
	settleFrom   int // steps before the settle phase, -1 before it
	deleteActive bool
	lateStep     bool // the current step delivered a datagram late
	// sentIKE holds the IKE datagrams each side transmitted (bounded by
	// maxSentIKE), so P5 can tell a retransmission from a new message.
	sentIKE [2]map[string]struct{}
}

// maxSentIKE bounds Machine.sentIKE per side; beyond it a retransmission
// of a newer message counts as a new message (a false alarm, never a
// missed violation).
const maxSentIKE = 4096

func (m *Machine) sentBefore(s Side, b []byte) bool {
	_, ok := m.sentIKE[s][string(b)]
	return ok
}

// NewMachine returns a machine driving a and b. When enforce is true the
// machine keeps every schedule within info.Assumptions (an overdue
// datagram is delivered before time moves on; a loss beyond MaxLosses is
// not made); when false, schedules may break them and the drops that
// follow are classified. props selects the properties checked (nil: all).
func NewMachine(a, b peer.Peer, info PairInfo, enforce bool, props []PropertyID) *Machine {
	if info.Flows < 1 {
		info.Flows = 1
	}
	m := &Machine{
		info: info, enforce: enforce, peers: [2]peer.Peer{a, b},
		delivered: map[uint64]bool{}, sent: map[uint64]sentProbe{}, losses: map[uint32]int{}, opDeleted: map[uint32]bool{},
		opDeletedMID: map[uint32]bool{},
		classified:   map[string]int{}, settleFrom: -1, sentIKE: [2]map[string]struct{}{{}, {}}, labels: labeller{seen: map[string]string{}, init: map[uint32]Side{}},
	}
	m.trace.Title = info.Name
	if props == nil {
		props = AllProperties
	}
	for _, p := range props {
		if int(p) < len(m.check) {
			m.check[p] = true
		}
	}
	if info.Assumptions.SoftToHard > 0 && info.Assumptions.SoftToHard <= info.Assumptions.WorstNegotiation {
		m.taint = ClassMargin
	}
	return m
}

// Trace is the record of the schedule so far.
func (m *Machine) Trace() *ladder.Trace { return &m.trace }

// Violations are the property violations found so far.
func (m *Machine) Violations() []Violation { return m.violations }

// Classified counts drops (and unmet convergence) outside the assumptions,
// by class.
func (m *Machine) Classified() map[string]int { return m.classified }

// Actions is the number of schedule steps that did something (no-op
// actions leave no step), not counting the settle phase.
func (m *Machine) Actions() int {
	if m.settleFrom >= 0 {
		return m.settleFrom
	}
	return len(m.trace.Steps)
}

// Now is the virtual time.
func (m *Machine) Now() time.Duration { return m.now }

// InFlight is the number of datagrams in the network.
func (m *Machine) InFlight() int { return len(m.flights) }

func (m *Machine) begin(format string, args ...any) {
	m.trace.Steps = append(m.trace.Steps, ladder.Step{Index: len(m.trace.Steps) + 1, At: m.now, Action: fmt.Sprintf(format, args...)})
	m.cur = &m.trace.Steps[len(m.trace.Steps)-1]
	m.injecting, m.lateStep = false, false
}

func (m *Machine) event(e ladder.Event) { m.cur.Events = append(m.cur.Events, e) }

func (m *Machine) violate(p PropertyID, format string, args ...any) {
	if !m.check[p] {
		return
	}
	v := Violation{Property: p, Step: m.cur.Index, Detail: fmt.Sprintf(format, args...)}
	m.violations = append(m.violations, v)
	m.event(ladder.Event{Kind: ladder.Violation, Column: ladder.Network, Label: p.String(), Detail: v.Detail, Bad: true})
}

func (m *Machine) classify(class string) { m.classified[class]++ }

// step gives in to peer s and processes its outputs.
func (m *Machine) step(s Side, in peer.Input) {
	in.At = m.now
	outs := m.peers[s].Step(in)
	for _, o := range outs {
		m.output(s, o)
	}
}

// output records one output of peer s and checks the per-output
// properties (P1, P2, the wire half of P3).
func (m *Machine) output(s Side, o peer.Output) {
	col := s.column()
	switch o.Kind {
	case peer.Transmit:
		f := &flight{id: m.nextID, from: s, d: peer.Datagram{Transport: o.Datagram.Transport, Bytes: bytes.Clone(o.Datagram.Bytes)}, sentAt: m.now}
		m.nextID++
		f.ike = f.d.IsIKE()
		if f.ike && len(m.sentIKE[s]) < maxSentIKE {
			m.sentIKE[s][string(f.d.Bytes)] = struct{}{}
		}
		f.msgID, _ = ikeMessageID(f.d)
		f.label = m.labels.label(f.d, s)
		m.flights = append(m.flights, f)
		m.event(ladder.Event{Kind: ladder.Sent, Column: ladder.Network, From: s.column(), Label: f.label})
		nothingInClear(m, s, f)
	case peer.Deliver:
		id, _ := probeID(o.Packet)
		m.event(ladder.Event{Kind: ladder.Note, Column: col, Label: fmt.Sprintf("deliver pkt#%d", id), Detail: fmt.Sprintf("spi=%#08x", o.SPI)})
		deliveredIntactOnce(m, s, o.Packet)
	case peer.Drop:
		label := fmt.Sprintf("spi=%#08x", o.SPI)
		if id, ok := probeID(o.Packet); ok {
			label = fmt.Sprintf("pkt#%d %s", id, label)
		}
		if o.Direction == peer.Outbound {
			label = "out " + label
		}
		i := len(m.cur.Events)
		m.event(ladder.Event{Kind: ladder.Dropped, Column: col, Label: label, Detail: o.Reason})
		// after the drop: its violation
		m.cur.Events[i].Bad = noDropForLackOfSA(m, s, o) || genuineAccepted(m, s, o)

	case peer.Queue:
		id, _ := probeID(o.Packet)
		m.event(ladder.Event{Kind: ladder.Note, Column: col, Label: fmt.Sprintf("queue pkt#%d", id), Detail: "(acquire)"})
	case peer.SAEvent:
		if o.Event == peer.Installed && m.opDeletedMID[o.SA.MessageID] {
			m.opDeleted[o.SA.SPI] = true
		}
		dir := "in"
		if o.SA.Direction == peer.Outbound {
			dir = "out"
		}
		m.event(ladder.Event{Kind: ladder.Note, Column: col, Label: fmt.Sprintf("SA %s %s spi=%#08x", o.Event, dir, o.SA.SPI)})
	case peer.Exchange:
		if o.ExchangeEvent == peer.Failed && m.taint == "" {
			m.taint = ClassNegotiation
		}
		m.event(ladder.Event{Kind: ladder.Note, Column: col, Label: fmt.Sprintf("QM id=%#08x %s", o.MessageID, o.ExchangeEvent), Detail: o.Role})
	case peer.Reject:
		m.event(ladder.Event{Kind: ladder.Note, Column: col, Label: "reject", Detail: o.Reason})
	}
}

// --- actions ---

// probeMagic marks the payload of every application packet the harness
// sends; an 8-byte unique id follows it.
var probeMagic = []byte("HLPROBE!")

// sentProbe is an application packet as its sender handed it over.
type sentProbe struct {
	from   Side
	packet []byte
}

// probe builds an IPv4 packet (protocol 253, reserved for experiments)
// carrying the magic and id.
func probe(from Side, id uint64) []byte {
	p := make([]byte, 20, 20+len(probeMagic)+8)
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(cap(p)))
	p[8], p[9] = 64, 253
	copy(p[12:], []byte{10, 0, byte(from), 1})
	copy(p[16:], []byte{10, 0, byte(from.other()), 1})
	p = append(p, probeMagic...)
	return binary.BigEndian.AppendUint64(p, id)
}

func probeID(p []byte) (uint64, bool) {
	i := bytes.Index(p, probeMagic)
	if i < 0 || len(p) < i+len(probeMagic)+8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(p[i+len(probeMagic):]), true
}

// Send has the application on side s send a fresh packet on flow.
func (m *Machine) Send(s Side, flow int) {
	m.nextPkt++
	m.begin("app %s sends pkt#%d on flow %d", s, m.nextPkt, flow)
	p := probe(s, m.nextPkt)
	m.sent[m.nextPkt] = sentProbe{from: s, packet: p}
	m.step(s, peer.Input{Kind: peer.Send, Flow: flow, Packet: bytes.Clone(p)})
}

// Deliver delivers in-flight datagram i (any order: reordering).
func (m *Machine) Deliver(i int) {
	if i < 0 || i >= len(m.flights) {
		return
	}
	f := m.flights[i]
	m.flights = slices.Delete(m.flights, i, i+1)
	m.begin("network delivers %s→%s %s", f.from, f.from.other(), f.label)
	m.deliver(f)
}

func (m *Machine) deliver(f *flight) {
	late := m.now-f.sentAt > m.info.Assumptions.MaxDelay && m.info.Assumptions.MaxDelay > 0
	detail := ""
	if late && m.taint == "" {
		m.taint = ClassBeyondDelay
	}
	if late {
		detail = " (late)"
		m.lateStep = true
	}
	m.event(ladder.Event{Kind: ladder.Arrived, Column: ladder.Network, From: f.from.column(), Label: f.label + detail})
	m.remember(f)
	m.step(f.from.other(), peer.Input{Kind: peer.Receive, Datagram: f.d})
}

func (m *Machine) remember(f *flight) {
	if len(m.history) >= historyLen {
		m.history = m.history[1:]
	}
	m.history = append(m.history, f)
}

// Lose has the network lose in-flight datagram i. With enforce, an IKE
// loss beyond MaxLosses for its exchange is not made (a no-op).
func (m *Machine) Lose(i int) {
	if i < 0 || i >= len(m.flights) {
		return
	}
	f := m.flights[i]
	if f.ike && m.enforce && !m.mayLose(f) {
		return
	}
	m.flights = slices.Delete(m.flights, i, i+1)
	m.begin("network loses %s→%s %s", f.from, f.from.other(), f.label)
	m.event(ladder.Event{Kind: ladder.Lost, Column: ladder.Network, From: f.from.column(), Label: f.label})
	if f.ike && !f.late {
		m.countLoss(f)
	}
}

func (m *Machine) mayLose(f *flight) bool { return m.losses[f.msgID] < m.info.Assumptions.MaxLosses }

func (m *Machine) countLoss(f *flight) {
	m.losses[f.msgID]++
	if m.losses[f.msgID] > m.info.Assumptions.MaxLosses && m.taint == "" {
		m.taint = ClassBeyondLoss
	}
}

// Duplicate has the network duplicate in-flight datagram i (the copy keeps
// the original's send time).
func (m *Machine) Duplicate(i int) {
	if i < 0 || i >= len(m.flights) {
		return
	}
	f := *m.flights[i]
	f.id = m.nextID
	m.nextID++
	m.flights = append(m.flights, &f)
	m.begin("network duplicates %s→%s %s", f.from, f.from.other(), f.label)
	m.event(ladder.Event{Kind: ladder.Duplicated, Column: ladder.Network, From: f.from.column(), Label: f.label})
}

// Advance moves virtual time forward by d, firing the peers' timers at
// their due times. Before time passes an in-flight datagram's deadline
// (MaxDelay after it was sent), with enforce the datagram is delivered, or
// lost when lose(it) says so and the loss budget allows; without enforce
// it stays in flight and, if IKE, counts as lost.
func (m *Machine) Advance(d time.Duration, lose func() bool) {
	if d <= 0 {
		return
	}
	m.begin("clock +%v", d)
	m.advanceTo(m.now+d, lose)
}

// AdvanceToTimer moves virtual time to the earliest timer of either peer
// (a no-op when neither has one).
func (m *Machine) AdvanceToTimer(lose func() bool) {
	at, ok := m.nextTimer()
	if !ok || at <= m.now {
		if ok {
			m.begin("tick (timer due)")
			m.tick()
		}
		return
	}
	m.begin("clock → next timer %s", fmtDur(at))
	m.advanceTo(at, lose)
}

func (m *Machine) nextTimer() (time.Duration, bool) {
	at, ok := m.peers[0].NextTimer()
	if bt, bok := m.peers[1].NextTimer(); bok && (!ok || bt < at) {
		at, ok = bt, true
	}
	return at, ok
}

func (m *Machine) advanceTo(to time.Duration, lose func() bool) {
	for range 1000 {
		next := to
		if at, ok := m.nextTimer(); ok && at < next {
			next = max(at, m.now)
		}
		m.resolveOverdue(next, lose)
		if next > m.now {
			m.now = next
		}
		m.tick()
		if m.now >= to {
			if at, ok := m.nextTimer(); !ok || at > m.now {
				return
			}
		}
	}
}

func (m *Machine) tick() {
	m.step(SideA, peer.Input{Kind: peer.Tick})
	m.step(SideB, peer.Input{Kind: peer.Tick})
}

// resolveOverdue handles every datagram whose deadline is before t.
func (m *Machine) resolveOverdue(t time.Duration, lose func() bool) {
	max := m.info.Assumptions.MaxDelay
	if max <= 0 {
		return
	}
	for range 1000 {
		i := slices.IndexFunc(m.flights, func(f *flight) bool { return !f.late && f.sentAt+max < t })
		if i < 0 {
			return
		}
		f := m.flights[i]
		if !m.enforce {
			f.late = true
			if f.ike {
				m.countLoss(f)
			}
			continue
		}
		m.flights = slices.Delete(m.flights, i, i+1)
		if lose != nil && (!f.ike || m.mayLose(f)) && lose() {
			m.event(ladder.Event{Kind: ladder.Lost, Column: ladder.Network, From: f.from.column(), Label: f.label})
			if f.ike {
				m.countLoss(f)
			}
			continue
		}
		m.deliver(f)
	}
}

// Rekey has side s (or both, at the same instant) ask for a new SA pair on
// flow.
func (m *Machine) Rekey(flow int, sides ...Side) {
	names := ""
	for i, s := range sides {
		if i > 0 {
			names += " and "
		}
		names += s.String()
	}
	m.begin("operator rekeys flow %d on %s", flow, names)
	for _, s := range sides {
		m.step(s, peer.Input{Kind: peer.Rekey, Flow: flow})
	}
}

// DeleteSA has an operator on side s delete a pair of SAs, picked as the
// k-th (mod count) candidate inbound SA in s's State, and tell the peer.
// Unless the machine allows deleting active SAs (AllowDeleteActive), the
// candidates are the pairs whose outbound SA is active on neither side:
// deleting the SA a flow uses is an outage by definition, not a finding.
// A no-op without candidates. Drops concerning any SA of the pair's
// exchange on either side (including SAs of it installed later), and
// every drop until the peers have converged again, are classified
// ClassOperator.
func (m *Machine) DeleteSA(s Side, k int) {
	st := [2]peer.State{m.peers[0].State(), m.peers[1].State()}
	inUse := func(in peer.SA) bool {
		if out, ok := st[s.other()].Lookup(in.SPI, peer.Outbound); ok && out.State == "active" {
			return true
		}
		for _, sa := range st[s].SAs {
			if sa.Direction == peer.Outbound && sa.MessageID == in.MessageID && sa.State == "active" {
				return true
			}
		}
		return false
	}
	var cand []peer.SA
	for _, sa := range st[s].SAs {
		if sa.Direction == peer.Inbound && (m.deleteActive || !inUse(sa)) {
			cand = append(cand, sa)
		}
	}
	if len(cand) == 0 {
		return
	}
	target := cand[k%len(cand)]
	m.opDeleted[target.SPI] = true
	m.opDeletedMID[target.MessageID] = true
	for _, side := range st {
		for _, sa := range side.SAs {
			if sa.MessageID == target.MessageID {
				m.opDeleted[sa.SPI] = true
			}
		}
	}
	m.begin("operator on %s deletes pair of in spi=%#08x", s, target.SPI)
	if m.taint == "" {
		// Deleting a pair under negotiation (the newest, for one side)
		// can leave the sides on different pairs until they converge.
		m.taint = ClassOperator
	}
	m.step(s, peer.Input{Kind: peer.Delete, SPI: target.SPI})
}

// AllowDeleteActive lets DeleteSA pick pairs in use.
func (m *Machine) AllowDeleteActive(ok bool) { m.deleteActive = ok }

// Replay re-injects the k-th (mod count) datagram the network delivered
// recently, to its original receiver.
func (m *Machine) Replay(k int) {
	if len(m.history) == 0 {
		return
	}
	f := m.history[k%len(m.history)]
	m.begin("attacker replays %s→%s %s", f.from, f.from.other(), f.label)
	m.injecting = true
	m.event(ladder.Event{Kind: ladder.Injected, Column: ladder.Network, From: f.from.column(), Label: f.label, Detail: "replayed"})
	m.step(f.from.other(), peer.Input{Kind: peer.Receive, Datagram: f.d})
}

// Forge flips bit (mod the message's bit length) of the k-th (mod count)
// recently delivered IKE datagram and injects it to the original receiver:
// property P5 requires a Reject and no change of State.
func (m *Machine) Forge(k, bit int) {
	var ike []*flight
	for _, f := range m.history {
		if f.ike {
			ike = append(ike, f)
		}
	}
	if len(ike) == 0 {
		return
	}
	f := ike[k%len(ike)]
	b := bytes.Clone(f.d.Bytes)
	skip := 0
	if f.d.Transport == peer.UDP4500 {
		skip = 4 // a flipped non-ESP marker makes an ESP forgery, not an IKE one
	}
	if len(b) <= skip {
		return
	}
	bit = skip*8 + bit%((len(b)-skip)*8)
	b[bit/8] ^= 1 << (bit % 8)
	m.begin("attacker forges %s→%s %s (bit %d flipped)", f.from, f.from.other(), f.label, bit)
	m.injecting = true
	m.event(ladder.Event{Kind: ladder.Injected, Column: ladder.Network, From: f.from.column(), Label: f.label, Detail: "forged"})
	to := f.from.other()
	before := m.peers[to].State()
	outs := m.peers[to].Step(peer.Input{Kind: peer.Receive, At: m.now, Datagram: peer.Datagram{Transport: f.d.Transport, Bytes: b}})
	forgedChangesNothing(m, to, before, outs)
	for _, o := range outs {
		m.output(to, o)
	}
}

// Settle runs the quiescence phase: deliver everything in flight, move to
// the next timer, and repeat (no new rekeys are requested) until both peers
// have converged or SettleHorizon of virtual time has passed; then checks
// P4.
func (m *Machine) Settle() {
	m.settleFrom = len(m.trace.Steps)
	end := m.now + m.info.SettleHorizon
	for range 2000 {
		for n := 0; len(m.flights) > 0 && n < 1000; n++ {
			f := m.flights[0]
			m.flights = m.flights[1:]
			m.begin("settle: network delivers %s→%s %s", f.from, f.from.other(), f.label)
			m.deliver(f)
			m.afterStep()
		}
		if len(m.flights) == 0 && m.converged() == "" {
			break
		}
		at, ok := m.nextTimer()
		if !ok || at > end {
			break
		}
		m.now = max(m.now, at)
		m.begin("settle: clock → next timer")
		m.tick()
		m.afterStep()
	}
	m.begin("settled")
	newestPairOnly(m)
}

func fmtDur(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// --- labelling datagrams ---

// labeller names datagrams for the ladder: ISAKMP Quick Mode messages by
// their position in the exchange (the first distinct message from the
// initiator is QM1, its second QM3; the responder's is QM2; retransmissions
// are byte-identical and keep their name), Informational as Info, ESP by SPI.
type labeller struct {
	seen map[string]string
	init map[uint32]Side // Quick Mode message ID → initiator
	n    map[uint32]int  // distinct initiator messages so far
}

func (l *labeller) label(d peer.Datagram, from Side) string {
	if !d.IsIKE() {
		if len(d.Bytes) >= 4 {
			return fmt.Sprintf("ESP spi=%#08x", binary.BigEndian.Uint32(d.Bytes))
		}
		return "ESP?"
	}
	if name, ok := l.seen[string(d.Bytes)]; ok {
		return name
	}
	id, _ := ikeMessageID(d)
	var name string
	switch ikeExchangeType(d) {
	case 32:
		if l.n == nil {
			l.n = map[uint32]int{}
		}
		ini, ok := l.init[id]
		if !ok {
			l.init[id], ini = from, from
		}
		if from == ini {
			l.n[id]++
			name = [...]string{"QM?", "QM1", "QM3"}[min(l.n[id], 2)]
			if l.n[id] > 2 {
				name = "QM?"
			}
		} else {
			name = "QM2"
		}
	case 5:
		name = "Info/Delete"
	default:
		name = fmt.Sprintf("IKE(%d)", ikeExchangeType(d))
	}
	name = fmt.Sprintf("%s id=%#08x", name, id)
	if len(l.seen) < 4096 {
		l.seen[string(d.Bytes)] = name
	}
	return name
}

func ikeHeader(d peer.Datagram) []byte {
	b := d.Bytes
	if d.Transport == peer.UDP4500 {
		b = b[min(4, len(b)):]
	}
	if len(b) < 28 {
		return nil
	}
	return b[:28]
}

// ikeMessageID is the ISAKMP header's Message ID (RFC 2408 §3.1).
func ikeMessageID(d peer.Datagram) (uint32, bool) {
	if h := ikeHeader(d); h != nil && d.IsIKE() {
		return binary.BigEndian.Uint32(h[20:]), true
	}
	return 0, false
}

func ikeExchangeType(d peer.Datagram) int {
	if h := ikeHeader(d); h != nil {
		return int(h[18])
	}
	return -1
}
