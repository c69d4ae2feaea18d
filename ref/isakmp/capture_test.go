package isakmp

import (
	"bytes"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/hitless-ike/hitless/corpus/capture"
)

// captureMsg is one ISAKMP message from the shipped captures.
type captureMsg struct {
	name string // run/frame
	msg  []byte // the ISAKMP message, non-ESP marker removed
}

var (
	captureOnce sync.Once
	captureMsgs []captureMsg
	captureESP  int
	captureKA   int
	captureErr  error
)

// loadCaptures returns every ISAKMP message of the strongSwan captures.
func loadCaptures(tb testing.TB) []captureMsg {
	tb.Helper()
	captureOnce.Do(func() {
		for _, run := range []string{"libipsec", "fakesa"} {
			path := filepath.Join("..", "..", "corpus", "captures", "strongswan-5.9.8", run, "capture.pcap")
			ds, err := capture.ReadFile(path)
			var skipped *capture.SkippedFrames
			if err != nil && !errors.As(err, &skipped) {
				captureErr = err
				return
			}
			for _, d := range ds {
				name := run + "/" + strconv.Itoa(d.Frame)
				p := d.Payload
				if d.Src.Port() == 4500 || d.Dst.Port() == 4500 {
					k, part, err := ClassifyUDP4500(p)
					if err != nil {
						captureErr = err
						return
					}
					switch k {
					case KindESP:
						captureESP++
						continue
					case KindKeepalive:
						captureKA++
						continue
					}
					p = part
				}
				captureMsgs = append(captureMsgs, captureMsg{name, p})
			}
		}
	})
	if captureErr != nil {
		tb.Fatal(captureErr)
	}
	if len(captureMsgs) == 0 {
		tb.Fatal("no ISAKMP messages in the captures")
	}
	return captureMsgs
}

// TestCaptureRoundTrip: every ISAKMP message strongSwan sent parses
// strictly, re-encodes to the same bytes, and the View walk agrees with
// Parse payload by payload.
func TestCaptureRoundTrip(t *testing.T) {
	ms := loadCaptures(t)
	var plain, enc int
	for _, c := range ms {
		m, err := Parse(c.msg)
		if err != nil {
			t.Errorf("%s: Parse: %v", c.name, err)
			continue
		}
		if m.Notes != nil || m.Padding != nil || m.Trailing != nil {
			t.Errorf("%s: strict parse reported notes/padding/trailing", c.name)
		}
		out, err := m.Marshal()
		if err != nil {
			t.Errorf("%s: Marshal: %v", c.name, err)
			continue
		}
		if !bytes.Equal(out, c.msg) {
			t.Errorf("%s: Marshal(Parse(b)) != b\n got %x\nwant %x", c.name, out, c.msg)
		}
		if m.Header.Flags&FlagEncryption != 0 {
			enc++
		} else {
			plain++
		}
		agree(t, c.name, c.msg, ParseOptions{})
	}
	// The runs hold Main Mode 1-4 in clear twice per run (first SA and
	// reauthentication) and encrypted MM5/6, QM and Informational.
	if plain < 8 || enc < 8 {
		t.Errorf("plaintext %d, encrypted %d messages: capture not what the test expects", plain, enc)
	}
	if captureESP == 0 {
		t.Error("no UDP-encapsulated ESP found on port 4500 in the libipsec run")
	}
}

// agree walks b with a View and checks it reports what Parse does: the
// same error, or the same payload types, offsets and bodies.
func agree(t *testing.T, name string, b []byte, o ParseOptions) {
	t.Helper()
	m, perr := ParseWith(b, o)
	var v View
	h, verr := v.StartWith(b, o)
	var types []PayloadType
	var raws [][]byte
	if verr == nil {
		for v.Next() {
			types = append(types, v.Type())
			raws = append(raws, v.Raw())
		}
		verr = v.Err()
	}
	if (perr == nil) != (verr == nil) || (perr != nil && perr.Error() != verr.Error()) {
		t.Fatalf("%s: Parse error %v, View error %v", name, perr, verr)
	}
	if perr != nil {
		return
	}
	if h != m.Header {
		t.Fatalf("%s: View header %+v, Parse header %+v", name, h, m.Header)
	}
	if len(types) != len(m.Payloads) {
		t.Fatalf("%s: View saw %d payloads, Parse %d", name, len(types), len(m.Payloads))
	}
	for i, p := range m.Payloads {
		if p.Type() != types[i] {
			t.Fatalf("%s: payload %d: View %v, Parse %v", name, i, types[i], p.Type())
		}
		enc, err := AppendPayloads(nil, []Payload{p})
		if err != nil {
			t.Fatal(err)
		}
		// Compare all but the next-payload byte (p is alone in enc). A
		// lenient parse drops non-zero reserved bytes, so skip those.
		if m.Notes == nil && !bytes.Equal(enc[1:], raws[i][1:]) {
			t.Fatalf("%s: payload %d re-encodes to %x, View raw %x", name, i, enc, raws[i])
		}
	}
	if !bytes.Equal(v.Ciphertext(), m.Ciphertext) || !bytes.Equal(v.Padding(), m.Padding) ||
		!bytes.Equal(v.Trailing(), m.Trailing) || len(v.Notes()) != len(m.Notes) {
		t.Fatalf("%s: View and Parse disagree on ciphertext/padding/trailing/notes", name)
	}
}
