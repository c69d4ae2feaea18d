package gateway

import (
	"math"

	"github.com/hitless-ike/hitless/ref/esp"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/sadb"
)

// Coasting (peer.Coaster) applies the data-plane bookkeeping of quiet
// traffic without building packets: sequence numbers, anti-replay windows,
// counters and, for AES-CBC, the IVs drawn from Config.Rand (which the
// gateway shares with M-IDs, SPIs and nonces, so later exchanges stay what
// stepping every packet would give; hence CoastSent must come where the
// Sends it replaces would have, relative to the gateway's other Steps).
// None of these methods moves the clock, emits outputs or touches timers;
// the caller must coast only while no timer is due and no IKE message is
// in flight, and only well-formed inner IP packets whose length is exactly
// size.

var _ peer.Coaster = (*Gateway)(nil)

// CoastOut implements peer.Coaster. It refuses (ok false) a flow without
// an active outbound SA, a size no inner IP packet can have, and any
// packet that would fire a byte lifetime, bring the SA within
// sadb.SeqSoftMargin of the end of its sequence space (a soft expiry) or
// exhaust it.
func (g *Gateway) CoastOut(flow, size int) (spi uint32, next, n uint64, ok bool) {
	if flow < 0 || flow >= len(g.cfg.Flows) || !coastable(size) || brokenAny() {
		return 0, 0, 0, false
	}
	sa := g.db.Active(flow)
	if sa == nil {
		return 0, 0, 0, false
	}
	n = min(sa.ESP.SealBudget(), byteBudget(sa, size))
	if !sa.SoftExpired() {
		// The packet that brings the SA within SeqSoftMargin of the end
		// of its sequence space starts a rekey: Step's.
		n = min(n, sa.ESP.SealBudget()-min(sa.ESP.SealBudget(), sadb.SeqSoftMargin+1))
	}
	if n == 0 {
		return 0, 0, 0, false
	}
	return sa.SPI, sa.ESP.LastSeq() + 1, n, true
}

// CoastIn implements peer.Coaster. Besides a byte lifetime it refuses an
// inbound SA that has not authenticated ESP yet (the first packet may
// activate a hitless responder's pair) and one whose pair is retiring
// (ESP on it re-sends the Delete): such packets must go through Step.
func (g *Gateway) CoastIn(spi uint32, size int) (n uint64, window int, ok bool) {
	sa := g.db.Inbound(spi)
	if sa == nil || !sa.Seen() || g.retiring(spi) || !coastable(size) || brokenAny() {
		return 0, 0, false
	}
	room := uint64(math.MaxUint32)
	if sa.ESP.ESN() {
		room = math.MaxUint64
	}
	n = min(room-sa.ESP.HighestSeq(), byteBudget(sa, size))
	if n == 0 {
		return 0, 0, false
	}
	return n, sa.ESP.ReplayWindow(), true
}

// CoastSent implements peer.Coaster; an unknown spi is ignored. It trusts
// CoastOut's bound: packets beyond it are not applied (the sequence
// space) or fire no lifetime (bytes).
func (g *Gateway) CoastSent(spi uint32, n uint64, size int) {
	if sa := g.db.Outbound(spi); sa != nil {
		_ = sa.ESP.CoastSealed(n, size)
	}
}

// CoastReceived implements peer.Coaster with the drop reasons of Step:
// "replay" for a duplicate or a number left of the window, "unknown-spi"
// when spi is not installed.
func (g *Gateway) CoastReceived(spi uint32, seq uint64, size int) string {
	sa := g.db.Inbound(spi)
	if sa == nil {
		return peer.ReasonUnknownSPI
	}
	if err := sa.ESP.CoastOpened(seq, size); err != nil {
		if r, ok := esp.ReasonOf(err); ok {
			return r.String()
		}
		return peer.ReasonMalformed
	}
	return ""
}

// coastable reports whether an inner IP packet can be size bytes long.
func coastable(size int) bool { return size >= 20 && size <= math.MaxUint16 }

// byteBudget returns how many more packets of size bytes sa can seal or
// open before one fires a byte lifetime (sadb.DB.Due: Bytes >= limit).
func byteBudget(sa *sadb.SA, size int) uint64 {
	b, n := sa.Stats().Bytes, uint64(math.MaxUint64)
	limit := func(at uint64) {
		switch {
		case at == 0:
		case b >= at:
			n = 0
		default:
			n = min(n, (at-b-1)/uint64(size))
		}
	}
	if !sa.SoftExpired() {
		limit(sa.Soft.Bytes)
	}
	limit(sa.Hard.Bytes)
	return n
}
