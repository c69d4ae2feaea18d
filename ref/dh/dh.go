// Package dh implements the Diffie-Hellman groups IKEv1 negotiates, by IANA
// group number: MODP 1, 2 (RFC 2409 §6) and 5, 14-18 (RFC 3526), ECP 19-21
// (RFC 5903) and Curve25519 (RFC 8031).
//
// Randomness is always injected: GenerateKey reads its secret from the
// io.Reader it is given, so tests are deterministic. ECDH comes from
// crypto/ecdh. MODP uses math/big because the standard library exposes no
// finite-field DH (crypto/internal is not importable); math/big is not
// constant time, which is acceptable for a reference implementation and
// test tool but not for production keys.
//
// Every peer public value is validated before use (wrong length, out of
// range, not on the curve, low-order X25519 point) and rejected with an
// error matching one of the Err* sentinels.
package dh

//go:generate go run gen_primes.go

import (
	"crypto/ecdh"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// ID is an IANA "Group Description" number (IKEv1 attribute 4, RFC 2409
// Appendix A; shared with the IKEv2 Transform Type 4 registry).
type ID uint16

// Supported groups.
const (
	MODP768    ID = 1  // RFC 2409 §6.1
	MODP1024   ID = 2  // RFC 2409 §6.2
	MODP1536   ID = 5  // RFC 3526 §2
	MODP2048   ID = 14 // RFC 3526 §3
	MODP3072   ID = 15 // RFC 3526 §4
	MODP4096   ID = 16 // RFC 3526 §5
	MODP6144   ID = 17 // RFC 3526 §6
	MODP8192   ID = 18 // RFC 3526 §7
	ECP256     ID = 19 // RFC 5903 §3.1, NIST P-256
	ECP384     ID = 20 // RFC 5903 §3.2, NIST P-384
	ECP521     ID = 21 // RFC 5903 §3.3, NIST P-521
	Curve25519 ID = 31 // RFC 8031
)

// Sentinel errors; compare with errors.Is.
var (
	// ErrUnsupportedGroup reports a group number this package does not know.
	ErrUnsupportedGroup = errors.New("dh: unsupported group")
	// ErrPublicLength reports a peer public value of the wrong length.
	ErrPublicLength = errors.New("dh: public value has wrong length")
	// ErrPublicRange reports a MODP public value outside 1 < y < p-1.
	ErrPublicRange = errors.New("dh: MODP public value out of range")
	// ErrNotOnCurve reports an ECP public value that is not a curve point
	// (or is the point at infinity).
	ErrNotOnCurve = errors.New("dh: public value is not a valid curve point")
	// ErrZeroSharedSecret reports an all-zero X25519 result: the peer sent
	// a low-order point (RFC 8031 §2.3, RFC 7748 §6.1).
	ErrZeroSharedSecret = errors.New("dh: all-zero shared secret")
	// ErrRandom reports that the injected random source failed.
	ErrRandom = errors.New("dh: reading randomness failed")
)

type kind uint8

const (
	kindMODP kind = iota + 1
	kindECP
	kindX25519
)

// Group is one DH group. Groups are immutable and safe for concurrent use.
type Group struct {
	id     ID
	name   string
	kind   kind
	p      *big.Int // MODP prime
	pm1    *big.Int // p-1
	curve  ecdh.Curve
	pubLen int
	secLen int
}

var (
	two    = big.NewInt(2)
	groups = map[ID]*Group{}
)

func init() {
	for id, hex := range modpPrimes {
		p, ok := new(big.Int).SetString(hex, 16)
		if !ok {
			panic("dh: bad generated prime") // build-time data, never input
		}
		n := (p.BitLen() + 7) / 8
		groups[id] = &Group{id: id, name: fmt.Sprintf("MODP-%d", p.BitLen()), kind: kindMODP,
			p: p, pm1: new(big.Int).Sub(p, big.NewInt(1)), pubLen: n, secLen: n}
	}
	// RFC 5903 §7: public value is x | y, each the field size; the shared
	// secret is the x coordinate only.
	groups[ECP256] = &Group{id: ECP256, name: "ECP-256", kind: kindECP, curve: ecdh.P256(), pubLen: 64, secLen: 32}
	groups[ECP384] = &Group{id: ECP384, name: "ECP-384", kind: kindECP, curve: ecdh.P384(), pubLen: 96, secLen: 48}
	groups[ECP521] = &Group{id: ECP521, name: "ECP-521", kind: kindECP, curve: ecdh.P521(), pubLen: 132, secLen: 66}
	groups[Curve25519] = &Group{id: Curve25519, name: "Curve25519", kind: kindX25519, curve: ecdh.X25519(), pubLen: 32, secLen: 32}
}

// Lookup returns the group with IANA number id.
func Lookup(id ID) (*Group, error) {
	g, ok := groups[id]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedGroup, uint16(id))
	}
	return g, nil
}

// ID returns the IANA group number.
func (g *Group) ID() ID { return g.id }

// String returns a short name such as "MODP-2048" or "ECP-256".
func (g *Group) String() string { return g.name }

