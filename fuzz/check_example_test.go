package fuzz_test

import (
	"errors"
	"fmt"

	"github.com/hitless-ike/hitless/fuzz"
)

// Check runs a property outside package testing, as the libFuzzer entries
// and `hitless corpus crashers` do: a failure is an error, not a panic.
func ExampleCheck() {
	tg, _ := fuzz.Lookup("FuzzClassifyUDP4500")
	fmt.Println(fuzz.Check(tg.Check, []byte{0xff})) // a NAT-keepalive
	err := fuzz.Check(func(t fuzz.T, b []byte) { t.Fatalf("rejected %x", b) }, []byte{1})
	fmt.Println(err, errors.Is(err, fuzz.ErrFailed))
	// Output:
	// <nil>
	// fuzz: rejected 01 true
}
