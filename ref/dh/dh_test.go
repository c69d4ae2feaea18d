package dh

import (
	"bytes"
	"crypto/elliptic"
	"errors"
	"flag"
	"io"
	"math/big"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/curve25519"
)

// The largest groups cost seconds of math/big per check; they share all
// code paths with the smaller ones, so by default only their primes are
// compared with the RFC formula. Run with -slow to include them.
var slow = flag.Bool("slow", false, "also run key agreement and primality tests for MODP 4096-8192")

func isBig(id ID) bool { return id >= MODP4096 && id <= MODP8192 }

var allIDs = []ID{MODP768, MODP1024, MODP1536, MODP2048, MODP3072, MODP4096, MODP6144, MODP8192, ECP256, ECP384, ECP521, Curve25519}

func detRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// piTimes2ToThe returns floor(2^e * pi) by Stormer's formula
// pi = 48 atan(1/18) + 32 atan(1/57) - 20 atan(1/239), a different series
// from the generator's Machin formula, so the two check each other.
func piTimes2ToThe(e uint) *big.Int {
	one := new(big.Int).Lsh(big.NewInt(1), e+64)
	atan := func(x int64) *big.Int {
		xx := big.NewInt(x * x)
		term := new(big.Int).Div(one, big.NewInt(x))
		sum := new(big.Int).Set(term)
		t := new(big.Int)
		for i := int64(1); term.Sign() != 0; i++ {
			term.Div(term, xx)
			t.Div(term, big.NewInt(2*i+1))
			if i%2 == 1 {
				sum.Sub(sum, t)
			} else {
				sum.Add(sum, t)
			}
		}
		return sum
	}
	pi := new(big.Int).Mul(atan(18), big.NewInt(48))
	pi.Add(pi, new(big.Int).Mul(atan(57), big.NewInt(32)))
	pi.Sub(pi, new(big.Int).Mul(atan(239), big.NewInt(20)))
	return pi.Rsh(pi, 64)
}

// The primes in modp_primes.go must equal the formula of RFC 2409 §6 /
// RFC 3526, p = 2^N - 2^(N-64) - 1 + 2^64 * ([2^(N-130) pi] + k), and be
// safe primes.
func TestMODPPrimes(t *testing.T) {
	ks := map[ID]int64{1: 149686, 2: 129093, 5: 741804, 14: 124476, 15: 1690314, 16: 240904, 17: 929484, 18: 4743158}
	bits := map[ID]uint{1: 768, 2: 1024, 5: 1536, 14: 2048, 15: 3072, 16: 4096, 17: 6144, 18: 8192}
	if len(modpPrimes) != len(ks) {
		t.Fatalf("%d MODP primes, want %d", len(modpPrimes), len(ks))
	}
	for id, k := range ks {
		g, err := Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		n := bits[id]
		want := new(big.Int).Add(piTimes2ToThe(n-130), big.NewInt(k))
		want.Lsh(want, 64)
		want.Add(want, new(big.Int).Lsh(big.NewInt(1), n))
		want.Sub(want, new(big.Int).Lsh(big.NewInt(1), n-64))
		want.Sub(want, big.NewInt(1))
		if g.p.Cmp(want) != 0 {
			t.Errorf("group %d: prime differs from the RFC formula", id)
		}
		if g.PublicLen() != int(n/8) || g.SharedLen() != int(n/8) {
			t.Errorf("group %d: lengths %d/%d", id, g.PublicLen(), g.SharedLen())
		}
		if !isBig(id) || *slow {
			q := new(big.Int).Rsh(g.p, 1)
			if !g.p.ProbablyPrime(0) || !q.ProbablyPrime(0) {
				t.Errorf("group %d: not a safe prime", id)
			}
		}
	}
}

