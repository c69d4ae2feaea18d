package fuzz

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		class string
		check func(T, []byte)
		panic bool
		msg   string
	}{
		{"property holds", func(T, []byte) {}, false, ""},
		{"Fatalf", func(t T, b []byte) { t.Fatalf("bad %x", b) }, false, "bad 01"},
		{"Fatal", func(t T, b []byte) { t.Fatal("bad", len(b)) }, false, "bad1"},
		{"runtime panic in the code under test", func(t T, b []byte) { _ = b[len(b)] }, true, "index out of range"},
		{"panic with a value", func(T, []byte) { panic("boom") }, true, "boom"},
	} {
		err := Check(c.check, []byte{1})
		var f *Failure
		switch {
		case c.msg == "" && err != nil:
			t.Errorf("%s: %v", c.class, err)
		case c.msg == "":
		case !errors.As(err, &f) || !errors.Is(err, ErrFailed):
			t.Errorf("%s: %v is not a *Failure wrapping ErrFailed", c.class, err)
		case f.Panic != c.panic || !strings.Contains(f.Msg, c.msg) || (f.Stack != nil) != c.panic:
			t.Errorf("%s: %+v", c.class, f)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, name := range []string{"FuzzParse", "Parse", "parse", "fuzzparse"} {
		if tg, err := Lookup(name); err != nil || tg.Name != "FuzzParse" {
			t.Errorf("Lookup(%q) = %v, %v", name, tg.Name, err)
		}
	}
	for _, name := range []string{"", "Fuzz", "FuzzNope", "attributes2"} {
		if _, err := Lookup(name); !errors.Is(err, ErrUnknownTarget) {
			t.Errorf("Lookup(%q): %v, want ErrUnknownTarget", name, err)
		}
	}
}
