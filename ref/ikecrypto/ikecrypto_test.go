package ikecrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"testing"
)

// Independent references: the tests rebuild every construction from
// crypto/hmac and crypto/cipher directly, so a slip in the package's
// argument order or truncation shows up as a mismatch.

func refHMAC(p PRF, key []byte, data ...[]byte) []byte {
	var nh func() hash.Hash
	switch p {
	case PRFMD5:
		nh = md5.New
	case PRFSHA1:
		nh = sha1.New
	case PRFSHA256:
		nh = sha256.New
	case PRFSHA384:
		nh = sha512.New384
	case PRFSHA512:
		nh = sha512.New
	}
	m := hmac.New(nh, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

var allPRFs = []PRF{PRFMD5, PRFSHA1, PRFSHA256, PRFSHA384, PRFSHA512}

func seq(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func TestPRF(t *testing.T) {
	key, a, b := seq(20, 1), seq(33, 50), seq(7, 200)
	for _, p := range allPRFs {
		got, err := p.Compute(nil, key, a, b)
		if err != nil {
			t.Fatal(err)
		}
		if want := refHMAC(p, key, a, b); !bytes.Equal(got, want) || len(got) != p.Size() {
			t.Errorf("%v: got %x want %x", p, got, want)
		}
		// A MAC reused across computations must reset in between.
		m, _ := p.New(key)
		first := m.Sum(nil, a)
		if again := m.Sum(nil, a); !bytes.Equal(first, again) {
			t.Errorf("%v: MAC not reset between sums", p)
		}
		if m.PRF() != p || m.Size() != p.Size() || p.String() == "" {
			t.Errorf("%v: accessors", p)
		}
	}
	// Bad input classes: unknown algorithm, empty key.
	if _, err := PRF(3).Compute(nil, key); !errors.Is(err, ErrUnsupportedPRF) {
		t.Errorf("Tiger: %v", err)
	}
	if _, err := PRF(99).Digest(nil, key); !errors.Is(err, ErrUnsupportedPRF) {
		t.Errorf("digest of unknown: %v", err)
	}
	if _, err := PRFSHA1.New(nil); !errors.Is(err, ErrKeyLength) {
		t.Errorf("empty key: %v", err)
	}
	if PRF(99).Size() != 0 || PRF(99).String() != "PRF(99)" {
		t.Error("unknown PRF accessors")
	}
}

func TestPhase1(t *testing.T) {
	psk, ni, nr := []byte("psk"), seq(16, 1), seq(32, 100)
	ckyI, ckyR, gxy := seq(8, 10), seq(8, 20), seq(256, 30)
	skeyid, err := SKEYIDPreSharedKey(PRFSHA256, psk, ni, nr)
	if err != nil {
		t.Fatal(err)
	}
	if want := refHMAC(PRFSHA256, psk, ni, nr); !bytes.Equal(skeyid, want) {
		t.Fatalf("SKEYID %x want %x", skeyid, want)
	}
	k, err := DeriveKeys(PRFSHA256, skeyid, gxy, ckyI, ckyR)
	if err != nil {
		t.Fatal(err)
	}
	d := refHMAC(PRFSHA256, skeyid, gxy, ckyI, ckyR, []byte{0})
	a := refHMAC(PRFSHA256, skeyid, d, gxy, ckyI, ckyR, []byte{1})
	e := refHMAC(PRFSHA256, skeyid, a, gxy, ckyI, ckyR, []byte{2})
	if !bytes.Equal(k.SKEYIDd, d) || !bytes.Equal(k.SKEYIDa, a) || !bytes.Equal(k.SKEYIDe, e) {
		t.Fatal("SKEYID_d/a/e differ from reference")
	}

	// Bad input classes.
	for name, err := range map[string]error{
		"empty PSK":       errOf(SKEYIDPreSharedKey(PRFSHA1, nil, ni, nr)),
		"short Ni":        errOf(SKEYIDPreSharedKey(PRFSHA1, psk, seq(7, 0), nr)),
		"long Nr":         errOf(SKEYIDPreSharedKey(PRFSHA1, psk, ni, seq(257, 0))),
		"unknown PRF":     errOf(SKEYIDPreSharedKey(PRF(0), psk, ni, nr)),
		"short cookie":    errOf(DeriveKeys(PRFSHA1, skeyid, gxy, seq(7, 0), ckyR)),
		"long cookie":     errOf(DeriveKeys(PRFSHA1, skeyid, gxy, ckyI, seq(9, 0))),
		"empty g^xy":      errOf(DeriveKeys(PRFSHA1, skeyid, nil, ckyI, ckyR)),
		"empty SKEYID":    errOf(DeriveKeys(PRFSHA1, nil, gxy, ckyI, ckyR)),
		"zero key length": errOf(CipherKey(PRFSHA1, e, 0)),
		"huge key length": errOf(CipherKey(PRFSHA1, e, MaxCipherKeyLen+1)),
		"empty KE":        errOf(Phase1IV(PRFSHA1, nil, gxy, 16)),
		"odd block size":  errOf(Phase1IV(PRFSHA1, gxy, gxy, 12)),
	} {
		var sentinel error
		switch name {
		case "empty PSK", "empty g^xy", "empty KE":
			sentinel = ErrEmpty
		case "short Ni", "long Nr":
			sentinel = ErrNonceLength
		case "unknown PRF":
			sentinel = ErrUnsupportedPRF
		case "short cookie", "long cookie":
			sentinel = ErrCookieLength
		case "empty SKEYID", "zero key length", "huge key length":
			sentinel = ErrKeyLength
		case "odd block size":
			sentinel = ErrIVLength
		}
		if !errors.Is(err, sentinel) {
			t.Errorf("%s: got %v, want %v", name, err, sentinel)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

func errOf3[A, B any](_ A, _ B, err error) error { return err }

func TestCipherKeyExpansion(t *testing.T) {
	skeyidE := seq(20, 7) // SHA1 output, shorter than AES-256 and 3DES keys
	for _, n := range []int{16, 20, 24, 32, 64} {
		got, err := CipherKey(PRFSHA1, skeyidE, n)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		if n <= len(skeyidE) {
			want = skeyidE[:n]
		} else {
			k := refHMAC(PRFSHA1, skeyidE, []byte{0})
			want = append(want, k...)
			for len(want) < n {
				k = refHMAC(PRFSHA1, skeyidE, k)
				want = append(want, k...)
			}
			want = want[:n]
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d bytes: %x want %x", n, got, want)
		}
	}
}

func TestIVs(t *testing.T) {
	gxi, gxr := seq(128, 1), seq(128, 3)
	iv, err := Phase1IV(PRFSHA1, gxi, gxr, 16)
	if err != nil {
		t.Fatal(err)
	}
	h := sha1.Sum(append(append([]byte(nil), gxi...), gxr...))
	if !bytes.Equal(iv.Bytes(), h[:16]) || iv.Len() != 16 {
		t.Fatalf("phase-1 IV %x", iv.Bytes())
	}
	iv8, _ := Phase1IV(PRFMD5, gxi, gxr, 8)
	m := md5.Sum(append(append([]byte(nil), gxi...), gxr...))
	if !bytes.Equal(iv8.Bytes(), m[:8]) {
		t.Fatalf("3DES phase-1 IV %x", iv8.Bytes())
	}
	last, _ := NewIV(seq(16, 9))
	p2, err := Phase2IV(PRFSHA256, last, 0x01020304)
	if err != nil {
		t.Fatal(err)
	}
	h2 := sha256.Sum256(append(seq(16, 9), 1, 2, 3, 4))
	if !bytes.Equal(p2.Bytes(), h2[:16]) {
		t.Fatalf("phase-2 IV %x", p2.Bytes())
	}
	// Bad input classes: phase-1 M-ID, zero IV, IV of wrong length,
	// unknown PRF.
	if _, err := Phase2IV(PRFSHA1, last, 0); !errors.Is(err, ErrMessageID) {
		t.Errorf("M-ID 0: %v", err)
	}
	if _, err := Phase2IV(PRFSHA1, IV{}, 1); !errors.Is(err, ErrIVLength) {
		t.Errorf("zero IV: %v", err)
	}
	if _, err := Phase2IV(PRF(7), last, 1); !errors.Is(err, ErrUnsupportedPRF) {
		t.Errorf("unknown PRF: %v", err)
	}
	for _, n := range []int{0, 7, 9, 15, 17, 32} {
		if _, err := NewIV(make([]byte, n)); !errors.Is(err, ErrIVLength) {
			t.Errorf("NewIV(%d bytes): %v", n, err)
		}
	}
}

func TestCipherRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		alg Encr
		key int
	}{{EncrAESCBC, 16}, {EncrAESCBC, 24}, {EncrAESCBC, 32}, {Encr3DESCBC, 24}} {
		key := seq(tc.key, 5)
		c, err := NewCipher(tc.alg, key)
		if err != nil {
			t.Fatal(err)
		}
		var ref cipher.Block
		if tc.alg == EncrAESCBC {
			ref, _ = aes.NewCipher(key)
		} else {
			ref, _ = des.NewTripleDESCipher(key)
		}
		bs := c.BlockSize()
		iv0, _ := NewIV(seq(bs, 77))
		for n := 1; n <= 3*bs+1; n++ {
			pt := seq(n, byte(n))
			ct, next, err := c.Encrypt(nil, iv0, pt)
			if err != nil {
				t.Fatal(err)
			}
			if len(ct)%bs != 0 || len(ct) != c.PaddedLen(n) || len(ct) <= n {
				t.Fatalf("%v/%d: %d plaintext bytes gave %d", tc.alg, tc.key, n, len(ct))
			}
			if !bytes.Equal(next.Bytes(), ct[len(ct)-bs:]) {
				t.Fatalf("next IV is not the last ciphertext block")
			}
			// Independent decryption checks the padding we emit.
			plain := make([]byte, len(ct))
			cipher.NewCBCDecrypter(ref, iv0.Bytes()).CryptBlocks(plain, ct)
			pad := len(ct) - n
			if !bytes.Equal(plain[:n], pt) || int(plain[len(plain)-1]) != pad-1 ||
				!bytes.Equal(plain[n:len(plain)-1], make([]byte, pad-1)) {
				t.Fatalf("%v: plaintext/padding %x", tc.alg, plain)
			}
			// Our decryption returns everything, padding included.
			got, next2, err := c.Decrypt(nil, iv0, ct)
			if err != nil || !bytes.Equal(got, plain) || next2 != next {
				t.Fatalf("decrypt: %v", err)
			}
		}
		// Decryption tolerates any padding (strongSwan-style zeros without
		// a count octet here) and works in place.
		ct := make([]byte, 2*bs)
		cipher.NewCBCEncrypter(ref, iv0.Bytes()).CryptBlocks(ct, seq(2*bs, 1))
		want := seq(2*bs, 1)
		got, _, err := c.Decrypt(ct[:0], iv0, ct)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("in-place decrypt: %v %x", err, got)
		}
	}
}

func TestCipherBadInput(t *testing.T) {
	aesC, _ := NewCipher(EncrAESCBC, seq(16, 0))
	iv16, _ := NewIV(seq(16, 0))
	iv8, _ := NewIV(seq(8, 0))
	for _, tc := range []struct {
		class string
		err   error
		want  error
	}{
		{"AES key 15 bytes", errOf(NewCipher(EncrAESCBC, seq(15, 0))), ErrKeyLength},
		{"AES key empty", errOf(NewCipher(EncrAESCBC, nil)), ErrKeyLength},
		{"AES key 33 bytes", errOf(NewCipher(EncrAESCBC, seq(33, 0))), ErrKeyLength},
		{"3DES key 16 bytes", errOf(NewCipher(Encr3DESCBC, seq(16, 0))), ErrKeyLength},
		{"unknown cipher (DES)", errOf(NewCipher(Encr(1), seq(8, 0))), ErrUnsupportedCipher},
		{"empty ciphertext", errOf3(aesC.Decrypt(nil, iv16, nil)), ErrEmpty},
		{"ciphertext 15 bytes", errOf3(aesC.Decrypt(nil, iv16, seq(15, 0))), ErrNotBlockMultiple},
		{"ciphertext 17 bytes", errOf3(aesC.Decrypt(nil, iv16, seq(17, 0))), ErrNotBlockMultiple},
		{"8-byte IV for AES", errOf3(aesC.Decrypt(nil, iv8, seq(16, 0))), ErrIVLength},
		{"zero IV", errOf3(aesC.Decrypt(nil, IV{}, seq(16, 0))), ErrIVLength},
		{"empty plaintext", errOf3(aesC.Encrypt(nil, iv16, nil)), ErrEmpty},
		{"encrypt with 8-byte IV", errOf3(aesC.Encrypt(nil, iv8, seq(3, 0))), ErrIVLength},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.class, tc.err, tc.want)
		}
	}
	// A failed decryption leaves the caller's buffer alone.
	dst := []byte{1, 2, 3}
	if out, _, err := aesC.Decrypt(dst, iv16, seq(15, 0)); err == nil || out != nil || !bytes.Equal(dst, []byte{1, 2, 3}) {
		t.Error("failed decrypt touched dst")
	}
	if Encr(9).String() != "Encr(9)" || EncrAESCBC.String() != "AES-CBC" || aesC.Encr() != EncrAESCBC {
		t.Error("Encr names")
	}
}

func TestHashes(t *testing.T) {
	ka, ni, nr, rest := seq(20, 1), seq(16, 30), seq(24, 60), seq(90, 9)
	mid := uint32(0xA1B2C3D4)
	mb := []byte{0xA1, 0xB2, 0xC3, 0xD4}
	check := func(name string, got []byte, err error, want []byte) {
		t.Helper()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %x, %v; want %x", name, got, err, want)
		}
	}
	h1, err := Hash1(PRFSHA1, ka, mid, rest)
	check("HASH(1)", h1, err, refHMAC(PRFSHA1, ka, mb, rest))
	h2, err := Hash2(PRFSHA1, ka, mid, ni, rest)
	check("HASH(2)", h2, err, refHMAC(PRFSHA1, ka, mb, ni, rest))
	h3, err := Hash3(PRFSHA1, ka, mid, ni, nr)
	check("HASH(3)", h3, err, refHMAC(PRFSHA1, ka, []byte{0}, mb, ni, nr))
	h4, err := Hash4(PRFSHA1, ka, mid, rest)
	check("HASH(4)", h4, err, refHMAC(PRFSHA1, ka, mb, rest))
	hi, err := InfoHash(PRFSHA1, ka, mid, rest)
	check("Informational HASH", hi, err, refHMAC(PRFSHA1, ka, mb, rest))

	if VerifyHash1(PRFSHA1, ka, mid, rest, h1) != nil ||
		VerifyHash2(PRFSHA1, ka, mid, ni, rest, h2) != nil ||
		VerifyHash3(PRFSHA1, ka, mid, ni, nr, h3) != nil ||
		VerifyInfoHash(PRFSHA1, ka, mid, rest, hi) != nil {
		t.Fatal("valid hash rejected")
	}
	flipped := append([]byte(nil), h1...)
	flipped[0] ^= 0x80
	for _, tc := range []struct {
		class string
		err   error
		want  error
	}{
		{"flipped hash bit", VerifyHash1(PRFSHA1, ka, mid, rest, flipped), ErrHashMismatch},
		{"truncated hash", VerifyHash1(PRFSHA1, ka, mid, rest, h1[:12]), ErrHashMismatch},
		{"empty received hash", VerifyHash2(PRFSHA1, ka, mid, ni, rest, nil), ErrHashMismatch},
		{"hash under other M-ID", VerifyHash3(PRFSHA1, ka, mid+1, ni, nr, h3), ErrHashMismatch},
		{"nonces swapped", VerifyHash3(PRFSHA1, ka, mid, nr, ni, h3), ErrHashMismatch},
		{"empty computed", Verify(nil, nil), ErrHashMismatch},
		{"M-ID 0 in HASH(1)", errOf(Hash1(PRFSHA1, ka, 0, rest)), ErrMessageID},
		{"M-ID 0 in HASH(2)", errOf(Hash2(PRFSHA1, ka, 0, ni, rest)), ErrMessageID},
		{"M-ID 0 in HASH(3)", errOf(Hash3(PRFSHA1, ka, 0, ni, nr)), ErrMessageID},
		{"M-ID 0 in Informational", errOf(InfoHash(PRFSHA1, ka, 0, rest)), ErrMessageID},
		{"short Ni in HASH(2)", errOf(Hash2(PRFSHA1, ka, mid, seq(7, 0), rest)), ErrNonceLength},
		{"long Nr in HASH(3)", errOf(Hash3(PRFSHA1, ka, mid, ni, seq(257, 0))), ErrNonceLength},
		{"short Ni in HASH(3)", errOf(Hash3(PRFSHA1, ka, mid, nil, nr)), ErrNonceLength},
		{"empty Informational payloads", errOf(InfoHash(PRFSHA1, ka, mid, nil)), ErrEmpty},
		{"empty SKEYID_a", errOf(Hash1(PRFSHA1, nil, mid, rest)), ErrKeyLength},
		{"unknown PRF", errOf(Hash1(PRF(42), ka, mid, rest)), ErrUnsupportedPRF},
		{"verify with bad nonce", VerifyHash2(PRFSHA1, ka, mid, nil, rest, h2), ErrNonceLength},
		{"verify info with M-ID 0", VerifyInfoHash(PRFSHA1, ka, 0, rest, hi), ErrMessageID},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.class, tc.err, tc.want)
		}
	}
}

