// Package esp is a sans-I/O ESP data plane: RFC 4303 tunnel-mode ESP with
// AES-CBC (RFC 3602) + HMAC-SHA1-96 (RFC 2404) or HMAC-SHA2-256-128
// (RFC 4868), AES-GCM with a 16-octet ICV (RFC 4106), or NULL encryption
// (RFC 2410) with either HMAC; the RFC 4303 §3.4.3 anti-replay window with
// optional extended sequence numbers (Appendix A); and the RFC 3948 UDP
// encapsulation helpers.
//
// An SA protects one direction: the sender calls Seal, the receiver calls
// Open on its own SA built from the same Config. Neither does I/O, starts
// goroutines or reads a clock, and an SA is not safe for concurrent use.
// Seal and Open append to a caller-provided buffer and allocate nothing on
// success; every failure is a *DropError carrying a Reason and leaves the
// SA exactly as it was.
package esp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"math"
	"strconv"
)

// Cipher is an ESP encryption algorithm.
type Cipher uint8

// Supported ciphers.
const (
	// CipherNull is RFC 2410 NULL encryption: integrity only.
	CipherNull Cipher = iota + 1
	// CipherAESCBC is RFC 3602 AES-CBC with an explicit random 16-byte IV.
	CipherAESCBC
	// CipherAESGCM16 is RFC 4106 AES-GCM with a 16-octet ICV. Its key
	// material is the AES key followed by a 4-byte salt.
	CipherAESGCM16
)

// Integrity is an ESP integrity algorithm.
type Integrity uint8

// Supported integrity algorithms.
const (
	// IntegrityNone: only valid with CipherAESGCM16, which authenticates.
	IntegrityNone Integrity = iota
	// IntegrityHMACSHA1_96 is RFC 2404: 20-byte key, 12-byte ICV.
	IntegrityHMACSHA1_96
	// IntegrityHMACSHA256_128 is RFC 4868: 32-byte key, 16-byte ICV.
	IntegrityHMACSHA256_128
)

// Transform names an ESP algorithm combination.
type Transform struct {
	Cipher    Cipher
	KeyBits   int // AES key size: 128, 192 or 256; 0 for CipherNull
	Integrity Integrity
}

// String returns a strongSwan-like proposal name, e.g. "aes128-sha256".
func (t Transform) String() string {
	var s string
	switch t.Cipher {
	case CipherNull:
		s = "null"
	case CipherAESCBC:
		s = "aes" + strconv.Itoa(t.KeyBits)
	case CipherAESGCM16:
		s = "aes" + strconv.Itoa(t.KeyBits) + "gcm16"
	default:
		s = "cipher(" + strconv.Itoa(int(t.Cipher)) + ")"
	}
	switch t.Integrity {
	case IntegrityNone:
	case IntegrityHMACSHA1_96:
		s += "-sha1"
	case IntegrityHMACSHA256_128:
		s += "-sha256"
	default:
		s += "-integrity(" + strconv.Itoa(int(t.Integrity)) + ")"
	}
	return s
}

// KeyLen returns the lengths of the encryption key material (including
// the GCM salt) and of the integrity key the transform needs.
func (t Transform) KeyLen() (enc, auth int) {
	switch t.Cipher {
	case CipherAESCBC:
		enc = t.KeyBits / 8
	case CipherAESGCM16:
		enc = t.KeyBits/8 + gcmSaltLen
	}
	switch t.Integrity {
	case IntegrityHMACSHA1_96:
		auth = sha1.Size
	case IntegrityHMACSHA256_128:
		auth = sha256.Size
	}
	return enc, auth
}

// Config describes an SA. Both ends build their SA from equal Configs.
type Config struct {
	SPI       uint32
	Transform Transform
	// EncKey is the encryption key material: the AES key, plus the 4-byte
	// salt appended for GCM (RFC 4106 §8.1); empty for NULL.
	EncKey []byte
	// AuthKey is the HMAC key; empty for GCM.
	AuthKey []byte
	// ESN enables 64-bit extended sequence numbers; only the low 32 bits
	// are sent, the high half is authenticated (RFC 4303 §2.2.1).
	ESN bool
	// ReplayWindow is the receiver's anti-replay window in packets: a
	// multiple of 64 between MinReplayWindow and MaxReplayWindow, or 0 for
	// DefaultReplayWindow.
	ReplayWindow int
	// Rand supplies AES-CBC IVs. Nil means crypto/rand.Reader, which is
	// what production must use; tests and simulations inject a
	// deterministic reader for reproducible packets. GCM IVs are the
	// sequence number, unique per key by construction (RFC 4106 §3.1).
	Rand io.Reader
}

