// Package quickmode is a sans-I/O reference implementation of the IKEv1
// Quick Mode exchange (RFC 2409 §5.5) over an established phase-1 SA, with
// the SA install timing of each side taken from a Profile value.
//
// An Exchanges value owns every Quick Mode exchange of one phase-1 SA, as
// initiator and as responder, and routes messages by message ID. It
// consumes events — an ISAKMP datagram arrived (HandleDatagram), the clock
// moved (HandleTimeout), an ESP packet was authenticated on an inbound SPI
// (HandleESP) — and appends plain-data Events to the caller's slice, in the
// order they happen: datagrams to send, SAs installed, activated or
// deleted, exchanges completed or failed. It starts no goroutines, opens no
// sockets and never reads the wall clock; time and randomness are injected.
//
// Nothing changes state before a message's HASH has verified, and a message
// that fails any check leaves the Exchanges exactly as it was and returns an
// *Error matching one of the Err* sentinels (errors.Is); Notify maps it to
// the ISAKMP notify type. Answering with an Informational exchange is left
// to the caller.
//
// Retransmission: the initiator resends QM1 with exponential backoff until
// QM2 arrives or Backoff.MaxTries is reached. The responder resends QM2 when
// it sees QM1 again (and, with Config.ResponderRetransmit, on the same
// schedule while it waits for QM3); a completed initiator answers a
// duplicate QM2 with its QM3. Under the commit bit the responder does not
// resend CONNECTED on its own: the initiator keeps retransmitting QM3 until
// CONNECTED arrives and the responder answers each duplicate QM3 with
// CONNECTED, so the acknowledgement RFC 2408 §3.1 asks for is implied by
// the retransmissions stopping.
//
// Message IDs of completed exchanges are remembered (Config.MaxCompleted)
// to answer retransmissions. A responder that ESP completed before QM3
// (StageFirstESPOrQM3) also keeps the IV and nonces that verify the QM3
// still in flight: a genuine late QM3 is accepted with no events and no
// state change (under the commit bit it is answered with CONNECTED), a
// forged one gets ErrBadHash. A QM1 replayed after its entry was forgotten
// starts a new exchange that can never complete, since QM3 needs the new
// responder nonce; profiles that activate outbound before QM3 other than on
// authenticated ESP (ActivateAtQM1) are exposed to such replays.
package quickmode
