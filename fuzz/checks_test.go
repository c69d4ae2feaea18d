package fuzz

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/corpus"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// The tests below feed the restructured checks of Parse and ViewVsParse
// deliberately wrong results and require a failure, so that making the
// checks cheap cannot have made them blind.

// parseInputs returns the corpus/parse inputs with payloads that strict
// Parse accepts, and those it rejects while lenient parsing accepts them.
func parseInputs(t *testing.T) (valid, tolerated [][]byte) {
	t.Helper()
	in, err := corpus.Load(corpus.TargetParse)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range in {
		if m, err := isakmp.Parse(s.Data); err == nil {
			if len(m.Payloads) > 0 {
				valid = append(valid, s.Data)
			}
		} else if lm, err := isakmp.ParseWith(s.Data, lenient); err == nil && len(lm.Payloads) > 0 {
			tolerated = append(tolerated, s.Data)
		}
	}
	if len(valid) == 0 || len(tolerated) == 0 {
		t.Fatalf("corpus/parse: %d valid, %d tolerated inputs", len(valid), len(tolerated))
	}
	return valid, tolerated
}

// mustFail runs check outside package testing and requires a failed
// property (not a panic) whose message contains want.
func mustFail(t *testing.T, class, want string, check func(T, []byte), b []byte) {
	t.Helper()
	var f *Failure
	switch err := Check(check, b); {
	case !errors.As(err, &f):
		t.Errorf("%s: the check passed (%v)", class, err)
	case f.Panic:
		t.Errorf("%s: the check panicked: %s", class, f.Msg)
	case !strings.Contains(f.Msg, want):
		t.Errorf("%s: failed with %q, want %q", class, f.Msg, want)
	}
}