// Stats are an SA's traffic counters, for byte and packet lifetimes.
type Stats struct {
	Packets uint64 // packets sealed, or opened and delivered
	Bytes   uint64 // inner-packet bytes sealed, or delivered
}

// Protocol numbers carried in the ESP Next Header field.
const (
	NextHeaderIPv4  = 4  // IPv4 in tunnel mode
	NextHeaderIPv6  = 41 // IPv6 in tunnel mode
	NextHeaderDummy = 59 // "no next header": a dummy packet (RFC 4303 §2.6)
)

const (
	headerLen    = 8 // SPI + sequence number
	gcmSaltLen   = 4
	gcmIVLen     = 8
	gcmICVLen    = 16
	maxInnerLen  = math.MaxUint16
	ipv4MinLen   = 20
	ipv6HeaderLn = 40
)

// SA is one direction of an ESP security association: its keys, the
// sender's sequence counter, the receiver's anti-replay window and the
// traffic counters. Use one SA per direction.
type SA struct {
	spi    uint32
	t      Transform
	esn    bool
	rand   io.Reader
	ivLen  int
	icvLen int
	align  int // ciphertext alignment: cipher block size, at least 4

	cbcEnc, cbcDec ivBlockMode
	aead           cipher.AEAD
	mac            hash.Hash

	seq   uint64 // last sequence number sent; 0 before the first
	win   window
	stats Stats

	// Scratch space kept here so that Seal and Open allocate nothing.
	salt  [gcmSaltLen]byte
	nonce [gcmSaltLen + gcmIVLen]byte
	aad   [12]byte
	seqHi [4]byte
	sum   [sha256.Size]byte
}

// ivBlockMode is a CBC mode whose IV can be reset; the stdlib modes
// implement it, which saves an allocation per packet.
type ivBlockMode interface {
	cipher.BlockMode
	SetIV([]byte)
}

// NewSA validates c and returns a fresh SA. Errors wrap ErrConfig.
func NewSA(c Config) (*SA, error) {
	t := c.Transform
	sa := &SA{spi: c.SPI, t: t, esn: c.ESN, rand: c.Rand, align: 4}
	if sa.rand == nil {
		sa.rand = rand.Reader
	}
	if c.SPI == 0 {
		return nil, fmt.Errorf("%w: SPI 0 is reserved (RFC 4303 §2.1)", ErrConfig)
	}
	win := c.ReplayWindow
	if win == 0 {
		win = DefaultReplayWindow
	}
	if win < MinReplayWindow || win > MaxReplayWindow || win%64 != 0 {
		return nil, fmt.Errorf("%w: replay window %d is not a multiple of 64 in [%d, %d]",
			ErrConfig, c.ReplayWindow, MinReplayWindow, MaxReplayWindow)
	}
	encLen, authLen := t.KeyLen()
	switch t.Cipher {
	case CipherNull:
		if t.KeyBits != 0 {
			return nil, fmt.Errorf("%w: NULL encryption takes no key size", ErrConfig)
		}
	case CipherAESCBC, CipherAESGCM16:
		if t.KeyBits != 128 && t.KeyBits != 192 && t.KeyBits != 256 {
			return nil, fmt.Errorf("%w: AES key size %d", ErrConfig, t.KeyBits)
		}
	default:
		return nil, fmt.Errorf("%w: unknown cipher %d", ErrConfig, t.Cipher)
	}
	if len(c.EncKey) != encLen {
		return nil, fmt.Errorf("%w: %v needs %d bytes of encryption key material, got %d",
			ErrConfig, t, encLen, len(c.EncKey))
	}
	switch {
	case t.Cipher == CipherAESGCM16 && t.Integrity != IntegrityNone:
		return nil, fmt.Errorf("%w: AES-GCM takes no separate integrity algorithm", ErrConfig)
	case t.Cipher != CipherAESGCM16 && t.Integrity == IntegrityNone:
		return nil, fmt.Errorf("%w: %v has no integrity protection", ErrConfig, t)
	}
	switch t.Integrity {
	case IntegrityNone:
	case IntegrityHMACSHA1_96:
		sa.mac, sa.icvLen = hmac.New(sha1.New, c.AuthKey), 12
	case IntegrityHMACSHA256_128:
		sa.mac, sa.icvLen = hmac.New(sha256.New, c.AuthKey), 16
	default:
		return nil, fmt.Errorf("%w: unknown integrity algorithm %d", ErrConfig, t.Integrity)
	}
	if len(c.AuthKey) != authLen {
		return nil, fmt.Errorf("%w: %v needs a %d-byte integrity key, got %d",
			ErrConfig, t, authLen, len(c.AuthKey))
	}
	switch t.Cipher {
	case CipherAESCBC:
		b, err := aes.NewCipher(c.EncKey)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		var zero [aes.BlockSize]byte
		enc, ok1 := cipher.NewCBCEncrypter(b, zero[:]).(ivBlockMode)
		dec, ok2 := cipher.NewCBCDecrypter(b, zero[:]).(ivBlockMode)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: CBC mode cannot reset its IV", ErrConfig)
		}
		sa.cbcEnc, sa.cbcDec, sa.ivLen, sa.align = enc, dec, aes.BlockSize, aes.BlockSize
	case CipherAESGCM16:
		k := len(c.EncKey) - gcmSaltLen
		b, err := aes.NewCipher(c.EncKey[:k])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		if sa.aead, err = cipher.NewGCM(b); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		copy(sa.salt[:], c.EncKey[k:])
		sa.ivLen, sa.icvLen = gcmIVLen, gcmICVLen
	}
	sa.win = newWindow(win)
	return sa, nil
}

