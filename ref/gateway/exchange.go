package gateway

import (
	"slices"
	"time"

	"github.com/hitless-ike/hitless/ref/esp"
	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
	"github.com/hitless-ike/hitless/ref/sadb"
)

// order returns the next value of a counter that orders exchange starts
// and ends even when they happen at the same virtual time.
func (g *Gateway) order() uint64 {
	g.seq++
	return g.seq
}

// openFor returns the open exchange of flow, if any.
func (g *Gateway) openFor(flow int) *xinfo {
	for _, x := range g.xs {
		if x.flow == flow && x.open() {
			return x
		}
	}
	return nil
}

func (g *Gateway) info(mid uint32) *xinfo {
	for _, x := range g.xs {
		if x.mid == mid {
			return x
		}
	}
	return nil
}

// remember adds x, forgetting the oldest finished exchanges beyond the bound.
func (g *Gateway) remember(x *xinfo) {
	g.xs = append(g.xs, x)
	for n := len(g.xs); n > maxRemembered; n-- {
		i := slices.IndexFunc(g.xs, func(o *xinfo) bool { return !o.open() })
		if i < 0 {
			return
		}
		g.xs = slices.Delete(g.xs, i, i+1)
	}
}

// initiate starts a Quick Mode for flow unless one is open for it.
func (g *Gateway) initiate(flow int) {
	if g.openFor(flow) != nil {
		return
	}
	if g.db.FlowLen(flow)+2 > g.cfg.MaxSAsPerFlow {
		// No room for another pair: refuse rather than negotiate SAs
		// that cannot be installed.
		g.out = append(g.out, peer.Output{Kind: peer.Exchange, ExchangeEvent: peer.Failed, Flow: flow,
			Role: quickmode.Initiator.String(), Reason: "flow holds the maximum number of SAs"})
		return
	}
	f := g.cfg.Flows[flow]
	// A fresh slice: initiate may run while apply walks g.evs.
	evs, mid, err := g.x.Initiate(nil, clock(g.now), quickmode.Request{
		Proposals: g.cfg.Proposals, PFS: g.cfg.PFS, Local: f.Local, Remote: f.Remote,
	})
	x := &xinfo{mid: mid, flow: flow, role: quickmode.Initiator, start: g.order()}
	if err != nil {
		x.failed = true
		g.exchangeEvent(peer.Failed, x, err.Error())
		g.negotiationFailed(flow)
		return
	}
	g.remember(x)
	g.exchangeEvent(peer.Started, x, "")
	g.apply(evs)
}

// flowOf returns the flow whose selectors are sa's.
func (g *Gateway) flowOf(sa *quickmode.SA) int {
	for i, f := range g.cfg.Flows {
		if f.Local == sa.Local && f.Remote == sa.Remote {
			return i
		}
	}
	return -1
}

// apply carries out the events of the exchange, in order.
func (g *Gateway) apply(evs []quickmode.Event) {
	for i := range evs {
		ev := &evs[i]
		x := g.info(ev.MessageID)
		if x == nil {
			x = &xinfo{mid: ev.MessageID, flow: -2, role: ev.Role, start: g.order()}
			g.remember(x)
			g.exchangeEvent(peer.Started, x, "")
		}
		if x.flow == -2 && ev.SA.SPI != 0 {
			x.flow = g.flowOf(&ev.SA)
			if x.flow < 0 {
				g.reject(x.mid, "client IDs match no configured flow", isakmp.NotifyInvalidIDInformation)
			}
		}
		switch ev.Kind {
		case quickmode.EventSend:
			// An exchange whose SAs could not be installed must not
			// make the peer use them: its QM2 or QM3 stays unsent.
			if !x.installFailed {
				g.transmitIKE(ev.Datagram)
			}
		case quickmode.EventInstalledInbound, quickmode.EventInstalledOutbound:
			if x.flow >= 0 && !x.installFailed {
				g.install(x, &ev.SA)
			}
		case quickmode.EventActivatedOutbound:
			if x.flow >= 0 && !x.loser && !x.installFailed {
				g.activate(ev.SA.SPI)
			}
		case quickmode.EventDeleted:
			g.deleteSA(sadb.Direction(ev.SA.Direction), ev.SA.SPI)
		case quickmode.EventCompleted:
			x.done, x.end = true, g.order()
			g.exchangeEvent(peer.Completed, x, "")
			if x.flow >= 0 && !x.installFailed {
				g.db.MarkProven(x.mid)
				g.completed(x)
			}
		case quickmode.EventFailed:
			x.failed, x.end = true, g.order()
			g.exchangeEvent(peer.Failed, x, ev.Reason)
			if x.flow >= 0 {
				g.negotiationFailed(x.flow)
				// A failed rekey of a soft-expired pair is retried; the
				// retransmission schedule paces the attempts.
				if a := g.db.Active(x.flow); a != nil && a.SoftExpired() && x.role == quickmode.Initiator {
					g.initiate(x.flow)
				}
			}
		}
	}
}