func TestKEYMAT(t *testing.T) {
	kd, gqm, spi, ni, nr := seq(20, 3), seq(256, 4), []byte{0xde, 0xad, 0xbe, 0xef}, seq(32, 5), seq(32, 6)
	for _, g := range [][]byte{nil, gqm} {
		for _, n := range []int{1, 20, 36, 100} {
			got, err := KEYMAT(PRFSHA1, kd, g, ProtoESP, spi, ni, nr, n)
			if err != nil {
				t.Fatal(err)
			}
			k := refHMAC(PRFSHA1, kd, g, []byte{ProtoESP}, spi, ni, nr)
			want := append([]byte(nil), k...)
			for len(want) < n {
				k = refHMAC(PRFSHA1, kd, k, g, []byte{ProtoESP}, spi, ni, nr)
				want = append(want, k...)
			}
			if !bytes.Equal(got, want[:n]) {
				t.Errorf("pfs=%v n=%d: %x want %x", g != nil, n, got, want[:n])
			}
		}
	}
	for _, tc := range []struct {
		class string
		err   error
		want  error
	}{
		{"zero length", errOf(KEYMAT(PRFSHA1, kd, nil, ProtoESP, spi, ni, nr, 0)), ErrKeymatLength},
		{"length over bound", errOf(KEYMAT(PRFSHA1, kd, nil, ProtoESP, spi, ni, nr, MaxKeymatLen+1)), ErrKeymatLength},
		{"IPCOMP protocol", errOf(KEYMAT(PRFSHA1, kd, nil, 4, spi, ni, nr, 36)), ErrProtocol},
		{"ISAKMP protocol", errOf(KEYMAT(PRFSHA1, kd, nil, 1, spi, ni, nr, 36)), ErrProtocol},
		{"3-byte SPI", errOf(KEYMAT(PRFSHA1, kd, nil, ProtoESP, spi[:3], ni, nr, 36)), ErrSPILength},
		{"empty non-nil PFS secret", errOf(KEYMAT(PRFSHA1, kd, []byte{}, ProtoESP, spi, ni, nr, 36)), ErrEmpty},
		{"short Nr", errOf(KEYMAT(PRFSHA1, kd, nil, ProtoAH, spi, ni, seq(4, 0), 36)), ErrNonceLength},
		{"empty SKEYID_d", errOf(KEYMAT(PRFSHA1, nil, nil, ProtoESP, spi, ni, nr, 36)), ErrKeyLength},
		{"unknown PRF", errOf(KEYMAT(PRF(0), kd, nil, ProtoESP, spi, ni, nr, 36)), ErrUnsupportedPRF},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.class, tc.err, tc.want)
		}
	}
}

