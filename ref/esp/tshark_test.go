package esp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// wiresharkNames maps our transforms to Wireshark's esp_sa UAT names.
func wiresharkNames(t Transform) (enc, auth string) {
	switch t.Cipher {
	case CipherAESCBC:
		enc = "AES-CBC [RFC3602]"
	case CipherAESGCM16:
		enc = "AES-GCM with 16 octet ICV [RFC4106]"
	case CipherNull:
		enc = "NULL"
	}
	switch t.Integrity {
	case IntegrityNone:
		auth = "NULL"
	case IntegrityHMACSHA1_96:
		auth = "HMAC-SHA-1-96 [RFC2404]"
	case IntegrityHMACSHA256_128:
		auth = "HMAC-SHA-256-128 [RFC4868]"
	}
	return enc, auth
}

// outer4 wraps payload in an IPv4 header 192.0.2.1 -> 192.0.2.2.
func outer4(proto byte, payload []byte) []byte {
	p := make([]byte, 20, 20+len(payload))
	p[0], p[8], p[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(p[2:], uint16(20+len(payload)))
	copy(p[12:], []byte{192, 0, 2, 1, 192, 0, 2, 2})
	binary.BigEndian.PutUint16(p[10:], ipChecksum(p[:20], 0))
	return append(p, payload...)
}

// TestTshark writes ESP packets sealed with known keys to a pcap and has
// Wireshark, an independent ESP implementation, authenticate and decrypt
// them. A packet with a corrupted ICV per SA proves tshark really checks.
func TestTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	if testing.Short() {
		t.Skip("runs tshark")
	}
	type frame struct {
		spi     uint32
		v       int  // inner IP version
		corrupt bool // ICV damaged on purpose
	}
	var frames []frame
	var uat strings.Builder
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "esp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	write := func(b []byte) {
		ts = ts.Add(time.Millisecond)
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}
		if err := w.WritePacket(ci, b); err != nil {
			t.Fatal(err)
		}
	}
	for i, tr := range allTransforms {
		spi := uint32(0x1000 + i)
		c := testConfig(tr, spi, false, uint64(100+i))
		out, err := NewSA(c)
		if err != nil {
			t.Fatal(err)
		}
		enc, auth := wiresharkNames(tr)
		fmt.Fprintf(&uat, "\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0x%08x\",\"%s\",\"0x%x\",\"%s\",\"0x%x\"\n",
			spi, enc, c.EncKey, auth, c.AuthKey)
		udp := i%2 == 1 // every other SA in RFC 3948 UDP encapsulation
		for j, v := range []int{4, 6, 4} {
			pkt, err := out.Seal(nil, inner(v, 84+j*40))
			if err != nil {
				t.Fatal(err)
			}
			corrupt := j == 2
			if corrupt {
				pkt[len(pkt)-1] ^= 0x80
			}
			if udp {
				d, err := WrapUDP(nil, PortNATT, PortNATT, pkt)
				if err != nil {
					t.Fatal(err)
				}
				write(outer4(17, d))
			} else {
				write(outer4(50, pkt))
			}
			frames = append(frames, frame{spi, v, corrupt})
		}
	}
	f.Close()
	cfg := filepath.Join(dir, "config")
	os.MkdirAll(filepath.Join(cfg, "wireshark"), 0o755)
	if err := os.WriteFile(filepath.Join(cfg, "wireshark", "esp_sa"), []byte(uat.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tshark, "-n", "-r", filepath.Join(dir, "esp.pcap"),
		"-o", "esp.enable_encryption_decode:TRUE",
		"-o", "esp.enable_authentication_check:TRUE",
		"-o", "udp.check_checksum:TRUE",
		"-T", "fields", "-E", "separator=|", "-E", "occurrence=l",
		"-e", "esp.spi", "-e", "esp.icv_good", "-e", "esp.icv_bad",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "icmp.checksum.status", "-e", "udp.checksum.status")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+cfg, "HOME="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outp, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	t.Logf("tshark:\n%s", outp)
	lines := strings.Split(strings.TrimSpace(string(outp)), "\n")
	if len(lines) != len(frames) {
		t.Fatalf("tshark printed %d lines for %d frames:\n%s", len(lines), len(frames), outp)
	}
	for i, fr := range frames {
		got := strings.Split(lines[i], "|")
		spi, good, bad, src4, src6, icmpOK, udpOK := got[0], got[1], got[2], got[3], got[4], got[5], got[6]
		tr := allTransforms[fr.spi-0x1000]
		where := fmt.Sprintf("frame %d (%v, inner v%d, corrupt=%v): %q", i+1, tr, fr.v, fr.corrupt, lines[i])
		if spi != fmt.Sprintf("0x%08x", fr.spi) {
			t.Errorf("%s: SPI", where)
		}
		isTrue := func(s string) bool { return s == "1" || s == "True" }
		// tshark checks HMACs and GCM tags alike when authentication
		// checking is on.
		if isTrue(good) == fr.corrupt || isTrue(bad) != fr.corrupt {
			t.Errorf("%s: tshark ICV verdict good=%q bad=%q", where, good, bad)
			continue
		}
		if fr.corrupt {
			continue
		}
		switch fr.v {
		case 4:
			if src4 != "10.1.0.1" || icmpOK != "1" {
				t.Errorf("%s: inner ICMP not decoded with a good checksum", where)
			}
		case 6:
			if src6 != "2001:db8::1" || udpOK != "1" {
				t.Errorf("%s: inner IPv6 UDP not decoded with a good checksum", where)
			}
		}
	}
}
