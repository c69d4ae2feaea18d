package capture

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// Link-layer constants; values from the tcpdump.org link-type registry and
// IEEE 802 EtherType assignments.
const (
	linkRawOpenBSD = 12 // DLT_RAW on OpenBSD, written by some old tools
	linkRawBSD     = 14 // DLT_RAW on BSD/OS

	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ2 = 0x9100

	maxVLANTags  = 4 // more tags than any real network stacks; bounds the loop
	maxExtHdrs   = 8 // IPv6 extension headers followed before giving up
	protoUDP     = 17
	protoHopOpts = 0
	protoRouting = 43
	protoFrag    = 44
	protoAH      = 51
	protoDstOpts = 60
)

// decodeFrame finds the UDP datagram in one link-layer frame. ok is false
// for frames that are not UDP on an IKE port. It allocates nothing unless
// it returns an error.
func decodeFrame(link layers.LinkType, b []byte, d *Datagram) (ok bool, err error) {
	switch link {
	case layers.LinkTypeEthernet:
		if len(b) < 14 {
			return false, truncated("ethernet header", 14, len(b))
		}
		return decodeEtherType(binary.BigEndian.Uint16(b[12:14]), b[14:], d)
	case layers.LinkTypeLinuxSLL:
		if len(b) < 16 {
			return false, truncated("SLL header", 16, len(b))
		}
		return decodeEtherType(binary.BigEndian.Uint16(b[14:16]), b[16:], d)
	case layers.LinkTypeLinuxSLL2:
		if len(b) < 20 {
			return false, truncated("SLL2 header", 20, len(b))
		}
		return decodeEtherType(binary.BigEndian.Uint16(b[0:2]), b[20:], d)
	case layers.LinkTypeRaw, linkRawOpenBSD, linkRawBSD:
		return decodeIP(b, d)
	case layers.LinkTypeIPv4:
		return decodeIPv4(b, d)
	case layers.LinkTypeIPv6:
		return decodeIPv6(b, d)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(b) < 4 {
			return false, truncated("loopback header", 4, len(b))
		}
		// DLT_NULL stores the address family in the writer's byte order,
		// DLT_LOOP in network order; families are small, so whichever
		// reading is small is the right one.
		af := binary.LittleEndian.Uint32(b)
		if af > 0xffff {
			af = binary.BigEndian.Uint32(b)
		}
		switch af {
		case 2: // AF_INET everywhere
			return decodeIPv4(b[4:], d)
		case 10, 24, 28, 30: // AF_INET6: Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			return decodeIPv6(b[4:], d)
		}
		return false, nil
	}
	return false, fmt.Errorf("%w %d", ErrLinkType, link)
}

func decodeEtherType(et uint16, b []byte, d *Datagram) (bool, error) {
	for i := 0; et == etherVLAN || et == etherQinQ || et == etherQinQ2; i++ {
		if i == maxVLANTags {
			return false, nil
		}
		if len(b) < 4 {
			return false, truncated("802.1Q tag", 4, len(b))
		}
		et = binary.BigEndian.Uint16(b[2:4])
		b = b[4:]
	}
	switch et {
	case etherIPv4:
		return decodeIPv4(b, d)
	case etherIPv6:
		return decodeIPv6(b, d)
	}
	return false, nil
}

func decodeIP(b []byte, d *Datagram) (bool, error) {
	if len(b) < 1 {
		return false, truncated("IP header", 1, 0)
	}
	switch b[0] >> 4 {
	case 4:
		return decodeIPv4(b, d)
	case 6:
		return decodeIPv6(b, d)
	}
	return false, nil
}