func TestAgreement(t *testing.T) {
	for _, id := range allIDs {
		if isBig(id) && !*slow {
			continue
		}
		g, err := Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		a, err := g.GenerateKey(detRand(1))
		if err != nil {
			t.Fatal(err)
		}
		b, err := g.GenerateKey(detRand(2))
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Public()) != g.PublicLen() || a.Group() != g || g.ID() != id {
			t.Fatalf("%v: public value of %d bytes", g, len(a.Public()))
		}
		again, _ := g.GenerateKey(detRand(1))
		if !bytes.Equal(again.Public(), a.Public()) {
			t.Errorf("%v: injected randomness not deterministic", g)
		}
		if bytes.Equal(a.Public(), b.Public()) {
			t.Errorf("%v: different seeds, same key", g)
		}
		sa, err := a.SharedSecret(b.Public())
		if err != nil {
			t.Fatal(err)
		}
		sb, err := b.SharedSecret(a.Public())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sa, sb) || len(sa) != g.SharedLen() {
			t.Errorf("%v: shared secrets differ or have wrong length", g)
		}
		if err := g.CheckPublic(a.Public()); err != nil {
			t.Errorf("%v: own public value rejected: %v", g, err)
		}
		crossCheck(t, g, a, b, sa)
	}
}

// crossCheck recomputes the wire encodings with libraries other than
// crypto/ecdh: crypto/elliptic's affine arithmetic for RFC 5903's x|y and
// x-only secret, x/crypto/curve25519 for RFC 8031.
func crossCheck(t *testing.T, g *Group, a, b *PrivateKey, shared []byte) {
	t.Helper()
	var curve elliptic.Curve
	switch g.ID() {
	case ECP256:
		curve = elliptic.P256()
	case ECP384:
		curve = elliptic.P384()
	case ECP521:
		curve = elliptic.P521()
	case Curve25519:
		want, err := curve25519.X25519(a.ec.Bytes(), b.Public())
		if err != nil || !bytes.Equal(want, shared) {
			t.Errorf("X25519 differs from x/crypto: %v", err)
		}
		return
	default:
		// MODP: y = 2^x mod p, and the shared secret keeps leading zeros.
		y := new(big.Int).Exp(big.NewInt(2), a.x, g.p)
		if !bytes.Equal(y.FillBytes(make([]byte, g.PublicLen())), a.Public()) {
			t.Errorf("%v: public value is not 2^x mod p", g)
		}
		return
	}
	n := g.PublicLen() / 2
	bx, by := new(big.Int).SetBytes(b.Public()[:n]), new(big.Int).SetBytes(b.Public()[n:])
	//lint:ignore SA1019 an independent affine implementation for the cross-check
	if !curve.IsOnCurve(bx, by) {
		t.Errorf("%v: x|y public value not on the curve", g)
	}
	//lint:ignore SA1019 independent affine implementation for the cross-check
	sx, _ := curve.ScalarMult(bx, by, a.ec.Bytes())
	if !bytes.Equal(sx.FillBytes(make([]byte, n)), shared) {
		t.Errorf("%v: shared secret is not the x coordinate", g)
	}
}

func TestLookupUnsupported(t *testing.T) {
	// Input class: group numbers that are unassigned, EC2N (3, 4), or
	// groups we do not implement (22-24 MODP with subgroups, 32 Curve448).
	for _, id := range []ID{0, 3, 4, 6, 13, 22, 24, 32, 0xffff} {
		if _, err := Lookup(id); !errors.Is(err, ErrUnsupportedGroup) {
			t.Errorf("group %d: %v", id, err)
		}
	}
}

