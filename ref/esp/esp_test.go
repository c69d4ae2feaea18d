package esp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"math"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// encodeESP builds an ESP packet straight from the stdlib primitives,
// independently of SA: plain is the complete plaintext including padding,
// pad length and next header, iv the explicit IV.
func encodeESP(c Config, seq uint64, iv, plain []byte) []byte {
	pkt := binary.BigEndian.AppendUint32(nil, c.SPI)
	pkt = binary.BigEndian.AppendUint32(pkt, uint32(seq))
	pkt = append(pkt, iv...)
	switch c.Transform.Cipher {
	case CipherAESCBC:
		b, _ := aes.NewCipher(c.EncKey)
		// A ragged tail is appended in clear to build misaligned packets.
		full := len(plain) / 16 * 16
		ct := make([]byte, full)
		cipher.NewCBCEncrypter(b, iv).CryptBlocks(ct, plain[:full])
		pkt = append(append(pkt, ct...), plain[full:]...)
	case CipherAESGCM16:
		k := len(c.EncKey) - 4
		b, _ := aes.NewCipher(c.EncKey[:k])
		g, _ := cipher.NewGCM(b)
		nonce := append(append([]byte(nil), c.EncKey[k:]...), iv...)
		aad := pkt[:8]
		if c.ESN {
			aad = binary.BigEndian.AppendUint32(pkt[:4:4], uint32(seq>>32))
			aad = binary.BigEndian.AppendUint32(aad, uint32(seq))
		}
		return g.Seal(pkt, nonce, plain, aad)
	case CipherNull:
		pkt = append(pkt, plain...)
	}
	var h func() hash.Hash
	n := 12
	if c.Transform.Integrity == IntegrityHMACSHA256_128 {
		h, n = sha256.New, 16
	} else {
		h = sha1.New
	}
	m := hmac.New(h, c.AuthKey)
	m.Write(pkt)
	if c.ESN {
		m.Write(binary.BigEndian.AppendUint32(nil, uint32(seq>>32)))
	}
	return append(pkt, m.Sum(nil)[:n]...)
}

// trailer pads payload per RFC 4303 §2.4 to a multiple of align.
func trailer(payload []byte, align int, nh byte) []byte {
	p := append([]byte(nil), payload...)
	pad := (align - (len(p)+2)%align) % align
	for i := 1; i <= pad; i++ {
		p = append(p, byte(i))
	}
	return append(p, byte(pad), nh)
}

func alignOf(t Transform) int {
	if t.Cipher == CipherAESCBC {
		return 16
	}
	return 4
}

func TestRoundTrip(t *testing.T) {
	for _, tr := range allTransforms {
		for _, esn := range []bool{false, true} {
			c := testConfig(tr, 0x01020304, esn, 1)
			out, in := pair(t, c)
			for _, v := range []int{4, 6} {
				for _, n := range []int{48, 64, 65, 512, 1400, 9000} {
					p := inner(v, n)
					prefix := []byte("hdr")
					sealed, err := out.Seal(prefix, p)
					if err != nil {
						t.Fatalf("%v esn=%v v%d n=%d: Seal: %v", tr, esn, v, n, err)
					}
					if !bytes.Equal(sealed[:3], prefix) || len(sealed)-3 != out.SealedLen(n) {
						t.Fatalf("%v: Seal output length %d, SealedLen %d", tr, len(sealed)-3, out.SealedLen(n))
					}
					got, err := in.Open([]byte("x"), sealed[3:])
					if err != nil {
						t.Fatalf("%v esn=%v v%d n=%d: Open: %v", tr, esn, v, n, err)
					}
					if !bytes.Equal(got[1:], p) || got[0] != 'x' {
						t.Fatalf("%v esn=%v v%d n=%d: round trip mismatch", tr, esn, v, n)
					}
				}
			}
			if out.Stats() != in.Stats() || out.Stats().Packets != 12 {
				t.Errorf("%v: stats out %+v in %+v", tr, out.Stats(), in.Stats())
			}
			if out.LastSeq() != 12 || in.HighestSeq() != 12 {
				t.Errorf("%v: seq out %d in %d", tr, out.LastSeq(), in.HighestSeq())
			}
		}
	}
}