// SPI returns the SA's Security Parameters Index.
func (sa *SA) SPI() uint32 { return sa.spi }

// Transform returns the SA's algorithms.
func (sa *SA) Transform() Transform { return sa.t }

// ESN reports whether the SA uses extended sequence numbers.
func (sa *SA) ESN() bool { return sa.esn }

// Stats returns the traffic counters.
func (sa *SA) Stats() Stats { return sa.stats }

// LastSeq returns the last sequence number Seal used (0 before the first).
func (sa *SA) LastSeq() uint64 { return sa.seq }

// HighestSeq returns the highest sequence number Open has accepted.
func (sa *SA) HighestSeq() uint64 { return sa.win.top }

// ReplayWindow returns the anti-replay window size in packets.
func (sa *SA) ReplayWindow() int { return int(sa.win.size()) }

// SealedLen returns the length of the ESP packet Seal produces for an
// inner packet of innerLen bytes.
func (sa *SA) SealedLen(innerLen int) int {
	return headerLen + sa.ivLen + sa.ctLen(innerLen) + sa.icvLen
}

// ctLen is the encrypted part: payload, padding, pad length, next header.
func (sa *SA) ctLen(payloadLen int) int {
	n := payloadLen + 2
	return (n + sa.align - 1) / sa.align * sa.align
}

func (sa *SA) maxSeq() uint64 {
	if sa.esn {
		return math.MaxUint64
	}
	return math.MaxUint32
}

// Seal protects the inner IPv4 or IPv6 packet and appends the ESP packet
// (SPI | seq | IV | ciphertext | ICV) to dst. inner must not overlap the
// appended region of dst. On error dst is returned unchanged, and the
// sequence counter has not moved; Expired means the SA must be rekeyed.
func (sa *SA) Seal(dst, inner []byte) ([]byte, error) {
	nh, err := innerNextHeader(inner)
	if err != nil {
		return dst, drop(Malformed, sa.spi, 0, err.Error())
	}
	return sa.seal(dst, inner, nh)
}

