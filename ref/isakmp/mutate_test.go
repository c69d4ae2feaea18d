package isakmp

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMutations: random corruptions of real and constructed messages never
// panic, Parse and View agree on every one (strict and lenient), every
// input strict Parse accepts re-encodes to itself, and every lenient result
// survives Marshal and a second parse.
func TestMutations(t *testing.T) {
	seeds := [][]byte{build(t, allPayloads()...)}
	for _, c := range loadCaptures(t) {
		seeds = append(seeds, c.msg)
	}
	rng := rand.New(rand.NewPCG(1, 2)) // deterministic
	iters := 100
	if testing.Short() {
		iters = 20
	}
	accepted := 0
	for _, seed := range seeds {
		for i := 0; i < iters; i++ {
			b := mutate(rng, seed)
			agree(t, "mutation", b, ParseOptions{})
			agree(t, "mutation", b, ParseOptions{Lenient: true})
			if m, err := Parse(b); err == nil {
				accepted++
				out, err := m.Marshal()
				if err != nil || !bytes.Equal(out, b) {
					t.Fatalf("strictly accepted input does not round-trip (%v)\n in %x\nout %x", err, b, out)
				}
			}
			if m, err := ParseWith(b, ParseOptions{Lenient: true}); err == nil {
				out, err := m.Marshal()
				if err != nil {
					t.Fatalf("lenient result does not marshal: %v\n in %x", err, b)
				}
				m2, err := ParseWith(out, ParseOptions{Lenient: true})
				if err != nil {
					t.Fatalf("re-parse of lenient result: %v", err)
				}
				m.Notes, m2.Notes = nil, nil
				if diff := cmp.Diff(m, m2, cmpOpts); diff != "" {
					t.Fatalf("lenient result changes through Marshal:\n%s", diff)
				}
			}
		}
	}
	t.Logf("%d mutations accepted strictly", accepted)
	if accepted == 0 {
		t.Error("no mutation was accepted: the mutator only tests error paths")
	}
}

// mutate corrupts a copy of b: byte flips, length-field rewrites,
// truncation, insertion.
func mutate(rng *rand.Rand, b []byte) []byte {
	b = append([]byte(nil), b...)
	for n := 1 + rng.IntN(3); n > 0 && len(b) > 0; n-- {
		i := rng.IntN(len(b))
		switch rng.IntN(6) {
		case 0:
			b[i] ^= byte(1 << rng.IntN(8))
		case 1:
			b[i] = byte(rng.IntN(256))
		case 2: // small change of a 16-bit big-endian value (payload lengths)
			if i+1 < len(b) {
				v := int(b[i])<<8 | int(b[i+1]) + rng.IntN(9) - 4
				b[i], b[i+1] = byte(v>>8), byte(v)
			}
		case 3:
			b = b[:i]
		case 4:
			b = append(b[:i], append(bytes.Repeat([]byte{byte(rng.IntN(256))}, 1+rng.IntN(8)), b[i:]...)...)
		case 5: // keep the header length consistent so mutations reach the payloads
			if len(b) >= HeaderLen {
				put32(b, 24, uint32(len(b)))
			}
		}
	}
	return b
}

// TestAllocationBound: Parse allocates at most a small multiple of its
// input, even for inputs made of the smallest payloads and attributes.
func TestAllocationBound(t *testing.T) {
	attrs := make([]Attribute, 4000)
	for i := range attrs {
		attrs[i] = BasicAttribute(IPsecAttrKeyRounds, uint16(i))
	}
	trs := make([]Transform, 255)
	for i := range trs {
		trs[i] = Transform{Number: uint8(i), ID: uint8(ESPAES)}
	}
	vids := make([]Payload, 3000)
	for i := range vids {
		vids[i] = &VendorID{}
	}
	for _, c := range []struct {
		class string
		in    []byte
	}{
		{"many TV attributes", build(t, &SA{DOI: DOIIPsec, Situation: SitIdentityOnly, Proposals: []Proposal{{
			Protocol: ProtoIPsecESP, SPI: make([]byte, 4), Transforms: []Transform{{Attributes: attrs}}}}})},
		{"many empty transforms", build(t, &SA{DOI: DOIIPsec, Situation: SitIdentityOnly, Proposals: []Proposal{{
			Protocol: ProtoIPsecESP, SPI: make([]byte, 4), Transforms: trs}}})},
		{"many empty payloads", build(t, vids...)},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Parse(c.in)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", c.class, err)
		}
		used := after.TotalAlloc - before.TotalAlloc
		if limit := uint64(16*len(c.in) + 4096); used > limit {
			t.Errorf("%s: Parse of %d bytes allocated %d bytes (limit %d)", c.class, len(c.in), used, limit)
		}
		t.Logf("%s: %d bytes in, %d bytes allocated (%.1fx)", c.class, len(c.in), used, float64(used)/float64(len(c.in)))
	}
}

// FuzzParseView: for any input, Parse and View agree, strict acceptance
// implies an exact round trip, and ParsePayloads never fails on padding.
// Seeds are the capture messages.
func FuzzParseView(f *testing.F) {
	for _, c := range loadCaptures(f) {
		f.Add(c.msg)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		agree(t, "fuzz", b, ParseOptions{})
		agree(t, "fuzz", b, ParseOptions{Lenient: true})
		if m, err := Parse(b); err == nil {
			out, err := m.Marshal()
			if err != nil || !bytes.Equal(out, b) {
				t.Fatalf("accepted input does not round-trip: %v", err)
			}
		}
		if len(b) > 0 {
			body, err := ParsePayloads(PayloadType(b[0]), b[1:], ParseOptions{})
			if err == nil {
				enc, err := AppendPayloads(nil, body.Payloads)
				if err != nil || !bytes.Equal(append(enc, body.Padding...), b[1:]) {
					t.Fatalf("ParsePayloads result does not round-trip: %v", err)
				}
			}
		}
	})
}
