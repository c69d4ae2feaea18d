package ikecrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"fmt"
)

// IV is a CBC initialisation vector of one cipher block (8 or 16 bytes).
// It is a value: the exchange that owns it passes the IV returned by one
// Encrypt or Decrypt into the next, so the chaining is explicit.
// The zero IV is invalid.
type IV struct {
	n uint8
	b [aes.BlockSize]byte
}

// NewIV copies b (8 or 16 bytes) into an IV.
func NewIV(b []byte) (IV, error) {
	if len(b) != des.BlockSize && len(b) != aes.BlockSize {
		return IV{}, fmt.Errorf("%w: %d bytes", ErrIVLength, len(b))
	}
	var iv IV
	iv.n = uint8(copy(iv.b[:], b))
	return iv, nil
}

// Len returns the IV length in bytes (0 for the zero IV).
func (iv IV) Len() int { return int(iv.n) }

// Bytes returns a copy of the IV bytes.
func (iv IV) Bytes() []byte { return append([]byte(nil), iv.b[:iv.n]...) }

// Encr names an IKEv1 phase-1 encryption algorithm by its "Encryption
// Algorithm" attribute value (RFC 2409 Appendix A; AES per RFC 3602 §5.4).
type Encr uint16

// Supported ISAKMP encryption algorithms, all in CBC mode.
const (
	Encr3DESCBC Encr = 5 // 24-byte key, 8-byte block
	EncrAESCBC  Encr = 7 // 16, 24 or 32-byte key, 16-byte block
)

// String returns the IANA name of the algorithm.
func (e Encr) String() string {
	switch e {
	case Encr3DESCBC:
		return "3DES-CBC"
	case EncrAESCBC:
		return "AES-CBC"
	}
	return fmt.Sprintf("Encr(%d)", uint16(e))
}

// Cipher encrypts and decrypts ISAKMP message bodies (everything after the
// 28-byte ISAKMP header) with a fixed key. It holds no IV state between
// calls, but reuses its CBC modes, so it is not safe for concurrent use.
type Cipher struct {
	alg      Encr
	block    cipher.Block
	enc, dec cipher.BlockMode    // cached when the mode can be re-IVed
	ivBuf    [aes.BlockSize]byte // keeps the caller's IV value from escaping
}

// ivSetter is implemented by the standard library's CBC modes; reusing a
// mode avoids copying the AES key schedule on every message.
type ivSetter interface{ SetIV([]byte) }

func (c *Cipher) mode(cached *cipher.BlockMode, v IV, mk func(cipher.Block, []byte) cipher.BlockMode) cipher.BlockMode {
	iv := c.ivBuf[:copy(c.ivBuf[:], v.b[:v.n])]
	if m, ok := (*cached).(ivSetter); ok {
		m.SetIV(iv)
		return *cached
	}
	m := mk(c.block, iv)
	if _, ok := m.(ivSetter); ok {
		*cached = m
	}
	return m
}

// NewCipher returns a Cipher for alg with key. The key must have the exact
// length of the algorithm (AES: 16, 24 or 32 bytes; 3DES: 24 bytes).
func NewCipher(alg Encr, key []byte) (*Cipher, error) {
	var (
		b   cipher.Block
		err error
	)
	switch alg {
	case EncrAESCBC:
		switch len(key) {
		case 16, 24, 32:
		default:
			return nil, fmt.Errorf("%w: %d bytes for %v", ErrKeyLength, len(key), alg)
		}
		b, err = aes.NewCipher(key)
	case Encr3DESCBC:
		if len(key) != 24 {
			return nil, fmt.Errorf("%w: %d bytes for %v", ErrKeyLength, len(key), alg)
		}
		b, err = des.NewTripleDESCipher(key)
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedCipher, uint16(alg))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyLength, err)
	}
	return &Cipher{alg: alg, block: b}, nil
}

// Encr returns the algorithm of c.
func (c *Cipher) Encr() Encr { return c.alg }

// BlockSize returns the cipher block size in bytes (8 or 16).
func (c *Cipher) BlockSize() int { return c.block.BlockSize() }

// PaddedLen returns the ciphertext length Encrypt produces for a plaintext
// of n bytes.
func (c *Cipher) PaddedLen(n int) int {
	bs := c.BlockSize()
	return (n/bs + 1) * bs
}

func (c *Cipher) checkIV(iv IV) error {
	if int(iv.n) != c.BlockSize() {
		return fmt.Errorf("%w: %d bytes for %v", ErrIVLength, iv.n, c.alg)
	}
	return nil
}

// Encrypt appends the CBC encryption of plaintext under iv to dst and
// returns it with the IV for the next message of the same exchange (the
// last ciphertext block).
//
// Padding (our choice, documented here because the RFCs leave the content
// open): zero octets up to the block size with the pad count, excluding
// itself, in the last octet, the self-describing form racoon and others
// emit. At least that count octet is always added, so a plaintext that
// fills whole blocks gets a full extra block. The ISAKMP header Length
// covers the padding (RFC 2408 §3.1) and receivers find the end of the data
// from the payload chain, so this decodes everywhere, including at
// strongSwan, which pads with zeros and no count octet.
func (c *Cipher) Encrypt(dst []byte, iv IV, plaintext []byte) ([]byte, IV, error) {
	if err := c.checkIV(iv); err != nil {
		return nil, IV{}, err
	}
	if len(plaintext) == 0 {
		return nil, IV{}, fmt.Errorf("%w: plaintext", ErrEmpty)
	}
	n := c.PaddedLen(len(plaintext))
	pad := n - len(plaintext)
	start := len(dst)
	dst = append(dst, plaintext...)
	for i := 0; i < pad-1; i++ {
		dst = append(dst, 0)
	}
	dst = append(dst, byte(pad-1))
	body := dst[start:]
	c.mode(&c.enc, iv, cipher.NewCBCEncrypter).CryptBlocks(body, body)
	next, _ := NewIV(body[len(body)-c.BlockSize():])
	return dst, next, nil
}

// Decrypt appends the CBC decryption of ciphertext under iv to dst and
// returns it with the IV for the next message of the same exchange (the
// last ciphertext block); dst may be ciphertext[:0] to decrypt in place.
// It returns the whole plaintext including any padding and never inspects
// the padding: the ISAKMP payload chain says where the data ends, and
// implementations pad differently (strongSwan: zeros, no count octet;
// others: a trailing count octet).
func (c *Cipher) Decrypt(dst []byte, iv IV, ciphertext []byte) ([]byte, IV, error) {
	if err := c.checkIV(iv); err != nil {
		return nil, IV{}, err
	}
	if len(ciphertext) == 0 {
		return nil, IV{}, fmt.Errorf("%w: ciphertext", ErrEmpty)
	}
	bs := c.BlockSize()
	if len(ciphertext)%bs != 0 {
		return nil, IV{}, fmt.Errorf("%w: %d bytes, block %d", ErrNotBlockMultiple, len(ciphertext), bs)
	}
	// The next IV must be taken before decrypting in place could clobber it.
	next, _ := NewIV(ciphertext[len(ciphertext)-bs:])
	start := len(dst)
	dst = append(dst, ciphertext...)
	body := dst[start:]
	c.mode(&c.dec, iv, cipher.NewCBCDecrypter).CryptBlocks(body, body)
	return dst, next, nil
}
