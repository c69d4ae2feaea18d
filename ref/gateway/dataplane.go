package gateway

import (
	"github.com/hitless-ike/hitless/ref/esp"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/sadb"
)

// send protects an application packet on flow.
func (g *Gateway) send(flow int, pkt []byte) {
	if flow < 0 || flow >= len(g.cfg.Flows) {
		g.drop(peer.Outbound, flow, 0, peer.ReasonNoFlow, pkt)
		return
	}
	sa := g.db.Active(flow)
	if sa == nil {
		if g.db.Established(flow) {
			g.drop(peer.Outbound, flow, 0, peer.ReasonNoActiveSA, pkt)
			return
		}
		g.acquire(flow, pkt)
		return
	}
	g.seal(sa, pkt)
}

// acquire queues a packet for a flow that never had an active SA and
// starts its first negotiation if this end is the one to.
func (g *Gateway) acquire(flow int, pkt []byte) {
	if len(g.queues[flow]) >= g.cfg.MaxQueue {
		g.drop(peer.Outbound, flow, 0, peer.ReasonQueueFull, pkt)
		return
	}
	g.queues[flow] = append(g.queues[flow], append([]byte(nil), pkt...))
	g.out = append(g.out, peer.Output{Kind: peer.Queue, Direction: peer.Outbound, Flow: flow, Packet: pkt})
	if g.cfg.Initiator && g.openFor(flow) == nil {
		g.initiate(flow)
	}
}

// seal protects pkt with outbound SA sa and transmits it.
func (g *Gateway) seal(sa *sadb.SA, pkt []byte) {
	if broken(brokenCleartext) {
		g.out = append(g.out, peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.ESP, Bytes: pkt}})
		return
	}
	start := len(g.arena)
	out, err := sa.ESP.Seal(g.arena, pkt)
	if err != nil {
		reason := peer.ReasonMalformed
		if r, ok := esp.ReasonOf(err); ok {
			reason = r.String()
		}
		g.drop(peer.Outbound, sa.Flow, sa.SPI, reason, pkt)
		return
	}
	g.arena = out
	if broken(brokenBadICV) {
		out[len(out)-1] ^= 1
	}
	tr := peer.ESP
	if g.cfg.Phase1.NATT {
		tr = peer.UDP4500 // an ESP packet in UDP 4500 carries no marker
	}
	g.out = append(g.out, peer.Output{Kind: peer.Transmit, Flow: sa.Flow, SPI: sa.SPI, Direction: peer.Outbound,
		Datagram: peer.Datagram{Transport: tr, Bytes: out[start:len(out):len(out)]}})
	if sa.Soft.Bytes != 0 || sa.Hard.Bytes != 0 || (!sa.SoftExpired() && sa.SeqSoftDue()) {
		g.expire()
	}
}

// receiveESP routes an ESP packet to its inbound SA and opens it.
func (g *Gateway) receiveESP(b []byte) {
	spi, err := esp.PeekSPI(b)
	if err != nil {
		g.drop(peer.Inbound, 0, 0, peer.ReasonMalformed, nil)
		return
	}
	sa := g.db.Inbound(spi)
	if sa == nil {
		g.drop(peer.Inbound, 0, spi, peer.ReasonUnknownSPI, nil)
		return
	}
	start := len(g.arena)
	out, err := sa.ESP.Open(g.arena, b)
	if p, ok := brokenReplay(g, b); err != nil && ok && broken(brokenReplayAccepted) {
		g.out = append(g.out, peer.Output{Kind: peer.Deliver, Flow: sa.Flow, SPI: spi, Direction: peer.Inbound, Packet: p})
		return
	}
	if err != nil {
		reason := peer.ReasonMalformed
		if r, ok := esp.ReasonOf(err); ok {
			reason = r.String()
		}
		g.drop(peer.Inbound, sa.Flow, spi, reason, nil)
		return
	}
	g.arena = out
	g.out = append(g.out, peer.Output{Kind: peer.Deliver, Flow: sa.Flow, SPI: spi, Direction: peer.Inbound,
		Packet: out[start:len(out):len(out)]})
	brokenSeen(g, b, out[start:])
	g.espOnRetiring(spi)
	if g.db.MarkSeen(sa) {
		// The first authenticated packet proves the peer holds the pair:
		// a hitless responder activates its outbound SA now.
		evs, err := g.x.HandleESP(g.evs[:0], clock(g.now), spi)
		g.evs = evs
		if err == nil {
			g.apply(evs)
		}
	}
	if sa.Soft.Bytes != 0 || sa.Hard.Bytes != 0 {
		g.expire()
	}
}

// flush sends the packets queued for flow on its new active SA.
func (g *Gateway) flush(flow int) {
	q := g.queues[flow]
	g.queues[flow] = nil
	sa := g.db.Active(flow)
	for _, p := range q {
		if sa == nil {
			g.drop(peer.Outbound, flow, 0, peer.ReasonNoActiveSA, p)
			continue
		}
		g.seal(sa, p)
	}
}