func TestESPSplit(t *testing.T) {
	km := seq(200, 0)
	for _, tc := range []struct {
		tr                ESPTransform
		encr, salt, integ int
	}{
		{ESPTransform{ESPAESCBC, 128, AuthHMACSHA1}, 16, 0, 20},
		{ESPTransform{ESPAESCBC, 192, AuthHMACSHA256}, 24, 0, 32},
		{ESPTransform{ESPAESCBC, 256, AuthHMACSHA512}, 32, 0, 64},
		{ESPTransform{ESPAESGCM16, 128, AuthNone}, 16, 4, 0},
		{ESPTransform{ESPAESGCM16, 256, AuthNone}, 32, 4, 0},
		{ESPTransform{ESP3DES, 0, AuthHMACMD5}, 24, 0, 16},
		{ESPTransform{ESPNULL, 0, AuthHMACSHA384}, 0, 0, 48},
	} {
		n, err := tc.tr.KeymatLen()
		if err != nil || n != tc.encr+tc.salt+tc.integ {
			t.Errorf("%+v: KeymatLen %d, %v", tc.tr, n, err)
			continue
		}
		k, err := tc.tr.Split(km)
		if err != nil {
			t.Fatal(err)
		}
		// Encryption key first, then salt, then integrity key.
		if !bytes.Equal(k.Encr, km[:tc.encr]) || !bytes.Equal(k.Salt, km[tc.encr:tc.encr+tc.salt]) ||
			!bytes.Equal(k.Integ, km[tc.encr+tc.salt:n]) {
			t.Errorf("%+v: split %x/%x/%x", tc.tr, k.Encr, k.Salt, k.Integ)
		}
		if _, err := tc.tr.Split(km[:n-1]); !errors.Is(err, ErrKeymatLength) {
			t.Errorf("%+v: short KEYMAT: %v", tc.tr, err)
		}
	}
	for class, tr := range map[string]ESPTransform{
		"GCM with HMAC":         {ESPAESGCM16, 128, AuthHMACSHA1},
		"NULL without HMAC":     {ESPNULL, 0, AuthNone},
		"AES-CBC without HMAC":  {ESPAESCBC, 128, AuthNone},
		"AES 100-bit key":       {ESPAESCBC, 100, AuthHMACSHA1},
		"AES without length":    {ESPAESCBC, 0, AuthHMACSHA1},
		"3DES with key length":  {ESP3DES, 192, AuthHMACSHA1},
		"NULL with key length":  {ESPNULL, 128, AuthHMACSHA1},
		"unknown transform":     {ESPID(2), 0, AuthHMACSHA1},
		"unknown integrity alg": {ESPAESCBC, 128, ESPAuth(9)},
	} {
		if _, err := tr.KeymatLen(); !errors.Is(err, ErrUnsupportedTransform) {
			t.Errorf("%s: KeymatLen %v", class, err)
		}
		if _, err := tr.Split(km); !errors.Is(err, ErrUnsupportedTransform) {
			t.Errorf("%s: Split %v", class, err)
		}
	}
}