// negotiationFailed drops the acquire queue of a flow that has no SA and
// no exchange left to give it one.
func (g *Gateway) negotiationFailed(flow int) {
	if g.db.Established(flow) || g.openFor(flow) != nil {
		return
	}
	for _, p := range g.queues[flow] {
		g.drop(peer.Outbound, flow, 0, peer.ReasonNegotiation, p)
	}
	g.queues[flow] = nil
}

// lifetimes computes the pair's lifetimes once per exchange, so both
// directions expire together.
func (g *Gateway) lifetimes(x *xinfo, t quickmode.Transform) error {
	if x.lifeSet {
		return nil
	}
	hard := time.Duration(t.LifeSeconds) * time.Second
	soft := g.cfg.Lifetime.Soft
	if soft != 0 && soft >= hard {
		// The peer lowered the lifetime below our soft one: still
		// rekey before the hard expiry.
		soft = hard - hard/10
	}
	if soft != 0 {
		s, err := sadb.SoftTime(soft, g.cfg.RekeyFuzz, g.cfg.Rand)
		if err != nil {
			return err
		}
		x.soft.Time = g.now + s
	}
	if hard != 0 {
		x.hard.Time = g.now + hard
	}
	if t.LifeKilobytes != 0 {
		x.hard.Bytes = uint64(t.LifeKilobytes) * 1024
		if k := uint64(g.cfg.Lifetime.SoftKilobytes) * 1024; k != 0 && k < x.hard.Bytes {
			x.soft.Bytes = k
		}
	} else if k := g.cfg.Lifetime.SoftKilobytes; k != 0 {
		x.soft.Bytes = uint64(k) * 1024
	}
	x.lifeSet = true
	return nil
}

// install puts a negotiated SA into the database.
func (g *Gateway) install(x *xinfo, q *quickmode.SA) {
	if broken(brokenWrongKeys) {
		q = brokenKeys(x, q)
	}
	t, err := espTransform(q.Transform.ESP)
	if err == nil {
		err = g.lifetimes(x, q.Transform)
	}
	var s *esp.SA
	if err == nil {
		s, err = esp.NewSA(esp.Config{SPI: q.SPI, Transform: t, EncKey: append(append([]byte(nil), q.EncKey...), q.Salt...),
			AuthKey: q.IntegKey, ReplayWindow: g.cfg.ReplayWindow, Rand: g.cfg.Rand})
	}
	if err == nil {
		sa := &sadb.SA{SPI: q.SPI, Direction: sadb.Direction(q.Direction), Flow: x.flow, MessageID: x.mid, ESP: s,
			Transform: t.String(), Installed: g.now, Soft: x.soft, Hard: x.hard}
		sa.KeyID = keyID(sa.Transform, q)
		if err = g.db.Install(sa); err == nil {
			g.saEvent(peer.Installed, sa)
			return
		}
	}
	// Half a pair is worse than none: withdraw what this exchange
	// installed and ignore the rest of it.
	x.installFailed = true
	g.reject(x.mid, "installing SA: "+err.Error(), isakmp.NotifyNone)
	for _, d := range []sadb.Direction{sadb.Inbound, sadb.Outbound} {
		if sa := g.db.ByMessageID(x.mid, d); sa != nil {
			g.deleteSA(d, sa.SPI)
		}
	}
}

