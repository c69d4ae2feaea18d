package generate

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/hitless-ike/hitless/corpus/capture"
	"github.com/hitless-ike/hitless/fuzz"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Targets fed from decrypted Quick Mode messages.
const (
	targetQM1       = "qm1"
	targetQM2       = "qm2"
	targetEncrypted = "encrypted"
)

// StrongSwanPSK is the pre-shared key of the shipped runs (ORIGIN.md).
const StrongSwanPSK = "interop-test-psk-0123456789"

// ErrPhase2 is returned when a capture's phase-2 messages cannot be
// decrypted and verified with the keys derived from it and its log.
var ErrPhase2 = errors.New("generate: phase-2 messages do not decrypt")

// LogOf returns the charon log whose DH secret decrypts capture (the
// responder's, next to it), as a path of the same form.
func LogOf(capture string) string { return path.Join(path.Dir(capture), "charon-responder.log") }

// QMMessage is one decrypted Quick Mode message of a capture.
type QMMessage struct {
	N         int // 1, 2 or 3: QM1, QM2 or QM3
	MessageID uint32
	First     isakmp.PayloadType // header's next payload: HASH
	Plain     []byte             // decrypted body, padding included
	Chain     []byte             // the payload chain after HASH, no padding
	Next      isakmp.PayloadType // HASH payload's next payload
}

// Phase2 decrypts every Quick Mode message of one shipped capture with
// the IKE SA keys strongSwan derived: SKEYID from the pre-shared key and
// the Main Mode nonces on the wire, SKEYID_* from the DH secret in the
// responder's charon log, each phase-2 IV from the last Main Mode block
// and the message ID, chained per message ID. Every HASH(1)/HASH(2)/HASH(3)
// is verified, so a wrong key is an error, not a silent bad seed. It
// returns the phase 1 it derived too. root is the module root; capPath a
// Captures entry.
func Phase2(root, capPath string) ([]QMMessage, quickmode.Phase1, error) {
	ds, err := capture.ReadFile(filepath.Join(root, filepath.FromSlash(capPath)))
	if err != nil {
		return nil, quickmode.Phase1{}, err
	}
	gxy, err := logValue(filepath.Join(root, filepath.FromSlash(LogOf(capPath))), "shared Diffie Hellman secret")
	if err != nil {
		return nil, quickmode.Phase1{}, err
	}
	return decryptPhase2(ds, gxy)
}

type ikeMsg struct {
	fromI bool
	raw   []byte
	h     isakmp.Header
}

