package dh

import (
	"errors"
	"testing"
)

// FuzzSharedSecret: arbitrary peer values for the fast groups never panic
// and fail only with the documented sentinels.
func FuzzSharedSecret(f *testing.F) {
	ids := []ID{MODP768, MODP2048, ECP256, ECP384, ECP521, Curve25519}
	keys := make([]*PrivateKey, len(ids))
	for i, id := range ids {
		g, _ := Lookup(id)
		keys[i], _ = g.GenerateKey(detRand(byte(i)))
		f.Add(uint8(i), keys[i].Public())
	}
	f.Add(uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, which uint8, peer []byte) {
		k := keys[int(which)%len(keys)]
		s, err := k.SharedSecret(peer)
		if err != nil {
			for _, e := range []error{ErrPublicLength, ErrPublicRange, ErrNotOnCurve, ErrZeroSharedSecret} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("%v: untyped error %v", k.Group(), err)
		}
		if len(s) != k.Group().SharedLen() {
			t.Fatalf("%v: %d-byte secret", k.Group(), len(s))
		}
	})
}