// Seal must produce exactly what an independent encoding of the RFC 4303
// layout produces, and Open must accept that encoding.
func TestSealMatchesIndependentEncoder(t *testing.T) {
	for _, tr := range allTransforms {
		for _, esn := range []bool{false, true} {
			c := testConfig(tr, 0xabcdef01, esn, 2)
			out, in := pair(t, c)
			out.seq = 1<<32 - 2 // cross the ESN boundary, or stay below it
			in.win.top = out.seq
			for i := 0; i < 3; i++ {
				p := inner(4+2*(i%2), 100+i)
				sealed, err := out.Seal(nil, p)
				if err != nil {
					if !esn && errors.Is(err, Expired) && out.seq == math.MaxUint32 {
						break
					}
					t.Fatalf("%v: %v", tr, err)
				}
				seq := out.seq
				nh := byte(NextHeaderIPv4)
				if p[0]>>4 == 6 {
					nh = NextHeaderIPv6
				}
				var iv []byte
				switch tr.Cipher {
				case CipherAESCBC:
					iv = sealed[8:24]
				case CipherAESGCM16:
					iv = binary.BigEndian.AppendUint64(nil, seq)
				}
				want := encodeESP(c, seq, iv, trailer(p, alignOf(tr), nh))
				if !bytes.Equal(sealed, want) {
					t.Fatalf("%v esn=%v seq=%d: Seal differs from independent encoding\n got %x\nwant %x", tr, esn, seq, sealed, want)
				}
				got, err := in.Open(nil, want)
				if err != nil || !bytes.Equal(got, p) {
					t.Fatalf("%v esn=%v seq=%d: Open(independent) = %v", tr, esn, seq, err)
				}
			}
		}
	}
}

func wantDrop(t *testing.T, class string, err error, ok ...Reason) {
	t.Helper()
	var de *DropError
	if !errors.As(err, &de) {
		t.Fatalf("%s: error %v is not a *DropError", class, err)
	}
	for _, r := range ok {
		if errors.Is(err, r) {
			return
		}
	}
	t.Fatalf("%s: reason %v, want one of %v (%v)", class, de.Reason, ok, err)
}

// details maps crafted bad-input classes to the check that must catch them.
var details = map[string]string{
	"bad padding":                      "padding is not",
	"pad length too long":              "pad length exceeds",
	"pad length one too long":          "pad length exceeds",
	"not block aligned":                "not block aligned",
	"next header udp (transport mode)": "next header is not",
	"next header v4, inner v6":         "does not match",
	"inner not IP":                     "not IPv4 or IPv6",
	"inner length inconsistent":        "total length",
	"sequence number zero":             "zero",
	"empty payload":                    "empty",
	"replayed":                         "duplicate",
	"forged icv":                       "mismatch",
}

// Every bad input is a typed drop and changes nothing.
func TestOpenBadInput(t *testing.T) {
	for _, tr := range allTransforms {
		for _, esn := range []bool{false, true} {
			c := testConfig(tr, 0x11223344, esn, 3)
			out, in := pair(t, c)
			var good [][]byte
			for i := 0; i < 4; i++ {
				p, _ := out.Seal(nil, inner(4, 60))
				good = append(good, p)
			}
			if _, err := in.Open(nil, good[1]); err != nil {
				t.Fatal(err)
			}
			pkt := good[2]
			before := snap(in)
			check := func(class string, b []byte, ok ...Reason) {
				t.Helper()
				dst := []byte{1, 2, 3}
				got, err := in.Open(dst, b)
				wantDrop(t, class, err, ok...)
				// Crafted cases name the check that must catch them.
				var de *DropError
				if errors.As(err, &de) && details[class] != "" && !strings.Contains(de.Detail, details[class]) {
					t.Fatalf("%v %s: caught by %q, want %q", tr, class, de.Detail, details[class])
				}
				if !bytes.Equal(got, []byte{1, 2, 3}) {
					t.Fatalf("%v %s: dst changed to %x", tr, class, got)
				}
				if d := cmp.Diff(before, snap(in)); d != "" {
					t.Fatalf("%v %s: state changed (-before +after):\n%s", tr, class, d)
				}
			}
			// truncated: every prefix, including empty.
			for n := range len(pkt) {
				check("truncated", pkt[:n], Malformed, AuthFailed)
			}
			// flipped bits: any single bit anywhere.
			for i := range len(pkt) * 8 {
				b := bytes.Clone(pkt)
				b[i/8] ^= 1 << (i % 8)
				check("bit flip", b, UnknownSPI, AuthFailed, Replay)
			}
			// forged ICV / tag.
			b := bytes.Clone(pkt)
			copy(b[len(b)-in.icvLen:], make([]byte, 16))
			check("forged icv", b, AuthFailed)
			// extended: bytes appended after the ICV.
			check("trailing garbage", append(bytes.Clone(pkt), 0, 0, 0, 0), AuthFailed, Malformed)
			check("unknown spi", append([]byte{9, 9, 9, 9}, pkt[4:]...), UnknownSPI)
			check("replayed", good[1], Replay)
			// authenticated but wrong inside, built independently.
			iv := make([]byte, in.ivLen)
			enc := func(seq uint64, plain []byte) []byte {
				if tr.Cipher == CipherAESGCM16 {
					binary.BigEndian.PutUint64(iv, seq)
				}
				return encodeESP(c, seq, iv, plain)
			}
			a := alignOf(tr)
			p4, p6 := inner(4, 60), inner(6, 60) // two bytes of padding for every alignment
			badPad := trailer(p4, a, 4)
			badPad[len(p4)] = 2 // padding must start at 1
			check("bad padding", enc(9, badPad), Malformed)
			hugePad := trailer(p4, a, 4)
			hugePad[len(hugePad)-2] = 255
			check("pad length too long", enc(9, hugePad), Malformed)
			hugePad[len(hugePad)-2] = byte(len(hugePad) - 1)
			check("pad length one too long", enc(9, hugePad), Malformed)
			check("not block aligned", enc(9, append(trailer(p4, a, 4), 0, 0, 0, 0, 0)), Malformed)
			check("next header udp (transport mode)", enc(9, trailer(p4, a, 17)), Malformed)
			check("next header v4, inner v6", enc(9, trailer(p6, a, 4)), Malformed)
			check("inner not IP", enc(9, trailer(make([]byte, 30), a, 4)), Malformed)
			short := bytes.Clone(p4)
			binary.BigEndian.PutUint16(short[2:], 200) // longer than the packet
			check("inner length inconsistent", enc(9, trailer(short, a, 4)), Malformed)
			check("sequence number zero", enc(0, trailer(p4, a, 4)), Replay)
			check("empty payload", enc(9, trailer(nil, a, 4)), Malformed)
		}
	}
}

