package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var shipped = []string{
	"../captures/strongswan-5.9.8/libipsec/capture.pcap",
	"../captures/strongswan-5.9.8/fakesa/capture.pcap",
}

// TestShippedCaptures checks the shipped strongSwan captures: properties
// that hold by construction (ORIGIN.md), and, when tshark is installed, an
// exact frame-by-frame comparison with tshark's own dissection.
func TestShippedCaptures(t *testing.T) {
	for _, path := range shipped {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			ds, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) == 0 {
				t.Fatal("no datagrams")
			}
			a1, a2 := netip.MustParseAddr("10.99.0.1"), netip.MustParseAddr("10.99.0.2")
			last := 0
			for _, d := range ds {
				if d.Frame <= last {
					t.Errorf("frame %d after %d", d.Frame, last)
				}
				last = d.Frame
				if !ikePort(d.Src.Port()) && !ikePort(d.Dst.Port()) {
					t.Errorf("frame %d: ports %v -> %v", d.Frame, d.Src, d.Dst)
				}
				if !(d.Src.Addr() == a1 && d.Dst.Addr() == a2 || d.Src.Addr() == a2 && d.Dst.Addr() == a1) {
					t.Errorf("frame %d: addresses %v -> %v", d.Frame, d.Src, d.Dst)
				}
				if d.Time.Year() < 2020 {
					t.Errorf("frame %d: time %v", d.Frame, d.Time)
				}
			}
			compareTshark(t, path, ds)
		})
	}
}

func compareTshark(t *testing.T, path string, ds []Datagram) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Log("tshark not installed: skipping the differential check against it")
		return
	}
	out, err := exec.Command(tshark, "-r", path, "-n", "-Y", "udp.port==500 || udp.port==4500",
		"-T", "fields", "-E", "separator=,", "-e", "frame.number", "-e", "frame.time_epoch",
		"-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst", "-e", "udp.dstport", "-e", "udp.length").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(ds) {
		t.Fatalf("tshark sees %d datagrams, we see %d", len(lines), len(ds))
	}
	for i, line := range lines {
		f := strings.Split(line, ",")
		d := ds[i]
		ts, _ := strconv.ParseFloat(f[1], 64)
		ulen, _ := strconv.Atoi(f[6])
		ours := []string{strconv.Itoa(d.Frame), d.Src.Addr().String(), strconv.Itoa(int(d.Src.Port())),
			d.Dst.Addr().String(), strconv.Itoa(int(d.Dst.Port())), strconv.Itoa(len(d.Payload) + 8)}
		theirs := []string{f[0], f[2], f[3], f[4], f[5], strconv.Itoa(ulen)}
		if strings.Join(ours, ",") != strings.Join(theirs, ",") {
			t.Errorf("datagram %d:\n ours   %v\n tshark %v", i, ours, theirs)
		}
		if dt := float64(d.Time.UnixNano())/1e9 - ts; dt > 1e-6 || dt < -1e-6 {
			t.Errorf("frame %d: time %v, tshark %s", d.Frame, d.Time, f[1])
		}
	}
}

// hopByHop inserts an 8-byte hop-by-hop header (one PadN option) after the
// fixed IPv6 header.
func hopByHop(ip6 []byte) []byte {
	b := append(bytes.Clone(ip6[:40]), ip6[6], 0, 1, 4, 0, 0, 0, 0)
	b = append(b, ip6[40:]...)
	b[6] = 0
	binary.BigEndian.PutUint16(b[4:], binary.BigEndian.Uint16(ip6[4:])+8)
	return b
}

// frame is one synthetic record for a capture file.
type frame struct {
	link layers.LinkType
	data []byte
}

var (
	v4a = net.IP{192, 0, 2, 1}
	v4b = net.IP{198, 51, 100, 7}
	v6a = net.ParseIP("2001:db8::1")
	v6b = net.ParseIP("2001:db8::2")
	mac = net.HardwareAddr{2, 0, 0, 0, 0, 1}
)

// serialize builds a frame with gopacket's encoders, an implementation
// independent of the hand decoder under test.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	for _, l := range ls {
		if u, ok := l.(*layers.UDP); ok {
			for _, n := range ls {
				if ip, ok := n.(gopacket.NetworkLayer); ok {
					_ = u.SetNetworkLayerForChecksum(ip)
				}
			}
		}
	}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

func udp4(t testing.TB, sp, dp int, payload string) []gopacket.SerializableLayer {
	return []gopacket.SerializableLayer{
		&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: v4a, DstIP: v4b},
		&layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)},
		gopacket.Payload(payload),
	}
}

