package ikecrypto

// The differential test on decrypted payloads: for every encrypted message of
// the strongSwan runs, Wireshark's ISAKMP dissector (decrypting with the
// Ka of ikev1_decryption_table and its own IV chain) and our pipeline (Ka,
// phase-1 IV and phase-2 IVs derived by this package, then ref/isakmp's
// strict parser) must show the same payloads, field by field. Both sides are
// reduced to "name=value" lines in tshark's dissection order; corpus/tshark
// runs tshark and reads its PDML.

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/corpus/tshark"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// headerLines is the number of cleartext header lines (exchange type,
// message ID) that start every view; they anchor the frame, they are not
// what this test is about.
const headerLines = 2

func TestTsharkDecryptedPayloads(t *testing.T) {
	bin, err := tshark.Find()
	if err != nil {
		t.Skipf("%v; CI installs it: skipping the decrypted-payload differential against Wireshark", err)
	}
	for _, name := range []string{"libipsec", "fakesa"} {
		t.Run(name, func(t *testing.T) {
			r := loadRun(t, name)
			ours := decryptIKESA(t, r)
			theirs := tsharkDecrypted(t, bin, filepath.Join(vectorsDir, name))
			counts := map[isakmp.ExchangeType]int{}
			fields := 0
			for _, m := range ours {
				view := m.lines(t)
				tv, ok := theirs[m.Frame]
				if !ok {
					t.Errorf("frame %d: we decrypt it, tshark shows no decrypted payloads", m.Frame)
					continue
				}
				if d := diffLines(view, tv); d != "" {
					t.Errorf("frame %d (exchange %d, M-ID %08x): decrypted views differ\n%s", m.Frame, m.Exchange, m.MessageID, d)
					continue
				}
				// The views agree; make sure they said something about the
				// encrypted payloads, not just the two header lines.
				n := len(view) - headerLines
				if n <= 0 {
					t.Errorf("frame %d: no decrypted field compared", m.Frame)
				}
				fields += n
				counts[m.Exchange]++
				delete(theirs, m.Frame)
			}
			for frame, tv := range theirs {
				if len(tv) > headerLines {
					t.Errorf("frame %d: tshark decrypts it, we do not:\n%s", frame, strings.Join(tv, "\n"))
				}
			}
			t.Logf("%s: %d decrypted fields agree in %d Quick Mode, %d Informational and %d Main Mode messages", name, fields,
				counts[isakmp.ExchangeQuickMode], counts[isakmp.ExchangeInformational], counts[isakmp.ExchangeMainMode])
			if counts[isakmp.ExchangeQuickMode] < 6 || counts[isakmp.ExchangeInformational] < 2 {
				t.Errorf("only %d Quick Mode and %d Informational messages compared; the runs hold at least 6 and 2",
					counts[isakmp.ExchangeQuickMode], counts[isakmp.ExchangeInformational])
			}
			checkDiffDetects(t, ours)
		})
	}
}

// checkDiffDetects proves the comparison can fail: a nonce byte flipped in
// our plaintext (input class: decrypted field value changed) and the last
// line dropped from our view (input class: field missing) must each be
// reported against the unchanged view.
func checkDiffDetects(t *testing.T, ours []decrypted) {
	t.Helper()
	for _, m := range ours {
		if m.Exchange != isakmp.ExchangeQuickMode || !m.FromInitiator {
			continue
		}
		ps, _, err := walkPayloads(m.Plaintext, m.NextPayload)
		if err != nil {
			t.Fatal(err)
		}
		n, ok := findPayload(ps, isakmp.PayloadNONCE)
		if !ok {
			continue
		}
		good := m.lines(t)
		bad := m
		bad.Plaintext = bytes.Clone(m.Plaintext)
		bad.Plaintext[n.End-1] ^= 0x80
		if diffLines(bad.lines(t), good) == "" {
			t.Error("a changed nonce byte went unnoticed")
		}
		if diffLines(good[:len(good)-1], good) == "" {
			t.Error("a missing field went unnoticed")
		}
		return
	}
	t.Error("no Quick Mode message with a nonce to corrupt")
}

// decryptIKESA decrypts every encrypted message of the IKE SA that starts
// the capture, with keys and IVs derived here from the PSK, the cleartext
// Main Mode and the phase-1 DH secret (which cannot be recomputed without
// the private exponents, so it is taken from the log). The known-answer
// test checks each of these values; here they only have to decrypt.
func decryptIKESA(t *testing.T, r *run) []decrypted {
	t.Helper()
	sa := firstIKESA(t, r)
	return sa.decrypt(t, sa.derive(t, r.logs["initiator"].First("shared Diffie Hellman secret")))
}

