package netsim

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func TestPacketRoundTripAndValidity(t *testing.T) {
	want := probe{tunnel: 70000, gen: 3, side: B, seq: 1<<40 + 5, sent: 1234567 * time.Microsecond}
	src, dst := DefaultAddrB.As4(), DefaultAddrA.As4()
	b := buildPacket(nil, 300, src, dst, 2, want)
	got, ok := parsePacket(b)
	if !ok || got != want {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	// An independent decoder agrees that it is valid IPv4 + UDP.
	pkt := gopacket.NewPacket(b, layers.LayerTypeIPv4, gopacket.Default)
	if el := pkt.ErrorLayer(); el != nil {
		t.Fatalf("gopacket: %v", el.Error())
	}
	ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	udp, _ := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if ip == nil || udp == nil {
		t.Fatal("not IPv4/UDP")
	}
	if ip.Length != 300 || ip.TTL != 64 || !ip.SrcIP.Equal(DefaultAddrB.AsSlice()) || !ip.DstIP.Equal(DefaultAddrA.AsSlice()) {
		t.Errorf("ip header %+v", ip)
	}
	csum := ip.Checksum
	if err := ip.SerializeTo(gopacket.NewSerializeBuffer(), gopacket.SerializeOptions{ComputeChecksums: true}); err != nil {
		t.Fatal(err)
	}
	if ip.Checksum != csum {
		t.Errorf("checksum %#04x, gopacket computes %#04x", csum, ip.Checksum)
	}
	if udp.SrcPort != probeSrcPort+2 || udp.DstPort != ProbePort || udp.Length != 280 || len(udp.Payload) != 272 {
		t.Errorf("udp header %+v", udp)
	}
	// Buffers are reused: a smaller packet in the same buffer is clean.
	b2 := buildPacket(b, MinPacketSize, src, dst, 0, probe{})
	if &b2[0] != &b[0] {
		t.Error("buffer not reused")
	}
	if p, ok := parsePacket(b2); !ok || p != (probe{}) {
		t.Errorf("reused buffer parse: %+v %v", p, ok)
	}
}

func TestParsePacketRejects(t *testing.T) {
	good := buildPacket(nil, 100, DefaultAddrA.As4(), DefaultAddrB.As4(), 0, probe{seq: 1})
	cases := []struct {
		class string
		mod   func([]byte) []byte
	}{
		{"truncated below probe", func(b []byte) []byte { return b[:MinPacketSize-1] }},
		{"truncated (length mismatch)", func(b []byte) []byte { return b[:99] }},
		{"IPv6 version", func(b []byte) []byte { b[0] = 0x60; return b }},
		{"IPv4 options", func(b []byte) []byte { b[0] = 0x46; return b }},
		{"not UDP", func(b []byte) []byte { b[9] = 6; return b }},
		{"bad header checksum", func(b []byte) []byte { b[8]--; return b }},
		{"foreign payload", func(b []byte) []byte { b[28] = 'X'; return b }},
		{"bad side", func(b []byte) []byte { b[38] = 2; return b }},
		{"empty", func(b []byte) []byte { return nil }},
	}
	for _, tc := range cases {
		b := tc.mod(append([]byte(nil), good...))
		if _, ok := parsePacket(b); ok {
			t.Errorf("%s: accepted", tc.class)
		}
	}
}