func udp6(t testing.TB, sp, dp int, payload string) []gopacket.SerializableLayer {
	return []gopacket.SerializableLayer{
		&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: v6a, DstIP: v6b},
		&layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)},
		gopacket.Payload(payload),
	}
}

func eth(t testing.TB, et layers.EthernetType, rest ...gopacket.SerializableLayer) []byte {
	return serialize(t, append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: et}}, rest...)...)
}

func sll(proto uint16, ip []byte) []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], mac)
	binary.BigEndian.PutUint16(h[14:], proto)
	return append(h, ip...)
}

func sll2(proto uint16, ip []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], proto)
	binary.BigEndian.PutUint32(h[4:], 3) // interface index
	binary.BigEndian.PutUint16(h[8:], 1)
	h[11] = 6
	copy(h[12:], mac)
	return append(h, ip...)
}

func writePcap(t testing.TB, link layers.LinkType, frames [][]byte) []byte {
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// writePcapng writes one interface per distinct link type, in order of
// first use, so a file may mix link types as pcapng allows.
func writePcapng(t testing.TB, frames []frame) []byte {
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&b, pcapgo.NgInterface{LinkType: frames[0].link, SnapLength: 65535, TimestampResolution: 9}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	ifaces := map[layers.LinkType]int{frames[0].link: 0}
	for i, f := range frames {
		id, ok := ifaces[f.link]
		if !ok {
			if id, err = w.AddInterface(pcapgo.NgInterface{LinkType: f.link, SnapLength: 65535, TimestampResolution: 9}); err != nil {
				t.Fatal(err)
			}
			ifaces[f.link] = id
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)), CaptureLength: len(f.data), Length: len(f.data), InterfaceIndex: id}
		if err := w.WritePacket(ci, f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// want is the expected outcome for one frame: a datagram, a skip (zero
// value), or a frame error wrapping err.
type want struct {
	src, dst string
	payload  string
	err      error
}

func TestSyntheticFrames(t *testing.T) {
	ip4 := serialize(t, udp4(t, 500, 500, "ike4")...)
	ip6 := serialize(t, udp6(t, 4500, 4500, "\x00\x00\x00\x00ike6")...)
	cut := func(b []byte, n int) []byte { return b[:len(b)-n] }
	setU16 := func(b []byte, off int, v uint16) []byte {
		b = bytes.Clone(b)
		binary.BigEndian.PutUint16(b[off:], v)
		return b
	}
	ok4 := want{src: "192.0.2.1:500", dst: "198.51.100.7:500", payload: "ike4"}
	ok6 := want{src: "[2001:db8::1]:4500", dst: "[2001:db8::2]:4500", payload: "\x00\x00\x00\x00ike6"}
	skip := want{}
	frag6 := serialize(t,
		&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment, SrcIP: v6a, DstIP: v6b},
		&layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, MoreFragments: true, Identification: 7},
		&layers.UDP{SrcPort: 500, DstPort: 500}, gopacket.Payload("part"))

	cases := []struct {
		class string
		f     frame
		want  want
	}{
		{"ethernet IPv4 port 500", frame{layers.LinkTypeEthernet, eth(t, layers.EthernetTypeIPv4, udp4(t, 500, 500, "ike4")...)}, ok4},
		{"ethernet IPv6 port 4500", frame{layers.LinkTypeEthernet, eth(t, layers.EthernetTypeIPv6, udp6(t, 4500, 4500, "\x00\x00\x00\x00ike6")...)}, ok6},
		{"ethernet 802.1Q VLAN", frame{layers.LinkTypeEthernet, eth(t, layers.EthernetTypeDot1Q, append([]gopacket.SerializableLayer{&layers.Dot1Q{VLANIdentifier: 42, Type: layers.EthernetTypeIPv4}}, udp4(t, 500, 500, "ike4")...)...)}, ok4},
		{"ethernet QinQ", frame{layers.LinkTypeEthernet, eth(t, layers.EthernetTypeQinQ, append([]gopacket.SerializableLayer{&layers.Dot1Q{VLANIdentifier: 1, Type: layers.EthernetTypeDot1Q}, &layers.Dot1Q{VLANIdentifier: 2, Type: layers.EthernetTypeIPv4}}, udp4(t, 500, 500, "ike4")...)...)}, ok4},
		{"ethernet padding after IP", frame{layers.LinkTypeEthernet, append(eth(t, layers.EthernetTypeIPv4, udp4(t, 500, 500, "ike4")...), 0, 0, 0, 0)}, ok4},
		{"Linux SLL", frame{layers.LinkTypeLinuxSLL, sll(0x0800, ip4)}, ok4},
		{"Linux SLL2", frame{layers.LinkTypeLinuxSLL2, sll2(0x86dd, ip6)}, ok6},
		{"raw 101 IPv4", frame{layers.LinkTypeRaw, ip4}, ok4},
		{"raw 101 IPv6", frame{layers.LinkTypeRaw, ip6}, ok6},
		{"raw IPv4 228", frame{layers.LinkTypeIPv4, ip4}, ok4},
		{"raw IPv6 229", frame{layers.LinkTypeIPv6, ip6}, ok6},
		{"BSD null little-endian AF_INET", frame{layers.LinkTypeNull, append([]byte{2, 0, 0, 0}, ip4...)}, ok4},
		{"BSD loop big-endian AF_INET6 (Darwin)", frame{layers.LinkTypeLoop, append([]byte{0, 0, 0, 30}, ip6...)}, ok6},
		{"IPv6 hop-by-hop options", frame{layers.LinkTypeRaw, hopByHop(ip6)}, ok6},
		{"non-IKE UDP port", frame{layers.LinkTypeRaw, serialize(t, udp4(t, 53, 53, "dns")...)}, skip},
		{"ARP", frame{layers.LinkTypeEthernet, eth(t, layers.EthernetTypeARP, &layers.ARP{AddrType: 1, Protocol: 0x0800, HwAddressSize: 6, ProtAddressSize: 4, SourceHwAddress: mac, SourceProtAddress: v4a, DstHwAddress: mac, DstProtAddress: v4b})}, skip},
		{"unknown link type", frame{layers.LinkTypePPP, ip4}, want{err: ErrLinkType}},
		{"truncated ethernet header", frame{layers.LinkTypeEthernet, make([]byte, 10)}, want{err: ErrTruncated}},
		{"truncated IPv4 header", frame{layers.LinkTypeRaw, ip4[:12]}, want{err: ErrTruncated}},
		{"truncated IPv6 header", frame{layers.LinkTypeIPv6, ip6[:30]}, want{err: ErrTruncated}},
		{"truncated UDP header", frame{layers.LinkTypeIPv4, setU16(ip4[:24], 2, 24)}, want{err: ErrTruncated}},
		{"IPv4 total length beyond frame", frame{layers.LinkTypeRaw, cut(ip4, 2)}, want{err: ErrTruncated}},
		{"UDP length beyond frame", frame{layers.LinkTypeRaw, setU16(ip4, 24, 100)}, want{err: ErrTruncated}},
		{"UDP length below 8", frame{layers.LinkTypeRaw, setU16(ip4, 24, 4)}, want{err: ErrBadLength}},
		{"IPv4 IHL below 5", frame{layers.LinkTypeRaw, append([]byte{0x44}, ip4[1:]...)}, want{err: ErrBadLength}},
		{"IPv4 first fragment to port 500", frame{layers.LinkTypeRaw, setU16(ip4, 6, 0x2000)}, want{err: ErrFragment}},
		{"IPv4 later UDP fragment", frame{layers.LinkTypeRaw, setU16(ip4, 6, 0x0010)}, want{err: ErrFragment}},
		{"IPv6 first fragment to port 500", frame{layers.LinkTypeRaw, frag6}, want{err: ErrFragment}},
	}
	for _, c := range cases {
		t.Run(c.class, func(t *testing.T) {
			check := func(t *testing.T, file []byte) {
				r, err := NewReader(bytes.NewReader(file))
				if err != nil {
					t.Fatal(err)
				}
				d, err := r.Next()
				switch {
				case c.want.err != nil:
					var fe *FrameError
					if !errors.As(err, &fe) || !errors.Is(err, c.want.err) || fe.Frame != 1 {
						t.Fatalf("got %v, %v; want FrameError{1, %v}", d, err, c.want.err)
					}
					if _, err := r.Next(); err != io.EOF {
						t.Fatalf("after frame error: %v, want EOF", err)
					}
				case c.want.src == "":
					if err != io.EOF {
						t.Fatalf("got %v, %v; want skip and EOF", d, err)
					}
				default:
					if err != nil {
						t.Fatal(err)
					}
					if d.Frame != 1 || d.Src.String() != c.want.src || d.Dst.String() != c.want.dst || string(d.Payload) != c.want.payload || !d.Time.Equal(time.Unix(1700000000, 0)) {
						t.Fatalf("got %+v %q, want %+v", d, d.Payload, c.want)
					}
				}
			}
			t.Run("pcap", func(t *testing.T) { check(t, writePcap(t, c.f.link, [][]byte{c.f.data})) })
			t.Run("pcapng", func(t *testing.T) { check(t, writePcapng(t, []frame{c.f})) })
		})
	}
}

