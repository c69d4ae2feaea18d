package gateway

import (
	"slices"
	"time"

	"github.com/hitless-ike/hitless/ref/quickmode"
	"github.com/hitless-ike/hitless/ref/sadb"
)

// A pair is retired so that no inbound SA disappears while ESP the peer
// sent on it may still arrive. A Delete from this gateway always means "I
// deleted my outbound SA of this pair, and the last ESP I sent on it left
// at least DeleteGrace ago": under the bounded-delay assumption (delay
// below DeleteGrace) none of it is still in flight, so the receiver may
// remove its inbound SA of the pair at once.
//
//  1. The side that wants a pair gone deletes its outbound SA (it stops
//     sending) and keeps its inbound SA; DeleteGrace after it last sent on
//     the pair (at once for a pair superseded long ago) it sends a Delete
//     naming its inbound SPI.
//  2. The peer deletes its outbound SA of the pair and its inbound SA, and
//     answers, DeleteGrace after it last sent on the pair, with a Delete
//     naming its own inbound SPI.
//  3. The answer lets the first side remove its inbound SA.
//
// IKEv1 does not acknowledge Informational exchanges. A request without
// answer is retransmitted on the DeleteRetransmit schedule, and again (at
// most once per DeleteRetransmit.Initial) whenever ESP still arrives on the
// pair: under finite loss one gets through. A repeated request is answered
// again, rate-limited alike. The side that retired a pair on its own never
// answers a Delete for it, so the two sides cannot ping-pong.

// outgoing is a Delete this side owes the peer: a request for a pair it
// retired (answer false), or the answer to the peer's request.
type outgoing struct {
	in, out  uint32        // our inbound SPI (named in the Delete), the deleted outbound's
	answer   bool          // an answer to the peer's Delete
	sendAt   time.Duration // DeleteGrace after we last sent on the pair
	sent     bool
	last     time.Duration // last transmission
	next     time.Duration // next timed retransmission of a request
	interval time.Duration
	tries    int
}

// maxAnswers bounds the answers remembered for repeated requests.
const maxAnswers = 16

// request returns the index of the request for inbound SPI spi, or -1.
func (g *Gateway) request(spi uint32) int {
	return slices.IndexFunc(g.owed, func(o outgoing) bool { return !o.answer && o.in == spi })
}

// retiring reports whether inbound SA spi is on its way out.
func (g *Gateway) retiring(spi uint32) bool { return g.request(spi) >= 0 }

// quietSince returns when this side last sent on outbound SA sa.
func (g *Gateway) quietSince(sa *sadb.SA) time.Duration {
	if sa.Active() {
		return g.now
	}
	return g.deactivated[sa.SPI]
}

// dropOutbound deletes our outbound SA of in's pair, if any, and returns
// its SPI and when the Delete for the pair may leave.
func (g *Gateway) dropOutbound(in *sadb.SA) (out uint32, sendAt time.Duration) {
	sendAt = g.now
	if o := g.db.Pair(in); o != nil {
		out, sendAt = o.SPI, max(g.now, g.quietSince(o)+g.cfg.DeleteGrace)
		g.deleteSA(sadb.Outbound, o.SPI)
	}
	return out, sendAt
}

// retire starts retiring the pair of inbound SA in (step 1 above).
func (g *Gateway) retire(in *sadb.SA) {
	if g.retiring(in.SPI) {
		return
	}
	out, at := g.dropOutbound(in)
	g.owed = append(g.owed, outgoing{in: in.SPI, out: out, sendAt: at, interval: g.cfg.DeleteRetransmit.Initial})
	g.sendOwed()
}

// peerDeleted applies the SPIs of an authenticated Delete from the peer
// (its inbound SPIs: our outbound ones): steps 2 and 3 above.
func (g *Gateway) peerDeleted(spis []uint32) {
	for _, spi := range spis {
		if i := slices.IndexFunc(g.owed, func(o outgoing) bool { return !o.answer && o.out == spi && o.out != 0 }); i >= 0 {
			// The answer to our request, or the peer retiring the pair
			// too: nothing it sent on our inbound SA is in flight.
			in := g.owed[i].in
			if g.owed[i].sent {
				g.owed = slices.Delete(g.owed, i, i+1)
			}
			g.deleteSA(sadb.Inbound, in)
			continue
		}
		if out := g.db.Outbound(spi); out != nil {
			at := max(g.now, g.quietSince(out)+g.cfg.DeleteGrace)
			in := g.db.Pair(out)
			g.deleteSA(sadb.Outbound, spi)
			if g.db.Active(out.Flow) == nil {
				g.takeOver(out.Flow)
			}
			if in == nil {
				continue
			}
			g.deleteSA(sadb.Inbound, in.SPI)
			if n := g.answers(); n >= maxAnswers {
				i := slices.IndexFunc(g.owed, func(o outgoing) bool { return o.answer && o.sent })
				if i < 0 {
					continue // every slot owed: the peer retransmits its request
				}
				g.owed = slices.Delete(g.owed, i, i+1)
			}
			g.owed = append(g.owed, outgoing{in: in.SPI, out: spi, answer: true, sendAt: at})
			continue
		}
		if i := slices.IndexFunc(g.owed, func(o outgoing) bool { return o.answer && o.out == spi }); i >= 0 {
			if a := &g.owed[i]; a.sent && g.now-a.last >= g.cfg.DeleteRetransmit.Initial {
				a.sent = false // answer the repeated request again
			}
		}
	}
	g.sendOwed()
}

