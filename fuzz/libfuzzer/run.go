//go:build libfuzzer

// Package libfuzzer runs the fuzz properties of package fuzz as libFuzzer
// targets. Each subdirectory is a main package built as a C archive that
// exports LLVMFuzzerTestOneInput for one target; see build.sh and
// README.md. The build tag keeps cgo out of ordinary builds.
package libfuzzer

/*
#include <stdlib.h>
*/
import "C"

import (
	"errors"
	"os"
	"unsafe"

	"github.com/hitless-ike/hitless/fuzz"
)

// Run runs check on the size bytes at data, which libFuzzer owns and the
// property must not keep. A failed property or a panic is printed to
// stderr and ends the process with abort(3): libFuzzer catches SIGABRT as
// a crash and saves the input, while a Go panic would end the process with
// exit(2), which libFuzzer does not see as a crash.
func Run(check func(fuzz.T, []byte), data unsafe.Pointer, size int) {
	err := fuzz.Check(check, unsafe.Slice((*byte)(data), size))
	if err == nil {
		return
	}
	os.Stderr.WriteString("\n" + err.Error() + "\n")
	var f *fuzz.Failure
	if errors.As(err, &f) && f.Stack != nil {
		os.Stderr.Write(f.Stack)
	}
	C.abort()
}
