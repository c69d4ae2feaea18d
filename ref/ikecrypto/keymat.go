package ikecrypto

import "fmt"

// IPsec DOI protocol IDs (RFC 2407 §4.4.1) that KEYMAT is computed for.
const (
	ProtoAH  uint8 = 2
	ProtoESP uint8 = 3
)

// MaxKeymatLen bounds a KEYMAT request; the largest ESP transform here needs 96.
const MaxKeymatLen = 1024

// KEYMAT returns n bytes of keying material for one direction of an IPsec
// SA (RFC 2409 §5.5):
//
//	K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
//	Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
//	KEYMAT = K1 | K2 | ... truncated to n
//
// gqm is the Quick Mode DH shared secret, nil without PFS. spi is the
// 4-byte SPI chosen by the receiver of that direction, so the two
// directions of one SA pair differ only in spi.
func KEYMAT(p PRF, skeyidD, gqm []byte, protocol uint8, spi, ni, nr []byte, n int) ([]byte, error) {
	if n <= 0 || n > MaxKeymatLen {
		return nil, fmt.Errorf("%w: %d bytes requested", ErrKeymatLength, n)
	}
	if protocol != ProtoAH && protocol != ProtoESP {
		return nil, fmt.Errorf("%w: %d", ErrProtocol, protocol)
	}
	if len(spi) != 4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrSPILength, len(spi))
	}
	if gqm != nil && len(gqm) == 0 {
		return nil, fmt.Errorf("%w: PFS shared secret", ErrEmpty)
	}
	if err := checkNonce(ni, "Ni_b"); err != nil {
		return nil, err
	}
	if err := checkNonce(nr, "Nr_b"); err != nil {
		return nil, err
	}
	m, err := p.New(skeyidD)
	if err != nil {
		return nil, err
	}
	sz := m.Size()
	out := make([]byte, 0, (n+sz-1)/sz*sz)
	proto := []byte{protocol}
	out = m.Sum(out, gqm, proto, spi, ni, nr)
	for len(out) < n {
		out = m.Sum(out, out[len(out)-sz:], gqm, proto, spi, ni, nr)
	}
	return out[:n], nil
}

// ESPID is an IPsec DOI ESP transform ID (RFC 2407 §4.4.4, RFC 4106 §8).
type ESPID uint8

// Supported ESP transforms.
const (
	ESP3DES     ESPID = 3  // 3DES-CBC, 24-byte key
	ESPNULL     ESPID = 11 // no encryption
	ESPAESCBC   ESPID = 12 // AES-CBC, key length from the Key Length attribute
	ESPAESGCM16 ESPID = 20 // AES-GCM with 16-byte ICV; key plus 4-byte salt
)

// ESPAuth is an IPsec DOI "Authentication Algorithm" SA attribute value
// (RFC 2407 §4.5, RFC 4868 §2.4).
type ESPAuth uint16

// Supported ESP integrity algorithms and the key length each takes.
const (
	AuthNone       ESPAuth = 0 // no integrity attribute (AES-GCM)
	AuthHMACMD5    ESPAuth = 1 // HMAC-MD5-96, 16-byte key
	AuthHMACSHA1   ESPAuth = 2 // HMAC-SHA1-96, 20-byte key
	AuthHMACSHA256 ESPAuth = 5 // HMAC-SHA2-256-128, 32-byte key
	AuthHMACSHA384 ESPAuth = 6 // HMAC-SHA2-384-192, 48-byte key
	AuthHMACSHA512 ESPAuth = 7 // HMAC-SHA2-512-256, 64-byte key
)

// ESPTransform is the negotiated ESP algorithm set of one SA.
type ESPTransform struct {
	ID      ESPID
	KeyBits int // Key Length attribute; only for ESPAESCBC and ESPAESGCM16
	Auth    ESPAuth
}

// ESPKeys is one direction's KEYMAT split for ESP. The slices alias the
// KEYMAT passed to Split.
type ESPKeys struct {
	Encr  []byte // cipher key; empty for NULL
	Salt  []byte // 4-byte AES-GCM salt (RFC 4106 §8.1); empty otherwise
	Integ []byte // integrity key; empty for AES-GCM
}

func (t ESPTransform) lens() (encr, salt, integ int, err error) {
	switch t.ID {
	case ESP3DES:
		encr = 24
		if t.KeyBits != 0 {
			return 0, 0, 0, fmt.Errorf("%w: key length %d for 3DES", ErrUnsupportedTransform, t.KeyBits)
		}
	case ESPNULL:
		if t.KeyBits != 0 {
			return 0, 0, 0, fmt.Errorf("%w: key length %d for NULL", ErrUnsupportedTransform, t.KeyBits)
		}
	case ESPAESCBC, ESPAESGCM16:
		switch t.KeyBits {
		case 128, 192, 256:
			encr = t.KeyBits / 8
		default:
			return 0, 0, 0, fmt.Errorf("%w: AES key length %d bits", ErrUnsupportedTransform, t.KeyBits)
		}
		if t.ID == ESPAESGCM16 {
			salt = 4
		}
	default:
		return 0, 0, 0, fmt.Errorf("%w: transform ID %d", ErrUnsupportedTransform, t.ID)
	}
	switch t.Auth {
	case AuthNone:
	case AuthHMACMD5:
		integ = 16
	case AuthHMACSHA1:
		integ = 20
	case AuthHMACSHA256:
		integ = 32
	case AuthHMACSHA384:
		integ = 48
	case AuthHMACSHA512:
		integ = 64
	default:
		return 0, 0, 0, fmt.Errorf("%w: authentication algorithm %d", ErrUnsupportedTransform, t.Auth)
	}
	// AEAD carries its own integrity; everything else needs an integrity
	// algorithm (NULL without one is no protection at all).
	if (t.ID == ESPAESGCM16) != (t.Auth == AuthNone) {
		return 0, 0, 0, fmt.Errorf("%w: transform %d with authentication %d", ErrUnsupportedTransform, t.ID, t.Auth)
	}
	return encr, salt, integ, nil
}

// KeymatLen returns the KEYMAT length t consumes per direction.
func (t ESPTransform) KeymatLen() (int, error) {
	e, s, i, err := t.lens()
	return e + s + i, err
}

// Split cuts one direction's KEYMAT into the encryption key (then salt, for
// AES-GCM) followed by the integrity key, the order of RFC 2409 §5.5 /
// RFC 4106 §8.1 that Linux XFRM and strongSwan use. Extra bytes are ignored.
func (t ESPTransform) Split(keymat []byte) (ESPKeys, error) {
	e, s, i, err := t.lens()
	if err != nil {
		return ESPKeys{}, err
	}
	if len(keymat) < e+s+i {
		return ESPKeys{}, fmt.Errorf("%w: have %d bytes, need %d", ErrKeymatLength, len(keymat), e+s+i)
	}
	return ESPKeys{
		Encr:  keymat[:e:e],
		Salt:  keymat[e : e+s : e+s],
		Integ: keymat[e+s : e+s+i : e+s+i],
	}, nil
}