// takeOver runs when the peer's Delete removed the active outbound SA of
// flow and no proven SA replaced it. If this end answered a rekey of the
// flow whose QM3 has not arrived, the peer retiring its working pair
// shows it moved to the new one: its Delete overtook QM3 (strongSwan
// sends it right behind QM3; reordering in the network or a
// multi-threaded receiver does the rest). That is the same proof as its
// first ESP on the new pair, and goes the same way: the new outbound SA
// takes over at once instead of at QM3. Only for the hitless timing
// (StageFirstESPOrQM3); the prior-art profiles keep theirs.
func (g *Gateway) takeOver(flow int) {
	if g.cfg.Profile.ResponderActivate != quickmode.StageFirstESPOrQM3 {
		return
	}
	var in *sadb.SA
	for _, sa := range g.db.All() {
		if sa.Flow != flow || sa.Direction != sadb.Inbound || g.db.Pair(sa) == nil {
			continue
		}
		if x := g.info(sa.MessageID); x != nil && x.open() && x.role == quickmode.Responder && !x.loser {
			in = sa // the newest such exchange wins (install order)
		}
	}
	if in == nil || !g.db.MarkSeen(in) {
		return
	}
	evs, err := g.x.HandleESP(g.evs[:0], clock(g.now), in.SPI)
	g.evs = evs
	if err == nil {
		g.apply(evs)
	}
}

func (g *Gateway) answers() int {
	n := 0
	for _, o := range g.owed {
		if o.answer {
			n++
		}
	}
	return n
}

// espOnRetiring re-sends the request for a retiring pair on which ESP
// still arrives: the peer has not seen it yet (rate-limited).
func (g *Gateway) espOnRetiring(spi uint32) {
	i := g.request(spi)
	if i < 0 || !g.owed[i].sent || g.now-g.owed[i].last < g.cfg.DeleteRetransmit.Initial {
		return
	}
	g.owed[i].last = g.now
	g.sendDelete([]uint32{spi})
}

// sendOwed sends the Deletes that are due: first transmissions whose
// grace has passed and request retransmissions whose backoff has.
func (g *Gateway) sendOwed() {
	b := g.cfg.DeleteRetransmit
	for i := 0; i < len(g.owed); i++ {
		o := &g.owed[i]
		switch {
		case !o.sent && o.sendAt <= g.now:
			o.sent, o.last, o.tries, o.next = true, g.now, 1, g.now+o.interval
			g.sendDelete([]uint32{o.in})
			if !o.answer && g.db.Inbound(o.in) == nil {
				// The peer retired the pair too and its Delete came
				// first: ours only tells it so.
				g.owed = slices.Delete(g.owed, i, i+1)
				i--
			}
		case o.sent && !o.answer && o.tries < b.MaxTries && o.next <= g.now:
			o.tries++
			o.interval *= time.Duration(b.Factor)
			o.next, o.last = g.now+o.interval, g.now
			g.sendDelete([]uint32{o.in})
		}
	}
}

// nextOwed returns when sendOwed next has something to do.
func (g *Gateway) nextOwed() (time.Duration, bool) {
	var at time.Duration
	ok := false
	take := func(t time.Duration) {
		if !ok || t < at {
			at, ok = t, true
		}
	}
	for _, o := range g.owed {
		switch {
		case !o.sent:
			take(o.sendAt)
		case !o.answer && o.tries < g.cfg.DeleteRetransmit.MaxTries:
			take(o.next)
		}
	}
	return at, ok
}

// forgetInbound drops the requests for an inbound SA that is gone (hard
// expiry, operator), except one not yet sent: the peer still needs it.
func (g *Gateway) forgetInbound(spi uint32) {
	g.owed = slices.DeleteFunc(g.owed, func(o outgoing) bool { return !o.answer && o.in == spi && o.sent })
}
