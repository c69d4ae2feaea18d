//go:build libfuzzer

// Command selftest is a libFuzzer entry whose property fails on purpose,
// so that ../../build.sh can prove a failure reaches libFuzzer as a crash
// with the input saved: the input "fatal" fails through T.Fatalf, the
// input "panic" with an index out of range in the code under test.
package main

import "C"

import (
	"unsafe"

	"github.com/hitless-ike/hitless/fuzz"
	"github.com/hitless-ike/hitless/fuzz/libfuzzer"
)

func check(t fuzz.T, b []byte) {
	switch string(b) {
	case "fatal":
		t.Fatalf("selftest: property failed on %q", b)
	case "panic":
		_ = b[len(b)] // out of range, as a parser bug would be
	}
}

// LLVMFuzzerTestOneInput is called by libFuzzer once per input.
//
//export LLVMFuzzerTestOneInput
func LLVMFuzzerTestOneInput(data *C.char, size C.size_t) C.int {
	libfuzzer.Run(check, unsafe.Pointer(data), int(size))
	return 0
}

func main() {}