// activate makes outbound SA spi active and sends what waited for it.
func (g *Gateway) activate(spi uint32) {
	prev, err := g.db.Activate(spi)
	if err != nil {
		return
	}
	if prev != nil {
		g.deactivated[prev.SPI] = g.now
		g.saEvent(peer.Deactivated, prev)
	}
	sa := g.db.Outbound(spi)
	if prev == nil && !sa.Active() {
		return
	}
	g.saEvent(peer.Activated, sa)
	if len(g.queues[sa.Flow]) > 0 {
		g.flush(sa.Flow)
	}
}

// deleteSA removes an SA and reports it, and the SA that took over.
func (g *Gateway) deleteSA(d sadb.Direction, spi uint32) {
	gone, next, err := g.db.Delete(d, spi)
	if err != nil {
		return
	}
	if d == sadb.Inbound {
		g.forgetInbound(spi)
	} else {
		delete(g.deactivated, spi)
	}
	g.saEvent(peer.Deleted, gone)
	if next != nil {
		g.saEvent(peer.Activated, next)
	}
}

// deletePair removes an SA and the other direction of its exchange.
func (g *Gateway) deletePair(sa *sadb.SA) {
	p := g.db.Pair(sa)
	g.deleteSA(sa.Direction, sa.SPI)
	if p != nil {
		g.deleteSA(p.Direction, p.SPI)
	}
}

// completed runs what follows a finished exchange: the simultaneous-rekey
// rule, then the handling of the old pairs the options ask for.
func (g *Gateway) completed(x *xinfo) {
	if p := g.partner(x); p != nil {
		g.resolve(x, p)
	}
	if x.loser || x.role != quickmode.Initiator {
		return
	}
	old := g.oldPairs(x)
	if len(old) == 0 || broken(brokenNeverDeleteOld) {
		return
	}
	switch {
	case broken(brokenDeleteOldInbound):
		for _, spi := range old {
			g.deleteSA(sadb.Inbound, spi)
		}
	case g.cfg.DeleteOldAfterRekey:
		g.sendDelete(old)
		for _, spi := range old {
			if sa := g.db.Inbound(spi); sa != nil {
				g.deletePair(sa)
			}
		}
	case g.cfg.DeleteRekeyed:
		for _, spi := range old {
			g.deleteSA(sadb.Inbound, spi)
		}
	case g.cfg.Linger > 0:
		// Retired, not removed, when the time comes: see retire.go.
		g.timers = append(g.timers, timer{at: g.now + g.cfg.Linger, kind: timerDeleteOld, mid: x.mid, flow: x.flow})
	}
}

// partner finds a finished exchange of the other role for the same flow
// whose lifetime overlapped x's: a simultaneous rekey.
func (g *Gateway) partner(x *xinfo) *xinfo {
	for _, o := range g.xs {
		if o == x || o.flow != x.flow || o.role == x.role || !o.done || o.resolved {
			continue
		}
		if o.start < x.end && x.start < o.end {
			return o
		}
	}
	return nil
}

// resolve applies the simultaneous-rekey rule: the lower M-ID wins. The
// initiator of the redundant exchange retires its pair; the other side
// waits for its Delete (see the package doc for why both converge).
func (g *Gateway) resolve(a, b *xinfo) {
	win, lose := a, b
	if b.mid < a.mid {
		win, lose = b, a
	}
	a.resolved, b.resolved, lose.loser = true, true, true
	a.partner, b.partner = b.mid, a.mid
	if w := g.db.ByMessageID(win.mid, sadb.Outbound); w != nil && w.Proven() && !w.Active() {
		g.activate(w.SPI)
	}
	if lose.role != quickmode.Initiator {
		return // the peer initiated it and retires it
	}
	if in := g.db.ByMessageID(lose.mid, sadb.Inbound); in != nil {
		g.retire(in)
	} else if out := g.db.ByMessageID(lose.mid, sadb.Outbound); out != nil {
		g.deleteSA(sadb.Outbound, out.SPI)
	}
}

