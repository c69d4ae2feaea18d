// Package mainmode implements IKEv1 Main Mode (Identity Protection) with
// pre-shared-key authentication (RFC 2409 §5, §5.4) and NAT traversal
// (RFC 3947), sans I/O: no sockets, goroutines, timers or wall clock. The
// caller hands each received ISAKMP message to [Exchange.Receive] and sends
// what comes back; randomness (cookies, nonces, DH private values) is drawn
// from Config.Rand when the exchange is created, so that Receive is a pure
// function of the exchange and the message.
//
// The six messages are
//
//	MM1 I→R  HDR, SA, VID...
//	MM2 R→I  HDR, SA (chosen transform), VID...
//	MM3 I→R  HDR, KE, Ni [, NAT-D, NAT-D]
//	MM4 R→I  HDR, KE, Nr [, NAT-D, NAT-D]
//	MM5 I→R  HDR*, IDii, HASH_I [, N(INITIAL-CONTACT)]
//	MM6 R→I  HDR*, IDir, HASH_R
//
// The keys come from ref/ikecrypto (SKEYID, SKEYID_d/a/e, the cipher key,
// the phase-1 IV, HASH_I/HASH_R, CBC per RFC 2409 Appendix B) and the DH
// groups from ref/dh. The result is a [quickmode.Phase1] for the Quick Mode
// code of ref/quickmode and ref/gateway.
//
// NAT-T: when both sides send the RFC 3947 vendor ID, MM3 and MM4 carry
// NAT-D payloads, and a NAT is detected when a hash does not match the
// addresses given in Config. [Exchange.Float] then reports that MM5 and
// everything after it travel on UDP port 4500 behind the non-ESP marker
// (isakmp.AppendNonESPMarker); the framing is the caller's job. A responder
// answers every message on the port it came in on, so its MM4 still goes
// to port 500. Config.ForceNATT makes this side pretend to be behind a NAT,
// as strongSwan's kernel-libipsec does, so that both sides float and
// encapsulate ESP in UDP. The pre-RFC drafts (NAT-D payload type 130) are
// not spoken.
//
// Bad input never panics and never changes the exchange: Receive returns a
// [*Error] wrapping one of the Err* kinds, with the ISAKMP notify type that
// applies ([NotifyFor]), and the right message still completes the exchange
// afterwards. [VerifyTranscript] runs the same parsing, key derivation,
// decryption and hash checks over a recorded exchange, for known-answer
// tests against other implementations.
package mainmode