func TestTFCPaddingTrimmed(t *testing.T) {
	c := testConfig(allTransforms[0], 5, false, 4)
	_, in := pair(t, c)
	p := inner(4, 60)
	iv := make([]byte, 16)
	got, err := in.Open(nil, encodeESP(c, 1, iv, trailer(append(bytes.Clone(p), 0, 0, 0, 0, 0), 16, 4)))
	if err != nil || !bytes.Equal(got, p) {
		t.Fatalf("Open = %x, %v; want the IPv4 packet without TFC padding", got, err)
	}
}

func TestDummyPacket(t *testing.T) {
	for _, tr := range allTransforms {
		c := testConfig(tr, 6, false, 5)
		out, in := pair(t, c)
		d, err := out.seal(nil, []byte{1, 2, 3}, NextHeaderDummy)
		if err != nil {
			t.Fatal(err)
		}
		st := in.Stats()
		_, err = in.Open(nil, d)
		wantDrop(t, "dummy", err, Dummy)
		if in.HighestSeq() != 1 || in.Stats() != st {
			t.Fatalf("%v: dummy should spend seq 1 and count nothing: top %d stats %+v", tr, in.HighestSeq(), in.Stats())
		}
		_, err = in.Open(nil, d)
		wantDrop(t, "replayed dummy", err, Replay)
	}
}

