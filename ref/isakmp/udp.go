package isakmp

// Kind classifies a datagram received on UDP port 4500 (RFC 3948 §2).
type Kind uint8

// Datagram kinds on UDP port 4500.
const (
	KindInvalid   Kind = iota
	KindIKE            // non-ESP marker followed by an ISAKMP message
	KindESP            // UDP-encapsulated ESP (non-zero SPI)
	KindKeepalive      // NAT-keepalive, a single 0xFF byte
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindIKE:
		return "IKE"
	case KindESP:
		return "ESP"
	case KindKeepalive:
		return "NAT-keepalive"
	}
	return "invalid"
}

// NonESPMarker is the four zero bytes that precede ISAKMP messages on port
// 4500, where an ESP SPI can never be zero.
var NonESPMarker = [4]byte{}

// ClassifyUDP4500 classifies the UDP payload b of a port-4500 datagram and
// returns the part to process: the ISAKMP message without the marker for
// KindIKE, b itself for KindESP, nil for KindKeepalive. It checks framing
// only; parse the ISAKMP part with Parse or View.
func ClassifyUDP4500(b []byte) (Kind, []byte, error) {
	switch {
	case len(b) == 0:
		return KindInvalid, nil, udpErr(0, ErrTruncated)
	case len(b) == 1:
		if b[0] == 0xff {
			return KindKeepalive, nil, nil
		}
		return KindInvalid, nil, udpErr(0, ErrUDPFraming)
	case len(b) < 4:
		return KindInvalid, nil, udpErr(0, ErrUDPFraming)
	case b[0]|b[1]|b[2]|b[3] == 0:
		if len(b)-4 < HeaderLen {
			return KindInvalid, nil, udpErr(len(b), ErrTruncated)
		}
		return KindIKE, b[4:], nil
	case len(b) < 8: // SPI and sequence number
		return KindInvalid, nil, udpErr(len(b), ErrTruncated)
	}
	return KindESP, b, nil
}

// AppendNonESPMarker appends the non-ESP marker and msg to dst, framing an
// ISAKMP message for UDP port 4500.
func AppendNonESPMarker(dst, msg []byte) []byte {
	return append(append(dst, NonESPMarker[:]...), msg...)
}

func udpErr(off int, k error) error {
	return &Error{Offset: off, Path: "UDP", Notify: k.(*errKind).notify, Err: k}
}
