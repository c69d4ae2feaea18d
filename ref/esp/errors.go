package esp

import (
	"errors"
	"strconv"
)

// Reason is why a packet was dropped. The rest of the project counts drops
// by Reason.String, so the names are part of the API.
//
// A Reason is also an error, so callers can test a returned error with
// errors.Is(err, esp.Replay) without unwrapping it themselves.
type Reason uint8

// Drop reasons. Open and Seal return only some of them; UnknownSPI and
// NoActiveSA also exist for the SA database that routes packets to SAs.
const (
	// UnknownSPI: no installed inbound SA has the packet's SPI (or the
	// packet was handed to an SA with a different SPI).
	UnknownSPI Reason = iota + 1
	// NoActiveSA: an outbound packet found no active SA for its flow.
	// Returned by callers, never by this package.
	NoActiveSA
	// Replay: the sequence number was already received, lies left of the
	// anti-replay window, or is zero (RFC 4303 §3.4.3).
	Replay
	// AuthFailed: the ICV did not verify (RFC 4303 §3.4.4).
	AuthFailed
	// Expired: the SA may no longer be used; for Seal, the sequence number
	// space is exhausted and the SA must be rekeyed (RFC 4303 §3.3.3).
	Expired
	// Malformed: truncated, not block aligned, bad padding, bad length, an
	// inner packet that is not IPv4/IPv6, or a bad UDP encapsulation.
	Malformed
	// Dummy: an authenticated dummy packet (Next Header 59, RFC 4303 §2.6),
	// discarded on purpose. Not an attack and not a loss.
	Dummy
)

var reasonNames = [...]string{
	UnknownSPI: "unknown-spi",
	NoActiveSA: "no-active-sa",
	Replay:     "replay",
	AuthFailed: "auth-failed",
	Expired:    "expired",
	Malformed:  "malformed",
	Dummy:      "dummy",
}

// String returns the reason's stable name, e.g. "auth-failed".
func (r Reason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// Error makes a Reason usable as an errors.Is target. It returns the same
// name as String, so %v prints a Reason identically in both roles.
func (r Reason) Error() string { return r.String() }

// DropError reports a packet that was not protected or not delivered. It
// wraps its Reason, so errors.Is(err, esp.AuthFailed) works.
type DropError struct {
	Reason Reason
	SPI    uint32 // SPI of the SA or packet; 0 if unknown
	Seq    uint64 // sequence number concerned (ESN-expanded); 0 if unknown
	Detail string // what exactly was wrong, for people
}

// Error formats the drop for logs.
func (e *DropError) Error() string {
	s := "esp: drop " + e.Reason.String() + " spi=0x" + strconv.FormatUint(uint64(e.SPI), 16)
	if e.Seq != 0 {
		s += " seq=" + strconv.FormatUint(e.Seq, 10)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the Reason.
func (e *DropError) Unwrap() error { return e.Reason }

// ReasonOf returns the drop Reason carried by err, if any.
func ReasonOf(err error) (Reason, bool) {
	var r Reason
	if errors.As(err, &r) {
		return r, true
	}
	return 0, false
}

// ErrConfig is wrapped by every error NewSA returns for an unusable Config.
var ErrConfig = errors.New("esp: invalid SA configuration")

// ErrRandom is wrapped when the IV source fails; Seal then changes nothing.
var ErrRandom = errors.New("esp: IV source failed")

func drop(r Reason, spi uint32, seq uint64, detail string) error {
	return &DropError{Reason: r, SPI: spi, Seq: seq, Detail: detail}
}