func TestSealErrors(t *testing.T) {
	for _, esn := range []bool{false, true} {
		c := testConfig(allTransforms[0], 7, esn, 6)
		out, in := pair(t, c)
		out.seq = math.MaxUint32 - 1
		in.win.top = out.seq
		p := inner(4, 40)
		sealed, err := out.Seal(nil, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in.Open(nil, sealed); err != nil {
			t.Fatal(err)
		}
		before := snap(out)
		_, err = out.Seal(nil, p)
		if !esn {
			// RFC 4303 §3.3.3: the counter must not cycle.
			wantDrop(t, "sequence exhausted", err, Expired)
			if d := cmp.Diff(before, snap(out)); d != "" {
				t.Fatalf("state changed: %s", d)
			}
			continue
		}
		if err != nil || out.LastSeq() != 1<<32 {
			t.Fatalf("ESN must continue past 2^32-1: seq %d err %v", out.LastSeq(), err)
		}
		out.seq = math.MaxUint64
		_, err = out.Seal(nil, p)
		wantDrop(t, "ESN exhausted", err, Expired)
	}
	c := testConfig(allTransforms[0], 8, false, 6)
	out, _ := pair(t, c)
	for _, bad := range []struct {
		class string
		p     []byte
	}{
		{"empty inner", nil},
		{"not IP", []byte{0x50, 1, 2, 3}},
		{"truncated IPv4", inner(4, 40)[:19]},
		{"IPv4 total length too long", func() []byte { p := inner(4, 40); p[3] = 41; return p }()},
		{"IPv4 IHL too small", func() []byte { p := inner(4, 40); p[0] = 0x44; return p }()},
		{"truncated IPv6", inner(6, 60)[:39]},
		{"IPv6 payload length too long", inner(6, 60)[:59]},
		{"too long", make([]byte, 70000)},
	} {
		before := snap(out)
		got, err := out.Seal([]byte{1}, bad.p)
		wantDrop(t, bad.class, err, Malformed)
		if len(got) != 1 || cmp.Diff(before, snap(out)) != "" {
			t.Fatalf("%s: Seal changed dst or state", bad.class)
		}
	}
	c.Rand = iotest.ErrReader(errors.New("no entropy"))
	out, _ = pair(t, c)
	if _, err := out.Seal(nil, inner(4, 40)); !errors.Is(err, ErrRandom) || out.LastSeq() != 0 {
		t.Fatalf("failing IV source: %v, seq %d", err, out.LastSeq())
	}
}

func TestNewSAErrors(t *testing.T) {
	good := testConfig(allTransforms[0], 1, false, 7)
	gcm := testConfig(Transform{CipherAESGCM16, 128, IntegrityNone}, 1, false, 7)
	for _, tc := range []struct {
		class string
		edit  func(*Config)
	}{
		{"spi zero", func(c *Config) { c.SPI = 0 }},
		{"window too small", func(c *Config) { c.ReplayWindow = 32 }},
		{"window not multiple of 64", func(c *Config) { c.ReplayWindow = 100 }},
		{"window too large", func(c *Config) { c.ReplayWindow = MaxReplayWindow + 64 }},
		{"short enc key", func(c *Config) { c.EncKey = c.EncKey[:15] }},
		{"short auth key", func(c *Config) { c.AuthKey = c.AuthKey[:19] }},
		{"bad key size", func(c *Config) { c.Transform.KeyBits = 64 }},
		{"unknown cipher", func(c *Config) { c.Transform.Cipher = 99 }},
		{"unknown integrity", func(c *Config) { c.Transform.Integrity = 99 }},
		{"no integrity", func(c *Config) { c.Transform.Integrity = IntegrityNone }},
		{"null with key size", func(c *Config) { c.Transform = Transform{CipherNull, 128, IntegrityHMACSHA1_96} }},
		{"gcm with integrity", func(c *Config) { *c = gcm; c.Transform.Integrity = IntegrityHMACSHA1_96 }},
		{"gcm without salt", func(c *Config) { *c = gcm; c.EncKey = c.EncKey[:16] }},
	} {
		c := good
		tc.edit(&c)
		if _, err := NewSA(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: NewSA error %v, want ErrConfig", tc.class, err)
		}
	}
	sa, err := NewSA(good)
	if err != nil || sa.ReplayWindow() != DefaultReplayWindow || sa.SPI() != 1 || sa.ESN() || sa.Transform() != good.Transform {
		t.Fatalf("defaults: %v %+v", err, sa)
	}
}

func TestReasonNames(t *testing.T) {
	want := map[Reason]string{UnknownSPI: "unknown-spi", NoActiveSA: "no-active-sa", Replay: "replay",
		AuthFailed: "auth-failed", Expired: "expired", Malformed: "malformed", Dummy: "dummy"}
	for r, s := range want {
		if r.String() != s {
			t.Errorf("%d.String() = %q, want %q", r, r.String(), s)
		}
		err := error(&DropError{Reason: r, SPI: 1})
		if got, ok := ReasonOf(err); !ok || got != r {
			t.Errorf("ReasonOf(%v) = %v, %v", err, got, ok)
		}
	}
	if Reason(0).String() == "" || Reason(200).String() == "" {
		t.Error("unknown reasons need a name")
	}
	if _, ok := ReasonOf(errors.New("x")); ok {
		t.Error("ReasonOf of a plain error")
	}
}

func TestTransformString(t *testing.T) {
	for tr, want := range map[Transform]string{
		{CipherAESCBC, 128, IntegrityHMACSHA1_96}: "aes128-sha1",
		{CipherAESGCM16, 256, IntegrityNone}:      "aes256gcm16",
		{CipherNull, 0, IntegrityHMACSHA256_128}:  "null-sha256",
	} {
		if tr.String() != want {
			t.Errorf("%#v.String() = %q, want %q", tr, tr.String(), want)
		}
	}
}
