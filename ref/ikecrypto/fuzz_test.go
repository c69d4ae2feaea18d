package ikecrypto

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecrypt: arbitrary ciphertexts, key and IV lengths never panic, fail
// only with the documented sentinels, and a successful decryption
// re-encrypts to the same ciphertext.
func FuzzDecrypt(f *testing.F) {
	f.Add(seq(32, 1), uint8(16), uint8(16), false)
	f.Add(seq(15, 1), uint8(24), uint8(8), true)
	f.Add([]byte{}, uint8(32), uint8(16), false)
	f.Fuzz(func(t *testing.T, ct []byte, keyLen, ivLen uint8, des bool) {
		alg := EncrAESCBC
		if des {
			alg = Encr3DESCBC
		}
		c, err := NewCipher(alg, seq(int(keyLen%40), 1))
		if err != nil {
			if !errors.Is(err, ErrKeyLength) {
				t.Fatalf("NewCipher: %v", err)
			}
			return
		}
		iv, err := NewIV(seq(int(ivLen%20), 2))
		if err != nil && !errors.Is(err, ErrIVLength) {
			t.Fatalf("NewIV: %v", err)
		}
		out, next, err := c.Decrypt(nil, iv, ct)
		if err != nil {
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrNotBlockMultiple) && !errors.Is(err, ErrIVLength) {
				t.Fatalf("Decrypt: untyped error %v", err)
			}
			if out != nil || next != (IV{}) {
				t.Fatal("failed Decrypt returned data")
			}
			return
		}
		if len(out) != len(ct) || !bytes.Equal(next.Bytes(), ct[len(ct)-c.BlockSize():]) {
			t.Fatal("Decrypt length or next IV wrong")
		}
		// Our padding adds one block to a block-aligned plaintext; the
		// ciphertext itself must come back as the prefix.
		re, _, err := c.Encrypt(nil, iv, out)
		if err != nil || !bytes.Equal(re[:len(ct)], ct) {
			t.Fatalf("re-encryption differs: %v", err)
		}
	})
}

// FuzzESPSplit: any transform description and KEYMAT length either splits
// into keys that tile the KEYMAT prefix or fails with a sentinel.
func FuzzESPSplit(f *testing.F) {
	f.Add(uint8(12), uint16(128), uint16(2), uint16(36))
	f.Add(uint8(20), uint16(256), uint16(0), uint16(35))
	f.Fuzz(func(t *testing.T, id uint8, bits, auth, n uint16) {
		tr := ESPTransform{ID: ESPID(id), KeyBits: int(bits), Auth: ESPAuth(auth)}
		km := seq(int(n%300), 0)
		k, err := tr.Split(km)
		if err != nil {
			if !errors.Is(err, ErrUnsupportedTransform) && !errors.Is(err, ErrKeymatLength) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		got := append(append(append([]byte(nil), k.Encr...), k.Salt...), k.Integ...)
		if !bytes.HasPrefix(km, got) {
			t.Fatal("keys do not tile the KEYMAT prefix")
		}
	})
}
