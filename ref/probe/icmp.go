package probe

import (
	"encoding/binary"
	"net/netip"
)

// Probes are ICMP echo requests in IPv4 (RFC 792): any IPsec gateway's
// host answers them, so measuring needs nothing running behind the
// daemon. The echo identifier marks a run, the sequence number (16 bits
// on the wire, widened by the probe) a probe.

const (
	ipv4HeaderLen = 20
	icmpEchoLen   = 8
	icmpEcho      = 8
	icmpEchoReply = 0
	protoICMP     = 1
)

// echo is one ICMP echo message.
type echo struct {
	src, dst netip.Addr
	reply    bool
	id, seq  uint16
}

// appendEcho builds an IPv4 packet holding an ICMP echo request or reply
// with size bytes of payload in all (at least the two headers).
func appendEcho(dst []byte, e echo, size int) []byte {
	size = max(size, ipv4HeaderLen+icmpEchoLen)
	start := len(dst)
	dst = append(dst, make([]byte, size)...)
	p := dst[start:]
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(size))
	binary.BigEndian.PutUint16(p[4:], e.seq) // identification
	p[8] = 64                                // TTL
	p[9] = protoICMP
	s, d := e.src.As4(), e.dst.As4()
	copy(p[12:16], s[:])
	copy(p[16:20], d[:])
	binary.BigEndian.PutUint16(p[10:], checksum(p[:ipv4HeaderLen]))
	m := p[ipv4HeaderLen:]
	if !e.reply {
		m[0] = icmpEcho
	}
	binary.BigEndian.PutUint16(m[4:], e.id)
	binary.BigEndian.PutUint16(m[6:], e.seq)
	for i := icmpEchoLen; i < len(m); i++ {
		m[i] = byte(i)
	}
	binary.BigEndian.PutUint16(m[2:], checksum(m))
	return dst
}

// parseEcho reads an IPv4 ICMP echo request or reply; ok is false for
// anything else, including a bad checksum.
func parseEcho(p []byte) (e echo, ok bool) {
	if len(p) < ipv4HeaderLen+icmpEchoLen || p[0]>>4 != 4 || p[9] != protoICMP {
		return e, false
	}
	ihl := int(p[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(p[2:]))
	if ihl < ipv4HeaderLen || total > len(p) || total < ihl+icmpEchoLen || checksum(p[:ihl]) != 0 {
		return e, false
	}
	m := p[ihl:total]
	if checksum(m) != 0 || m[1] != 0 || (m[0] != icmpEcho && m[0] != icmpEchoReply) {
		return e, false
	}
	e.src = netip.AddrFrom4([4]byte(p[12:16]))
	e.dst = netip.AddrFrom4([4]byte(p[16:20]))
	e.reply = m[0] == icmpEchoReply
	e.id = binary.BigEndian.Uint16(m[4:])
	e.seq = binary.BigEndian.Uint16(m[6:])
	return e, true
}

// checksum is the Internet checksum (RFC 1071) of b.
func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}