// The Cipher reuses its CBC modes; each call must still use the IV it is
// given, so two messages chained through the returned IV decrypt
// independently with the reference implementation.
func TestCipherChaining(t *testing.T) {
	key := seq(16, 1)
	c, _ := NewCipher(EncrAESCBC, key)
	ref, _ := aes.NewCipher(key)
	iv0, _ := NewIV(seq(16, 2))
	m1, m2 := seq(40, 3), seq(70, 4)
	ct1, iv1, _ := c.Encrypt(nil, iv0, m1)
	ct2, iv2, _ := c.Encrypt(nil, iv1, m2)
	for i, tc := range []struct {
		iv     IV
		ct, pt []byte
	}{{iv0, ct1, m1}, {iv1, ct2, m2}} {
		plain := make([]byte, len(tc.ct))
		cipher.NewCBCDecrypter(ref, tc.iv.Bytes()).CryptBlocks(plain, tc.ct)
		if !bytes.Equal(plain[:len(tc.pt)], tc.pt) {
			t.Errorf("message %d: reference decryption %x", i+1, plain)
		}
	}
	// Decrypting out of order with explicit IVs works: no hidden state.
	p2, next, err := c.Decrypt(nil, iv1, ct2)
	if err != nil || !bytes.Equal(p2[:len(m2)], m2) || next != iv2 {
		t.Fatalf("second message: %v", err)
	}
	p1, next, err := c.Decrypt(nil, iv0, ct1)
	if err != nil || !bytes.Equal(p1[:len(m1)], m1) || next != iv1 {
		t.Fatalf("first message: %v", err)
	}
}

