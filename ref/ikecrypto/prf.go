package ikecrypto

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
)

// PRF names an IKEv1 hash algorithm by its phase-1 "Hash Algorithm" attribute
// value (RFC 2409 Appendix A, IANA "IKE Attributes"). IKEv1 without a
// negotiated PRF attribute uses the HMAC of this hash as prf (RFC 2409 §4),
// and the bare hash for the phase-1 IV.
type PRF uint16

// Supported hash algorithms.
const (
	PRFMD5    PRF = 1 // HMAC-MD5, 16-byte output
	PRFSHA1   PRF = 2 // HMAC-SHA1, 20-byte output
	PRFSHA256 PRF = 4 // HMAC-SHA2-256, 32-byte output
	PRFSHA384 PRF = 5 // HMAC-SHA2-384, 48-byte output
	PRFSHA512 PRF = 6 // HMAC-SHA2-512, 64-byte output
)

func (p PRF) newHash() func() hash.Hash {
	switch p {
	case PRFMD5:
		return md5.New
	case PRFSHA1:
		return sha1.New
	case PRFSHA256:
		return sha256.New
	case PRFSHA384:
		return sha512.New384
	case PRFSHA512:
		return sha512.New
	}
	return nil
}

// Size returns the output length in bytes, or 0 for an unsupported value.
func (p PRF) Size() int {
	switch p {
	case PRFMD5:
		return md5.Size
	case PRFSHA1:
		return sha1.Size
	case PRFSHA256:
		return sha256.Size
	case PRFSHA384:
		return sha512.Size384
	case PRFSHA512:
		return sha512.Size
	}
	return 0
}

// String returns the IANA name of the algorithm.
func (p PRF) String() string {
	switch p {
	case PRFMD5:
		return "MD5"
	case PRFSHA1:
		return "SHA1"
	case PRFSHA256:
		return "SHA2-256"
	case PRFSHA384:
		return "SHA2-384"
	case PRFSHA512:
		return "SHA2-512"
	}
	return fmt.Sprintf("PRF(%d)", uint16(p))
}

// New returns the prf keyed with key. The MAC keeps one hash.Hash and
// resets it between computations, so callers that compute several values
// under one key (KEYMAT expansion, a run of HASH payloads) allocate once.
// An empty key is rejected: every IKEv1 prf key (PSK, SKEYID_*) is non-empty.
func (p PRF) New(key []byte) (*MAC, error) {
	nh := p.newHash()
	if nh == nil {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedPRF, uint16(p))
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("%w: empty prf key", ErrKeyLength)
	}
	return &MAC{prf: p, h: hmac.New(nh, key)}, nil
}

// Compute returns prf(key, data[0] | data[1] | ...) appended to dst.
func (p PRF) Compute(dst, key []byte, data ...[]byte) ([]byte, error) {
	m, err := p.New(key)
	if err != nil {
		return nil, err
	}
	return m.Sum(dst, data...), nil
}

// Digest returns the bare hash of data[0] | data[1] | ... appended to dst
// (used for the IVs of RFC 2409 Appendix B).
func (p PRF) Digest(dst []byte, data ...[]byte) ([]byte, error) {
	nh := p.newHash()
	if nh == nil {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedPRF, uint16(p))
	}
	h := nh()
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(dst), nil
}

// MAC is a keyed prf instance. It is not safe for concurrent use.
type MAC struct {
	prf PRF
	h   hash.Hash
}

// PRF returns the algorithm of m.
func (m *MAC) PRF() PRF { return m.prf }

// Size returns the output length of m in bytes.
func (m *MAC) Size() int { return m.h.Size() }

// Sum returns prf(key, data[0] | data[1] | ...) appended to dst.
func (m *MAC) Sum(dst []byte, data ...[]byte) []byte {
	m.h.Reset()
	for _, d := range data {
		m.h.Write(d)
	}
	return m.h.Sum(dst)
}
