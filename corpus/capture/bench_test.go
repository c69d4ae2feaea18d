package capture

import (
	"bytes"
	"io"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// BenchmarkDecodeHand and BenchmarkDecodeGopacket compare the hand decoder
// with gopacket's zero-allocation DecodingLayerParser on the same
// Ethernet/IPv4/UDP frame; the result is why this package decodes by hand.
func BenchmarkDecodeHand(b *testing.B) {
	f := eth(b, layers.EthernetTypeIPv4, udp4(b, 4500, 4500, string(make([]byte, 200)))...)
	var d Datagram
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := decodeFrame(layers.LinkTypeEthernet, f, &d); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkDecodeGopacket(b *testing.B) {
	f := eth(b, layers.EthernetTypeIPv4, udp4(b, 4500, 4500, string(make([]byte, 200)))...)
	var (
		e   layers.Ethernet
		q   layers.Dot1Q
		ip4 layers.IPv4
		ip6 layers.IPv6
		u   layers.UDP
		pl  gopacket.Payload
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &e, &q, &ip4, &ip6, &u, &pl)
	decoded := make([]gopacket.LayerType, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.DecodeLayers(f, &decoded); err != nil || len(u.Payload) != 200 {
			b.Fatal(err)
		}
	}
}

// BenchmarkReaderNext measures whole-file throughput: pcap parsing, header
// decoding and the payload copy, on 10,000 frames.
func BenchmarkReaderNext(b *testing.B) {
	frames := make([][]byte, 10000)
	for i := range frames {
		frames[i] = eth(b, layers.EthernetTypeIPv4, udp4(b, 500, 500, string(make([]byte, 200+i%100)))...)
	}
	file := writePcap(b, layers.LinkTypeEthernet, frames)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != len(frames) {
			b.Fatal(n)
		}
	}
}
