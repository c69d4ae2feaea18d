package ikecrypto

// Test helpers for the strongSwan 5.9.8 known-answer material in
// corpus/captures/strongswan-5.9.8: the charon log reader (corpus/charonlog), and an
// ISAKMP message extractor over the shared capture reader. Every expected value in the tests is computed by
// this package and compared with what strongSwan logged or sent. Payload
// walking uses ref/isakmp.

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/corpus/capture"
	"github.com/hitless-ike/hitless/corpus/charonlog"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

const vectorsDir = "../../corpus/captures/strongswan-5.9.8"

// ikeMsg is one ISAKMP message from a capture.
type ikeMsg struct {
	Frame         int // 1-based frame number in the capture, as tshark numbers it
	FromInitiator bool
	Raw           []byte // header and body
	isakmp.Header
	Body []byte // after the 28-byte header, up to the header Length
}

// readIKE returns the ISAKMP messages of a capture in order. UDP 4500
// datagrams lose their non-ESP marker; ESP and keepalives are skipped.
// The initiator is the sender of the first message.
func readIKE(path string) ([]ikeMsg, error) {
	ds, err := capture.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var (
		out       []ikeMsg
		initiator string
	)
	for _, d := range ds {
		p := d.Payload
		if d.Src.Port() == 4500 || d.Dst.Port() == 4500 {
			if len(p) < 4 || binary.BigEndian.Uint32(p) != 0 {
				continue // ESP or NAT-T keepalive
			}
			p = p[4:]
		}
		h, err := isakmp.ParseHeader(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		n := int(h.Length)
		if n < isakmpHdrLen || n > len(p) {
			return nil, fmt.Errorf("%s: ISAKMP length %d of %d-byte datagram", path, n, len(p))
		}
		if initiator == "" {
			initiator = d.Src.Addr().String()
		}
		out = append(out, ikeMsg{
			Frame:         d.Frame,
			FromInitiator: d.Src.Addr().String() == initiator,
			Raw:           p[:n],
			Header:        h,
			Body:          p[isakmpHdrLen:n],
		})
	}
	return out, nil
}

const isakmpHdrLen = 28

// payload locates one payload in a (decrypted) body: Start is its generic
// header, End the end of its data. SPI is the first proposal's SPI of an
// SA payload.
type payload struct {
	Type       isakmp.PayloadType
	Start, End int
	Body       []byte
	SPI        []byte
	Protocol   isakmp.ProtocolID
}

// walkPayloads walks a body with ref/isakmp's strict View and returns the
// payloads and the end of the chain (where CBC padding starts).
func walkPayloads(body []byte, first isakmp.PayloadType) ([]payload, int, error) {
	var (
		v   isakmp.View
		out []payload
	)
	v.StartPayloads(first, body, isakmp.ParseOptions{})
	for v.Next() {
		p := payload{Type: v.Type(), Start: v.Offset(), End: v.Offset() + len(v.Raw()), Body: v.Body()}
		if p.Type == isakmp.PayloadSA {
			sa, err := v.SA()
			if err != nil {
				return nil, 0, err
			}
			if sa.Next() {
				p.SPI, p.Protocol = sa.Proposal().SPI, sa.Proposal().Protocol
			}
		}
		out = append(out, p)
	}
	if err := v.Err(); err != nil {
		return nil, 0, err
	}
	return out, len(body) - len(v.Padding()), nil
}

func findPayload(ps []payload, typ isakmp.PayloadType) (payload, bool) {
	for _, p := range ps {
		if p.Type == typ {
			return p, true
		}
	}
	return payload{}, false
}

// espSA is one line of Wireshark's esp_sa table.
type espSA struct {
	Src, Dst    string
	Encr, Integ []byte
}

// readESPSA parses esp_sa: "IPv4","src","dst","0xSPI","cipher","0xkey","auth","0xkey".
func readESPSA(path string) (map[uint32]espSA, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[uint32]espSA{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(strings.TrimSpace(line), ",")
		if len(f) != 8 {
			return nil, fmt.Errorf("%s:%d: %d fields", path, i+1, len(f))
		}
		for j := range f {
			f[j] = strings.Trim(f[j], `"`)
		}
		spi, err1 := strconv.ParseUint(strings.TrimPrefix(f[3], "0x"), 16, 32)
		ek, err2 := hex.DecodeString(strings.TrimPrefix(f[5], "0x"))
		ik, err3 := hex.DecodeString(strings.TrimPrefix(f[7], "0x"))
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		out[uint32(spi)] = espSA{Src: f[1], Dst: f[2], Encr: ek, Integ: ik}
	}
	return out, nil
}

// readDecryptionTable parses ikev1_decryption_table: "icookie,key" lines.
func readDecryptionTable(path string) (map[string][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		ck, key, ok := strings.Cut(strings.TrimSpace(line), ",")
		k, err := hex.DecodeString(key)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s:%d: bad line", path, i+1)
		}
		out[strings.ToLower(ck)] = k
	}
	return out, nil
}

// run is one capture directory with its logs.
type run struct {
	msgs     []ikeMsg
	logs     map[string]charonlog.Log // "initiator", "responder"
	espSA    map[uint32]espSA
	decTable map[string][]byte
}

