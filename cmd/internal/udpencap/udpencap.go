// Package udpencap tells apart what a UDP datagram on the IKE ports
// carries: ISAKMP on port 500, and on port 4500 (RFC 3948) ISAKMP behind a
// non-ESP marker, ESP, or a NAT-keepalive.
package udpencap

import (
	"encoding/binary"

	"github.com/hitless-ike/hitless/corpus/capture"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// Kind is what a datagram carries.
type Kind uint8

// Kinds of datagram on the IKE ports.
const (
	// Invalid: a port-4500 datagram that is none of the others.
	Invalid Kind = iota
	// ISAKMP: an ISAKMP message (on port 4500 after the non-ESP marker).
	ISAKMP
	// ESP: an ESP packet in UDP (RFC 3948 §2.1).
	ESP
	// Keepalive: the one-byte 0xFF NAT-keepalive (RFC 3948 §2.2).
	Keepalive
)

func (k Kind) String() string {
	switch k {
	case ISAKMP:
		return "isakmp"
	case ESP:
		return "esp"
	case Keepalive:
		return "nat-keepalive"
	}
	return "invalid"
}

// Encapsulated reports whether a datagram between these ports uses the
// RFC 3948 framing. Port 500 wins over 4500, as in Wireshark: a message
// from a floated port to 500 is plain ISAKMP.
func Encapsulated(src, dst uint16) bool {
	return (src == capture.PortNATT || dst == capture.PortNATT) &&
		src != capture.PortIKE && dst != capture.PortIKE
}

// Classify returns the kind of d and the bytes of that kind: the ISAKMP
// message without the non-ESP marker, the ESP packet, or the whole payload
// for keepalives and invalid datagrams. The framing rules are those of
// isakmp.ClassifyUDP4500, whose typed error is returned for Invalid.
func Classify(d *capture.Datagram) (Kind, []byte, error) {
	p := d.Payload
	if !Encapsulated(d.Src.Port(), d.Dst.Port()) {
		return ISAKMP, p, nil
	}
	k, body, err := isakmp.ClassifyUDP4500(p)
	switch k {
	case isakmp.KindIKE:
		return ISAKMP, body, nil
	case isakmp.KindESP:
		return ESP, body, nil
	case isakmp.KindKeepalive:
		return Keepalive, p, nil
	}
	return Invalid, p, err
}

// ESPHeader returns the SPI and sequence number of an ESP packet, which
// Classify guarantees has at least 8 bytes.
func ESPHeader(esp []byte) (spi, seq uint32) {
	return binary.BigEndian.Uint32(esp[0:4]), binary.BigEndian.Uint32(esp[4:8])
}
