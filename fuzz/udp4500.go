package fuzz

import (
	"bytes"
	"errors"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

// refKind classifies a port-4500 payload by RFC 3948 alone: the one-byte
// 0xFF keepalive (§2.3); four zero bytes, the non-ESP marker, then an
// ISAKMP message of at least its header (§2.2); otherwise ESP, whose SPI
// is never zero, with at least SPI and sequence number (§2.1).
func refKind(b []byte) isakmp.Kind {
	switch {
	case len(b) == 1 && b[0] == 0xff:
		return isakmp.KindKeepalive
	case len(b) >= 4 && bytes.Equal(b[:4], isakmp.NonESPMarker[:]):
		if len(b) >= 4+isakmp.HeaderLen {
			return isakmp.KindIKE
		}
	case len(b) >= 8:
		return isakmp.KindESP
	}
	return isakmp.KindInvalid
}

// ClassifyUDP4500 is the property of FuzzClassifyUDP4500 for one input b, a
// port-4500 UDP payload: classification agrees with the RFC 3948 model,
// returns the right part for each kind, fails with a typed error, and
// marker plus ISAKMP round-trips.
func ClassifyUDP4500(t T, b []byte) {
	k, part, err := isakmp.ClassifyUDP4500(b)
	if want := refKind(b); k != want {
		t.Fatalf("kind %v, RFC 3948 model %v (err %v)", k, want, err)
	}
	if (k == isakmp.KindInvalid) != (err != nil) {
		t.Fatalf("kind %v with error %v", k, err)
	}
	switch k {
	case isakmp.KindIKE:
		if !bytes.Equal(part, b[4:]) {
			t.Fatal("IKE part is not the datagram after the marker")
		}
		if !bytes.Equal(isakmp.AppendNonESPMarker(nil, part), b) {
			t.Fatal("marker + IKE part does not rebuild the datagram")
		}
		if _, err := isakmp.ParseHeader(part); err != nil {
			t.Fatalf("IKE part has no ISAKMP header: %v", err)
		}
		if m, err := isakmp.Parse(part); err == nil {
			out, err := m.Marshal()
			if err != nil || !bytes.Equal(isakmp.AppendNonESPMarker(nil, out), b) {
				t.Fatalf("marker + Marshal(Parse(part)) != datagram (%v)", err)
			}
		}
	case isakmp.KindESP:
		if !bytes.Equal(part, b) {
			t.Fatal("ESP part is not the whole datagram")
		}
	case isakmp.KindKeepalive:
		if part != nil {
			t.Fatalf("keepalive returned %x", part)
		}
	default:
		kind := checkError(t, "udp4500", err, len(b))
		if !errors.Is(kind, isakmp.ErrTruncated) && !errors.Is(kind, isakmp.ErrUDPFraming) {
			t.Fatalf("framing error %v, want ErrTruncated or ErrUDPFraming", err)
		}
		if part != nil {
			t.Fatalf("invalid datagram returned %x", part)
		}
	}
}