func TestMainModeHashes(t *testing.T) {
	skeyid, gxi, gxr := seq(20, 1), seq(64, 2), seq(64, 3)
	ckyI, ckyR, sai, idi, idr := seq(8, 4), seq(8, 5), seq(52, 6), seq(12, 7), seq(12, 8)
	hi, err := HashI(PRFSHA1, skeyid, gxi, gxr, ckyI, ckyR, sai, idi)
	if err != nil || !bytes.Equal(hi, refHMAC(PRFSHA1, skeyid, gxi, gxr, ckyI, ckyR, sai, idi)) {
		t.Errorf("HASH_I: %x, %v", hi, err)
	}
	hr, err := HashR(PRFSHA1, skeyid, gxi, gxr, ckyI, ckyR, sai, idr)
	if err != nil || !bytes.Equal(hr, refHMAC(PRFSHA1, skeyid, gxr, gxi, ckyR, ckyI, sai, idr)) {
		t.Errorf("HASH_R: %x, %v", hr, err)
	}
	for _, tc := range []struct {
		class string
		err   error
		want  error
	}{
		{"empty g^xi", errOf(HashI(PRFSHA1, skeyid, nil, gxr, ckyI, ckyR, sai, idi)), ErrEmpty},
		{"short responder cookie", errOf(HashR(PRFSHA1, skeyid, gxi, gxr, ckyI, ckyR[:4], sai, idr)), ErrCookieLength},
		{"empty SAi_b", errOf(HashI(PRFSHA1, skeyid, gxi, gxr, ckyI, ckyR, nil, idi)), ErrEmpty},
		{"empty IDir_b", errOf(HashR(PRFSHA1, skeyid, gxi, gxr, ckyI, ckyR, sai, nil)), ErrEmpty},
		{"empty SKEYID", errOf(HashI(PRFSHA1, nil, gxi, gxr, ckyI, ckyR, sai, idi)), ErrKeyLength},
		{"unknown PRF", errOf(HashR(PRF(8), skeyid, gxi, gxr, ckyI, ckyR, sai, idr)), ErrUnsupportedPRF},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.class, tc.err, tc.want)
		}
	}
}