func decryptPhase2(ds []capture.Datagram, gxy []byte) ([]QMMessage, quickmode.Phase1, error) {
	var msgs []ikeMsg
	for i := range ds {
		d := &ds[i]
		b := d.Payload
		if encapsulated(d) {
			k, part, _ := isakmp.ClassifyUDP4500(b)
			if k != isakmp.KindIKE {
				continue
			}
			b = part
		}
		h, err := isakmp.ParseHeader(b)
		if err != nil {
			continue
		}
		// The initiator is the sender of the first message; another
		// IKE SA (a half-open Main Mode in the capture) is left out.
		if len(msgs) > 0 && h.InitiatorCookie != msgs[0].h.InitiatorCookie {
			continue
		}
		msgs = append(msgs, ikeMsg{fromI: len(msgs) == 0 || d.Src.Addr() == ds[0].Src.Addr(), raw: b, h: h})
	}
	var ni, nr, lastMM []byte
	var cookieR isakmp.Cookie
	for _, m := range msgs {
		if m.h.Exchange != isakmp.ExchangeMainMode {
			continue
		}
		lastMM, cookieR = m.raw, m.h.ResponderCookie
		if m.h.Flags&isakmp.FlagEncryption != 0 {
			continue
		}
		pm, err := isakmp.Parse(m.raw)
		if err != nil {
			return nil, quickmode.Phase1{}, fmt.Errorf("%w: Main Mode: %v", ErrPhase2, err)
		}
		for _, p := range pm.Payloads {
			if n, ok := p.(*isakmp.Nonce); ok && m.fromI {
				ni = n.Data
			} else if ok {
				nr = n.Data
			}
		}
	}
	if ni == nil || nr == nil || len(lastMM) < isakmp.HeaderLen+16 {
		return nil, quickmode.Phase1{}, fmt.Errorf("%w: no Main Mode nonces or last block", ErrPhase2)
	}
	p1, err := quickmode.NewPhase1PSK(quickmode.PSKParams{
		PRF: ikecrypto.PRFSHA1, Encr: ikecrypto.EncrAESCBC, KeyLen: 16,
		PSK: []byte(StrongSwanPSK), Ni: ni, Nr: nr, GXY: gxy,
		CookieI: msgs[0].h.InitiatorCookie, CookieR: cookieR,
		LastBlock: lastMM[len(lastMM)-16:],
	})
	if err != nil {
		return nil, p1, err
	}
	c, err := ikecrypto.NewCipher(p1.Encr, p1.Key)
	if err != nil {
		return nil, p1, err
	}
	last, err := ikecrypto.NewIV(p1.LastBlock)
	if err != nil {
		return nil, p1, err
	}
	ivs := map[uint32]ikecrypto.IV{}
	nonces := map[uint32][2][]byte{}
	count := map[uint32]int{}
	seen := map[string]bool{}
	var out []QMMessage
	for _, m := range msgs {
		if m.h.Exchange == isakmp.ExchangeMainMode || seen[string(m.raw)] {
			continue // a retransmission repeats ciphertext and IV
		}
		seen[string(m.raw)] = true
		iv, ok := ivs[m.h.MessageID]
		if !ok {
			if iv, err = ikecrypto.Phase2IV(p1.PRF, last, m.h.MessageID); err != nil {
				return nil, p1, err
			}
		}
		end := min(len(m.raw), int(m.h.Length))
		if end < isakmp.HeaderLen {
			return nil, p1, fmt.Errorf("%w: M-ID %#x: length %d", ErrPhase2, m.h.MessageID, m.h.Length)
		}
		plain, next, err := c.Decrypt(nil, iv, m.raw[isakmp.HeaderLen:end])
		if err != nil {
			return nil, p1, fmt.Errorf("%w: M-ID %#x: %v", ErrPhase2, m.h.MessageID, err)
		}
		ivs[m.h.MessageID] = next
		if m.h.Exchange != isakmp.ExchangeQuickMode {
			continue
		}
		q, err := splitHash(m.h.NextPayload, plain)
		if err != nil {
			return nil, p1, fmt.Errorf("%w: M-ID %#x: %v", ErrPhase2, m.h.MessageID, err)
		}
		count[m.h.MessageID]++
		q.N, q.MessageID, q.First, q.Plain = count[m.h.MessageID], m.h.MessageID, m.h.NextPayload, plain
		if err := verify(p1, q, nonces); err != nil {
			return nil, p1, fmt.Errorf("%w: M-ID %#x QM%d: %v", ErrPhase2, q.MessageID, q.N, err)
		}
		out = append(out, q)
	}
	return out, p1, nil
}

// splitHash returns the chain after the HASH payload of a decrypted body,
// padding cut off, and the type of its first payload.
func splitHash(first isakmp.PayloadType, plain []byte) (QMMessage, error) {
	if first != isakmp.PayloadHASH || len(plain) < 4 {
		return QMMessage{}, errors.New("first payload is not HASH")
	}
	body, err := isakmp.ParsePayloads(first, plain, isakmp.ParseOptions{})
	if err != nil {
		return QMMessage{}, err
	}
	hl := get16(plain, 2)
	chainEnd := len(plain) - len(body.Padding)
	if hl < 4 || hl > chainEnd {
		return QMMessage{}, errors.New("HASH payload length")
	}
	return QMMessage{Chain: plain[hl:chainEnd], Next: isakmp.PayloadType(plain[0])}, nil
}

