package esp

import "encoding/binary"

// PortNATT is the UDP port of IKE and ESP-in-UDP after NAT detection
// (RFC 3947 §4, RFC 3948 §2).
const PortNATT = 4500

// UDPHeaderLen is the length of the UDP header WrapUDP adds.
const UDPHeaderLen = 8

// Kind tells what a UDP payload on port 4500 carries (RFC 3948 §2.2).
type Kind uint8

// Kinds of port-4500 payloads.
const (
	// KindESP: the payload is an ESP packet, starting with a non-zero SPI.
	KindESP Kind = iota + 1
	// KindIKE: the payload began with the 4-byte non-ESP marker; the
	// returned body is the IKE message after it.
	KindIKE
	// KindKeepalive: a one-byte 0xFF NAT-keepalive (RFC 3948 §2.3).
	KindKeepalive
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindESP:
		return "esp"
	case KindIKE:
		return "ike"
	case KindKeepalive:
		return "keepalive"
	}
	return "kind(?)"
}

// PeekSPI returns the SPI of an ESP packet without authenticating it, so
// an SA database can pick the SA to Open it with. An SPI of 0 is reserved
// (RFC 4303 §2.1) and is what the non-ESP marker looks like, so it is
// Malformed.
func PeekSPI(b []byte) (uint32, error) {
	if len(b) < headerLen {
		return 0, drop(Malformed, 0, 0, "truncated ESP header")
	}
	spi := binary.BigEndian.Uint32(b)
	if spi == 0 {
		return 0, drop(Malformed, 0, 0, "SPI 0 is reserved")
	}
	return spi, nil
}

// ClassifyUDP splits a UDP payload received on port 4500 into ESP, IKE
// (the non-ESP marker removed) or a NAT-keepalive. body aliases payload.
// Errors are *DropError with Reason Malformed.
func ClassifyUDP(payload []byte) (k Kind, body []byte, err error) {
	switch {
	case len(payload) == 1 && payload[0] == 0xff:
		return KindKeepalive, nil, nil
	case len(payload) < 4:
		return 0, nil, drop(Malformed, 0, 0, "UDP payload too short for marker or SPI")
	case binary.BigEndian.Uint32(payload) == 0:
		return KindIKE, payload[4:], nil
	case len(payload) < headerLen:
		return 0, nil, drop(Malformed, 0, 0, "truncated ESP header in UDP")
	}
	return KindESP, payload, nil
}

// AppendNonESPMarker appends the four zero bytes that mark an IKE message
// sent on port 4500 (RFC 3948 §2.2), then the message. ESP packets are
// sent without it.
func AppendNonESPMarker(dst, ike []byte) []byte {
	return append(append(dst, 0, 0, 0, 0), ike...)
}

// WrapUDP appends a UDP header and the ESP packet to dst (RFC 3948 §2.1).
// The checksum is zero: RFC 3948 §3.1.1 says it SHOULD be, since ESP
// authenticates the payload. That is valid for the IPv4 outer headers RFC
// 3948 covers; an IPv6 sender must fill in the checksum itself.
func WrapUDP(dst []byte, srcPort, dstPort uint16, esp []byte) ([]byte, error) {
	if len(esp) > 0xffff-UDPHeaderLen {
		return dst, drop(Malformed, 0, 0, "ESP packet too long for UDP")
	}
	dst = binary.BigEndian.AppendUint16(dst, srcPort)
	dst = binary.BigEndian.AppendUint16(dst, dstPort)
	dst = binary.BigEndian.AppendUint16(dst, uint16(UDPHeaderLen+len(esp)))
	dst = append(dst, 0, 0)
	return append(dst, esp...), nil
}

// UnwrapUDP parses a UDP datagram (header and payload, as found after an
// IP header) and returns its ports and payload, which aliases datagram.
// The checksum is not verified: ESP's ICV protects what matters, and RFC
// 3948 §3.1.1 says receivers must not depend on it.
func UnwrapUDP(datagram []byte) (srcPort, dstPort uint16, payload []byte, err error) {
	if len(datagram) < UDPHeaderLen {
		return 0, 0, nil, drop(Malformed, 0, 0, "truncated UDP header")
	}
	n := int(binary.BigEndian.Uint16(datagram[4:]))
	if n < UDPHeaderLen || n > len(datagram) {
		return 0, 0, nil, drop(Malformed, 0, 0, "UDP length field inconsistent")
	}
	return binary.BigEndian.Uint16(datagram), binary.BigEndian.Uint16(datagram[2:]),
		datagram[UDPHeaderLen:n], nil
}