func decodeIPv4(b []byte, d *Datagram) (bool, error) {
	if len(b) < 20 {
		return false, truncated("IPv4 header", 20, len(b))
	}
	if b[0]>>4 != 4 {
		return false, fmt.Errorf("%w: IPv4 header with version %d", ErrBadLength, b[0]>>4)
	}
	if b[9] != protoUDP {
		return false, nil
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 {
		return false, fmt.Errorf("%w: IPv4 header length %d < 20", ErrBadLength, ihl)
	}
	if len(b) < ihl {
		return false, truncated("IPv4 options", ihl, len(b))
	}
	total := int(binary.BigEndian.Uint16(b[2:4]))
	switch {
	case total == 0:
		// Segmentation offload captures leave the field zero; trust the frame.
	case total < ihl:
		return false, fmt.Errorf("%w: IPv4 total length %d < header length %d", ErrBadLength, total, ihl)
	case total > len(b):
		return false, truncated("IPv4 packet", total, len(b))
	default:
		b = b[:total] // drop link-layer padding
	}
	src := netip.AddrFrom4([4]byte(b[12:16]))
	dst := netip.AddrFrom4([4]byte(b[16:20]))
	fragOff := binary.BigEndian.Uint16(b[6:8])
	if fragOff&0x1fff != 0 {
		// A later fragment: no UDP header to look at, so it may be IKE.
		return false, fmt.Errorf("%w: IPv4 %v -> %v id %#04x offset %d", ErrFragment, src, dst, binary.BigEndian.Uint16(b[4:6]), int(fragOff&0x1fff)*8)
	}
	more := fragOff&0x2000 != 0
	return decodeUDP(b[ihl:], src, dst, more, d)
}

func decodeIPv6(b []byte, d *Datagram) (bool, error) {
	if len(b) < 40 {
		return false, truncated("IPv6 header", 40, len(b))
	}
	if b[0]>>4 != 6 {
		return false, fmt.Errorf("%w: IPv6 header with version %d", ErrBadLength, b[0]>>4)
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	src := netip.AddrFrom16([16]byte(b[8:24]))
	dst := netip.AddrFrom16([16]byte(b[24:40]))
	next := b[6]
	b = b[40:]
	if plen != 0 { // zero: jumbogram or offload; trust the frame
		if plen > len(b) {
			return false, truncated("IPv6 payload", plen, len(b))
		}
		b = b[:plen]
	}
	more := false
	for i := 0; ; i++ {
		switch next {
		case protoUDP:
			return decodeUDP(b, src, dst, more, d)
		case protoHopOpts, protoRouting, protoDstOpts, protoAH, protoFrag:
		default:
			return false, nil
		}
		if i == maxExtHdrs {
			return false, nil
		}
		if len(b) < 8 {
			return false, truncated("IPv6 extension header", 8, len(b))
		}
		n := (int(b[1]) + 1) * 8
		switch next {
		case protoAH:
			n = (int(b[1]) + 2) * 4
		case protoFrag:
			n = 8
			off := binary.BigEndian.Uint16(b[2:4])
			if off>>3 != 0 {
				if b[0] != protoUDP {
					return false, nil
				}
				return false, fmt.Errorf("%w: IPv6 %v -> %v id %#08x offset %d", ErrFragment, src, dst, binary.BigEndian.Uint32(b[4:8]), int(off>>3)*8)
			}
			more = more || off&1 != 0
		}
		if len(b) < n {
			return false, truncated("IPv6 extension header", n, len(b))
		}
		next = b[0]
		b = b[n:]
	}
}

// decodeUDP decodes the UDP header; fragmented tells whether the IP layer
// said more fragments follow, which only matters for IKE ports.
func decodeUDP(b []byte, src, dst netip.Addr, fragmented bool, d *Datagram) (bool, error) {
	if len(b) < 8 {
		return false, truncated("UDP header", 8, len(b))
	}
	sp := binary.BigEndian.Uint16(b[0:2])
	dp := binary.BigEndian.Uint16(b[2:4])
	if !ikePort(sp) && !ikePort(dp) {
		return false, nil
	}
	if fragmented {
		return false, fmt.Errorf("%w: first fragment of UDP %v:%d -> %v:%d", ErrFragment, src, sp, dst, dp)
	}
	ulen := int(binary.BigEndian.Uint16(b[4:6]))
	switch {
	case ulen < 8:
		return false, fmt.Errorf("%w: UDP length %d < 8", ErrBadLength, ulen)
	case ulen > len(b):
		return false, truncated("UDP datagram", ulen, len(b))
	}
	d.Src = netip.AddrPortFrom(src, sp)
	d.Dst = netip.AddrPortFrom(dst, dp)
	d.Payload = b[8:ulen]
	return true, nil
}

func ikePort(p uint16) bool { return p == PortIKE || p == PortNATT }

func truncated(what string, need, have int) error {
	return fmt.Errorf("%w: %s needs %d bytes, frame has %d", ErrTruncated, what, need, have)
}