func loadRun(t testing.TB, name string) *run {
	t.Helper()
	dir := filepath.Join(vectorsDir, name)
	r := &run{logs: map[string]charonlog.Log{}}
	var err error
	if r.msgs, err = readIKE(filepath.Join(dir, "capture.pcap")); err != nil {
		t.Fatal(err)
	}
	for _, side := range []string{"initiator", "responder"} {
		l, err := charonlog.Read(filepath.Join(dir, "charon-"+side+".log"))
		if err != nil {
			t.Fatal(err)
		}
		r.logs[side] = l
	}
	if r.espSA, err = readESPSA(filepath.Join(dir, "esp_sa")); err != nil {
		t.Fatal(err)
	}
	if r.decTable, err = readDecryptionTable(filepath.Join(dir, "ikev1_decryption_table")); err != nil {
		t.Fatal(err)
	}
	return r
}

// ikeSA is the IKE SA that starts a run's capture (the capture also holds
// an unrelated half-open Main Mode, filtered out by cookie): its six Main
// Mode messages, the messages after them, and the cleartext KE and nonce of
// MM3 and MM4.
type ikeSA struct {
	mm, later  []ikeMsg
	ckyI, ckyR []byte
	gxi, ni    []byte // MM3
	gxr, nr    []byte // MM4
}

func firstIKESA(t *testing.T, r *run) *ikeSA {
	t.Helper()
	if len(r.msgs) < 6 {
		t.Fatalf("only %d ISAKMP messages", len(r.msgs))
	}
	sa := &ikeSA{}
	icky := r.msgs[0].InitiatorCookie
	for _, m := range r.msgs {
		switch {
		case m.InitiatorCookie != icky:
		case m.Exchange == isakmp.ExchangeMainMode:
			sa.mm = append(sa.mm, m)
		default:
			sa.later = append(sa.later, m)
		}
	}
	if len(sa.mm) != 6 {
		t.Fatalf("%d Main Mode messages, want 6", len(sa.mm))
	}
	sa.ckyI, sa.ckyR = sa.mm[5].InitiatorCookie[:], sa.mm[5].ResponderCookie[:]
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
	sa.gxi, sa.ni = keNonce(sa.mm[2])
	sa.gxr, sa.nr = keNonce(sa.mm[3])
	return sa
}

// phase1 is what this package derives for the runs' IKE SA
// (aes128-sha1, pre-shared key) from the PSK and a phase-1 DH secret.
type phase1 struct {
	skeyid []byte
	keys   *Keys
	ka     []byte
	c      *Cipher
	iv     IV // the initial phase-1 IV, MM5's
}

// derive computes the phase-1 keys and initial IV of sa. gxy cannot be
// recomputed without the private exponents, so callers take it from a log.
func (sa *ikeSA) derive(t *testing.T, gxy []byte) *phase1 {
	t.Helper()
	const p = PRFSHA1
	k := &phase1{}
	var err error
	if k.skeyid, err = SKEYIDPreSharedKey(p, []byte(vectorPSK), sa.ni, sa.nr); err != nil {
		t.Fatal(err)
	}
	if k.keys, err = DeriveKeys(p, k.skeyid, gxy, sa.ckyI, sa.ckyR); err != nil {
		t.Fatal(err)
	}
	if k.ka, err = CipherKey(p, k.keys.SKEYIDe, 16); err != nil {
		t.Fatal(err)
	}
	if k.c, err = NewCipher(EncrAESCBC, k.ka); err != nil {
		t.Fatal(err)
	}
	if k.iv, err = Phase1IV(p, sa.gxi, sa.gxr, k.c.BlockSize()); err != nil {
		t.Fatal(err)
	}
	return k
}

// decrypted is one encrypted message of an IKE SA with the IV it was
// decrypted with, the IV it left for the next message of its exchange,
// and its plaintext.
type decrypted struct {
	ikeMsg
	IV, Next  IV
	Plaintext []byte
	// Retransmit marks a repeat of an earlier ciphertext: it does not
	// advance the IV chain, and shares the earlier message's fields.
	Retransmit bool
}

// decrypt decrypts MM5, MM6 and every later message of sa with k, chaining
// IVs: phase 1 from k.iv, each phase-2 M-ID from the IV Phase2IV derives
// from the last phase-1 ciphertext block. The known-answer test checks
// every IV against the logs; the tshark test only needs the plaintexts.
func (sa *ikeSA) decrypt(t *testing.T, k *phase1) []decrypted {
	t.Helper()
	var out []decrypted
	dec := func(m ikeMsg, iv IV) IV {
		if m.Flags&isakmp.FlagEncryption == 0 {
			t.Fatalf("frame %d (exchange %d, M-ID %d): expected an encrypted message", m.Frame, m.Exchange, m.MessageID)
		}
		pt, next, err := k.c.Decrypt(nil, iv, m.Body)
		if err != nil {
			t.Fatalf("frame %d: %v", m.Frame, err)
		}
		out = append(out, decrypted{ikeMsg: m, IV: iv, Next: next, Plaintext: pt})
		return next
	}
	lastP1 := dec(sa.mm[5], dec(sa.mm[4], k.iv))
	ivs := map[uint32]IV{}
	first := map[string]decrypted{}
	for _, m := range sa.later {
		if d, ok := first[string(m.Raw)]; ok {
			d.ikeMsg, d.Retransmit = m, true
			out = append(out, d)
			continue
		}
		iv, ok := ivs[m.MessageID]
		if !ok {
			var err error
			if iv, err = Phase2IV(PRFSHA1, lastP1, m.MessageID); err != nil {
				t.Fatal(err)
			}
		}
		ivs[m.MessageID] = dec(m, iv)
		first[string(m.Raw)] = out[len(out)-1]
	}
	return out
}
