package ikecrypto

import "fmt"

// CookieLen is the length of an ISAKMP initiator or responder cookie.
const CookieLen = 8

// Nonce body length bounds, 8 to 256 bytes inclusive (RFC 2409 §5).
const (
	MinNonceLen = 8
	MaxNonceLen = 256
)

// Keys holds the phase-1 keying material of RFC 2409 §5. The slices are
// owned by Keys; callers must not modify them.
type Keys struct {
	PRF     PRF
	SKEYID  []byte
	SKEYIDd []byte // derives KEYMAT for IPsec SAs
	SKEYIDa []byte // keys the HASH payloads
	SKEYIDe []byte // source of the ISAKMP encryption key (see CipherKey)
}

func checkNonce(n []byte, which string) error {
	if len(n) < MinNonceLen || len(n) > MaxNonceLen {
		return fmt.Errorf("%w: %s is %d bytes", ErrNonceLength, which, len(n))
	}
	return nil
}

// SKEYIDPreSharedKey returns SKEYID = prf(pre-shared-key, Ni_b | Nr_b) for
// pre-shared key authentication (RFC 2409 §5). ni and nr are the nonce
// payload bodies (without generic header).
func SKEYIDPreSharedKey(p PRF, psk, ni, nr []byte) ([]byte, error) {
	if len(psk) == 0 {
		return nil, fmt.Errorf("%w: pre-shared key", ErrEmpty)
	}
	if err := checkNonce(ni, "Ni_b"); err != nil {
		return nil, err
	}
	if err := checkNonce(nr, "Nr_b"); err != nil {
		return nil, err
	}
	return p.Compute(nil, psk, ni, nr)
}

// DeriveKeys computes SKEYID_d, SKEYID_a and SKEYID_e from SKEYID, the
// phase-1 DH shared secret g^xy and the two cookies (RFC 2409 §5):
//
//	SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
//	SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
//	SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
func DeriveKeys(p PRF, skeyid, gxy, ckyI, ckyR []byte) (*Keys, error) {
	if len(gxy) == 0 {
		return nil, fmt.Errorf("%w: DH shared secret", ErrEmpty)
	}
	if len(ckyI) != CookieLen || len(ckyR) != CookieLen {
		return nil, fmt.Errorf("%w: got %d and %d", ErrCookieLength, len(ckyI), len(ckyR))
	}
	m, err := p.New(skeyid)
	if err != nil {
		return nil, err
	}
	k := &Keys{PRF: p, SKEYID: append([]byte(nil), skeyid...)}
	k.SKEYIDd = m.Sum(nil, gxy, ckyI, ckyR, []byte{0})
	k.SKEYIDa = m.Sum(nil, k.SKEYIDd, gxy, ckyI, ckyR, []byte{1})
	k.SKEYIDe = m.Sum(nil, k.SKEYIDa, gxy, ckyI, ckyR, []byte{2})
	return k, nil
}

// MaxCipherKeyLen bounds CipherKey's output; no IKEv1 cipher needs more.
const MaxCipherKeyLen = 64

// CipherKey returns the ISAKMP SA encryption key of keyLen bytes derived from
// SKEYID_e (RFC 2409 Appendix B): the leading bytes of SKEYID_e when it is
// long enough, otherwise the leading bytes of K1 | K2 | ... where
// K1 = prf(SKEYID_e, 0) (a single zero octet) and Kn = prf(SKEYID_e, Kn-1).
func CipherKey(p PRF, skeyidE []byte, keyLen int) ([]byte, error) {
	if keyLen <= 0 || keyLen > MaxCipherKeyLen {
		return nil, fmt.Errorf("%w: cipher key of %d bytes", ErrKeyLength, keyLen)
	}
	if len(skeyidE) >= keyLen {
		return append([]byte(nil), skeyidE[:keyLen]...), nil
	}
	m, err := p.New(skeyidE)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, keyLen+m.Size())
	k := m.Sum(out, []byte{0})
	for len(k) < keyLen {
		k = m.Sum(k, k[len(k)-m.Size():])
	}
	return k[:keyLen], nil
}