// asUnknown is p as an *Unknown payload of the same type and body: it
// marshals to the same bytes but is not what a parse returns.
func asUnknown(t *testing.T, p isakmp.Payload) isakmp.Payload {
	enc, err := isakmp.AppendPayloads(nil, []isakmp.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	return &isakmp.Unknown{PayloadType: p.Type(), Data: enc[4:]}
}

func TestParseAcceptedChecksFail(t *testing.T) {
	valid, _ := parseInputs(t)
	b := valid[0]
	for _, c := range []struct {
		class, want string
		mutate      func(m, lm *isakmp.Message) error
	}{
		{"lenient header differs", "lenient result differs", func(_, lm *isakmp.Message) error {
			lm.Header.MessageID++
			return nil
		}},
		{"lenient payload of another Go type, same bytes", "lenient result differs", func(_, lm *isakmp.Message) error {
			lm.Payloads[0] = asUnknown(t, lm.Payloads[0])
			return nil
		}},
		{"lenient result with a note", "lenient result differs", func(_, lm *isakmp.Message) error {
			lm.Notes = []isakmp.Note{{Offset: 17, Path: "Header", Err: isakmp.ErrInvalidMinorVersion}}
			return nil
		}},
		{"strict result that does not re-encode to the input", "Marshal(Parse(b)) != b", func(m, _ *isakmp.Message) error {
			m.Header.MessageID++
			return nil
		}},
		{"strict result with notes", "strict parse has notes", func(m, _ *isakmp.Message) error {
			m.Notes = []isakmp.Note{}
			return nil
		}},
		{"lenient rejects what strict accepts", "lenient rejects", func(_, _ *isakmp.Message) error {
			return errors.New("rejected")
		}},
	} {
		m, _ := isakmp.Parse(b)
		lm, _ := isakmp.ParseWith(b, lenient)
		lerr := c.mutate(m, lm)
		mustFail(t, c.class, c.want, func(t T, b []byte) { checkParseAccepted(t, b, m, lm, lerr, nil) }, b)
	}
	// The control: the same call on unmutated results passes.
	m, _ := isakmp.Parse(b)
	lm, _ := isakmp.ParseWith(b, lenient)
	if err := Check(func(t T, b []byte) { checkParseAccepted(t, b, m, lm, nil, nil) }, b); err != nil {
		t.Errorf("unmutated results: %v", err)
	}
}

func TestParseRejectedChecksFail(t *testing.T) {
	b := []byte{1, 2, 3} // shorter than a header: strict and lenient agree
	_, err := isakmp.Parse(b)
	_, lerr := isakmp.ParseWith(b, lenient)
	pe := *err.(*isakmp.Error)
	var buf []byte
	run := func(err, lerr error) func(T, []byte) {
		return func(t T, b []byte) { checkParseRejected(t, b, err, nil, lerr, &buf) }
	}
	if err := Check(run(err, lerr), b); err != nil {
		t.Errorf("identical strict and lenient errors: %v", err)
	}
	if err := Check(run(fmt.Errorf("wrapped: %w", err), lerr), b); err != nil {
		t.Errorf("wrapped strict error: %v", err)
	}
	badNotify := pe
	badNotify.Notify++
	far := pe
	far.Offset = len(b) + 1
	var typedNil *isakmp.Error
	for _, c := range []struct {
		class, want string
		err, lerr   error
	}{
		// The lenient error differs in one field, so checkError must run on it.
		{"lenient error with a wrong notify type", "maps to notify", err, &badNotify},
		{"lenient error that is no *isakmp.Error", "is not an *isakmp.Error", err, errors.New("x")},
		{"lenient typed nil *isakmp.Error", "is not an *isakmp.Error", err, typedNil},
		{"strict error with a wrong notify type", "maps to notify", &badNotify, lerr},
		{"strict error with an offset past the input", "outside the", &far, lerr},
		{"lenient error with an offset past the input", "outside the", err, &far},
	} {
		mustFail(t, c.class, c.want, run(c.err, c.lerr), b)
	}
}

func TestCheckLenientFails(t *testing.T) {
	_, tolerated := parseInputs(t)
	b := tolerated[0]
	var buf []byte
	for _, c := range []struct {
		class, want string
		mutate      func(lm *isakmp.Message)
	}{
		{"round trip changes a payload's Go type", "round trip differs", func(lm *isakmp.Message) {
			lm.Payloads[0] = asUnknown(t, lm.Payloads[0])
		}},
		{"accepted without a note", "without a note", func(lm *isakmp.Message) { lm.Notes = nil }},
		{"note of an unknown kind", "unknown kind", func(lm *isakmp.Message) { lm.Notes[0].Err = errors.New("x") }},
		{"note past the input", "unknown kind or offset", func(lm *isakmp.Message) { lm.Notes[0].Offset = len(b) + 1 }},
		{"Marshal of another length", "lenient Marshal", func(lm *isakmp.Message) { lm.Trailing = append(lm.Trailing, 0) }},
	} {
		lm, err := isakmp.ParseWith(b, lenient)
		if err != nil || len(lm.Payloads) == 0 {
			t.Fatalf("tolerated input: %v, %d payloads", err, len(lm.Payloads))
		}
		c.mutate(lm)
		mustFail(t, c.class, c.want, func(t T, b []byte) { checkLenient(t, b, lm, nil, &buf) }, b)
	}
}

func TestViewChecksFail(t *testing.T) {
	valid, tolerated := parseInputs(t)
	var b []byte // an input with a payload the View decodes
	for _, v := range valid {
		m, _ := isakmp.Parse(v)
		if slices := m.Payloads; len(slices) > 0 {
			if _, ok := slices[0].(*isakmp.SA); ok {
				b = v
				break
			}
		}
	}
	if b == nil {
		t.Fatal("no valid corpus input starts with an SA payload")
	}
	m, _ := isakmp.Parse(b)
	walkOf := func(b []byte, o isakmp.ParseOptions) *walk {
		w := &walk{}
		if err := Check(func(t T, _ []byte) { viewWalk(t, bytes.Clone(b), o, w) }, nil); err != nil {
			t.Fatal(err)
		}
		return w
	}
	compare := func(o isakmp.ParseOptions, m *isakmp.Message, w *walk) func(T, []byte) {
		return func(t T, _ []byte) { compareWalk(t, o, m, w) }
	}
	if err := Check(compare(isakmp.ParseOptions{}, m, walkOf(b, isakmp.ParseOptions{})), nil); err != nil {
		t.Fatalf("unmutated walk: %v", err)
	}
	// Every leaf of the decoded SA, changed alone, is a failure.
	w := walkOf(b, isakmp.ParseOptions{})
	n := 0
	mutateLeaves(reflect.ValueOf(&w.decoded[0]).Elem(), "SA", func(path string) {
		n++
		if err := Check(compare(isakmp.ParseOptions{}, m, w), nil); err == nil {
			t.Errorf("decoded %s changed: compareWalk passed", path)
		}
	})
	if n < 5 {
		t.Errorf("only %d mutations of the decoded SA", n)
	}

	// Notes the View reports differently.
	tb := tolerated[0]
	lm, _ := isakmp.ParseWith(tb, lenient)
	lw := walkOf(tb, lenient)
	if len(lw.notes) == 0 {
		t.Fatal("tolerated input without notes")
	}
	lw.notes[0].Offset++
	mustFail(t, "View note at another offset", "notes differ", compare(lenient, lm, lw), nil)
	lw = walkOf(tb, lenient)
	lw.notes = lw.notes[:0]
	mustFail(t, "View without the note", "notes differ", compare(lenient, lm, lw), nil)
}

// TestWalkReuse checks that a reused walk (the pooled one) holds what a
// fresh walk of the same input holds, whatever it walked before.
func TestWalkReuse(t *testing.T) {
	valid, tolerated := parseInputs(t)
	inputs := append(append([][]byte{}, valid...), tolerated...)
	reused := &walk{}
	for i, b := range inputs {
		prev := inputs[(i+len(inputs)-1)%len(inputs)]
		for _, o := range []isakmp.ParseOptions{{}, lenient} {
			fresh := &walk{}
			err := Check(func(t T, _ []byte) {
				viewWalk(t, prev, o, reused)
				viewWalk(t, b, o, reused)
				viewWalk(t, b, o, fresh)
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			reused.enc, fresh.enc = nil, nil
			r, f := *reused, *fresh
			r.types, r.bodies, r.decoded, r.notes = nilIfEmptyT(r.types), nilIfEmptyB(r.bodies), nilIfEmptyP(r.decoded), nilIfEmpty(r.notes)
			f.types, f.bodies, f.decoded, f.notes = nilIfEmptyT(f.types), nilIfEmptyB(f.bodies), nilIfEmptyP(f.decoded), nilIfEmpty(f.notes)
			if !reflect.DeepEqual(r, f) {
				t.Fatalf("input %d lenient=%v: reused walk %+v, fresh %+v", i, o.Lenient, r, f)
			}
		}
	}
}

func nilIfEmptyT(s []isakmp.PayloadType) []isakmp.PayloadType {
	if len(s) == 0 {
		return nil
	}
	return s
}

func nilIfEmptyB(s [][]byte) [][]byte {
	if len(s) == 0 {
		return nil
	}
	return s
}

func nilIfEmptyP(s []isakmp.Payload) []isakmp.Payload {
	if len(s) == 0 {
		return nil
	}
	return s
}
