// Package props holds the rapid state-machine properties of hitless and the
// harness that drives two peers through generated schedules.
//
// The harness sees implementations only through peer.Peer: a Pair builds
// two of them, and a schedule of actions (application sends, delivery of
// any in-flight datagram, IKE loss and duplication, ESP loss, virtual time,
// rekeys by either or both sides, operator deletes, replayed and forged
// datagrams) is drawn by rapid. After every step the properties below are
// checked from the peers' outputs and State snapshots; a violation stops
// the schedule, rapid shrinks it, and the shrunk schedule is recorded as a
// ladder.Trace a person can read.
//
// Properties:
//
//	P1 no-drop        no drop for lack of an active SA (unless classified)
//	P2 protected      nothing protected leaves in clear, nothing delivered twice
//	P3 agreement      both sides agree on every SA pair they both hold, and
//	                  no genuine ESP packet fails the receiver's integrity check
//	P4 convergence    after quiescence both use the newest pair, older SAs gone
//	P5 forgery-inert  a message that fails authentication changes nothing
//	P6 bounded        SAs per flow, half-open exchanges, queued packets bounded
//
// Package refpair wires the reference gateway in (a Pair per Quick Mode
// profile, with each profile's expected verdicts); `hitless check` runs
// it from the command line.
//
// Some properties only hold under assumptions about the network (Assumptions).
// Schedules that break an assumption still run; a drop they cause is
// classified (e.g. "beyond-bounded-delay") and counted, never reported as
// a violation of P1 and never silently passed.
package props

import (
	"fmt"
	"time"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/ref/peer"
)

// Pair builds the two peers of one schedule. It may draw from t (e.g. a
// seed for the peers' randomness); it must not share state between calls.
// Either side may be any implementation.
type Pair func(t *rapid.T) (a, b peer.Peer, info PairInfo)

// PairInfo describes a pair to the harness.
type PairInfo struct {
	// Name identifies the pair in traces, e.g. "toy/hitless".
	Name string
	// Flows is the number of flows both peers were configured with (≥ 1).
	Flows int
	// Limits bound the peers' state (property P6).
	Limits Limits
	// Assumptions are the conditions under which P1 and P4 are claimed.
	Assumptions Assumptions
	// SettleHorizon bounds the settle phase in virtual time: the peers must
	// converge (P4) within it. It should exceed the hard lifetime.
	SettleHorizon time.Duration
}

// Limits are the bounds of property P6. Zero means unbounded.
type Limits struct {
	MaxSAsPerFlow int // inbound plus outbound SAs of one flow, per peer
	MaxHalfOpen   int // exchanges in progress, per peer
	MaxQueued     int // packets queued for acquire, per peer
}

// Assumptions name the conditions the no-drop and convergence properties
// rely on.
type Assumptions struct {
	// MaxDelay is the bounded-delay assumption: a datagram is delivered or
	// lost at most MaxDelay after it was sent.
	MaxDelay time.Duration
	// MaxLosses is the finite-loss assumption: at most MaxLosses IKE
	// datagrams of one exchange (one ISAKMP message ID) are lost, in total.
	// (A total rather than a consecutive count: alternating loss of QM3
	// and delivery of QM2 retransmissions would otherwise starve the
	// responder while never exceeding a consecutive bound.)
	MaxLosses int
	// SoftToHard is the smallest margin between soft and hard lifetime of
	// the peers; WorstNegotiation is the longest a negotiation may take
	// under the other assumptions. The margin assumption is that
	// SoftToHard > WorstNegotiation; when it does not hold, drops after a
	// hard expiry are classified "soft-to-hard-margin".
	SoftToHard, WorstNegotiation time.Duration
}

// Classes of drops that happen outside the assumptions, or for reasons
// that are not the peers' fault. They are counted in Result.Classified.
const (
	ClassBeyondDelay  = "beyond-bounded-delay" // a datagram outlived MaxDelay
	ClassBeyondLoss   = "beyond-finite-loss"   // an exchange lost more than MaxLosses
	ClassNegotiation  = "negotiation-failed"   // an exchange failed (timed out)
	ClassMargin       = "soft-to-hard-margin"  // the margin assumption does not hold
	ClassOperator     = "operator-delete"      // the SA was deleted by an operator command
	ClassInjected     = "injected-datagram"    // caused by a replayed or forged datagram
	ClassNoQuiescence = "no-quiescence"        // P4 not met after assumptions were broken
)

// PropertyID names a property.
type PropertyID uint8

// Properties.
const (
	NoDrop PropertyID = iota + 1
	Protected
	Agreement
	Convergence
	ForgeryInert
	Bounded
)

// AllProperties lists every property in order.
var AllProperties = []PropertyID{NoDrop, Protected, Agreement, Convergence, ForgeryInert, Bounded}

var propertyNames = [...]string{"", "P1 no-drop", "P2 protected", "P3 agreement", "P4 convergence", "P5 forgery-inert", "P6 bounded"}

// String returns the property's number and name, e.g. "P1 no-drop".
func (p PropertyID) String() string {
	if int(p) < len(propertyNames) && p != 0 {
		return propertyNames[p]
	}
	return fmt.Sprintf("property(%d)", p)
}

// Violation is one violation of a property at one step of a schedule.
// It is an error, so callers can use errors.As.
type Violation struct {
	Property PropertyID
	Step     int // 1-based index of the step (action) that violated it
	Detail   string
}

// Error describes the violation in one line.
func (v *Violation) Error() string {
	return fmt.Sprintf("%v violated at step %d: %s", v.Property, v.Step, v.Detail)
}
