// Package ikecrypto implements the IKEv1 key schedule and message protection
// that Quick Mode needs: the prf, SKEYID and its derivatives and the Main
// Mode pre-shared-key HASH_I/HASH_R (RFC 2409 §5), the ISAKMP CBC encryption
// with its chained IVs (RFC 2409 Appendix B), the Quick Mode and
// Informational HASH payload values (RFC 2409 §5.5, §5.7) and KEYMAT for
// IPsec SAs (RFC 2409 §5.5).
//
// Every primitive comes from the standard library (crypto/hmac, crypto/aes,
// crypto/des, crypto/cipher, crypto/subtle); this package only arranges their
// inputs. All functions are pure: no global state, no randomness, no clock.
// Bad input yields an error that matches one of the Err* sentinels with
// errors.Is; nothing panics.
package ikecrypto