// verify checks the HASH of q with the keys of p1 (RFC 2409 §5.5),
// remembering the nonces QM2 and QM3 need.
func verify(p1 quickmode.Phase1, q QMMessage, nonces map[uint32][2][]byte) error {
	got := q.Plain[4:get16(q.Plain, 2)]
	var nonce []byte
	if q.N < 3 {
		body, err := isakmp.ParsePayloads(q.Next, q.Chain, isakmp.ParseOptions{})
		if err != nil {
			return err
		}
		for _, p := range body.Payloads {
			if n, ok := p.(*isakmp.Nonce); ok {
				nonce = n.Data
			}
		}
		if nonce == nil {
			return errors.New("no nonce")
		}
	}
	n := nonces[q.MessageID]
	switch q.N {
	case 1:
		nonces[q.MessageID] = [2][]byte{nonce, nil}
		return ikecrypto.VerifyHash1(p1.PRF, p1.SKEYIDa, q.MessageID, q.Chain, got)
	case 2:
		nonces[q.MessageID] = [2][]byte{n[0], nonce}
		return ikecrypto.VerifyHash2(p1.PRF, p1.SKEYIDa, q.MessageID, n[0], q.Chain, got)
	case 3:
		return ikecrypto.VerifyHash3(p1.PRF, p1.SKEYIDa, q.MessageID, n[0], n[1], got)
	}
	return fmt.Errorf("no HASH check for quick mode message %d", q.N)
}

// logHeader matches a binary value's header line in a charon log at level
// 4: "<time> <thread>[<group>] [<conn|n>] NAME => N bytes @ 0xADDR".
var logHeader = regexp.MustCompile(`^\S+ (\d+\[\w+\]) (?:<[^>]*> )?(.+) => (\d+) bytes @ 0x[0-9a-fA-F]+$`)

// logDump matches one hex-dump line of the value: offset, up to 16 bytes.
var logDump = regexp.MustCompile(`^\S+ (\d+\[\w+\]) (?:<[^>]*> )?\s*(\d+): ((?:[0-9A-F]{2} ?)+)`)

// logValue returns the first value charon logged under name. Dump lines
// are matched to the header by thread, as threads may interleave.
func logValue(file, name string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var thread string
	var out []byte
	want := -1
	for sc.Scan() {
		l := sc.Text()
		if want < 0 {
			if m := logHeader.FindStringSubmatch(l); m != nil && m[2] == name {
				n, err := strconv.Atoi(m[3])
				if err != nil || n > 1<<16 {
					return nil, fmt.Errorf("%s: %q: bad length %q", file, name, m[3])
				}
				thread, want = m[1], n
			}
			continue
		}
		m := logDump.FindStringSubmatch(l)
		if m == nil || m[1] != thread {
			continue
		}
		if off, _ := strconv.Atoi(m[2]); off != len(out) {
			return nil, fmt.Errorf("%s: %q: dump offset %d, expected %d", file, name, off, len(out))
		}
		h, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(m[3]), " ", ""))
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %v", file, name, err)
		}
		out = append(out, h[:min(len(h), want-len(out))]...)
		if len(out) == want {
			return out, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%s: %q not logged in full", file, name)
}

// phase2Inputs returns, for one capture, the seeds of the three phase-2
// targets: the chain after HASH of every QM1 (qm1) and QM2 (qm2), framed
// as the fuzz targets read them (for qm2, with the initiator offering
// MODP-2048 as strongSwan's did), and every Quick Mode body re-encrypted
// under the fixed AES-128 key of FuzzDecryptParse (encrypted), the first
// QM1 under its AES-256 and 3DES keys too.
func phase2Inputs(qms []QMMessage) (map[string][][]byte, error) {
	out := map[string][][]byte{}
	for i, q := range qms {
		framed := append([]byte{byte(q.Next)}, q.Chain...)
		switch q.N {
		case 1:
			out[targetQM1] = append(out[targetQM1], framed)
		case 2:
			// The initiator offers strongSwan's PFS group, as in the capture.
			out[targetQM2] = append(out[targetQM2], append([]byte{fuzz.QM2MODP2048}, framed...))
		}
		sels := []byte{fuzz.EncryptedAES128}
		if i == 0 {
			sels = append(sels, fuzz.EncryptedAES256, fuzz.Encrypted3DES)
		}
		for _, s := range sels {
			b, err := fuzz.SealEncrypted(s, q.First, q.MessageID, q.Plain)
			if err != nil {
				return nil, err
			}
			out[targetEncrypted] = append(out[targetEncrypted], b)
		}
	}
	return out, nil
}

