package ikecrypto

import (
	"crypto/subtle"
	"fmt"
)

// Quick Mode and Informational HASH payload values (RFC 2409 §5.5, §5.7).
// "rest" arguments are the raw bytes of every payload that follows the HASH
// payload in the message, generic headers included, up to the end of the
// payload chain (not the CBC padding). Nonces are nonce payload bodies.
// mid is the ISAKMP message ID, hashed as 4 big-endian bytes.

func midBytes(mid uint32) [4]byte {
	return [4]byte{byte(mid >> 24), byte(mid >> 16), byte(mid >> 8), byte(mid)}
}

// Hash1 returns HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDci | IDcr]).
func Hash1(p PRF, skeyidA []byte, mid uint32, rest []byte) ([]byte, error) {
	if mid == 0 {
		return nil, ErrMessageID
	}
	m := midBytes(mid)
	return p.Compute(nil, skeyidA, m[:], rest)
}

// Hash2 returns HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [| KE] [| IDci | IDcr]).
func Hash2(p PRF, skeyidA []byte, mid uint32, ni, rest []byte) ([]byte, error) {
	if mid == 0 {
		return nil, ErrMessageID
	}
	if err := checkNonce(ni, "Ni_b"); err != nil {
		return nil, err
	}
	m := midBytes(mid)
	return p.Compute(nil, skeyidA, m[:], ni, rest)
}

// Hash3 returns HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b), where 0 is
// a single zero octet.
func Hash3(p PRF, skeyidA []byte, mid uint32, ni, nr []byte) ([]byte, error) {
	if mid == 0 {
		return nil, ErrMessageID
	}
	if err := checkNonce(ni, "Ni_b"); err != nil {
		return nil, err
	}
	if err := checkNonce(nr, "Nr_b"); err != nil {
		return nil, err
	}
	m := midBytes(mid)
	return p.Compute(nil, skeyidA, []byte{0}, m[:], ni, nr)
}

// Hash4 returns the HASH of the commit-bit acknowledgement: when QM1 or QM2
// sets the commit bit (RFC 2408 §3.1), the responder answers QM3 with a
// fourth Quick Mode message under the same M-ID and IV chain, HDR*, HASH(4),
// N(CONNECTED), where HASH(4) = prf(SKEYID_a, M-ID | N) and N is the notify
// payload with its generic header. RFC 2409 does not spell this hash out;
// it is the Informational form of RFC 2409 §5.7 under the Quick Mode M-ID,
// as KAME racoon computes it.
func Hash4(p PRF, skeyidA []byte, mid uint32, notify []byte) ([]byte, error) {
	return InfoHash(p, skeyidA, mid, notify)
}

// InfoHash returns the HASH(1) of an Informational exchange,
// prf(SKEYID_a, M-ID | N/D), where payloads are the Notification or Delete
// payload bytes (with generic headers) that follow the HASH payload.
func InfoHash(p PRF, skeyidA []byte, mid uint32, payloads []byte) ([]byte, error) {
	if mid == 0 {
		return nil, ErrMessageID
	}
	if len(payloads) == 0 {
		return nil, fmt.Errorf("%w: informational payloads", ErrEmpty)
	}
	m := midBytes(mid)
	return p.Compute(nil, skeyidA, m[:], payloads)
}

// Verify compares a computed HASH value with a received one in constant
// time and returns nil or an error matching ErrHashMismatch. A length
// difference is a mismatch too.
func Verify(computed, received []byte) error {
	if len(computed) == 0 || subtle.ConstantTimeCompare(computed, received) != 1 {
		return ErrHashMismatch
	}
	return nil
}

// VerifyHash1 checks a received HASH(1); see Hash1.
func VerifyHash1(p PRF, skeyidA []byte, mid uint32, rest, received []byte) error {
	h, err := Hash1(p, skeyidA, mid, rest)
	if err != nil {
		return err
	}
	return Verify(h, received)
}

// VerifyHash2 checks a received HASH(2); see Hash2.
func VerifyHash2(p PRF, skeyidA []byte, mid uint32, ni, rest, received []byte) error {
	h, err := Hash2(p, skeyidA, mid, ni, rest)
	if err != nil {
		return err
	}
	return Verify(h, received)
}

// VerifyHash3 checks a received HASH(3); see Hash3.
func VerifyHash3(p PRF, skeyidA []byte, mid uint32, ni, nr, received []byte) error {
	h, err := Hash3(p, skeyidA, mid, ni, nr)
	if err != nil {
		return err
	}
	return Verify(h, received)
}

// VerifyInfoHash checks the HASH of an Informational exchange or of the
// commit-bit CONNECTED notification; see InfoHash and Hash4.
func VerifyInfoHash(p PRF, skeyidA []byte, mid uint32, payloads, received []byte) error {
	h, err := InfoHash(p, skeyidA, mid, payloads)
	if err != nil {
		return err
	}
	return Verify(h, received)
}
