package fuzz

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hitless-ike/hitless/corpus"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

var lenient = isakmp.ParseOptions{Lenient: true}

// FuzzParse: strict Parse either accepts and round-trips exactly, or fails
// with a typed, mapped, located error; lenient parsing accepts everything
// strict parsing does with the same result, and never panics either.
func FuzzParse(f *testing.F) {
	seed(f, corpus.TargetParse)
	f.Fuzz(checkParse)
}

// checkParse is the FuzzParse property for one input.
func checkParse(t *testing.T, b []byte) {
	in := bytes.Clone(b)
	m, err := isakmp.Parse(b)
	lm, lerr := isakmp.ParseWith(b, lenient)
	if !bytes.Equal(in, b) {
		t.Fatal("parsing changed its input")
	}
	if err != nil {
		checkError(t, "strict", err, len(b))
		checkLenient(t, b, lm, lerr)
		return
	}
	if m.Notes != nil {
		t.Fatalf("strict parse has notes %v", m.Notes)
	}
	out, err := m.Marshal()
	if err != nil {
		t.Fatalf("Marshal of an accepted message: %v", err)
	}
	if !bytes.Equal(out, b) {
		t.Fatalf("Marshal(Parse(b)) != b\n got %x\nwant %x", out, b)
	}
	m2, err := isakmp.Parse(out)
	if err != nil {
		t.Fatalf("Parse(Marshal(m)): %v", err)
	}
	if d := cmp.Diff(m, m2, cmpOpts); d != "" {
		t.Fatalf("Parse(Marshal(m)) differs (-first +second):\n%s", d)
	}
	if lerr != nil {
		t.Fatalf("lenient rejects what strict accepts: %v", lerr)
	}
	if d := cmp.Diff(m, lm, cmpOpts); d != "" {
		t.Fatalf("lenient result differs from strict (-strict +lenient):\n%s", d)
	}
}

// checkLenient checks a lenient parse of an input strict parsing rejected:
// it fails with a typed error too, or it accepts and says why in Notes,
// and what it accepted survives Marshal and a lenient re-parse.
func checkLenient(t *testing.T, b []byte, lm *isakmp.Message, lerr error) {
	t.Helper()
	if lerr != nil {
		checkError(t, "lenient", lerr, len(b))
		return
	}
	if len(lm.Notes) == 0 {
		t.Fatal("lenient accepts what strict rejects without a note")
	}
	for _, n := range lm.Notes {
		if _, ok := notifyFor[n.Err]; !ok || n.Offset < 0 || n.Offset > len(b) {
			t.Fatalf("note %v: unknown kind or offset outside the input", n)
		}
	}
	out, err := lm.Marshal()
	if err != nil {
		t.Fatalf("Marshal of a lenient message: %v", err)
	}
	if len(out) != len(b) {
		t.Fatalf("lenient Marshal: %d bytes from %d", len(out), len(b))
	}
	lm2, err := isakmp.ParseWith(out, lenient)
	if err != nil {
		t.Fatalf("lenient re-parse of its own Marshal: %v", err)
	}
	lm.Notes, lm2.Notes = nil, nil // Marshal clears reserved fields, so notes may go
	if d := cmp.Diff(lm, lm2, cmpOpts); d != "" {
		t.Fatalf("lenient Marshal round trip differs:\n%s", d)
	}
}