// lines reduces our decryption of m, parsed by ref/isakmp, to the lines
// tsharkDecrypted produces. A payload type this test does not render fails
// the test rather than being skipped.
func (m decrypted) lines(t *testing.T) []string {
	t.Helper()
	var l []string
	add := func(k string, v any) { l = append(l, fmt.Sprintf("%s=%v", k, v)) }
	more := func(b bool, typ isakmp.PayloadType) isakmp.PayloadType {
		if b {
			return typ
		}
		return isakmp.PayloadNone
	}
	add("exchangetype", uint8(m.Exchange))
	add("messageid", fmt.Sprintf("%08x", m.MessageID))
	body, err := isakmp.ParsePayloads(m.NextPayload, m.Plaintext, isakmp.ParseOptions{})
	if err != nil {
		// Not fatal: shown next to what tshark made of the same bytes.
		add("parse error", err)
		return l
	}
	// The strict View walk gives each payload's extent for the length field.
	walked, _, err := walkPayloads(m.Plaintext, m.NextPayload)
	if err != nil || len(walked) != len(body.Payloads) {
		t.Fatalf("frame %d: View and ParsePayloads disagree: %d vs %d payloads, %v", m.Frame, len(walked), len(body.Payloads), err)
	}
	for i, pl := range body.Payloads {
		next := isakmp.PayloadNone
		if i+1 < len(body.Payloads) {
			next = body.Payloads[i+1].Type()
		}
		add("payload", uint8(pl.Type()))
		add("nextpayload", uint8(next))
		add("payloadlength", walked[i].End-walked[i].Start)
		switch p := pl.(type) {
		case *isakmp.Hash:
			add("hash", hex.EncodeToString(p.Data))
		case *isakmp.Nonce:
			add("nonce", hex.EncodeToString(p.Data))
		case *isakmp.KeyExchange:
			add("key_exchange.data", hex.EncodeToString(p.Data))
		case *isakmp.SA:
			add("sa.doi", uint32(p.DOI))
			add("sa.situation", fmt.Sprintf("%08x", uint32(p.Situation)))
			for j, pr := range p.Proposals {
				add("payload", uint8(isakmp.PayloadProposal))
				add("nextpayload", uint8(more(j+1 < len(p.Proposals), isakmp.PayloadProposal)))
				add("prop.number", pr.Number)
				add("prop.protoid", uint8(pr.Protocol))
				add("spisize", len(pr.SPI))
				add("prop.transforms", len(pr.Transforms))
				if len(pr.SPI) > 0 {
					add("spi", hex.EncodeToString(pr.SPI))
				}
				for k, tr := range pr.Transforms {
					add("payload", uint8(isakmp.PayloadTransform))
					add("nextpayload", uint8(more(k+1 < len(pr.Transforms), isakmp.PayloadTransform)))
					add("trans.number", tr.Number)
					add("trans.id", tr.ID)
					for _, a := range tr.Attributes {
						if a.Basic {
							add("attr", fmt.Sprintf("%d/1/%04x", a.Type, a.Value))
						} else {
							add("attr", fmt.Sprintf("%d/0/%x", a.Type, a.Data))
						}
					}
				}
			}
		case *isakmp.Identification:
			add("id.type", uint8(p.IDType))
			add("id.protoid", p.Protocol)
			add("id.port", p.Port)
			add("id.data", hex.EncodeToString(p.Data))
		case *isakmp.Notification:
			add("notify.doi", uint32(p.DOI))
			add("notify.protoid", uint8(p.Protocol))
			add("spisize", len(p.SPI))
			add("notify.msgtype", uint16(p.Notify))
			if len(p.SPI) > 0 {
				add("spi", hex.EncodeToString(p.SPI))
			}
			add("notify.data", hex.EncodeToString(p.Data)) // tshark lists it even when empty
		case *isakmp.Delete:
			add("delete.doi", uint32(p.DOI))
			add("delete.protoid", uint8(p.Protocol))
			add("spisize", p.SPISize)
			add("spinum", p.NumSPIs())
			for i := range p.NumSPIs() {
				add("delete.spi", hex.EncodeToString(p.SPI(i)))
			}
		default:
			t.Fatalf("frame %d: payload %v is not rendered by this test", m.Frame, pl.Type())
		}
	}
	if len(body.Padding) > 0 {
		add("padding", hex.EncodeToString(body.Padding))
	}
	return l
}

