package props_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/internal/toy"
)

// FuzzToyProperties is the rapid state machine as a native fuzz target:
// the fuzzer's bytes are rapid's choices (which action, which datagram,
// how long to wait), so coverage guidance steers the schedules.
//
//	go test ./props -run '^$' -fuzz FuzzToyProperties -fuzztime 60s
func FuzzToyProperties(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x01\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(rapid.MakeFuzz(props.Property(toyPair(toy.Hitless), props.Options{})))
}
