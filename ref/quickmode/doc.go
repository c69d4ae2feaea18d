// Package quickmode is a sans-I/O reference implementation of the IKEv1
// Quick Mode exchange (RFC 2409 §5.5) over an established phase-1 SA, with
// the SA install timing of each side taken from a Profile value.
//
// An Exchanges value owns every Quick Mode exchange of one phase-1 SA. It
// consumes events — an ISAKMP datagram arrived, the clock moved, an ESP
// packet authenticated on an inbound SPI — and appends plain-data Events to
// a caller's slice: datagrams to send, SAs installed, activated or deleted,
// exchanges completed or failed. It starts no goroutines, opens no sockets
// and never reads the wall clock; time and randomness are injected.
//
// Nothing changes state before a message's HASH has been verified, and a
// message that fails any check leaves the Exchanges exactly as it was and
// returns an error matching one of the Err* sentinels (errors.Is), whose
// ISAKMP notify type Notify reports.
package quickmode