// Phase1IV returns the initial phase-1 IV, hash(g^xi | g^xr) truncated to
// blockSize (RFC 2409 Appendix B). gxi and gxr are the KE payload bodies of
// initiator and responder.
func Phase1IV(p PRF, gxi, gxr []byte, blockSize int) (IV, error) {
	if len(gxi) == 0 || len(gxr) == 0 {
		return IV{}, fmt.Errorf("%w: KE public value", ErrEmpty)
	}
	return hashIV(p, blockSize, gxi, gxr)
}

// Phase2IV returns the first IV of the phase-2 or Informational exchange
// with message ID mid: hash(last | M-ID) truncated to the block size, where
// last is the final CBC block of phase 1 (the last ciphertext block of the
// last Main Mode message), RFC 2409 Appendix B. Each exchange gets its own
// IV this way and then chains it with Cipher.Encrypt/Decrypt.
func Phase2IV(p PRF, last IV, mid uint32) (IV, error) {
	if mid == 0 {
		return IV{}, ErrMessageID
	}
	if last.n == 0 {
		return IV{}, fmt.Errorf("%w: zero IV value", ErrIVLength)
	}
	m := [4]byte{byte(mid >> 24), byte(mid >> 16), byte(mid >> 8), byte(mid)}
	return hashIV(p, int(last.n), last.b[:last.n], m[:])
}

func hashIV(p PRF, blockSize int, data ...[]byte) (IV, error) {
	if blockSize != 8 && blockSize != 16 {
		return IV{}, fmt.Errorf("%w: block size %d", ErrIVLength, blockSize)
	}
	var buf [64]byte
	h, err := p.Digest(buf[:0], data...)
	if err != nil {
		return IV{}, err
	}
	if len(h) < blockSize {
		return IV{}, fmt.Errorf("%w: %v output shorter than block", ErrIVLength, p)
	}
	return NewIV(h[:blockSize])
}

// HashI returns the Main Mode initiator's authentication hash for
// pre-shared keys (RFC 2409 §5),
//
//	HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
//
// where sai is the body of the initiator's SA payload (from MM1) and id the
// body of its ID payload (from MM5), both without generic headers.
func HashI(p PRF, skeyid, gxi, gxr, ckyI, ckyR, sai, id []byte) ([]byte, error) {
	if err := checkMainModeInputs(gxi, gxr, ckyI, ckyR, sai, id); err != nil {
		return nil, err
	}
	return p.Compute(nil, skeyid, gxi, gxr, ckyI, ckyR, sai, id)
}

// HashR returns the Main Mode responder's authentication hash (RFC 2409 §5),
//
//	HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
//
// taking its arguments in the same order as HashI (initiator values first);
// id is the body of the responder's ID payload (from MM6).
func HashR(p PRF, skeyid, gxi, gxr, ckyI, ckyR, sai, id []byte) ([]byte, error) {
	if err := checkMainModeInputs(gxi, gxr, ckyI, ckyR, sai, id); err != nil {
		return nil, err
	}
	return p.Compute(nil, skeyid, gxr, gxi, ckyR, ckyI, sai, id)
}

func checkMainModeInputs(gxi, gxr, ckyI, ckyR, sai, id []byte) error {
	if len(gxi) == 0 || len(gxr) == 0 {
		return fmt.Errorf("%w: KE public value", ErrEmpty)
	}
	if len(ckyI) != CookieLen || len(ckyR) != CookieLen {
		return fmt.Errorf("%w: got %d and %d", ErrCookieLength, len(ckyI), len(ckyR))
	}
	if len(sai) == 0 || len(id) == 0 {
		return fmt.Errorf("%w: SA or ID payload body", ErrEmpty)
	}
	return nil
}
