package ikecrypto

// The differential test on decrypted payloads: for every encrypted message of
// the strongSwan runs, Wireshark's ISAKMP dissector (decrypting with the
// Ka of ikev1_decryption_table and its own IV chain) and our pipeline (Ka,
// phase-1 IV and phase-2 IVs derived by this package, then ref/isakmp's
// strict parser) must show the same payloads, field by field. Both sides are
// reduced to "name=value" lines in tshark's dissection order. tshark is run
// with -T pdml, as cmd/internal/dump's differential does: its -T json repeats
// keys inside one object (one "isakmp.typepayload" per payload), which a JSON
// decoder into maps silently collapses.

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

// headerLines is the number of cleartext header lines (exchange type,
// message ID) that start every view; they anchor the frame, they are not
// what this test is about.
const headerLines = 2

func TestTsharkDecryptedPayloads(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed; CI installs it (apt-get install tshark): skipping the decrypted-payload differential against Wireshark")
	}
	for _, name := range []string{"libipsec", "fakesa"} {
		t.Run(name, func(t *testing.T) {
			r := loadRun(t, name)
			ours := decryptIKESA(t, r)
			theirs := tsharkDecrypted(t, tshark, filepath.Join(vectorsDir, name))
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

// decrypted is one encrypted message of the run's IKE SA with the plaintext
// this package computed for it.
type decrypted struct {
	ikeMsg
	Plaintext []byte
}

// decryptIKESA decrypts every encrypted message of the IKE SA that starts
// the capture, with keys and IVs derived here from the PSK, the cleartext
// Main Mode and the phase-1 DH secret (which cannot be recomputed without
// the private exponents, so it is taken from the log). The known-answer
// test checks each of these values; here they only have to decrypt.
func decryptIKESA(t *testing.T, r *run) []decrypted {
	t.Helper()
	const p = PRFSHA1
	icky := r.msgs[0].InitiatorCookie
	var mm, later []ikeMsg
	for _, m := range r.msgs {
		switch {
		case m.InitiatorCookie != icky:
		case m.Exchange == isakmp.ExchangeMainMode:
			mm = append(mm, m)
		default:
			later = append(later, m)
		}
	}
	if len(mm) != 6 {
		t.Fatalf("%d Main Mode messages, want 6", len(mm))
	}
	keNonce := func(m ikeMsg) (ke, nonce []byte) {
		ps, _, err := walkPayloads(m.Body, m.NextPayload)
		if err != nil {
			t.Fatal(err)
		}
		k, ok1 := findPayload(ps, isakmp.PayloadKE)
		n, ok2 := findPayload(ps, isakmp.PayloadNONCE)
		if !ok1 || !ok2 {
			t.Fatal("MM3/MM4 without KE or nonce")
		}
		return k.Body, n.Body
	}
	gxi, ni := keNonce(mm[2])
	gxr, nr := keNonce(mm[3])
	skeyid, err := SKEYIDPreSharedKey(p, []byte(vectorPSK), ni, nr)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := DeriveKeys(p, skeyid, r.logs["initiator"].first("shared Diffie Hellman secret"),
		mm[5].InitiatorCookie[:], mm[5].ResponderCookie[:])
	if err != nil {
		t.Fatal(err)
	}
	ka, err := CipherKey(p, keys.SKEYIDe, 16)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCipher(EncrAESCBC, ka)
	if err != nil {
		t.Fatal(err)
	}
	iv, err := Phase1IV(p, gxi, gxr, c.BlockSize())
	if err != nil {
		t.Fatal(err)
	}
	var out []decrypted
	decrypt := func(m ikeMsg, iv IV) IV {
		if m.Flags&isakmp.FlagEncryption == 0 {
			t.Fatalf("frame %d: expected an encrypted message", m.Frame)
		}
		pt, next, err := c.Decrypt(nil, iv, m.Body)
		if err != nil {
			t.Fatalf("frame %d: %v", m.Frame, err)
		}
		out = append(out, decrypted{ikeMsg: m, Plaintext: pt})
		return next
	}
	iv = decrypt(mm[4], iv)
	lastP1 := decrypt(mm[5], iv)
	ivs := map[uint32]IV{}
	plain := map[string][]byte{}
	for _, m := range later {
		if pt, ok := plain[string(m.Raw)]; ok {
			// A retransmission repeats the ciphertext; it does not advance
			// the IV chain.
			out = append(out, decrypted{ikeMsg: m, Plaintext: pt})
			continue
		}
		iv, ok := ivs[m.MessageID]
		if !ok {
			if iv, err = Phase2IV(p, lastP1, m.MessageID); err != nil {
				t.Fatal(err)
			}
		}
		ivs[m.MessageID] = decrypt(m, iv)
		plain[string(m.Raw)] = out[len(out)-1].Plaintext
	}
	return out
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
	fmt.Fprintf(&b, "   %-50s | %s\n", "ours", "tshark")
	for i := 0; i < len(ours) || i < len(theirs); i++ {
		var o, th string
		if i < len(ours) {
			o = ours[i]
		}
		if i < len(theirs) {
			th = theirs[i]
		}
		mark := "  "
		if o != th {
			mark = "!!"
		}
		fmt.Fprintf(&b, "%s %-50.50s | %.50s\n", mark, o, th)
	}
	return b.String()
}

type p2Field struct {
	Name   string    `xml:"name,attr"`
	Show   string    `xml:"show,attr"`
	Value  string    `xml:"value,attr"`
	Fields []p2Field `xml:"field"`
}

type p2Packet struct {
	Protos []struct {
		Name   string    `xml:"name,attr"`
		Fields []p2Field `xml:"field"`
	} `xml:"proto"`
}

// tsharkDecrypted runs tshark over dir's capture with dir's key table and
// returns, per frame, the lines of every message tshark decrypted. The
// table is copied into a fresh configuration directory: Wireshark reads
// its UAT files from WIRESHARK_CONFIG_DIR, and the source tree stays
// untouched.
func tsharkDecrypted(t *testing.T, tshark, dir string) map[int][]string {
	t.Helper()
	table, err := os.ReadFile(filepath.Join(dir, "ikev1_decryption_table"))
	if err != nil {
		t.Fatal(err)
	}
	conf := t.TempDir()
	if err := os.WriteFile(filepath.Join(conf, "ikev1_decryption_table"), table, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tshark, "-r", filepath.Join(dir, "capture.pcap"), "-n", "-T", "pdml", "-O", "isakmp", "-Y", "isakmp.enc.data")
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+conf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.Bytes())
	}
	views := map[int][]string{}
	dec := xml.NewDecoder(bytes.NewReader(out))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "packet" {
			continue
		}
		var p p2Packet
		if err := dec.DecodeElement(&p, &se); err != nil {
			t.Fatal(err)
		}
		frame := 0
		var lines []string
		for _, pr := range p.Protos {
			switch pr.Name {
			case "geninfo":
				for _, f := range pr.Fields {
					if f.Name == "num" {
						frame, _ = strconv.Atoi(f.Show)
					}
				}
			case "isakmp":
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
		}
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
func tsharkDecryptedField(lines []string, f p2Field, depth int) []string {
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
		var v string
		for _, c := range f.Fields {
			v += c.Value
		}
		add(name, v)
	case "ipsec.attr", "ike.attr":
		var typ, format, val string
		for _, c := range f.Fields {
			switch c.Name[strings.LastIndexByte(c.Name, '.')+1:] {
			case "type":
				typ = c.Show
			case "format":
				format = c.Show
			case "value":
				val = c.Value
			}
		}
		add("attr", typ+"/"+format+"/"+val)
	}
	return lines
}