func (sa *SA) seal(dst, payload []byte, nh byte) ([]byte, error) {
	if sa.seq >= sa.maxSeq() {
		return dst, drop(Expired, sa.spi, sa.seq, "sequence number space exhausted; rekey (RFC 4303 §3.3.3)")
	}
	seq := sa.seq + 1
	ctLen := sa.ctLen(len(payload))
	start := len(dst)
	out := grow(dst, headerLen+sa.ivLen+ctLen+sa.icvLen)
	pkt := out[start:]
	binary.BigEndian.PutUint32(pkt[0:], sa.spi)
	binary.BigEndian.PutUint32(pkt[4:], uint32(seq))
	iv := pkt[headerLen : headerLen+sa.ivLen]
	ct := pkt[headerLen+sa.ivLen : headerLen+sa.ivLen+ctLen]
	n := copy(ct, payload)
	padLen := ctLen - n - 2
	for i := range padLen {
		ct[n+i] = byte(i + 1) // RFC 4303 §2.4 default padding 1, 2, 3, …
	}
	ct[ctLen-2], ct[ctLen-1] = byte(padLen), nh

	switch sa.t.Cipher {
	case CipherAESCBC:
		if _, err := io.ReadFull(sa.rand, iv); err != nil {
			return dst, fmt.Errorf("%w: %v", ErrRandom, err)
		}
		sa.cbcEnc.SetIV(iv)
		sa.cbcEnc.CryptBlocks(ct, ct)
	case CipherAESGCM16:
		binary.BigEndian.PutUint64(iv, seq)
		sa.aead.Seal(ct[:0], sa.gcmNonce(iv), ct, sa.gcmAAD(pkt[:headerLen], seq))
	}
	if sa.mac != nil {
		copy(pkt[len(pkt)-sa.icvLen:], sa.hmacICV(pkt[:len(pkt)-sa.icvLen], seq))
	}
	sa.seq = seq
	sa.stats.Packets++
	sa.stats.Bytes += uint64(len(payload))
	return out, nil
}

// Open verifies and decrypts the ESP packet pkt and appends the inner
// packet to dst; pkt must not overlap the appended region of dst. The
// anti-replay check runs first, the ICV is verified next (in constant
// time, before CBC decryption), and only then do the replay window and
// counters move. On error dst's contents up to len(dst) are
// unchanged and the SA is untouched, except that an authenticated dummy
// packet (Reason Dummy) advances the replay window like any other.
func (sa *SA) Open(dst, pkt []byte) ([]byte, error) {
	if len(pkt) < headerLen+sa.ivLen+sa.align+sa.icvLen {
		return dst, drop(Malformed, sa.spi, 0, "truncated ESP packet")
	}
	spi := binary.BigEndian.Uint32(pkt)
	if spi != sa.spi {
		return dst, drop(UnknownSPI, spi, 0, "packet is for another SA")
	}
	seq := sa.win.infer(binary.BigEndian.Uint32(pkt[4:]), sa.esn)
	if why := sa.win.check(seq); why != "" {
		return dst, drop(Replay, spi, seq, why)
	}
	body := pkt[headerLen : len(pkt)-sa.icvLen]
	iv, ct := body[:sa.ivLen], body[sa.ivLen:]
	if len(ct)%sa.align != 0 {
		return dst, drop(Malformed, spi, seq, "ciphertext not block aligned")
	}

	start := len(dst)
	out := grow(dst, len(ct))
	plain := out[start:]
	switch sa.t.Cipher {
	case CipherAESGCM16:
		if _, err := sa.aead.Open(plain[:0], sa.gcmNonce(iv), pkt[headerLen+sa.ivLen:], sa.gcmAAD(pkt[:headerLen], seq)); err != nil {
			return dst, drop(AuthFailed, spi, seq, "AES-GCM tag mismatch")
		}
	default:
		icv := pkt[len(pkt)-sa.icvLen:]
		if !hmac.Equal(icv, sa.hmacICV(pkt[:len(pkt)-sa.icvLen], seq)) {
			return dst, drop(AuthFailed, spi, seq, "HMAC ICV mismatch")
		}
		if sa.t.Cipher == CipherAESCBC {
			sa.cbcDec.SetIV(iv)
			sa.cbcDec.CryptBlocks(plain, ct)
		} else {
			copy(plain, ct)
		}
	}

	padLen, nh := int(plain[len(plain)-2]), plain[len(plain)-1]
	if padLen+2 > len(plain) {
		return dst, drop(Malformed, spi, seq, "pad length exceeds payload")
	}
	data := plain[:len(plain)-2-padLen]
	for i, p := range plain[len(data) : len(plain)-2] {
		if p != byte(i+1) {
			return dst, drop(Malformed, spi, seq, "padding is not 1, 2, 3, …")
		}
	}
	switch nh {
	case NextHeaderDummy:
		sa.win.update(seq) // authenticated: its sequence number is spent
		return dst, drop(Dummy, spi, seq, "dummy packet")
	case NextHeaderIPv4, NextHeaderIPv6:
		got, err := innerNextHeader(data)
		if err != nil {
			return dst, drop(Malformed, spi, seq, err.Error())
		}
		if got != nh {
			return dst, drop(Malformed, spi, seq, "next header does not match the inner IP version")
		}
		data = data[:innerLen(data)] // drop TFC padding (RFC 4303 §2.7)
	default:
		return dst, drop(Malformed, spi, seq, "next header is not IPv4, IPv6 or dummy (tunnel mode only)")
	}
	sa.win.update(seq)
	sa.stats.Packets++
	sa.stats.Bytes += uint64(len(data))
	return out[:start+len(data)], nil
}

