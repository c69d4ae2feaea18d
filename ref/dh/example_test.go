package dh_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	"github.com/hitless-ike/hitless/ref/dh"
)

// Both sides of a Quick Mode with PFS group 14: each generates a key from an
// injected random source, sends Public() in its KE payload and computes
// g^xy from the peer's value.
func Example() {
	g, err := dh.Lookup(dh.MODP2048)
	if err != nil {
		panic(err)
	}
	// Deterministic randomness for the example; use crypto/rand.Reader live.
	initiator, _ := g.GenerateKey(rand.NewChaCha8([32]byte{1}))
	responder, _ := g.GenerateKey(rand.NewChaCha8([32]byte{2}))

	gxyI, _ := initiator.SharedSecret(responder.Public())
	gxyR, _ := responder.SharedSecret(initiator.Public())
	fmt.Println(g, "KE", len(initiator.Public()), "bytes, shared secrets equal:", bytes.Equal(gxyI, gxyR))

	// A peer value of 1 would force the secret; it is rejected.
	one := make([]byte, g.PublicLen())
	one[len(one)-1] = 1
	_, err = initiator.SharedSecret(one)
	fmt.Println(err)
	// Output:
	// MODP-2048 KE 256 bytes, shared secrets equal: true
	// dh: MODP public value out of range: MODP-2048
}
