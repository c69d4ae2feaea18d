package esp

import (
	"bytes"
	"errors"
	"testing"
)

func TestPeekSPI(t *testing.T) {
	if spi, err := PeekSPI([]byte{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1}); err != nil || spi != 0xdeadbeef {
		t.Fatalf("PeekSPI = %#x, %v", spi, err)
	}
	for _, bad := range []struct {
		class string
		b     []byte
	}{
		{"empty", nil},
		{"truncated header", []byte{1, 2, 3, 4, 5, 6, 7}},
		{"reserved SPI 0 (non-ESP marker)", make([]byte, 8)},
	} {
		_, err := PeekSPI(bad.b)
		wantDrop(t, bad.class, err, Malformed)
	}
}

func TestClassifyUDP(t *testing.T) {
	ike := []byte("ISAKMP message")
	for _, tc := range []struct {
		class string
		in    []byte
		kind  Kind
		body  []byte
	}{
		{"keepalive", []byte{0xff}, KindKeepalive, nil},
		{"ike with marker", AppendNonESPMarker(nil, ike), KindIKE, ike},
		{"esp", []byte{0, 0, 1, 0, 0, 0, 0, 1, 9}, KindESP, []byte{0, 0, 1, 0, 0, 0, 0, 1, 9}},
	} {
		k, body, err := ClassifyUDP(tc.in)
		if err != nil || k != tc.kind || !bytes.Equal(body, tc.body) {
			t.Errorf("%s: ClassifyUDP = %v %x %v", tc.class, k, body, err)
		}
	}
	for _, bad := range []struct {
		class string
		b     []byte
	}{
		{"empty", nil},
		{"one byte, not keepalive", []byte{0}},
		{"shorter than marker", []byte{0, 0, 0}},
		{"truncated ESP header", []byte{1, 2, 3, 4, 5}},
	} {
		_, _, err := ClassifyUDP(bad.b)
		wantDrop(t, bad.class, err, Malformed)
	}
	if KindESP.String() != "esp" || KindIKE.String() != "ike" || KindKeepalive.String() != "keepalive" || Kind(0).String() == "" {
		t.Error("Kind names")
	}
}

func TestWrapUDP(t *testing.T) {
	esp := []byte{1, 2, 3, 4, 0, 0, 0, 1, 0xaa}
	d, err := WrapUDP([]byte{7}, 4500, 4501, esp)
	if err != nil {
		t.Fatal(err)
	}
	src, dst, payload, err := UnwrapUDP(append(d[1:], 0xee)) // trailing link padding
	if err != nil || src != 4500 || dst != 4501 || !bytes.Equal(payload, esp) || d[0] != 7 {
		t.Fatalf("UnwrapUDP(WrapUDP) = %d %d %x %v", src, dst, payload, err)
	}
	if _, err := WrapUDP(nil, 1, 2, make([]byte, 0xffff)); !errors.Is(err, Malformed) {
		t.Fatalf("oversized: %v", err)
	}
	for _, bad := range []struct {
		class string
		b     []byte
	}{
		{"truncated header", []byte{0x11, 0x94, 0x11, 0x94, 0, 8, 0}},
		{"length below header", []byte{0x11, 0x94, 0x11, 0x94, 0, 7, 0, 0}},
		{"length beyond datagram", []byte{0x11, 0x94, 0x11, 0x94, 0, 9, 0, 0}},
	} {
		_, _, _, err := UnwrapUDP(bad.b)
		wantDrop(t, bad.class, err, Malformed)
	}
}
