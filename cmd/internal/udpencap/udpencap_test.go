package udpencap

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/hitless-ike/hitless/corpus/capture"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// hdr is 28 bytes, the size of an ISAKMP header.
const hdr = "0123456789abcdefghijklmnopqr"

func TestClassify(t *testing.T) {
	ap := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), port) }
	cases := []struct {
		class    string
		sp, dp   uint16
		payload  string
		kind     Kind
		wantBody string
	}{
		{"port 500 plain ISAKMP", 500, 500, "\x00\x00\x00\x00abcd", ISAKMP, "\x00\x00\x00\x00abcd"},
		{"floated source to 500 is plain", 34131, 500, "abcd", ISAKMP, "abcd"},
		{"4500 to 500 is plain", 4500, 500, "abcd", ISAKMP, "abcd"},
		{"4500 non-ESP marker", 4500, 4500, "\x00\x00\x00\x00" + hdr, ISAKMP, hdr},
		{"4500 from NAT port", 61000, 4500, "\x00\x00\x00\x00" + hdr, ISAKMP, hdr},
		{"4500 marker with short ISAKMP header", 4500, 4500, "\x00\x00\x00\x00abcd", Invalid, "\x00\x00\x00\x00abcd"},
		{"4500 short ESP", 4500, 4500, "\x01\x02\x03\x04\x00", Invalid, "\x01\x02\x03\x04\x00"},
		{"4500 ESP", 4500, 4500, "\x01\x02\x03\x04\x00\x00\x00\x07data", ESP, "\x01\x02\x03\x04\x00\x00\x00\x07data"},
		{"4500 keepalive", 4500, 4500, "\xff", Keepalive, "\xff"},
		{"4500 empty", 4500, 4500, "", Invalid, ""},
		{"4500 three bytes", 4500, 4500, "\x00\x00\x00", Invalid, "\x00\x00\x00"},
		{"4500 one non-0xff byte", 4500, 4500, "\x00", Invalid, "\x00"},
	}
	for _, c := range cases {
		d := capture.Datagram{Src: ap(c.sp), Dst: ap(c.dp), Payload: []byte(c.payload)}
		k, body, err := Classify(&d)
		if k != c.kind || string(body) != c.wantBody || (err != nil) != (k == Invalid) {
			t.Errorf("%s: got %v %q %v, want %v %q", c.class, k, body, err, c.kind, c.wantBody)
		}
		var ie *isakmp.Error
		if k == Invalid && !errors.As(err, &ie) {
			t.Errorf("%s: error %v is not an *isakmp.Error", c.class, err)
		}
	}
	spi, seq := ESPHeader([]byte("\x01\x02\x03\x04\x00\x00\x00\x07"))
	if spi != 0x01020304 || seq != 7 {
		t.Errorf("ESPHeader = %#x, %d", spi, seq)
	}
}
