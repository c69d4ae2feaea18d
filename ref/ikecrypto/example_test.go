package ikecrypto_test

import (
	"bytes"
	"fmt"

	"github.com/hitless-ike/hitless/ref/ikecrypto"
)

// A Quick Mode initiator's view: protect QM1 with HASH(1) and the phase-2
// IV, let the responder decrypt and verify it, and derive both directions'
// ESP keys from KEYMAT.
func Example() {
	p := ikecrypto.PRFSHA1
	ni, nr := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 16)
	skeyid, _ := ikecrypto.SKEYIDPreSharedKey(p, []byte("secret"), ni, nr)
	keys, _ := ikecrypto.DeriveKeys(p, skeyid, bytes.Repeat([]byte{3}, 256),
		[]byte("cookie-I"), []byte("cookie-R"))
	ka, _ := ikecrypto.CipherKey(p, keys.SKEYIDe, 16)
	c, _ := ikecrypto.NewCipher(ikecrypto.EncrAESCBC, ka)
	lastP1, _ := ikecrypto.NewIV(bytes.Repeat([]byte{4}, 16)) // last CBC block of MM6

	const mid = 0x12345678
	rest := []byte{0, 0, 0, 8, 0xca, 0xfe, 0xba, 0xbe} // the payloads after HASH
	h1, _ := ikecrypto.Hash1(p, keys.SKEYIDa, mid, rest)
	body := append([]byte{13, 0, 0, byte(4 + len(h1))}, h1...) // HASH, then a vendor ID
	body = append(body, rest...)

	iv, _ := ikecrypto.Phase2IV(p, lastP1, mid)
	ct, ivNext, _ := c.Encrypt(nil, iv, body)

	// The responder derives the same IV from the same inputs.
	riv, _ := ikecrypto.Phase2IV(p, lastP1, mid)
	pt, rivNext, _ := c.Decrypt(nil, riv, ct)
	got := pt[4 : 4+len(h1)]
	err := ikecrypto.VerifyHash1(p, keys.SKEYIDa, mid, pt[4+len(h1):4+len(h1)+len(rest)], got)
	fmt.Println("HASH(1) verifies:", err == nil, "IVs chained alike:", ivNext == rivNext)

	esp := ikecrypto.ESPTransform{ID: ikecrypto.ESPAESCBC, KeyBits: 128, Auth: ikecrypto.AuthHMACSHA1}
	n, _ := esp.KeymatLen()
	spiR := []byte{0xc0, 0, 0, 1} // chosen by the responder: keys initiator->responder
	km, _ := ikecrypto.KEYMAT(p, keys.SKEYIDd, nil, ikecrypto.ProtoESP, spiR, ni, nr, n)
	k, _ := esp.Split(km)
	fmt.Println("KEYMAT", n, "bytes: encryption key", len(k.Encr), "integrity key", len(k.Integ))
	// Output:
	// HASH(1) verifies: true IVs chained alike: true
	// KEYMAT 36 bytes: encryption key 16 integrity key 20
}