func TestBadPeerValues(t *testing.T) {
	modp, _ := Lookup(MODP1024)
	k, _ := modp.GenerateKey(detRand(3))
	p := modp.p
	enc := func(v *big.Int) []byte { return v.FillBytes(make([]byte, 128)) }
	two := enc(big.NewInt(2)) // smallest valid value, leading zeros kept
	for _, tc := range []struct {
		class string
		pub   []byte
		want  error
	}{
		{"MODP empty", nil, ErrPublicLength},
		{"MODP one byte short", make([]byte, 127), ErrPublicLength},
		{"MODP leading zero stripped", big.NewInt(2).Bytes(), ErrPublicLength},
		{"MODP one byte long", make([]byte, 129), ErrPublicLength},
		{"MODP zero", enc(big.NewInt(0)), ErrPublicRange},
		{"MODP one", enc(big.NewInt(1)), ErrPublicRange},
		{"MODP p-1", enc(new(big.Int).Sub(p, big.NewInt(1))), ErrPublicRange},
		{"MODP p", enc(p), ErrPublicRange},
		{"MODP p+1", enc(new(big.Int).Add(p, big.NewInt(1))), ErrPublicRange},
		{"MODP all ones", bytes.Repeat([]byte{0xff}, 128), ErrPublicRange},
	} {
		before := k.Public()
		if _, err := k.SharedSecret(tc.pub); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.class, err, tc.want)
		}
		if err := modp.CheckPublic(tc.pub); !errors.Is(err, tc.want) {
			t.Errorf("%s: CheckPublic %v", tc.class, err)
		}
		if !bytes.Equal(before, k.Public()) {
			t.Errorf("%s: key changed", tc.class)
		}
	}
	if _, err := k.SharedSecret(two); err != nil {
		t.Errorf("MODP 2 with leading zeros: %v", err)
	}

	for _, id := range []ID{ECP256, ECP384, ECP521} {
		g, _ := Lookup(id)
		k, _ := g.GenerateKey(detRand(4))
		peer, _ := g.GenerateKey(detRand(5))
		pub := peer.Public()
		n := len(pub) / 2
		offCurve := append([]byte(nil), pub...)
		offCurve[len(offCurve)-1] ^= 1
		prefixed := append([]byte{4}, pub...)
		bigX := append(bytes.Repeat([]byte{0xff}, n), pub[n:]...)
		for _, tc := range []struct {
			class string
			pub   []byte
			want  error
		}{
			{"ECP empty", nil, ErrPublicLength},
			{"ECP with SEC1 0x04 prefix", prefixed, ErrPublicLength},
			{"ECP x only", pub[:n], ErrPublicLength},
			{"ECP point off the curve", offCurve, ErrNotOnCurve},
			{"ECP all-zero (infinity)", make([]byte, len(pub)), ErrNotOnCurve},
			{"ECP x >= field prime", bigX, ErrNotOnCurve},
		} {
			if _, err := k.SharedSecret(tc.pub); !errors.Is(err, tc.want) {
				t.Errorf("%v %s: got %v, want %v", g, tc.class, err, tc.want)
			}
		}
		if _, err := k.SharedSecret(pub); err != nil {
			t.Errorf("%v: valid peer rejected after bad ones: %v", g, err)
		}
	}

	x, _ := Lookup(Curve25519)
	xk, _ := x.GenerateKey(detRand(6))
	one := make([]byte, 32)
	one[0] = 1
	for _, tc := range []struct {
		class string
		pub   []byte
		want  error
	}{
		{"X25519 empty", nil, ErrPublicLength},
		{"X25519 31 bytes", make([]byte, 31), ErrPublicLength},
		{"X25519 zero point (low order)", make([]byte, 32), ErrZeroSharedSecret},
		{"X25519 point 1 (low order)", one, ErrZeroSharedSecret},
	} {
		if _, err := xk.SharedSecret(tc.pub); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.class, err, tc.want)
		}
	}
}

type failReader struct{ n int }

func (f *failReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	m := min(f.n, len(p))
	f.n -= m
	return m, nil
}

type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

func TestGenerateKeyBadRandom(t *testing.T) {
	for _, id := range []ID{MODP2048, ECP256, Curve25519} {
		g, _ := Lookup(id)
		// Input classes: reader fails at once, reader ends mid-key.
		if _, err := g.GenerateKey(&failReader{}); !errors.Is(err, ErrRandom) {
			t.Errorf("%v failing reader: %v", g, err)
		}
		if _, err := g.GenerateKey(&failReader{n: 10}); !errors.Is(err, ErrRandom) {
			t.Errorf("%v short reader: %v", g, err)
		}
	}
	// A reader that only yields invalid NIST scalars (zero, or >= order)
	// must end with an error, not loop forever.
	for _, id := range []ID{ECP256, ECP384, ECP521} {
		g, _ := Lookup(id)
		for _, r := range []io.Reader{constReader(0), constReader(0xff)} {
			if _, err := g.GenerateKey(r); !errors.Is(err, ErrRandom) {
				t.Errorf("%v invalid scalars: %v", g, err)
			}
		}
	}
}
