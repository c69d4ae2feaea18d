package isakmp

import (
	"errors"
	"strconv"
)

// errKind is the type of the exported sentinel errors: each errKind carries the
// ISAKMP notify type a responder answers with (RFC 2408 §5).
type errKind struct {
	msg    string
	notify NotifyType
}

// Error returns the kind's description.
func (k *errKind) Error() string { return "isakmp: " + k.msg }

// Sentinel error kinds, usable with errors.Is. Parse errors are *Error
// values wrapping one of them.
var (
	// ErrTruncated: the input ends inside a fixed-size field.
	ErrTruncated error = &errKind{"truncated", NotifyPayloadMalformed}
	// ErrBadLength: a length field is below its minimum, exceeds its
	// container, or does not match the fixed size of its payload.
	ErrBadLength error = &errKind{"bad length", NotifyPayloadMalformed}
	// ErrUnequalPayloadLengths: the payload chain does not end exactly at
	// the end of the message.
	ErrUnequalPayloadLengths error = &errKind{"payload lengths do not add up to the message length", NotifyUnequalPayloadLengths}
	// ErrTrailingData: bytes follow the length given in the ISAKMP header.
	ErrTrailingData error = &errKind{"trailing data after message", NotifyPayloadMalformed}
	// ErrInvalidPayloadType: a next-payload value is unassigned or not
	// allowed where it appears.
	ErrInvalidPayloadType error = &errKind{"invalid payload type", NotifyInvalidPayloadType}
	// ErrInvalidSPI: an SPI size is not valid for its protocol.
	ErrInvalidSPI error = &errKind{"invalid SPI size", NotifyInvalidSPI}
	// ErrInvalidProtocol: a protocol ID is not one this DOI defines.
	ErrInvalidProtocol error = &errKind{"invalid protocol ID", NotifyInvalidProtocolID}
	// ErrReservedNotZero: a RESERVED field is not zero.
	ErrReservedNotZero error = &errKind{"reserved field not zero", NotifyPayloadMalformed}
	// ErrInvalidMajorVersion: the ISAKMP major version is not 1.
	ErrInvalidMajorVersion error = &errKind{"invalid major version", NotifyInvalidMajorVersion}
	// ErrInvalidMinorVersion: the ISAKMP minor version is not 0.
	ErrInvalidMinorVersion error = &errKind{"invalid minor version", NotifyInvalidMinorVersion}
	// ErrInvalidFlags: undefined header flag bits are set.
	ErrInvalidFlags error = &errKind{"invalid flags", NotifyInvalidFlags}
	// ErrCountMismatch: a count field (#transforms, #SPIs) disagrees with
	// the data present.
	ErrCountMismatch error = &errKind{"count mismatch", NotifyBadProposalSyntax}
	// ErrBadProposalSyntax: proposals or transforms are not framed as
	// RFC 2408 §3.5–3.6 require.
	ErrBadProposalSyntax error = &errKind{"bad proposal syntax", NotifyBadProposalSyntax}
	// ErrUnsupportedDOI: an SA payload's DOI is not IPsec (1).
	ErrUnsupportedDOI error = &errKind{"DOI not supported", NotifyDOINotSupported}
	// ErrUnsupportedSituation: the situation uses labeled (secrecy or
	// integrity) bits, which this package does not parse.
	ErrUnsupportedSituation error = &errKind{"situation not supported", NotifySituationNotSupported}
	// ErrInvalidID: an ID payload's type or data length is invalid.
	ErrInvalidID error = &errKind{"invalid identification", NotifyInvalidIDInformation}
	// ErrUDPFraming: a UDP 4500 datagram is none of IKE, ESP or keepalive.
	ErrUDPFraming error = &errKind{"invalid UDP-encapsulation framing", NotifyPayloadMalformed}
	// ErrWrongPayload: a typed View accessor was called on another payload type.
	ErrWrongPayload error = &errKind{"payload has another type", NotifyNone}
	// ErrUnencodable: Marshal was given a struct that cannot be encoded
	// (a length or count overflows its field, an invalid address...).
	ErrUnencodable error = &errKind{"cannot encode", NotifyNone}
)

// Error is the error returned for malformed input and unencodable structs.
type Error struct {
	Offset int        // byte offset in the input where the problem starts
	Path   string     // where in the message, e.g. "SA[0]/Proposal[0]/Transform[1]/Attr[2]"
	Notify NotifyType // the notify type a responder would answer with
	Err    error      // one of the Err* kinds
}

// Error describes the problem, where it is and at which offset.
func (e *Error) Error() string {
	s := e.Err.Error()
	if e.Path != "" {
		s += " in " + e.Path
	}
	return s + " at offset " + strconv.Itoa(e.Offset)
}

// Unwrap returns the error errKind.
func (e *Error) Unwrap() error { return e.Err }

// NotifyFor returns the ISAKMP notify type to answer err with:
// NotifyNone for nil, PAYLOAD-MALFORMED for errors from outside this package.
func NotifyFor(err error) NotifyType {
	if err == nil {
		return NotifyNone
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Notify
	}
	var k *errKind
	if errors.As(err, &k) {
		return k.notify
	}
	return NotifyPayloadMalformed
}

// A Note records one irregularity a lenient parse tolerated. Err is the
// errKind strict parsing would have failed with.
type Note struct {
	Offset int
	Path   string
	Err    error
}

// String describes the tolerated problem like an Error would.
func (n Note) String() string {
	return (&Error{Offset: n.Offset, Path: n.Path, Err: n.Err}).Error()
}

// ParseOptions controls parsing. The zero value is strict.
type ParseOptions struct {
	// Lenient accepts what real peers send — trailing bytes after the
	// header length or after the payload chain, non-zero reserved fields,
	// a non-zero minor version, undefined flag bits, unassigned payload
	// types (kept as *Unknown), ID data of the wrong length or an unknown
	// ID type, a notification's odd DOI, protocol or SPI size — and
	// records each as a Note instead of failing. Framing errors (lengths,
	// counts, proposal syntax, SPI sizes in proposals and deletes) are
	// never tolerated. A lenient result still marshals, but non-zero
	// reserved bytes are written as zero.
	Lenient bool
}
