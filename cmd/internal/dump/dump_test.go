package dump

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/cmd/internal/synth"
	"github.com/hitless-ike/hitless/cmd/internal/udpencap"
	"github.com/hitless-ike/hitless/corpus/capture"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

func run(t *testing.T, file []byte, o Options) (entries []entry, text string, stderr string, st Stats) {
	t.Helper()
	r, err := capture.NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	st, err = New(&out, &errs, o).Run(r)
	if err != nil {
		t.Fatal(err)
	}
	if !o.JSON {
		return nil, out.String(), errs.String(), st
	}
	for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("invalid JSON line %s: %v", line, err)
		}
		entries = append(entries, e)
	}
	return entries, "", errs.String(), st
}

// TestShippedAgainstParse: every ISAKMP datagram of the shipped captures
// appears once, in order, and its JSON header fields equal what
// isakmp.ParseHeader and isakmp.ParseWith give for the same bytes.
func TestShippedAgainstParse(t *testing.T) {
	for _, path := range shippedCaptures {
		ds, err := capture.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		file := mustRead(t, path)
		entries, _, stderr, st := run(t, file, Options{JSON: true})
		_, text, _, _ := run(t, file, Options{})
		if stderr != "" || st.Bad != 0 {
			t.Fatalf("%s: bad packets reported: %s", path, stderr)
		}
		i := 0
		for _, d := range ds {
			kind, msg, _ := udpencap.Classify(&d)
			if kind != udpencap.ISAKMP {
				continue
			}
			if i >= len(entries) {
				t.Fatalf("%s: frame %d missing from the dump", path, d.Frame)
			}
			e := entries[i]
			i++
			if e.Frame != d.Frame || e.Src != d.Src.String() || e.Dst != d.Dst.String() || e.Kind != "isakmp" || e.ISAKMP == nil {
				t.Fatalf("%s: entry %+v for frame %d", path, e, d.Frame)
			}
			if tm, err := time.Parse(time.RFC3339Nano, e.Time); err != nil || !tm.Equal(d.Time) {
				t.Errorf("frame %d: time %q, capture says %v", d.Frame, e.Time, d.Time)
			}
			h, err := isakmp.ParseHeader(msg)
			if err != nil {
				t.Fatal(err)
			}
			if got := headerOf(t, e.ISAKMP); got != h {
				t.Errorf("frame %d: JSON header %+v, ParseHeader %+v", d.Frame, got, h)
			}
			m, err := isakmp.ParseWith(msg, isakmp.ParseOptions{Lenient: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(e.ISAKMP.Payloads) != len(m.Payloads) {
				t.Errorf("frame %d: %d payloads, Parse has %d", d.Frame, len(e.ISAKMP.Payloads), len(m.Payloads))
			}
			for j, p := range m.Payloads {
				if j < len(e.ISAKMP.Payloads) && e.ISAKMP.Payloads[j].Type != int(p.Type()) {
					t.Errorf("frame %d payload %d: type %d, Parse says %v", d.Frame, j, e.ISAKMP.Payloads[j].Type, p.Type())
				}
			}
			if (e.ISAKMP.Encrypted != nil) != (m.Ciphertext != nil) || e.ISAKMP.Encrypted != nil && e.ISAKMP.Encrypted.Length != len(m.Ciphertext) {
				t.Errorf("frame %d: encrypted part disagrees with Parse", d.Frame)
			}
			if !strings.Contains(text, "\nFrame "+strconv.Itoa(d.Frame)+": isakmp\n") && !strings.HasPrefix(text, "Frame "+strconv.Itoa(d.Frame)+": isakmp\n") {
				t.Errorf("frame %d missing from the text dump", d.Frame)
			}
		}
		if i != len(entries) || i != st.ISAKMP {
			t.Errorf("%s: %d ISAKMP datagrams, %d entries, stats %+v", path, i, len(entries), st)
		}
	}
}

// headerOf rebuilds an isakmp.Header from the JSON fields: the round trip
// the JSON form must support.
func headerOf(t *testing.T, m *message) isakmp.Header {
	var h isakmp.Header
	ic, err1 := hex.DecodeString(m.ISPI)
	rc, err2 := hex.DecodeString(m.RSPI)
	if err1 != nil || err2 != nil || len(ic) != 8 || len(rc) != 8 {
		t.Fatalf("cookies %q %q", m.ISPI, m.RSPI)
	}
	h.InitiatorCookie, h.ResponderCookie = isakmp.Cookie(ic), isakmp.Cookie(rc)
	h.NextPayload = isakmp.PayloadType(m.NextPayload)
	h.MajorVersion, h.MinorVersion = uint8(m.MajorVersion), uint8(m.MinorVersion)
	h.Exchange = isakmp.ExchangeType(m.Exchange)
	h.Flags = isakmp.Flags(m.Flags)
	h.MessageID = m.MessageID
	h.Length = uint32(m.Length)
	return h
}

// TestDecodedFields checks the decoded forms that tshark does not show the
// same way: ID data, vendor names, notify names, attribute names.
func TestDecodedFields(t *testing.T) {
	_, text, stderr, _ := run(t, testCapture(t), Options{})
	if stderr != "" {
		t.Fatal(stderr)
	}
	for _, want := range []string{
		"Name: vpn.example.org", "Name: alice@example.org", "Subnet: 10.1.0.0/16",
		"Subnet: 2001:db8:1::/48", "Address: 10.2.3.4", "Address: 2001:db8::5",
		"Range: 10.0.0.1-10.0.0.200", "Original address: 192.168.1.10",
		"Vendor: RFC 3706 DPD", "Notify message type: INITIAL-CONTACT (24578)",
		"Attribute Encryption Algorithm (1) = AES-CBC (7)",
		"Attribute Life Duration (12) = 86400 (3 bytes)",
		"Attribute Encapsulation Mode (4) = UDP-Encapsulated-Tunnel (3)",
		"Transform ID: ESP_AES-CBC (12)", "Encrypted payloads (not decrypted)",
		"SPI: aabbccdd", "SPI: 11223344", "Message ID: 0xdeadbeef",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text dump lacks %q", want)
		}
	}
}

// TestBadPacketsContinue: each class of bad input is reported (stderr and
// an error entry with the typed error's text, offset and path) and the
// dump goes on to the next datagram.
func TestBadPacketsContinue(t *testing.T) {
	good := testMessages(t)[0]
	truncSA := bytes.Clone(good[:60])            // cut inside the SA payload
	binary.BigEndian.PutUint32(truncSA[24:], 60) // and make the header length agree
	badVersion := bytes.Clone(good)
	badVersion[17] = 0x20
	a := netip.MustParseAddrPort("192.0.2.1:500")
	b := netip.MustParseAddrPort("192.0.2.2:500")
	a4, b4 := netip.AddrPortFrom(a.Addr(), 4500), netip.AddrPortFrom(b.Addr(), 4500)
	cases := []struct {
		class string
		d     capture.Datagram
		want  error
	}{
		{"SA payload longer than the message", capture.Datagram{Src: a, Dst: b, Payload: truncSA}, isakmp.ErrUnequalPayloadLengths},
		{"shorter than an ISAKMP header", capture.Datagram{Src: a, Dst: b, Payload: good[:20]}, isakmp.ErrTruncated},
		{"major version 2", capture.Datagram{Src: a, Dst: b, Payload: badVersion}, isakmp.ErrInvalidMajorVersion},
		{"port 4500 three bytes", capture.Datagram{Src: a4, Dst: b4, Payload: []byte{1, 2, 3}}, isakmp.ErrUDPFraming},
	}
	for _, c := range cases {
		t.Run(c.class, func(t *testing.T) {
			ds := []capture.Datagram{c.d, {Src: a, Dst: b, Payload: good}}
			var buf bytes.Buffer
			if _, err := synth.Generate(&buf, [][]capture.Datagram{ds}, 1); err != nil {
				t.Fatal(err)
			}
			entries, _, stderr, st := run(t, buf.Bytes(), Options{JSON: true})
			if len(entries) != 2 || st.Bad != 1 || st.ISAKMP != 1 {
				t.Fatalf("entries %d, stats %+v", len(entries), st)
			}
			e := entries[0]
			r, _ := capture.NewReader(bytes.NewReader(buf.Bytes()))
			d0, _ := r.Next()
			_, body, ferr := udpencap.Classify(&d0)
			err := ferr
			if err == nil {
				_, err = isakmp.ParseWith(body, isakmp.ParseOptions{Lenient: true})
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("input does not exercise %v: %v", c.want, err)
			}
			var pe *isakmp.Error
			errors.As(err, &pe)
			if e.Error != err.Error() || e.Offset == nil || *e.Offset != pe.Offset || e.Path != pe.Path || e.ISAKMP != nil {
				t.Errorf("error entry %+v, want %q at %d in %q", e, err, pe.Offset, pe.Path)
			}
			if stderr != "frame 1: "+err.Error()+"\n" {
				t.Errorf("stderr %q", stderr)
			}
			if entries[1].Frame != 2 || entries[1].ISAKMP == nil {
				t.Errorf("dump did not continue: %+v", entries[1])
			}
		})
	}
}

// TestFrameErrorsContinue: a frame the capture reader cannot decode is an
// error entry with the frame number, and later frames follow.
func TestFrameErrorsContinue(t *testing.T) {
	file := testCapture(t)
	// Cut the IPv4 total length of frame 1 below its header length.
	const frame1 = 24 + 16 + 14
	file[frame1+2], file[frame1+3] = 0, 10
	entries, _, stderr, st := run(t, file, Options{JSON: true})
	if st.Bad != 1 || entries[0].Frame != 1 || !strings.Contains(entries[0].Error, "bad length") {
		t.Fatalf("first entry %+v, stats %+v", entries[0], st)
	}
	if !strings.HasPrefix(stderr, "frame 1: capture: bad length field") {
		t.Errorf("stderr %q", stderr)
	}
	if entries[1].Frame != 2 || entries[1].ISAKMP == nil {
		t.Errorf("dump did not continue: %+v", entries[1])
	}
}

func TestESPOnlyOnRequest(t *testing.T) {
	file := testCapture(t)
	without, _, _, st := run(t, file, Options{JSON: true})
	with, _, _, _ := run(t, file, Options{JSON: true, ESP: true})
	if len(with) != len(without)+2 || st.ESP != 1 || st.Keepalive != 1 {
		t.Fatalf("%d entries with --esp, %d without, stats %+v", len(with), len(without), st)
	}
	esp := with[len(with)-2]
	if esp.Kind != "esp" || esp.ESP == nil || esp.ESP.SPI != 0xc0ffee01 || esp.ESP.Seq != 9 || esp.ESP.Length != 16 {
		t.Errorf("ESP entry %+v %+v", esp, esp.ESP)
	}
	if ka := with[len(with)-1]; ka.Kind != "nat-keepalive" {
		t.Errorf("keepalive entry %+v", ka)
	}
}

// TestJSONStrings compares the hand-written string encoder with
// encoding/json's decoder on every class of awkward input.
func TestJSONStrings(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and backslash \`, "control \x00\x01\x1f\x7f", "newline\n tab\t cr\r",
		"unicode é 日本 🙂", "invalid \xff\xfe utf-8", "truncated rune \xe6\x97", "<html>&amp;",
	} {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%q encodes to invalid JSON %s: %v", s, b, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if s == "truncated rune \xe6\x97" {
			want = "truncated rune \uFFFD\uFFFD"
		} else if s == "invalid \xff\xfe utf-8" {
			want = "invalid \uFFFD\uFFFD utf-8"
		}
		if got != want {
			t.Errorf("%q round-trips to %q, want %q", s, got, want)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