// Phase2Inputs returns the seeds the generator takes from one capture
// (a Captures entry) for the qm1, qm2 and encrypted targets, by target.
// The corpus test uses it to explain those inputs.
func Phase2Inputs(root, capPath string) (map[string][][]byte, error) {
	qms, _, err := Phase2(root, capPath)
	if err != nil {
		return nil, err
	}
	return phase2Inputs(qms)
}

// fileSum returns the SHA-256 of a file under root.
func fileSum(root, p string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
	if err != nil {
		return "", err
	}
	return sum(b), nil
}

// phase2 decrypts the Quick Mode messages of every capture and adds the
// seeds of the qm1, qm2 and encrypted targets.
func (g *gen) phase2(root string) error {
	for _, s := range g.sources {
		logPath := LogOf(s.path)
		gxy, err := logValue(filepath.Join(root, filepath.FromSlash(logPath)), "shared Diffie Hellman secret")
		if err != nil {
			return err
		}
		logSHA, err := fileSum(root, logPath)
		if err != nil {
			return err
		}
		qms, _, err := decryptPhase2(s.ds, gxy)
		if err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
		in, err := phase2Inputs(qms)
		if err != nil {
			return err
		}
		counts := g.counts[s.path]
		for _, t := range []string{targetQM1, targetQM2, targetEncrypted} {
			for _, b := range in[t] {
				g.add(t, b)
			}
			counts = append(counts, len(in[t]))
		}
		g.counts[s.path] = counts
		g.qms = append(g.qms, qms)
		g.logSHA = append(g.logSHA, logSHA)
	}
	return nil
}

// phase2Provenance describes the phase-2 targets: what an input is, and
// its index in the per-source counts.
var phase2Provenance = map[string]struct {
	intro string
	idx   int
}{
	targetQM1: {"Quick Mode message 1 bodies after HASH(1), for FuzzResponderQM1: the type\n" +
		"of the first payload (one byte), then the payload chain with its generic\n" +
		"headers. The fuzz harness computes HASH(1) and encrypts.", 3},
	targetQM2: {"Quick Mode message 2 bodies after HASH(2), for FuzzInitiatorQM2, framed as\n" +
		"in qm1. The fuzz harness computes HASH(2) with its initiator's nonce.", 4},
	targetEncrypted: {"Encrypted phase-2 bodies for FuzzDecryptParse: cipher selector, first\n" +
		"payload type, message ID (4 bytes), ciphertext under the target's fixed\n" +
		"keys (see fuzz/encrypted.go).", 5},
}

func (g *gen) provenance2(t string, p struct {
	intro string
	idx   int
}) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Provenance of corpus/%s\n\n%s\n\n", t, p.intro)
	fmt.Fprintf(&b, "Captured inputs: one file per distinct input, taken by %s from every\n"+
		"Quick Mode message of the captures, decrypted with the IKE SA keys\n"+
		"strongSwan used: SKEYID from the pre-shared key (ORIGIN.md) and the Main\n"+
		"Mode nonces on the wire, SKEYID_* from the DH secret in the responder's\n"+
		"charon log, phase-2 IVs from the last Main Mode block; every HASH(1..3)\n"+
		"is verified before a message is used. Chains stop at the end of the\n"+
		"last payload (padding dropped); encrypted bodies are re-encrypted, padding\n"+
		"included, under the fixed keys of the target (AES-128; the first QM1 also\n"+
		"under AES-256 and 3DES), so they decrypt to strongSwan's plaintext.\n\n", Tool)
	fmt.Fprintf(&b, "Hand-made inputs: listed in %s, one per input class, derived by\n"+
		"%s from the first capture's Quick Mode messages or built\n"+
		"from scratch (generator source: corpus/internal/generate).\n\n", manifestFile, Tool)
	fmt.Fprintf(&b, "One line per source (capture, then the log that keyed it):\n\n")
	for i, s := range g.sources {
		fmt.Fprintf(&b, "- `%s` sha256:%s inputs:%d decrypted with `%s` sha256:%s by %s\n",
			s.path, s.sha, g.counts[s.path][p.idx], LogOf(s.path), g.logSHA[i], Tool)
	}
	return []byte(b.String())
}
