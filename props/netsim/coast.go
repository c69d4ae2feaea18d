package netsim

import (
	"math"
	"slices"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// Coasting. Between rekeys a tunnel's peers do nothing with a packet but
// seal it on the active SA and open it on the paired inbound SA: only
// sequence numbers, anti-replay windows and byte counters move. When a
// traffic event finds its tunnel in such a stretch, coast simulates all of
// the tunnel's packets up to the stretch's end in one go, drawing each
// packet's fate exactly as transmit would (the per-datagram streams make
// the draws independent of event order) and letting the peers apply the
// bookkeeping through peer.Coaster. The stretch ends strictly before the
// next timer or action and before the RunUntil target, so nothing else can
// happen to the tunnel while its coasted packets are on the wire, and
// every packet that could change state (the first on a new SA, one on a
// retiring pair, one that crosses a byte lifetime) is left to Step.

// reseed points s.rng at the stream of the n-th datagram of class (0 IKE,
// 1 ESP) that side of tunnel t transmitted.
func (s *Sim) reseed(t int, side Side, class int, n int) {
	key := uint64(s.cfg.TunnelBase+t)<<34 | uint64(side)<<33 | uint64(class)<<32 | uint64(uint32(n))
	s.pcg.Seed(s.cfg.Seed, mix64(key^pcgStream))
}

// mix64 is the splitmix64 finaliser: nearby keys give unrelated seeds.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// coastGen is one generator's share of a coast.
type coastGen struct {
	g      int
	spec   *genSpec
	st     *genState
	lc     *LinkConfig
	maxLat time.Duration
	spi    uint32
	seq    uint64 // ESP sequence number of the first coasted packet
	budget uint64
	in     peer.Coaster
}

// coast simulates tunnel t's quiet stretch from the due packet of
// generator g on, and reports whether it did; if not, the caller steps the
// packet as usual.
func (s *Sim) coast(t, g int) bool {
	if !s.coastOK || s.limit <= s.now {
		return false
	}
	tun := &s.tunnels[t]
	if tun.ikeFlight != 0 {
		return false
	}
	cs := [2]peer.Coaster{}
	for side := range cs {
		c, ok := tun.peers[side].(peer.Coaster)
		if !ok {
			return false
		}
		cs[side] = c
	}
	// The stretch ends before the next timer of either peer and the next
	// action (of any tunnel: they are few).
	end := s.cfg.Duration + 1
	for side := range 2 {
		if at, ok := s.timers.pending(int32(2*t + side)); ok {
			end = min(end, at)
		}
	}
	if i, _ := slices.BinarySearch(s.actAt, s.now); i < len(s.actAt) {
		end = min(end, s.actAt[i])
	}
	var gens [2]coastGen
	n := 0
	sides := 0
	for k := range s.gens {
		st := &s.state[t*len(s.gens)+k]
		if k != g && !st.pending {
			continue
		}
		spec := &s.gens[k]
		sides |= 1 << spec.From
		cg := &gens[n]
		n++
		*cg = coastGen{g: k, spec: spec, st: st, lc: &s.link(t, spec.From).ESP}
		if cg.lc.Filter != nil || cg.lc.DupProb > 0 {
			return false
		}
		spread := cg.lc.Jitter
		if cg.lc.ReorderProb > 0 {
			spread += cg.lc.ReorderDelay
		}
		cg.maxLat = cg.lc.Delay + spread
		var ok bool
		var out uint64
		cg.spi, cg.seq, out, ok = cs[spec.From].CoastOut(spec.Flow, spec.Size)
		if !ok {
			return false
		}
		cg.in = cs[spec.From.other()]
		in, window, ok := cg.in.CoastIn(cg.spi, spec.Size)
		if !ok {
			return false
		}
		// No packet may fall behind the anti-replay window (nor netsim's
		// duplicate window): bound how many can overtake one another.
		if maxPackets(spec, spread) > float64(min(window, dupWindowBits)/2) {
			return false
		}
		cg.budget = min(out, in)
		if k := tun.espFlight[spec.From].n; k > 0 {
			// ESP sent before the stretch is still on the wire: it must
			// be on the same SA, and the coasted packets, applied now,
			// must leave the oldest of it inside the window when it
			// lands later.
			// Both the receiver's window (ESP sequence numbers) and
			// netsim's duplicate window (probes) must hold it. A packet
			// flushed from a queue has no known probe and may be
			// arbitrarily old: on refuses it. For the others the two
			// gaps agree on one SA (a Send is dropped before sealing
			// only while there is no active SA); the probe gap is
			// checked anyway, as it costs nothing.
			old, probe, ok := tun.espFlight[spec.From].on(cg.spi)
			if !ok || cg.budget <= uint64(k) {
				return false
			}
			behind := max(uint64(uint32(cg.seq)-old), st.seq-probe)
			room := uint64(min(window, dupWindowBits)) / 2
			if behind >= room {
				return false
			}
			cg.budget = min(cg.budget-uint64(k), room-behind) // the receiver counts their bytes too
		}
	}
	for side := range tun.espFlight {
		if tun.espFlight[side].n > 0 && sides&(1<<side) == 0 {
			return false // in flight with no generator to vouch for its SA
		}
	}
	// The packet after a generator's budget may change state (a byte
	// lifetime fires): the stretch ends before it is sent. Other packets
	// of either generator sent before the end but not coasted (they would
	// arrive after it) are within budget: Step moves only counters.
	for i := range n {
		if at, ok := exhausted(&gens[i], end); ok {
			end = min(end, at)
		}
	}
	fits := func(cg *coastGen) bool {
		arrive := cg.st.next + cg.maxLat
		return cg.budget > 0 && arrive < end && arrive <= s.limit
	}
	for i := range n {
		if gens[i].g == g && !fits(&gens[i]) {
			return false
		}
	}
	for i := range n {
		if cg := &gens[i]; fits(cg) {
			s.coastGen(t, cg, fits, cs[cg.spec.From])
		}
	}
	return true
}

// maxPackets bounds how many packets spec sends in any interval of length
// d (with a packet of slack for rounding). A burst restarts the spacing,
// so bursts shorter than one packet interval send faster than Rate; the
// interval can catch the tail of a burst begun before it.
func maxPackets(spec *genSpec, d time.Duration) float64 {
	if spec.On > 0 && spec.Off > 0 {
		perBurst := max(math.Ceil(float64(spec.On)*spec.Rate/float64(time.Second)), 1)
		return (math.Floor(float64(d+spec.On)/float64(spec.On+spec.Off)) + 1) * perBurst
	}
	return math.Floor(float64(d)*spec.Rate/float64(time.Second)) + 2
}

// exhausted returns when cg's first packet beyond its budget is due, if
// before end.
func exhausted(cg *coastGen, end time.Duration) (time.Duration, bool) {
	if float64(cg.budget) > maxPackets(cg.spec, end-cg.st.next) {
		return 0, false // more budget than packets before end
	}
	st := *cg.st
	at := st.next
	for range cg.budget {
		var ok bool
		if at, ok = nextSend(cg.spec, &st); !ok {
			return 0, false
		}
	}
	return at, true
}

// coastGen sends cg's packets while they fit in the stretch.
func (s *Sim) coastGen(t int, cg *coastGen, fits func(*coastGen) bool, out peer.Coaster) {
	tun := &s.tunnels[t]
	spec, st := cg.spec, cg.st
	from, to := spec.From, spec.From.other()
	if !st.pending {
		s.nEvents-- // the due event Step counted: counted again below
	}
	st.epoch++ // voids the queued event
	st.pending = false
	var sent uint64
	for {
		at := st.next
		s.nEvents++
		s.m.sent++
		s.m.coasted++
		tun.res.Sent++
		seq := cg.seq + sent
		probe := st.seq
		st.seq++
		sent++
		cg.budget--

		tun.sent[from][1]++
		s.m.net.ESPSent++
		s.reseed(t, from, 1, tun.sent[from][1])
		if cg.lc.LossProb > 0 && s.rng.Float64() < cg.lc.LossProb {
			s.m.net.ESPLost++
			tun.res.NetLost++
		} else {
			arrive := at + s.delay(cg.lc)
			s.nEvents++
			if reason := cg.in.CoastReceived(cg.spi, seq, spec.Size); reason != "" {
				// The conditions above rule this out; count it as Step would.
				o := peer.Output{Kind: peer.Drop, Direction: peer.Inbound, Flow: spec.Flow, SPI: cg.spi, Reason: reason}
				now := s.now
				s.now = arrive
				s.handle(t, to, &o)
				s.now = now
			} else {
				s.arrived(t, cg.g, probe, at, arrive)
			}
		}
		next, ok := nextSend(spec, st)
		if !ok {
			break
		}
		st.next = next
		if !fits(cg) {
			out.CoastSent(cg.spi, sent, spec.Size)
			s.schedule(t, cg.g, next)
			return
		}
	}
	out.CoastSent(cg.spi, sent, spec.Size)
}
