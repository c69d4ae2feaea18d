package netsim

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Inner packet layout: an IPv4 header (20 bytes, no options), a UDP header
// (8 bytes, checksum 0 as IPv4 allows) and a probe that lets the receiving
// side match the packet to its generator and measure its latency:
//
//	magic "HLNS" | tunnel u32 | generator u16 | side u8 | 0 u8 | seq u64 | sent ns i64
const (
	ipv4HeaderLen = 20
	udpHeaderLen  = 8
	probeLen      = 28
	// MinPacketSize is the smallest inner packet a generator can send.
	MinPacketSize = ipv4HeaderLen + udpHeaderLen + probeLen
	// MaxPacketSize is the largest (the IPv4 total length limit).
	MaxPacketSize = 65535
	// ProbePort is the UDP destination port of generated packets.
	ProbePort = 9 // discard
	// probeSrcPort is the base UDP source port; the flow is added to it.
	probeSrcPort = 49152
)

var probeMagic = [4]byte{'H', 'L', 'N', 'S'}

// Default inner addresses: A's protected subnet sends from DefaultAddrA,
// B's from DefaultAddrB.
var (
	DefaultAddrA = netip.AddrFrom4([4]byte{10, 1, 0, 1})
	DefaultAddrB = netip.AddrFrom4([4]byte{10, 2, 0, 1})
)

// probe is what a generated packet carries.
type probe struct {
	tunnel uint32
	gen    uint16
	side   Side
	seq    uint64
	sent   time.Duration
}

// buildPacket writes a size-byte IPv4/UDP packet carrying p into buf
// (reusing its capacity) and returns it.
func buildPacket(buf []byte, size int, src, dst [4]byte, flow int, p probe) []byte {
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	b := buf[:size]
	clear(b[MinPacketSize:])
	b[0] = 0x45
	b[1] = 0
	binary.BigEndian.PutUint16(b[2:], uint16(size))
	binary.BigEndian.PutUint16(b[4:], uint16(p.seq)) // identification
	binary.BigEndian.PutUint16(b[6:], 0x4000)        // DF
	b[8] = 64                                        // TTL
	b[9] = 17                                        // UDP
	b[10], b[11] = 0, 0
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[10:], ipv4Checksum(b[:ipv4HeaderLen]))
	u := b[ipv4HeaderLen:]
	binary.BigEndian.PutUint16(u[0:], uint16(probeSrcPort+flow))
	binary.BigEndian.PutUint16(u[2:], ProbePort)
	binary.BigEndian.PutUint16(u[4:], uint16(size-ipv4HeaderLen))
	binary.BigEndian.PutUint16(u[6:], 0)
	q := u[udpHeaderLen:]
	copy(q[0:4], probeMagic[:])
	binary.BigEndian.PutUint32(q[4:], p.tunnel)
	binary.BigEndian.PutUint16(q[8:], p.gen)
	q[10] = byte(p.side)
	q[11] = 0
	binary.BigEndian.PutUint64(q[12:], p.seq)
	binary.BigEndian.PutUint64(q[20:], uint64(p.sent))
	return b
}

// ipv4Checksum is the RFC 791 header checksum of h (with its checksum
// field zero).
func ipv4Checksum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// parsePacket extracts the probe of a packet built by buildPacket. It
// reports false for anything else (a foreign or damaged packet).
func parsePacket(b []byte) (probe, bool) {
	if len(b) < MinPacketSize || b[0] != 0x45 || b[9] != 17 ||
		int(binary.BigEndian.Uint16(b[2:])) != len(b) || ipv4Checksum(b[:ipv4HeaderLen]) != 0 {
		return probe{}, false
	}
	q := b[ipv4HeaderLen+udpHeaderLen:]
	if [4]byte(q[0:4]) != probeMagic || q[10] > byte(B) {
		return probe{}, false
	}
	return probe{
		tunnel: binary.BigEndian.Uint32(q[4:]),
		gen:    binary.BigEndian.Uint16(q[8:]),
		side:   Side(q[10]),
		seq:    binary.BigEndian.Uint64(q[12:]),
		sent:   time.Duration(binary.BigEndian.Uint64(q[20:])),
	}, true
}
