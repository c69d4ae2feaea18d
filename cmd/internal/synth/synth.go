// Package synth generates large, realistic IKE captures for benchmarks by
// replicating the datagrams of real captures: copy k of each source gets its
// own addresses (10.x.y.1/2 style, from k) and its own ISAKMP cookies (the
// source cookies XORed with a pattern from k, zero cookies left zero), so
// that every copy is a distinct conversation. Everything is derived from k:
// the same inputs always give the same bytes.
package synth

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/hitless-ike/hitless/cmd/internal/udpencap"
	"github.com/hitless-ike/hitless/corpus/capture"
)

// Stats counts what Generate wrote.
type Stats struct {
	Frames int // frames written
	ISAKMP int // of which ISAKMP messages
}

// ErrNoISAKMP reports sources without a single ISAKMP datagram, from which
// no number of copies reaches the requested count.
var ErrNoISAKMP = errors.New("synth: sources hold no ISAKMP datagram")

// Start is the timestamp of the first generated frame.
var Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Generate writes an Ethernet pcap to w holding whole copies of sources
// (their IPv4 datagrams, in order) until at least minISAKMP ISAKMP messages
// have been written. Frames are 10µs apart.
func Generate(w io.Writer, sources [][]capture.Datagram, minISAKMP int) (Stats, error) {
	var st Stats
	per := 0
	for _, src := range sources {
		for i := range src {
			if k, _, _ := udpencap.Classify(&src[i]); k == udpencap.ISAKMP && src[i].Src.Addr().Is4() {
				per++
			}
		}
	}
	if per == 0 {
		return st, ErrNoISAKMP
	}
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return st, err
	}
	buf := make([]byte, 0, 2048)
	for k := 0; st.ISAKMP < minISAKMP; k++ {
		for _, src := range sources {
			for i := range src {
				d := &src[i]
				if !d.Src.Addr().Is4() || !d.Dst.Addr().Is4() {
					continue
				}
				var isakmp bool
				buf, isakmp = frame(buf[:0], d, k)
				ci := gopacket.CaptureInfo{
					Timestamp:     Start.Add(time.Duration(st.Frames) * 10 * time.Microsecond),
					CaptureLength: len(buf), Length: len(buf),
				}
				if err := pw.WritePacket(ci, buf); err != nil {
					return st, err
				}
				st.Frames++
				if isakmp {
					st.ISAKMP++
				}
			}
		}
	}
	return st, nil
}

// frame appends copy k of d as an Ethernet/IPv4/UDP frame.
func frame(b []byte, d *capture.Datagram, k int) ([]byte, bool) {
	kind, msg, _ := udpencap.Classify(d)
	src, dst := remap(d.Src.Addr(), k), remap(d.Dst.Addr(), k)
	ulen := 8 + len(d.Payload)
	b = append(b, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00) // MACs, IPv4
	ip := len(b)
	b = append(b, 0x45, 0, 0, 0, byte(k>>8), byte(k), 0x40, 0, 64, 17, 0, 0)
	binary.BigEndian.PutUint16(b[ip+2:], uint16(20+ulen))
	s4, d4 := src.As4(), dst.As4()
	b = append(b, s4[:]...)
	b = append(b, d4[:]...)
	binary.BigEndian.PutUint16(b[ip+10:], checksum(b[ip:ip+20]))
	b = binary.BigEndian.AppendUint16(b, d.Src.Port())
	b = binary.BigEndian.AppendUint16(b, d.Dst.Port())
	b = binary.BigEndian.AppendUint16(b, uint16(ulen))
	b = append(b, 0, 0) // no UDP checksum: allowed over IPv4 (RFC 768)
	pl := len(b)
	b = append(b, d.Payload...)
	if kind != udpencap.ISAKMP || len(msg) < 16 {
		return b, kind == udpencap.ISAKMP
	}
	cookies := b[pl+len(d.Payload)-len(msg):][:16]
	var pat [8]byte
	binary.BigEndian.PutUint64(pat[:], uint64(k+1)*0x9e3779b97f4a7c15)
	for c := 0; c < 16; c += 8 {
		if binary.BigEndian.Uint64(cookies[c:]) == 0 {
			continue
		}
		for j := range 8 {
			cookies[c+j] ^= pat[j]
		}
	}
	return b, true
}

// remap moves an IPv4 address into a per-copy network: a.b.c.d becomes
// a.(b+k/256).(c+k).d, so both peers of a copy stay in one /24.
func remap(a netip.Addr, k int) netip.Addr {
	b := a.As4()
	b[1] += byte(k >> 8)
	b[2] += byte(k)
	return netip.AddrFrom4(b)
}

// checksum is the RFC 1071 Internet checksum of an IPv4 header.
func checksum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
