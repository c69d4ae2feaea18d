package probe

import (
	"net/netip"
	"testing"
)

// An echo survives building and parsing, and the checks refuse what is
// not a well-formed echo (input classes: truncated, wrong version,
// another protocol, bad IP or ICMP checksum, total length beyond the
// packet).
func TestEcho(t *testing.T) {
	e := echo{src: netip.MustParseAddr("10.76.1.1"), dst: netip.MustParseAddr("10.76.2.1"), id: 0xbeef, seq: 7}
	for _, reply := range []bool{false, true} {
		e.reply = reply
		p := appendEcho(nil, e, 84)
		if got, ok := parseEcho(p); !ok || got != e || len(p) != 84 {
			t.Errorf("round trip of %+v: %+v %v (%d bytes)", e, got, ok, len(p))
		}
	}
	good := appendEcho(nil, e, 64)
	bad := map[string]func([]byte) []byte{
		"truncated":      func(p []byte) []byte { return p[:27] },
		"IPv6 version":   func(p []byte) []byte { p[0] = 0x65; return p },
		"UDP":            func(p []byte) []byte { p[9] = 17; return p },
		"IP checksum":    func(p []byte) []byte { p[10] ^= 1; return p },
		"ICMP checksum":  func(p []byte) []byte { p[30] ^= 1; return p },
		"length too big": func(p []byte) []byte { p[2], p[3] = 0xff, 0xff; return p },
		"not an echo":    func(p []byte) []byte { p[20] = 3; return p },
	}
	for class, mutate := range bad {
		if _, ok := parseEcho(mutate(append([]byte(nil), good...))); ok {
			t.Errorf("%s: accepted", class)
		}
	}
}

// FuzzParseEcho: any bytes, no panic; what parses rebuilds to an echo
// that parses the same.
func FuzzParseEcho(f *testing.F) {
	f.Add(appendEcho(nil, echo{src: netip.MustParseAddr("10.0.0.1"), dst: netip.MustParseAddr("10.0.0.2"), id: 1, seq: 2}, 84))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := parseEcho(b)
		if !ok {
			return
		}
		if got, ok := parseEcho(appendEcho(nil, e, 64)); !ok || got != e {
			t.Fatalf("%+v rebuilt as %+v (%v)", e, got, ok)
		}
	})
}