// hmacICV returns the full HMAC over the authenticated bytes, followed by
// the implicit high half of an extended sequence number (RFC 4303 §2.2.1),
// truncated to the ICV length. The result aliases sa.sum.
func (sa *SA) hmacICV(authed []byte, seq uint64) []byte {
	sa.mac.Reset()
	sa.mac.Write(authed)
	if sa.esn {
		binary.BigEndian.PutUint32(sa.seqHi[:], uint32(seq>>32))
		sa.mac.Write(sa.seqHi[:])
	}
	return sa.mac.Sum(sa.sum[:0])[:sa.icvLen]
}

// gcmNonce is salt | explicit IV (RFC 4106 §4).
func (sa *SA) gcmNonce(iv []byte) []byte {
	copy(sa.nonce[:gcmSaltLen], sa.salt[:])
	copy(sa.nonce[gcmSaltLen:], iv)
	return sa.nonce[:]
}

// gcmAAD is SPI | seq, or SPI | seq-hi | seq-lo with ESN (RFC 4106 §5).
func (sa *SA) gcmAAD(hdr []byte, seq uint64) []byte {
	if !sa.esn {
		copy(sa.aad[:], hdr[:headerLen])
		return sa.aad[:headerLen]
	}
	copy(sa.aad[:4], hdr[:4])
	binary.BigEndian.PutUint64(sa.aad[4:], seq)
	return sa.aad[:12]
}

// grow extends b by n bytes, reallocating only when capacity is short.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// innerNextHeader validates a tunnel-mode inner packet's IP header and
// returns the ESP Next Header value for it.
func innerNextHeader(p []byte) (byte, error) {
	if len(p) == 0 {
		return 0, errInner("empty inner packet")
	}
	if len(p) > maxInnerLen {
		return 0, errInner("inner packet longer than 65535 bytes")
	}
	switch p[0] >> 4 {
	case 4:
		if len(p) < ipv4MinLen || int(p[0]&0xf)*4 < ipv4MinLen {
			return 0, errInner("truncated inner IPv4 header")
		}
		tl := int(binary.BigEndian.Uint16(p[2:]))
		if tl < int(p[0]&0xf)*4 || tl > len(p) {
			return 0, errInner("inner IPv4 total length inconsistent")
		}
		return NextHeaderIPv4, nil
	case 6:
		if len(p) < ipv6HeaderLn {
			return 0, errInner("truncated inner IPv6 header")
		}
		if ipv6HeaderLn+int(binary.BigEndian.Uint16(p[4:])) > len(p) {
			return 0, errInner("inner IPv6 payload length inconsistent")
		}
		return NextHeaderIPv6, nil
	}
	return 0, errInner("inner packet is not IPv4 or IPv6")
}

// innerLen is the IP packet's own length; p passed innerNextHeader.
func innerLen(p []byte) int {
	if p[0]>>4 == 4 {
		return int(binary.BigEndian.Uint16(p[2:]))
	}
	return ipv6HeaderLn + int(binary.BigEndian.Uint16(p[4:]))
}

type errInner string

func (e errInner) Error() string { return string(e) }
