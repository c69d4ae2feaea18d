//go:build libfuzzer

// Command decryptparse is the libFuzzer entry of FuzzDecryptParse: it runs
// fuzz.DecryptParse on each input. ../build.sh builds it as a C archive and
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
	libfuzzer.Run(fuzz.DecryptParse, unsafe.Pointer(data), int(size))
	return 0
}

func main() {}