// oldPairs returns the inbound SPIs of flow pairs negotiated by exchanges
// that started before x (or are forgotten), excluding pairs of exchanges
// still open, x's collision partner, pairs already retiring and the pair
// this side sends on. Only x's own partner is spared: sparing every pair
// that once won a collision (as this did before) kept such pairs until
// their hard expiry, and with both sides rekeying at once every period the
// peers were never down to one pair.
func (g *Gateway) oldPairs(x *xinfo) []uint32 {
	var spis []uint32
	for _, sa := range g.db.All() {
		if sa.Flow != x.flow || sa.Direction != sadb.Inbound || sa.MessageID == x.mid || g.retiring(sa.SPI) {
			continue
		}
		if x.resolved && sa.MessageID == x.partner {
			continue
		}
		if o := g.info(sa.MessageID); o != nil && (o.open() || o.start >= x.start) {
			continue
		}
		if out := g.db.Pair(sa); out != nil && out.Active() {
			continue
		}
		spis = append(spis, sa.SPI)
	}
	return spis
}

// tick runs every due timer.
func (g *Gateway) tick() {
	evs := g.x.HandleTimeout(g.evs[:0], clock(g.now))
	g.evs = evs
	g.apply(evs)
	for i := 0; i < len(g.timers); {
		t := g.timers[i]
		if t.at > g.now {
			i++
			continue
		}
		g.timers = slices.Delete(g.timers, i, i+1)
		switch t.kind {
		case timerDeleteOld:
			// A pair that lost a collision since keeps nothing else alive.
			if x := g.info(t.mid); x != nil && !x.loser && g.db.ByMessageID(x.mid, sadb.Inbound) != nil {
				for _, spi := range g.oldPairs(x) {
					if sa := g.db.Inbound(spi); sa != nil {
						g.retire(sa)
					}
				}
			}
		}
	}
	g.sendOwed()
	g.expire()
}

// expire handles lifetimes that passed: soft starts a rekey of the
// flow's current pair, hard deletes (and tells the peer for inbound SAs).
func (g *Gateway) expire() {
	g.exps = g.db.Due(g.exps[:0], g.now)
	for _, e := range g.exps {
		sa := e.SA
		if g.db.Inbound(sa.SPI) != sa && g.db.Outbound(sa.SPI) != sa {
			continue // deleted with its pair earlier in this loop
		}
		switch e.Kind {
		case sadb.SoftExpiry:
			g.saEvent(peer.SoftExpired, sa)
			out := sa
			if sa.Direction == sadb.Inbound {
				out = g.db.Pair(sa)
			}
			if out != nil && out.Active() {
				g.initiate(sa.Flow)
			}
		case sadb.HardExpiry:
			if sa.Direction == sadb.Inbound {
				g.sendDelete([]uint32{sa.SPI})
			}
			g.deleteSA(sa.Direction, sa.SPI)
		}
	}
}

// operatorDelete deletes the pair whose inbound SPI is spi and tells the
// peer.
func (g *Gateway) operatorDelete(spi uint32) {
	sa := g.db.Inbound(spi)
	if sa == nil {
		g.reject(0, "operator delete: no inbound SA with this SPI", isakmp.NotifyInvalidSPI)
		return
	}
	if x := g.info(sa.MessageID); x != nil && x.open() {
		// Half a pair is worse than none: the rest of the exchange must
		// not install the other half (a responder's outbound SA at QM3).
		x.installFailed = true
	}
	g.sendDelete([]uint32{spi})
	g.deletePair(sa)
}
