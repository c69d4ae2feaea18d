package mainmode

import (
	"errors"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

// errKind is a sentinel that knows the ISAKMP notify type it maps to.
type errKind struct {
	msg    string
	notify isakmp.NotifyType
}

func (e *errKind) Error() string { return "mainmode: " + e.msg }

// Sentinel error kinds, usable with errors.Is. Returned errors are *Error
// values wrapping one of them (and the cause, if any).
var (
	// ErrMalformed: the message, or a decrypted body, does not parse, or
	// is larger than MaxMessageSize. The notify is the parser's.
	ErrMalformed error = &errKind{"malformed message", isakmp.NotifyPayloadMalformed}
	// ErrWrongCookies: the header's cookies are not this exchange's (or a
	// cookie that must be zero or non-zero is not).
	ErrWrongCookies error = &errKind{"cookies do not match the exchange", isakmp.NotifyInvalidCookie}
	// ErrExchangeType: the exchange type is neither Main Mode nor
	// Informational.
	ErrExchangeType error = &errKind{"not a Main Mode message", isakmp.NotifyInvalidExchangeType}
	// ErrFlags: the commit or authentication-only flag is set.
	ErrFlags error = &errKind{"invalid header flags", isakmp.NotifyInvalidFlags}
	// ErrMessageID: a Main Mode message has a non-zero message ID.
	ErrMessageID error = &errKind{"non-zero message ID in Main Mode", isakmp.NotifyInvalidMessageID}
	// ErrUnexpectedMessage: the message does not fit the state (an
	// encrypted message before keys exist, a plain one after, anything
	// after the exchange completed that is not a retransmission).
	ErrUnexpectedMessage error = &errKind{"message out of place", isakmp.NotifyNone}
	// ErrMissingPayload: a payload the message must carry is absent.
	ErrMissingPayload error = &errKind{"required payload missing", isakmp.NotifyPayloadMalformed}
	// ErrUnexpectedPayload: a payload is repeated or not allowed in this
	// message.
	ErrUnexpectedPayload error = &errKind{"unexpected payload", isakmp.NotifyInvalidPayloadType}
	// ErrNoProposalChosen: no offered transform matches Config.Proposal,
	// or the responder chose one that was not offered.
	ErrNoProposalChosen error = &errKind{"no proposal chosen", isakmp.NotifyNoProposalChosen}
	// ErrInvalidKE: the KE payload has the wrong length for the group or
	// a public value the group rejects (ref/dh validation).
	ErrInvalidKE error = &errKind{"invalid key exchange payload", isakmp.NotifyInvalidKeyInformation}
	// ErrInvalidNonce: a nonce is shorter than 8 or longer than 256 bytes.
	ErrInvalidNonce error = &errKind{"nonce length outside 8..256", isakmp.NotifyPayloadMalformed}
	// ErrInvalidNATD: a NAT-D payload has the wrong length, or NAT-T was
	// negotiated and fewer than two NAT-D payloads came.
	ErrInvalidNATD error = &errKind{"invalid NAT-D payloads", isakmp.NotifyPayloadMalformed}
	// ErrDecrypt: an encrypted body cannot be decrypted (empty, or not a
	// whole number of cipher blocks). A body that decrypts to garbage is
	// ErrAuthFailed.
	ErrDecrypt error = &errKind{"body cannot be decrypted", isakmp.NotifyPayloadMalformed}
	// ErrInvalidID: the peer's ID payload has a protocol/port other than
	// 0/0 or UDP with port 0, 500 or 4500.
	ErrInvalidID error = &errKind{"invalid identification", isakmp.NotifyInvalidIDInformation}
	// ErrAuthFailed: HASH_I or HASH_R does not verify, or MM5/MM6 does
	// not parse once decrypted: with pre-shared keys the cipher key
	// derives from the key, so a wrong pre-shared key (or tampering, or
	// another exchange's message) ends here either way.
	ErrAuthFailed error = &errKind{"authentication failed", isakmp.NotifyAuthenticationFailed}
	// ErrBadHash: the HASH of an encrypted Informational message does not
	// verify.
	ErrBadHash error = &errKind{"HASH does not verify", isakmp.NotifyInvalidHashInformation}
	// ErrPeerRefused: the peer sent an error notify (for example
	// INVALID-ID-INFORMATION or AUTHENTICATION-FAILED), in an
	// Informational message or in a Main Mode message. Error.Notify is the
	// peer's notify type.
	ErrPeerRefused error = &errKind{"peer refused", isakmp.NotifyNone}
	// ErrBadConfig: the Config is unusable.
	ErrBadConfig error = &errKind{"invalid configuration", isakmp.NotifyNone}
	// ErrRandom: Config.Rand failed.
	ErrRandom error = &errKind{"randomness failed", isakmp.NotifyNone}
	// ErrNotDone: Result was called before the exchange completed.
	ErrNotDone error = &errKind{"exchange not complete", isakmp.NotifyNone}
)

// Error is the error type of this package.
type Error struct {
	// Kind is one of the Err* sentinels.
	Kind error
	// Notify is the notify type to answer with, or for ErrPeerRefused
	// the one the peer sent; NotifyNone when none applies.
	Notify isakmp.NotifyType
	// Detail says what was wrong.
	Detail string
	// Err is the cause from another package, may be nil.
	Err error
}

// Error formats the kind, the notify name, the detail and the cause.
func (e *Error) Error() string {
	s := e.Kind.Error()
	if e.Notify != isakmp.NotifyNone {
		s += " [" + e.Notify.String() + "]"
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

// newErr builds an *Error whose notify is the kind's, or for ErrMalformed
// and ErrDecrypt the parser's when the cause is an isakmp error.
func newErr(kind error, detail string, cause error) *Error {
	e := &Error{Kind: kind, Detail: detail, Err: cause}
	if k, ok := kind.(*errKind); ok {
		e.Notify = k.notify
	}
	var pe *isakmp.Error
	if (kind == ErrMalformed || kind == ErrDecrypt) && errors.As(cause, &pe) && pe.Notify != isakmp.NotifyNone {
		e.Notify = pe.Notify
	}
	return e
}

// NotifyFor returns the ISAKMP notify type that err maps to: Error.Notify
// for errors of this package (for ErrPeerRefused the peer's notify), the
// isakmp mapping for anything else, NotifyNone for nil.
func NotifyFor(err error) isakmp.NotifyType {
	var e *Error
	if errors.As(err, &e) {
		return e.Notify
	}
	return isakmp.NotifyFor(err)
}
