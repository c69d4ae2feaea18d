package quickmode

import (
	"errors"
	"fmt"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

// errKind is a sentinel that knows the ISAKMP notify type it maps to.
type errKind struct {
	msg    string
	notify isakmp.NotifyType
}

func (e *errKind) Error() string { return "quickmode: " + e.msg }

// Sentinel error kinds, usable with errors.Is. Returned errors are *Error
// values wrapping one of them (and, where there is one, the cause).
var (
	// ErrWrongCookies: the header's cookies are not those of this phase-1 SA.
	ErrWrongCookies error = &errKind{"cookies do not match the phase-1 SA", isakmp.NotifyInvalidCookie}
	// ErrNotQuickMode: the exchange type is not Quick Mode.
	ErrNotQuickMode error = &errKind{"not a Quick Mode message", isakmp.NotifyInvalidExchangeType}
	// ErrNotEncrypted: the E flag is clear or other flags are invalid.
	ErrNotEncrypted error = &errKind{"Quick Mode message not encrypted or flags invalid", isakmp.NotifyInvalidFlags}
	// ErrMessageIDZero: a Quick Mode message carries message ID 0.
	ErrMessageIDZero error = &errKind{"message ID zero", isakmp.NotifyInvalidMessageID}
	// ErrMessageTooLarge: the datagram exceeds Config.MaxMessageSize.
	ErrMessageTooLarge error = &errKind{"message too large", isakmp.NotifyPayloadMalformed}
	// ErrMalformed: the message or its decrypted body does not parse.
	ErrMalformed error = &errKind{"malformed message", isakmp.NotifyPayloadMalformed}
	// ErrBadHash: the HASH payload does not verify (wrong key, tampering,
	// a message of another exchange or a reordered one).
	ErrBadHash error = &errKind{"HASH does not verify", isakmp.NotifyInvalidHashInformation}
	// ErrMissingPayload: a payload the message must carry is absent.
	ErrMissingPayload error = &errKind{"required payload missing", isakmp.NotifyPayloadMalformed}
	// ErrUnexpectedPayload: a payload is repeated or not allowed in this
	// message.
	ErrUnexpectedPayload error = &errKind{"unexpected payload", isakmp.NotifyInvalidPayloadType}
	// ErrNonceLength: a nonce is shorter than 8 or longer than 256 bytes.
	ErrNonceLength error = &errKind{"nonce length outside 8..256", isakmp.NotifyPayloadMalformed}
	// ErrNoProposalChosen: no offered proposal is acceptable, or the
	// responder chose one that was not offered.
	ErrNoProposalChosen error = &errKind{"no proposal chosen", isakmp.NotifyNoProposalChosen}
	// ErrInvalidSPI: the responder's SPI in QM2 is missing, zero or
	// reserved (1..255). A responder instead skips an initiator proposal
	// whose SPI is invalid, as it skips any proposal it cannot use, and
	// answers ErrNoProposalChosen when none is left.
	ErrInvalidSPI error = &errKind{"invalid SPI", isakmp.NotifyInvalidSPI}
	// ErrInvalidKE: the KE payload is missing, unexpected or fails the
	// group's public value check.
	ErrInvalidKE error = &errKind{"invalid key exchange payload", isakmp.NotifyInvalidKeyInformation}
	// ErrInvalidID: client IDs are malformed, not a prefix, single, or do
	// not match what was sent.
	ErrInvalidID error = &errKind{"invalid client identification", isakmp.NotifyInvalidIDInformation}
	// ErrUnexpectedMessage: the message does not fit the state of its
	// exchange (a reflected message, or one for a completed exchange that
	// is not a retransmission this side answers).
	ErrUnexpectedMessage error = &errKind{"message out of place", isakmp.NotifyNone}
	// ErrDuplicate: an exact retransmission that needs no answer.
	ErrDuplicate error = &errKind{"duplicate message", isakmp.NotifyNone}
	// ErrTooManyHalfOpen: Config.MaxHalfOpen exchanges are already open.
	ErrTooManyHalfOpen error = &errKind{"too many half-open exchanges", isakmp.NotifyNone}
	// ErrRetransmitLimit: the peer did not answer after Backoff.MaxTries
	// transmissions.
	ErrRetransmitLimit error = &errKind{"retransmission limit reached", isakmp.NotifyNone}
	// ErrResponderTimeout: QM3 did not arrive within Config.ResponderTimeout.
	ErrResponderTimeout error = &errKind{"timed out waiting for QM3", isakmp.NotifyNone}
	// ErrBadConfig: a Config, Profile, Phase1 or Request is invalid.
	ErrBadConfig error = &errKind{"invalid configuration", isakmp.NotifyNone}
	// ErrRandom: the injected randomness failed.
	ErrRandom error = &errKind{"randomness failed", isakmp.NotifyNone}
	// ErrUnknownSPI: HandleESP was given an SPI no open exchange owns.
	ErrUnknownSPI error = &errKind{"no open exchange has this inbound SPI", isakmp.NotifyNone}
)

// Error is the error type of this package: a sentinel Kind, the message ID
// concerned (0 if none), a short detail and an optional cause.
type Error struct {
	Kind      error
	MessageID uint32
	Detail    string
	Err       error // cause from another package, may be nil
}

// Error formats the kind, message ID, detail and cause.
func (e *Error) Error() string {
	s := e.Kind.Error()
	if e.MessageID != 0 {
		s += fmt.Sprintf(" (M-ID %#08x)", e.MessageID)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the kind and the cause, so errors.Is matches both.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func newErr(kind error, mid uint32, detail string, cause error) error {
	return &Error{Kind: kind, MessageID: mid, Detail: detail, Err: cause}
}

// Notify returns the ISAKMP notify type a peer would be told for err:
// for ErrMalformed the one the isakmp parser chose, for other kinds of
// this package their own, and the isakmp mapping for anything else.
func Notify(err error) isakmp.NotifyType {
	var e *Error
	if !errors.As(err, &e) {
		return isakmp.NotifyFor(err)
	}
	var pe *isakmp.Error
	if e.Kind == ErrMalformed && errors.As(e.Err, &pe) {
		return pe.Notify
	}
	if k, ok := e.Kind.(*errKind); ok {
		return k.notify
	}
	return isakmp.NotifyPayloadMalformed
}
