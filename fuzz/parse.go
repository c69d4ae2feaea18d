package fuzz

import (
	"bytes"

	"github.com/google/go-cmp/cmp"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

var lenient = isakmp.ParseOptions{Lenient: true}

// Parse is the property of FuzzParse for one input b: strict Parse either
// accepts b and round-trips it exactly, or fails with a typed, mapped,
// located error; lenient parsing accepts everything strict parsing does
// with the same result, and never panics either.
func Parse(t T, b []byte) {
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
	// With Marshal(m) == b, Parse(Marshal(m)) == m holds by itself (it is
	// Parse(b) again), so it is not re-checked: that halved the execs/s.
	if !bytes.Equal(out, b) {
		t.Fatalf("Marshal(Parse(b)) != b\n got %x\nwant %x", out, b)
	}
	if lerr != nil {
		t.Fatalf("lenient rejects what strict accepts: %v", lerr)
	}
	if !same(m, lm) {
		t.Fatalf("lenient result differs from strict (-strict +lenient):\n%s", cmp.Diff(m, lm, cmpOpts))
	}
}

// checkLenient checks a lenient parse of an input strict parsing rejected:
// it fails with a typed error too, or it accepts and says why in Notes,
// and what it accepted survives Marshal and a lenient re-parse.
func checkLenient(t T, b []byte, lm *isakmp.Message, lerr error) {
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
	if !same(lm, lm2) {
		t.Fatalf("lenient Marshal round trip differs:\n%s", cmp.Diff(lm, lm2, cmpOpts))
	}
}
