package fuzz

import (
	"bytes"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

var lenient = isakmp.ParseOptions{Lenient: true}

// Parse is the property of FuzzParse for one input b: strict Parse either
// accepts b and round-trips it exactly, or fails with a typed, mapped,
// located error; lenient parsing accepts everything strict parsing does
// with the same result, and never panics either.
func Parse(t T, b []byte) {
	s := getScratch()
	defer s.put()
	s.in = append(s.in[:0], b...)
	m, err := isakmp.Parse(b)
	lm, lerr := isakmp.ParseWith(b, lenient)
	if !bytes.Equal(s.in, b) {
		t.Fatal("parsing changed its input")
	}
	if err != nil {
		checkParseRejected(t, b, err, lm, lerr, &s.out)
		return
	}
	s.out = checkParseAccepted(t, b, m, lm, lerr, s.out[:0])
}

// checkParseRejected checks an input strict parsing rejected with err;
// buf is scratch for Marshal.
func checkParseRejected(t T, b []byte, err error, lm *isakmp.Message, lerr error, buf *[]byte) {
	t.Helper()
	checkError(t, "strict", err, len(b))
	// The same *isakmp.Error fields imply every checkError result for
	// lerr: Error, Unwrap and NotifyFor read nothing else, so a lenient
	// parse failing exactly like the strict one needs no second check.
	if se, ok := err.(*isakmp.Error); ok && se != nil {
		if le, ok := lerr.(*isakmp.Error); ok && le != nil && *le == *se {
			return
		}
	}
	checkLenient(t, b, lm, lerr, buf)
}

// checkParseAccepted checks an input strict parsing accepted as m, against
// the lenient result, appending m's encoding to buf and returning it for
// reuse.
func checkParseAccepted(t T, b []byte, m, lm *isakmp.Message, lerr error, buf []byte) []byte {
	t.Helper()
	if m.Notes != nil {
		t.Fatalf("strict parse has notes %v", m.Notes)
	}
	out, err := m.AppendMarshal(buf) // Marshal is AppendMarshal(nil)
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
	if !eqMessage(m, lm) {
		t.Fatalf("lenient result differs from strict (-strict +lenient):\n%s", diff(m, lm))
	}
	return out[:0]
}

// checkLenient checks a lenient parse of an input strict parsing rejected:
// it fails with a typed error too, or it accepts and says why in Notes,
// and what it accepted survives Marshal and a lenient re-parse. Marshal
// appends to (*buf)[:0] and leaves the result in *buf for reuse.
func checkLenient(t T, b []byte, lm *isakmp.Message, lerr error, buf *[]byte) {
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
	out, err := lm.AppendMarshal((*buf)[:0])
	if err != nil {
		t.Fatalf("Marshal of a lenient message: %v", err)
	}
	*buf = out // ParseWith copies it: lm2 does not alias the scratch
	if len(out) != len(b) {
		t.Fatalf("lenient Marshal: %d bytes from %d", len(out), len(b))
	}
	lm2, err := isakmp.ParseWith(out, lenient)
	if err != nil {
		t.Fatalf("lenient re-parse of its own Marshal: %v", err)
	}
	notes := lm.Notes
	lm.Notes, lm2.Notes = nil, nil // Marshal clears reserved fields, so notes may go
	if !eqMessage(lm, lm2) {
		t.Fatalf("lenient Marshal round trip differs:\n%s", diff(lm, lm2))
	}
	lm.Notes = notes
}
