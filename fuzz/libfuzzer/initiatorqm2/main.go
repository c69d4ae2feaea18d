//go:build libfuzzer

// Command initiatorqm2 is the libFuzzer entry of FuzzInitiatorQM2: it runs
// fuzz.InitiatorQM2 on each input. ../build.sh builds it as a C archive and
// links it with clang -fsanitize=fuzzer.
package main

import "C"

import (
	"unsafe"

	"github.com/hitless-ike/hitless/fuzz"
	"github.com/hitless-ike/hitless/fuzz/libfuzzer"
)

// LLVMFuzzerTestOneInput is called by libFuzzer once per input.
//
//export LLVMFuzzerTestOneInput
func LLVMFuzzerTestOneInput(data *C.char, size C.size_t) C.int {
	libfuzzer.Run(fuzz.InitiatorQM2, unsafe.Pointer(data), int(size))
	return 0
}

func main() {}
