package props

import (
	"bytes"
	"fmt"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hitless-ike/hitless/ref/peer"
)

// noDropForLackOfSA is P1: no packet is dropped for lack of an active SA
// (peer.LackOfActiveSA). A drop that a replayed, forged or late datagram
// caused, that concerns an SA an operator deleted, or that follows a
// broken assumption (until the peers converge again) is classified instead. It reports whether o is a violation.
func noDropForLackOfSA(m *Machine, s Side, o peer.Output) bool {
	if !peer.LackOfActiveSA(o.Reason) {
		return false
	}
	switch {
	case m.injecting:
		m.classify(ClassInjected)
	case m.lateStep:
		m.classify(ClassBeyondDelay)
	case o.SPI != 0 && m.opDeleted[o.SPI]:
		m.classify(ClassOperator)
	case m.taint != "":
		m.classify(m.taint)
	default:
		m.violate(NoDrop, "%s dropped %s packet for lack of an active SA: %s spi=%#08x", s, o.Direction, o.Reason, o.SPI)
		return m.check[NoDrop]
	}
	return false
}

// nothingInClear is P2 (first half): no datagram a peer transmits carries
// an application packet's bytes in clear. Every application packet holds
// probeMagic, so finding it in a datagram means it left unprotected.
func nothingInClear(m *Machine, s Side, f *flight) {
	if bytes.Contains(f.d.Bytes, probeMagic) {
		m.violate(Protected, "%s transmitted an application packet in clear (%s)", s, f.label)
	}
}

// deliveredIntactOnce is P2 (second half): what a peer delivers is a
// packet the other side's application sent, byte for byte, and each
// reaches the application at most once, whatever the network duplicates
// or an attacker replays.
func deliveredIntactOnce(m *Machine, s Side, pkt []byte) {
	id, ok := probeID(pkt)
	sent, known := m.sent[id]
	switch {
	case !ok || !known || !bytes.Equal(pkt, sent.packet):
		m.violate(Protected, "%s delivered a packet nobody sent (corrupted?): % x", s, pkt[:min(len(pkt), 48)])
	case sent.from == s:
		m.violate(Protected, "%s delivered its own pkt#%d back to itself", s, id)
	case m.delivered[id]:
		m.violate(Protected, "%s delivered pkt#%d twice", s, id)
	}
	m.delivered[id] = true
}

// agreement is P3: when both peers hold the two ends of an SA (the
// sender's outbound SA and the receiver's inbound SA with the same SPI),
// they agree on its key material (KeyID) and algorithms (Transform).
func agreement(m *Machine, st [2]peer.State) {
	for s := SideA; s <= SideB; s++ {
		for _, out := range st[s].SAs {
			if out.Direction != peer.Outbound {
				continue
			}
			in, ok := st[s.other()].Lookup(out.SPI, peer.Inbound)
			if !ok {
				continue
			}
			if in.KeyID != out.KeyID || in.Transform != out.Transform {
				m.violate(Agreement, "spi=%#08x: %s outbound has key %s %s, %s inbound has key %s %s",
					out.SPI, s, out.KeyID, out.Transform, s.other(), in.KeyID, in.Transform)
			}
		}
	}
}

// genuineAccepted is P3 (second half), the agreement the wire shows: an
// ESP datagram the other side really sent (not replayed or forged by the
// attacker) never fails the receiver's integrity check or parse. If it
// does, the two ends disagree on the SA's keys, algorithms or framing,
// whatever KeyID they report. It reports whether o is a violation.
func genuineAccepted(m *Machine, s Side, o peer.Output) bool {
	if m.injecting || o.Direction != peer.Inbound || (o.Reason != peer.ReasonAuthFailed && o.Reason != peer.ReasonMalformed) {
		return false
	}
	m.violate(Agreement, "%s dropped a genuine ESP packet from %s as %s (spi=%#08x): the ends disagree on the SA's keys, algorithms or framing",
		s, s.other(), o.Reason, o.SPI)
	return m.check[Agreement]
}

// bounded is P6: each peer's state stays within info.Limits, whatever the
// schedule: SAs per flow, half-open exchanges, packets queued for acquire.
func bounded(m *Machine, st [2]peer.State) {
	l := m.info.Limits
	for s := SideA; s <= SideB; s++ {
		perFlow := map[int]int{}
		for _, sa := range st[s].SAs {
			perFlow[sa.Flow]++
		}
		for fl, n := range perFlow {
			if l.MaxSAsPerFlow > 0 && n > l.MaxSAsPerFlow {
				m.violate(Bounded, "%s holds %d SAs on flow %d (limit %d)", s, n, fl, l.MaxSAsPerFlow)
			}
		}
		if l.MaxHalfOpen > 0 && st[s].HalfOpen > l.MaxHalfOpen {
			m.violate(Bounded, "%s has %d half-open exchanges (limit %d)", s, st[s].HalfOpen, l.MaxHalfOpen)
		}
		if l.MaxQueued > 0 && st[s].Queued > l.MaxQueued {
			m.violate(Bounded, "%s queues %d packets (limit %d)", s, st[s].Queued, l.MaxQueued)
		}
	}
}

