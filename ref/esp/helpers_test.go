package esp

import (
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"testing"
)

// allTransforms lists every supported algorithm combination.
var allTransforms = []Transform{
	{CipherAESCBC, 128, IntegrityHMACSHA1_96},
	{CipherAESCBC, 192, IntegrityHMACSHA1_96},
	{CipherAESCBC, 256, IntegrityHMACSHA1_96},
	{CipherAESCBC, 128, IntegrityHMACSHA256_128},
	{CipherAESCBC, 192, IntegrityHMACSHA256_128},
	{CipherAESCBC, 256, IntegrityHMACSHA256_128},
	{CipherAESGCM16, 128, IntegrityNone},
	{CipherAESGCM16, 192, IntegrityNone},
	{CipherAESGCM16, 256, IntegrityNone},
	{CipherNull, 0, IntegrityHMACSHA1_96},
	{CipherNull, 0, IntegrityHMACSHA256_128},
}

// testConfig returns a Config with keys derived from seed and a
// deterministic IV source.
func testConfig(t Transform, spi uint32, esn bool, seed uint64) Config {
	r := mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1})
	enc, auth := t.KeyLen()
	c := Config{SPI: spi, Transform: t, ESN: esn, EncKey: make([]byte, enc),
		Rand: mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 2})}
	r.Read(c.EncKey)
	if auth > 0 {
		c.AuthKey = make([]byte, auth)
		r.Read(c.AuthKey)
	}
	return c
}

// pair returns a sender and a receiver SA built from one Config.
func pair(tb testing.TB, c Config) (out, in *SA) {
	tb.Helper()
	out, err := NewSA(c)
	if err != nil {
		tb.Fatal(err)
	}
	in, err = NewSA(c)
	if err != nil {
		tb.Fatal(err)
	}
	return out, in
}

// ipChecksum is the RFC 1071 Internet checksum, written here for the
// tests' own packets.
func ipChecksum(b []byte, sum uint32) uint16 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// icmpEcho4 builds an IPv4 ICMP echo request of total length n (>= 28)
// with correct header and ICMP checksums.
func icmpEcho4(src, dst [4]byte, id, seq uint16, n int) []byte {
	p := make([]byte, n)
	p[0], p[8], p[9] = 0x45, 64, 1
	binary.BigEndian.PutUint16(p[2:], uint16(n))
	copy(p[12:], src[:])
	copy(p[16:], dst[:])
	binary.BigEndian.PutUint16(p[10:], ipChecksum(p[:20], 0))
	icmp := p[20:]
	icmp[0] = 8
	binary.BigEndian.PutUint16(icmp[4:], id)
	binary.BigEndian.PutUint16(icmp[6:], seq)
	for i := 8; i < len(icmp); i++ {
		icmp[i] = byte(i)
	}
	binary.BigEndian.PutUint16(icmp[2:], ipChecksum(icmp, 0))
	return p
}

// udp6 builds an IPv6 UDP packet of total length n (>= 48) with a correct
// UDP checksum over the RFC 8200 pseudo-header.
func udp6(src, dst [16]byte, n int) []byte {
	p := make([]byte, n)
	p[0], p[6], p[7] = 0x60, 17, 64
	binary.BigEndian.PutUint16(p[4:], uint16(n-40))
	copy(p[8:], src[:])
	copy(p[24:], dst[:])
	u := p[40:]
	binary.BigEndian.PutUint16(u[0:], 5001)
	binary.BigEndian.PutUint16(u[2:], 5002)
	binary.BigEndian.PutUint16(u[4:], uint16(len(u)))
	for i := 8; i < len(u); i++ {
		u[i] = byte(i * 7)
	}
	binary.BigEndian.PutUint16(u[6:], udp6Checksum(p))
	return p
}

func udp6Checksum(p []byte) uint16 {
	var sum uint32
	for i := 8; i < 40; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	sum += uint32(len(p)-40) + 17
	return ipChecksum(p[40:], sum)
}

var (
	v4a = [4]byte{10, 1, 0, 1}
	v4b = [4]byte{10, 2, 0, 1}
	v6a = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}
	v6b = [16]byte{0x20, 0x01, 0x0d, 0xb8, 1, 15: 2}
)

// inner returns an inner packet of IP version v and length n.
func inner(v, n int) []byte {
	if v == 4 {
		return icmpEcho4(v4a, v4b, 7, uint16(n), n)
	}
	return udp6(v6a, v6b, n)
}

// snapshot is everything Open and Seal may change.
type snapshot struct {
	Seq   uint64
	Top   uint64
	Bits  []uint64
	Stats Stats
}

func snap(sa *SA) snapshot {
	return snapshot{sa.seq, sa.win.top, append([]uint64(nil), sa.win.bits...), sa.stats}
}

func (s snapshot) String() string { return fmt.Sprintf("%+v", struct{ Seq, Top uint64 }{s.Seq, s.Top}) }