// TestMixedStreamContinues: bad frames among good ones in a pcapng with
// several link types; Read returns every good datagram with correct frame
// numbers and a SkippedFrames listing the bad ones.
func TestMixedStreamContinues(t *testing.T) {
	ip4 := serialize(t, udp4(t, 500, 4500, "a")...)
	ip6 := serialize(t, udp6(t, 4500, 500, "b")...)
	file := writePcapng(t, []frame{
		{layers.LinkTypeRaw, ip4},
		{layers.LinkTypeEthernet, make([]byte, 3)}, // truncated
		{layers.LinkTypeRaw, serialize(t, udp4(t, 53, 53, "x")...)},
		{layers.LinkTypeLinuxSLL2, sll2(0x86dd, ip6)},
		{layers.LinkTypePPP, ip4}, // unknown link type
		{layers.LinkTypeRaw, ip6},
	})
	ds, err := Read(bytes.NewReader(file))
	var sk *SkippedFrames
	if !errors.As(err, &sk) || len(sk.Frames) != 2 || sk.Frames[0].Frame != 2 || sk.Frames[1].Frame != 5 {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(err, ErrTruncated) || !errors.Is(err, ErrLinkType) {
		t.Errorf("SkippedFrames does not unwrap to its causes: %v", err)
	}
	var frames []int
	for _, d := range ds {
		frames = append(frames, d.Frame)
	}
	if len(frames) != 3 || frames[0] != 1 || frames[1] != 4 || frames[2] != 6 {
		t.Fatalf("frames %v, want [1 4 6]", frames)
	}
	if string(ds[0].Payload) != "a" || string(ds[1].Payload) != "b" || string(ds[2].Payload) != "b" {
		t.Errorf("payloads %q %q %q", ds[0].Payload, ds[1].Payload, ds[2].Payload)
	}
}

// TestPayloadsAreCopies: Next's payloads stay valid after later calls, even
// though the reader reuses its frame buffer.
func TestPayloadsAreCopies(t *testing.T) {
	var frames [][]byte
	for i := range 50 {
		frames = append(frames, serialize(t, udp4(t, 500, 500, strings.Repeat(string(rune('a'+i%26)), 100+i))...))
	}
	ds, err := Read(bytes.NewReader(writePcap(t, layers.LinkTypeRaw, frames)))
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range ds {
		if want := strings.Repeat(string(rune('a'+i%26)), 100+i); string(d.Payload) != want {
			t.Fatalf("datagram %d overwritten", i)
		}
		if cap(d.Payload) != len(d.Payload) {
			t.Fatalf("datagram %d: cap %d > len %d lets append clobber a neighbour", i, cap(d.Payload), len(d.Payload))
		}
	}
}

func TestBadFiles(t *testing.T) {
	good := writePcap(t, layers.LinkTypeRaw, [][]byte{serialize(t, udp4(t, 500, 500, "ike")...), serialize(t, udp4(t, 500, 500, "ike")...)})
	cases := []struct {
		class string
		data  []byte
		want  error
	}{
		{"empty file", nil, ErrUnknownFormat},
		{"shorter than a magic number", []byte{0xa1, 0xb2}, ErrUnknownFormat},
		{"garbage text", []byte("this is not a capture file at all, just text\n"), ErrUnknownFormat},
		{"pcap magic with cut header", good[:10], ErrUnknownFormat},
		{"gzip of garbage", []byte{0x1f, 0x8b, 0, 0, 0, 0}, ErrUnknownFormat},
		{"pcapng magic with garbage", append([]byte{0x0a, 0x0d, 0x0d, 0x0a}, bytes.Repeat([]byte{0xff}, 40)...), ErrUnknownFormat},
	}
	for _, c := range cases {
		t.Run(c.class, func(t *testing.T) {
			_, err := Read(bytes.NewReader(c.data))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	t.Run("file cut mid-record", func(t *testing.T) {
		ds, err := Read(bytes.NewReader(good[:len(good)-5]))
		if !errors.Is(err, ErrFile) || len(ds) != 1 {
			t.Fatalf("got %d datagrams, %v; want 1 and ErrFile", len(ds), err)
		}
	})
	t.Run("record longer than any snap length", func(t *testing.T) {
		bad := bytes.Clone(good)
		binary.LittleEndian.PutUint32(bad[24+8:], 1<<30)
		_, err := Read(bytes.NewReader(bad))
		if !errors.Is(err, ErrFile) {
			t.Fatalf("got %v, want ErrFile", err)
		}
	})
}

func TestReadFileMissing(t *testing.T) {
	if _, err := ReadFile(filepath.Join(t.TempDir(), "nope.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}