// PublicLen returns the fixed length of a public value (KE payload body):
// the prime length for MODP (leading zeros kept), 2x the coordinate length
// for ECP, 32 for Curve25519.
func (g *Group) PublicLen() int { return g.pubLen }

// SharedLen returns the fixed length of the shared secret g^xy.
func (g *Group) SharedLen() int { return g.secLen }

// CheckPublic validates a peer public value without using it.
func (g *Group) CheckPublic(pub []byte) error {
	_, err := g.parsePublic(pub)
	return err
}

// parsePublic returns *big.Int for MODP or *ecdh.PublicKey for the curves.
func (g *Group) parsePublic(pub []byte) (any, error) {
	if len(pub) != g.pubLen {
		return nil, fmt.Errorf("%w: %v wants %d bytes, got %d", ErrPublicLength, g, g.pubLen, len(pub))
	}
	switch g.kind {
	case kindMODP:
		y := new(big.Int).SetBytes(pub)
		// 1 < y < p-1 excludes the identity and the element of order 2,
		// which would leak the private exponent's parity or fix the secret.
		if y.Cmp(two) < 0 || y.Cmp(g.pm1) >= 0 {
			return nil, fmt.Errorf("%w: %v", ErrPublicRange, g)
		}
		return y, nil
	case kindECP:
		var buf [1 + 132]byte
		buf[0] = 4 // SEC 1 uncompressed marker, absent on the IKE wire
		copy(buf[1:], pub)
		k, err := g.curve.NewPublicKey(buf[:1+len(pub)])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotOnCurve, g)
		}
		return k, nil
	default:
		k, err := g.curve.NewPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrPublicLength, g)
		}
		return k, nil
	}
}

// PrivateKey is one side's ephemeral DH key.
type PrivateKey struct {
	g   *Group
	x   *big.Int // MODP exponent
	ec  *ecdh.PrivateKey
	pub []byte
}

// maxScalarTries bounds rejection sampling for NIST scalars; each try fails
// with probability < 2^-32, so exhausting it means a broken reader.
const maxScalarTries = 64

// GenerateKey draws a private key from rand and computes its public value.
// Unlike crypto/ecdh.Curve.GenerateKey (which ignores its reader since Go
// 1.26), the secret is read from rand, so an injected deterministic reader
// gives a reproducible key. MODP exponents are full length, uniform in
// [2, p-2] (prime length plus 64 bits read, then reduced): simple and
// conservative, at the cost shown by BenchmarkGroups for the large groups.
func (g *Group) GenerateKey(rand io.Reader) (*PrivateKey, error) {
	switch g.kind {
	case kindMODP:
		// Draw 64 extra bits and reduce so x is uniform enough in [2, p-2].
		buf := make([]byte, g.pubLen+8)
		if _, err := io.ReadFull(rand, buf); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRandom, err)
		}
		span := new(big.Int).Sub(g.p, big.NewInt(3))
		x := new(big.Int).SetBytes(buf)
		x.Mod(x, span).Add(x, two)
		y := new(big.Int).Exp(two, x, g.p)
		return &PrivateKey{g: g, x: x, pub: y.FillBytes(make([]byte, g.pubLen))}, nil
	default:
		n := 32
		if g.kind == kindECP {
			n = g.secLen
		}
		buf := make([]byte, n)
		for range maxScalarTries {
			if _, err := io.ReadFull(rand, buf); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrRandom, err)
			}
			if g.id == ECP521 {
				buf[0] &= 1 // a 521-bit scalar in 66 bytes
			}
			k, err := g.curve.NewPrivateKey(buf)
			if err != nil {
				continue // zero or >= order: draw again
			}
			pub := k.PublicKey().Bytes()
			if g.kind == kindECP {
				pub = pub[1:] // drop the 0x04 marker (RFC 5903 §7)
			}
			return &PrivateKey{g: g, ec: k, pub: pub}, nil
		}
		return nil, fmt.Errorf("%w: no valid scalar in %d draws", ErrRandom, maxScalarTries)
	}
}

// Group returns the group of k.
func (k *PrivateKey) Group() *Group { return k.g }

// Public returns a copy of the public value as carried in a KE payload.
func (k *PrivateKey) Public() []byte { return append([]byte(nil), k.pub...) }

// SharedSecret validates the peer public value and returns g^xy in its
// fixed-length encoding (MODP: prime length with leading zeros; ECP: the x
// coordinate, RFC 5903 §7; Curve25519: 32 bytes, RFC 8031 §2.2).
func (k *PrivateKey) SharedSecret(peer []byte) ([]byte, error) {
	v, err := k.g.parsePublic(peer)
	if err != nil {
		return nil, err
	}
	if k.g.kind == kindMODP {
		z := new(big.Int).Exp(v.(*big.Int), k.x, k.g.p)
		return z.FillBytes(make([]byte, k.g.secLen)), nil
	}
	z, err := k.ec.ECDH(v.(*ecdh.PublicKey))
	if err != nil {
		// crypto/ecdh fails only for the X25519 all-zero output here;
		// NIST points were validated by parsePublic.
		return nil, fmt.Errorf("%w: %v", ErrZeroSharedSecret, k.g)
	}
	return z, nil
}