// stateOpts ignore the snapshot time: a rejected message may still move
// the peer's clock.
var stateOpts = cmp.Options{cmpopts.IgnoreFields(peer.State{}, "At"), cmpopts.EquateEmpty()}

// forgedChangesNothing is P5: a message that fails authentication (one bit
// of a genuine message flipped) changes nothing: the receiver's State is
// exactly as it was, and it either rejects the message or treats it as a
// duplicate of the genuine message it came from.
//
// The second case is not a loophole. A flipped bit that no HASH covers
// and no check needs leaves the message authentic: the CBC padding of an
// encrypted ISAKMP message, or the header's Commit flag on a QM3 of an
// exchange already finished (RFC 2409 §5.5 hashes payloads, not the
// header). It is then the genuine message, delivered again. The receiver may then answer as to any duplicate, with
// a retransmission byte-identical to what it sent before, or with nothing.
// Any other output (a new datagram, a delivery, an SA event) or any change
// of State is a violation.
func forgedChangesNothing(m *Machine, s Side, before peer.State, outs []peer.Output) {
	rejected, duplicate := false, true
	for _, o := range outs {
		switch {
		case o.Kind == peer.Reject:
			rejected = true
		case o.Kind == peer.Transmit && o.Datagram.IsIKE() && m.sentBefore(s, o.Datagram.Bytes):
			// A retransmission: the forgery was the genuine message in effect.
		default:
			duplicate = false
			m.violate(ForgeryInert, "%s answered a forged message with a %s output", s, o.Kind)
		}
	}
	if !rejected && !duplicate {
		m.violate(ForgeryInert, "%s neither rejected a forged message nor treated it as a duplicate", s)
	}
	if d := cmp.Diff(before, m.peers[s].State(), stateOpts); d != "" {
		m.violate(ForgeryInert, "%s changed state on a forged message (-before +after):\n%s", s, d)
	}
}

// converged says why the peers are not (yet) quiescent and converged, or
// "" when they are: no exchange in progress, and for every flow either no
// SA on either side (and neither side counting it as established), or
// exactly one pair on each side, the two pairs matching SPI for SPI, each
// side's outbound SA active.
func (m *Machine) converged() string {
	st := [2]peer.State{m.peers[0].State(), m.peers[1].State()}
	for s := SideA; s <= SideB; s++ {
		if st[s].HalfOpen > 0 {
			return fmt.Sprintf("%s has %d exchanges in progress", s, st[s].HalfOpen)
		}
	}
	for fl := range m.info.Flows {
		var in, out [2][]peer.SA
		for s := SideA; s <= SideB; s++ {
			for _, sa := range st[s].SAs {
				if sa.Flow != fl {
					continue
				}
				if sa.Direction == peer.Inbound {
					in[s] = append(in[s], sa)
				} else {
					out[s] = append(out[s], sa)
				}
			}
		}
		if len(in[0])+len(in[1])+len(out[0])+len(out[1]) == 0 {
			for s := SideA; s <= SideB; s++ {
				for _, f := range st[s].Flows {
					if f.Flow == fl && f.Established {
						return fmt.Sprintf("flow %d: %s has it established but holds no SA", fl, s)
					}
				}
			}
			continue
		}
		for s := SideA; s <= SideB; s++ {
			if len(in[s]) != 1 || len(out[s]) != 1 {
				return fmt.Sprintf("flow %d: %s holds %d inbound and %d outbound SAs, want one pair", fl, s, len(in[s]), len(out[s]))
			}
		}
		for s := SideA; s <= SideB; s++ {
			if out[s][0].State != "active" {
				return fmt.Sprintf("flow %d: %s outbound spi=%#08x is %s, not active", fl, s, out[s][0].SPI, out[s][0].State)
			}
			if out[s][0].SPI != in[s.other()][0].SPI {
				return fmt.Sprintf("flow %d: %s sends on spi=%#08x but %s receives on spi=%#08x", fl, s, out[s][0].SPI, s.other(), in[s.other()][0].SPI)
			}
		}
	}
	return ""
}

// newestPairOnly is P4: after the settle phase both peers have converged
// on one pair per flow (the newest: every older SA is gone) and use it.
// When an assumption was broken the failure is classified instead.
func newestPairOnly(m *Machine) {
	why := m.converged()
	switch {
	case why == "":
	case m.taint != "":
		m.classify(ClassNoQuiescence)
	default:
		m.violate(Convergence, "not converged %s after settling: %s", fmtDur(m.info.SettleHorizon), why)
	}
}

// afterStep runs the State-based properties (P3, P6) after every step.
func (m *Machine) afterStep() {
	st := [2]peer.State{m.peers[0].State(), m.peers[1].State()}
	agreement(m, st)
	bounded(m, st)
	m.untaint()
}

// untaint ends the classification window opened by a broken assumption or
// an operator delete once its effects are gone: the peers have converged
// and no late datagram is still in flight. A margin that is too small is
// a property of the configuration and is never forgiven.
func (m *Machine) untaint() {
	if m.taint == "" || m.taint == ClassMargin {
		return
	}
	for _, f := range m.flights {
		if f.late {
			return
		}
	}
	if m.converged() == "" {
		m.taint = ""
	}
}
