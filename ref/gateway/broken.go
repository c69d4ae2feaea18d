package gateway

import (
	"github.com/hitless-ike/hitless/ref/quickmode"
	"github.com/hitless-ike/hitless/ref/sadb"
)

// brokenVariant names a deliberately broken variant of the gateway. The
// variants exist so that the property tests can show that each mistake a
// real implementation makes around a rekey is caught; they are compiled
// in only with the hitlessbroken build tag (broken_on.go). In the default
// build broken always reports false and the compiler drops every hook.
type brokenVariant uint8

// Broken variants and the mistake each makes.
const (
	_ brokenVariant = iota // none: the reference
	// The rekey initiator deletes its old inbound SAs as soon as the new
	// pair is complete, while the responder still sends on them until it
	// has QM3.
	brokenDeleteOldInbound
	// The anti-replay window lets duplicates through: a replayed ESP
	// packet is delivered again.
	brokenReplayAccepted
	// A Quick Mode message for an open exchange activates its new
	// outbound SA before HASH is verified (acting on an unauthenticated
	// "QM3").
	brokenActivateBeforeHash
	// The initiator keys its outbound SA with other key material than
	// the responder's inbound SA (as when KEYMAT is computed with the
	// wrong SPI, RFC 2409 §5.5).
	brokenWrongKeys
	// Outbound packets leave in clear.
	brokenCleartext
	// The rekey initiator never retires the pairs a rekey superseded:
	// they go only at their hard expiry, by which time later rekeys have
	// made new ones, so a flow never gets down to one pair.
	brokenNeverDeleteOld
	// Outbound ESP carries a wrong integrity check value (as a sender
	// that computes the ICV over the wrong bytes): the keys both ends
	// hold and report agree, only the wire shows the disagreement.
	brokenBadICV
)

// brokenActivate is what the activate-before-hash variant does with a
// Quick Mode message it rejected: it activates the exchange's new
// outbound SA anyway.
func (g *Gateway) brokenActivate(mid uint32) {
	if o := g.db.ByMessageID(mid, sadb.Outbound); o != nil && !o.Active() {
		g.activate(o.SPI)
	}
}

// brokenKeys is what the wrong-keys variant installs for q: as an
// initiator's outbound SA, a copy with every encryption key bit flipped.
func brokenKeys(x *xinfo, q *quickmode.SA) *quickmode.SA {
	if x.role != quickmode.Initiator || sadb.Direction(q.Direction) != sadb.Outbound {
		return q
	}
	c := *q
	c.EncKey = append([]byte(nil), q.EncKey...)
	for i := range c.EncKey {
		c.EncKey[i] ^= 0xff
	}
	return &c
}
