package esp

import (
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/corpus/capture"
)

const libipsec = "../../corpus/captures/strongswan-5.9.8/libipsec/"

// uatSA is one line of a Wireshark esp_sa table.
type uatSA struct {
	src, dst netip.Addr
	cfg      Config
}

// readESPSA parses a Wireshark esp_sa UAT file into SA configurations.
func readESPSA(t *testing.T, path string) []uatSA {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var sas []uatSA
	for _, r := range recs {
		if len(r) != 8 {
			t.Fatalf("esp_sa: %d fields in %q", len(r), r)
		}
		spi, err := strconv.ParseUint(strings.TrimPrefix(r[3], "0x"), 16, 32)
		if err != nil {
			t.Fatal(err)
		}
		enc, err1 := hex.DecodeString(strings.TrimPrefix(r[5], "0x"))
		auth, err2 := hex.DecodeString(strings.TrimPrefix(r[7], "0x"))
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		var tr Transform
		switch r[4] {
		case "AES-CBC [RFC3602]":
			tr = Transform{Cipher: CipherAESCBC, KeyBits: 8 * len(enc)}
		default:
			t.Fatalf("esp_sa: unsupported cipher %q", r[4])
		}
		switch r[6] {
		case "HMAC-SHA-1-96 [RFC2404]":
			tr.Integrity = IntegrityHMACSHA1_96
		case "HMAC-SHA-256-128 [RFC4868]":
			tr.Integrity = IntegrityHMACSHA256_128
		default:
			t.Fatalf("esp_sa: unsupported integrity %q", r[6])
		}
		sas = append(sas, uatSA{
			src: netip.MustParseAddr(r[1]), dst: netip.MustParseAddr(r[2]),
			cfg: Config{SPI: uint32(spi), Transform: tr, EncKey: enc, AuthKey: auth},
		})
	}
	return sas
}

// TestStrongSwanCapture opens the ESP-in-UDP traffic that strongSwan's
// libipsec sent in a real run, with keys from the Wireshark table of that
// run: every packet must authenticate, decrypt to an ICMP echo between the
// two tunnelled hosts with valid checksums, and be refused when replayed.
func TestStrongSwanCapture(t *testing.T) {
	dgs, err := capture.ReadFile(libipsec + "capture.pcap")
	if err != nil {
		t.Fatal(err)
	}
	sas := map[uint32]*SA{}
	ends := map[uint32]uatSA{}
	for _, u := range readESPSA(t, libipsec+"esp_sa") {
		sa, err := NewSA(u.cfg)
		if err != nil {
			t.Fatal(err)
		}
		sas[u.cfg.SPI], ends[u.cfg.SPI] = sa, u
	}
	hostA, hostB := netip.MustParseAddr("10.98.1.1"), netip.MustParseAddr("10.98.2.1")
	var esp []capture.Datagram
	ikeOn4500 := 0
	echoes := map[[2]uint16]int{} // (id, seq) -> requests minus replies
	for _, d := range dgs {
		if d.Dst.Port() != PortNATT {
			continue // port 500 carries IKE only, without the marker
		}
		kind, body, err := ClassifyUDP(d.Payload)
		if err != nil {
			t.Fatalf("frame %d: %v", d.Frame, err)
		}
		if kind == KindIKE {
			ikeOn4500++
			if len(body) < 28 || body[17] != 0x10 {
				t.Errorf("frame %d: IKE after the non-ESP marker lacks an ISAKMP v1.0 header", d.Frame)
			}
		}
		if kind != KindESP {
			continue
		}
		esp = append(esp, d)
		spi, err := PeekSPI(body)
		if err != nil {
			t.Fatalf("frame %d: %v", d.Frame, err)
		}
		sa, ok := sas[spi]
		if !ok {
			t.Fatalf("frame %d: SPI %#x not in esp_sa", d.Frame, spi)
		}
		if u := ends[spi]; u.src != d.Src.Addr() || u.dst != d.Dst.Addr() {
			t.Errorf("frame %d: SPI %#x seen %v -> %v, table says %v -> %v", d.Frame, spi, d.Src, d.Dst, u.src, u.dst)
		}
		p, err := sa.Open(nil, body)
		if err != nil {
			t.Fatalf("frame %d: %v", d.Frame, err)
		}
		if len(p) < 28 || p[0] != 0x45 || p[9] != 1 || ipChecksum(p[:20], 0) != 0 {
			t.Fatalf("frame %d: inner packet is not a valid IPv4 ICMP packet: %x", d.Frame, p)
		}
		src, _ := netip.AddrFromSlice(p[12:16])
		dst, _ := netip.AddrFromSlice(p[16:20])
		icmp := p[20:]
		if ipChecksum(icmp, 0) != 0 {
			t.Errorf("frame %d: bad ICMP checksum", d.Frame)
		}
		key := [2]uint16{binary.BigEndian.Uint16(icmp[4:]), binary.BigEndian.Uint16(icmp[6:])}
		switch {
		case icmp[0] == 8 && src == hostA && dst == hostB:
			echoes[key]++
		case icmp[0] == 0 && src == hostB && dst == hostA:
			echoes[key]--
		default:
			t.Errorf("frame %d: ICMP type %d %v -> %v, want an echo between %v and %v", d.Frame, icmp[0], src, dst, hostA, hostB)
		}
	}
	if len(esp) == 0 || ikeOn4500 == 0 {
		t.Fatalf("%d ESP and %d IKE datagrams on port 4500; want both", len(esp), ikeOn4500)
	}
	for k, n := range echoes {
		if n != 0 {
			t.Errorf("echo id=%d seq=%d: %d requests without reply", k[0], k[1], n)
		}
	}
	for spi, sa := range sas {
		if sa.Stats().Packets == 0 {
			t.Errorf("SA %#x carried no packets", spi)
		}
	}
	for _, d := range esp {
		_, body, _ := ClassifyUDP(d.Payload)
		spi, _ := PeekSPI(body)
		before := snap(sas[spi])
		if _, err := sas[spi].Open(nil, body); !errors.Is(err, Replay) {
			t.Errorf("frame %d replayed: %v, want replay", d.Frame, err)
		}
		if snap(sas[spi]).Stats != before.Stats {
			t.Errorf("frame %d: replay changed counters", d.Frame)
		}
	}
}
