package fuzz

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/hitless-ike/hitless/corpus"
)

// T is what a fuzz property needs from its test: *testing.T satisfies it,
// and so does the panicking T the libFuzzer entries and the command-line
// tool use (see Check). Fatal and Fatalf must not return.
type T interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// Target is one fuzz target: the name of its Go fuzz function, the corpus
// folder that seeds it and its property.
type Target struct {
	Name   string // Go fuzz function, e.g. "FuzzParse"
	Corpus string // corpus target folder, e.g. corpus.TargetParse
	Check  func(t T, b []byte)
}

// Targets lists every raw-input fuzz target of this package, in the order
// of package corpus's targets. The Fuzz functions, the libFuzzer entries
// under ./libfuzzer and the command-line tool are all checked against it.
func Targets() []Target {
	return []Target{
		{"FuzzParse", corpus.TargetParse, Parse},
		{"FuzzViewVsParse", corpus.TargetParse, ViewVsParse},
		{"FuzzAttributes", corpus.TargetAttributes, Attributes},
		{"FuzzClassifyUDP4500", corpus.TargetUDP4500, ClassifyUDP4500},
		{"FuzzResponderQM1", corpus.TargetQM1, ResponderQM1},
		{"FuzzInitiatorQM2", corpus.TargetQM2, InitiatorQM2},
		{"FuzzDecryptParse", corpus.TargetEncrypted, DecryptParse},
	}
}

// ErrUnknownTarget is returned by Lookup for a name no target has.
var ErrUnknownTarget = errors.New("fuzz: unknown target")

// Lookup returns the target named name: "FuzzParse", or without the
// prefix, in any case ("parse", as its libFuzzer entry's folder is named).
func Lookup(name string) (Target, error) {
	for _, t := range Targets() {
		if strings.EqualFold(t.Name, name) || strings.EqualFold(t.Name, "Fuzz"+name) {
			return t, nil
		}
	}
	return Target{}, fmt.Errorf("%w: %q", ErrUnknownTarget, name)
}

// ErrFailed is wrapped by every *Failure.
var ErrFailed = errors.New("fuzz: property failed")

// Failure is a failed property or a panic in the code under test, as
// Check reports it.
type Failure struct {
	Msg   string // the Fatal message, or the panic value
	Panic bool   // the code under test panicked (not a Fatal call)
	Stack []byte // the stack of a panic
}

// Error says what failed, with "panic: " before a panic's value.
func (f *Failure) Error() string {
	if f.Panic {
		return "fuzz: panic: " + f.Msg
	}
	return "fuzz: " + f.Msg
}

// Unwrap makes errors.Is(f, ErrFailed) hold.
func (f *Failure) Unwrap() error { return ErrFailed }

// panicT is a T whose Fatal panics with a *Failure, so that a harness
// without package testing (libFuzzer, the command-line tool) can stop the
// property where testing.T would have.
type panicT struct{}

func (panicT) Helper() {}

func (panicT) Fatal(args ...any) { panic(&Failure{Msg: fmt.Sprint(args...)}) }

func (panicT) Fatalf(format string, args ...any) {
	panic(&Failure{Msg: fmt.Sprintf(format, args...)})
}

// Check runs check on b outside package testing and returns nil if the
// property holds, or a *Failure for a failed property or for any panic of
// the code under test.
func Check(check func(t T, b []byte), b []byte) (err error) {
	defer func() {
		switch r := recover().(type) {
		case nil:
		case *Failure:
			err = r
		default:
			err = &Failure{Msg: fmt.Sprint(r), Panic: true, Stack: debug.Stack()}
		}
	}()
	check(panicT{}, b)
	return nil
}