// diffLines returns "" when ours and theirs are equal, otherwise each
// differing field and then both views side by side.
func diffLines(ours, theirs []string) string {
	if strings.Join(ours, "\n") == strings.Join(theirs, "\n") {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(ours) || i < len(theirs); i++ {
		o, th := "(none)", "(none)"
		if i < len(ours) {
			o = ours[i]
		}
		if i < len(theirs) {
			th = theirs[i]
		}
		if o != th {
			field, _, _ := strings.Cut(o, "=")
			if o == "(none)" {
				field, _, _ = strings.Cut(th, "=")
			}
			fmt.Fprintf(&b, "line %d, field %s: ours %q, tshark %q\n", i+1, field, o, th)
		}
	}
	b.WriteString(tshark.SideBySide(ours, theirs))
	return b.String()
}

// tsharkDecrypted runs tshark over dir's capture with dir's key table and
// returns, per frame, the lines of every message tshark decrypted. The
// table is copied into a fresh configuration directory: Wireshark reads
// its UAT files from WIRESHARK_CONFIG_DIR, and the source tree stays
// untouched.
func tsharkDecrypted(t *testing.T, bin, dir string) map[int][]string {
	t.Helper()
	table, err := os.ReadFile(filepath.Join(dir, "ikev1_decryption_table"))
	if err != nil {
		t.Fatal(err)
	}
	conf := t.TempDir()
	if err := os.WriteFile(filepath.Join(conf, "ikev1_decryption_table"), table, 0o600); err != nil {
		t.Fatal(err)
	}
	packets, err := tshark.Run(bin, filepath.Join(dir, "capture.pcap"), tshark.Options{
		Filter:    "isakmp.enc.data",
		ConfigDir: conf,
		Args:      []string{"-O", "isakmp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	views := map[int][]string{}
	for _, p := range packets {
		var lines []string
		for _, pr := range p.Protos {
			if pr.Name != "isakmp" {
				continue
			}
			for _, f := range pr.Fields {
				switch f.Name {
				case "isakmp.exchangetype":
					lines = append(lines, "exchangetype="+f.Show)
				case "isakmp.messageid":
					lines = append(lines, "messageid="+f.Value)
				case "isakmp.enc.data":
					for _, c := range f.Fields {
						lines = tsharkDecryptedField(lines, c, 0)
					}
				}
			}
		}
		frame := p.Frame()
		if frame == 0 {
			t.Fatal("tshark packet without a frame number")
		}
		views[frame] = lines
	}
	if len(views) == 0 {
		t.Fatal("tshark shows no encrypted ISAKMP message")
	}
	return views
}

// tsharkDecryptedField appends the lines of one field of the decrypted
// tree. depth counts enclosing payloads, so that only top-level payloads
// report a length (ours come from the payload walk; proposal and
// transform lengths are checked by the parser, not rendered).
func tsharkDecryptedField(lines []string, f tshark.Field, depth int) []string {
	add := func(k, v string) { lines = append(lines, k+"="+v) }
	name := strings.TrimPrefix(f.Name, "isakmp.")
	switch name {
	case "hash", "nonce", "key_exchange.data", "sa.situation", "spi", "notify.data", "delete.spi":
		add(name, f.Value)
	case "nextpayload", "sa.doi", "prop.number", "prop.protoid", "spisize", "prop.transforms",
		"trans.number", "trans.id", "id.type", "id.protoid", "id.port",
		"notify.doi", "notify.protoid", "notify.msgtype", "delete.doi", "delete.protoid", "spinum":
		add(name, f.Show)
	case "payloadlength":
		if depth == 1 {
			add(name, f.Show)
		}
	case "extradata":
		add("padding", f.Value)
	case "typepayload":
		add("payload", f.Show)
		for _, c := range f.Fields {
			lines = tsharkDecryptedField(lines, c, depth+1)
		}
	case "id.data":
		// The data is dissected into typed children (address, mask...);
		// their raw bytes in order are the ID data.
		add(name, f.JoinValues())
	case "ipsec.attr", "ike.attr":
		add("attr", f.Child("type").Show+"/"+f.Child("format").Show+"/"+f.Child("value").Value)
	}
	return lines
}
