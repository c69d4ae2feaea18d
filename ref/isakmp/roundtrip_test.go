package isakmp

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// cmpOpts compares messages: netip.Addr is comparable but opaque to cmp.
var cmpOpts = cmpopts.EquateComparable(netip.Addr{})

// allPayloads has one of every payload type, with the variants that change
// the encoding (draft NAT-T types, TV and TLV attributes, ISAKMP and IPCOMP
// SPI sizes, IPv6 NAT-OA).
func allPayloads() []Payload {
	sa := testSA()
	sa.Proposals = append(sa.Proposals,
		Proposal{Number: 1, Protocol: ProtoIPComp, SPI: []byte{0x12, 0x34}, Transforms: []Transform{{Number: 1, ID: uint8(IPCompDeflate)}}},
		Proposal{Number: 2, Protocol: ProtoISAKMP, SPI: bytes.Repeat([]byte{7}, 16), Transforms: []Transform{{Number: 1, ID: uint8(KeyIKE), Attributes: []Attribute{
			BasicAttribute(ClassEncryptionAlgorithm, EncAESCBC),
			BasicAttribute(ClassGroupDescription, GroupMODP2048),
			VariableAttribute(ClassGroupPrime, bytes.Repeat([]byte{0xff}, 40)),
			VariableAttribute(ClassLifeDuration, []byte{0, 0, 0x0e, 0x10}), // non-minimal TLV must survive
		}}}},
	)
	id4 := IDFromPrefix(netip.MustParsePrefix("10.1.0.0/16"), 17, 500)
	id6 := IDFromAddr(netip.MustParseAddr("2001:db8::1"), 0, 0)
	return []Payload{
		sa,
		&KeyExchange{Data: bytes.Repeat([]byte{0xab}, 256)},
		&Identification{IDType: IDFQDN, Data: []byte("vpn.example")},
		&id4, &id6,
		&Certificate{Encoding: CertX509Signature, Data: []byte{0x30, 0x03, 1, 2, 3}},
		&CertificateRequest{Encoding: CertX509Signature},
		&Hash{Data: bytes.Repeat([]byte{1}, 20)},
		&Signature{Data: []byte{2, 2}},
		&Nonce{Data: bytes.Repeat([]byte{3}, 32)},
		&Notification{DOI: DOIIPsec, Protocol: ProtoISAKMP, Notify: NotifyRUThere, SPI: bytes.Repeat([]byte{9}, 16), Data: []byte{0, 0, 0, 1}},
		&Notification{DOI: DOIIPsec, Protocol: ProtoIPsecESP, Notify: NotifyResponderLifetime, SPI: []byte{1, 2, 3, 4},
			Data: []byte{0x80, 0x01, 0x00, 0x01}},
		&Notification{DOI: DOIISAKMP, Notify: NotifyInitialContact},
		&Delete{DOI: DOIIPsec, Protocol: ProtoIPsecESP, SPISize: 4, SPIs: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		&Delete{DOI: DOIIPsec, Protocol: ProtoISAKMP, SPISize: 16, SPIs: bytes.Repeat([]byte{5}, 16)},
		&VendorID{Data: []byte("strongSwan")},
		&NATD{Hash: bytes.Repeat([]byte{4}, 20)},
		&NATD{Hash: bytes.Repeat([]byte{5}, 20), Draft: true},
		&NATOA{IDType: IDIPv4Addr, Addr: netip.MustParseAddr("192.0.2.1")},
		&NATOA{IDType: IDIPv6Addr, Addr: netip.MustParseAddr("2001:db8::2"), Draft: true},
		&Unknown{PayloadType: PayloadSAK, Data: []byte{1}},
	}
}

// TestConstructedRoundTrip: Parse(Marshal(m)) equals m for a message using
// every payload type, the View walk agrees, and Marshal is stable.
func TestConstructedRoundTrip(t *testing.T) {
	m := &Message{Header: testHeader(), Payloads: allPayloads()}
	m.Header.Flags = FlagCommit
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	m.Header.NextPayload, m.Header.Length = PayloadSA, uint32(len(b))
	if diff := cmp.Diff(m, got, cmpOpts); diff != "" {
		t.Errorf("Parse(Marshal(m)) differs (-want +got):\n%s", diff)
	}
	agree(t, "constructed", b, ParseOptions{})
	b2, err := got.AppendMarshal([]byte("prefix"))
	if err != nil || !bytes.Equal(b2[6:], b) || string(b2[:6]) != "prefix" {
		t.Errorf("AppendMarshal(Parse(b)) != prefix+b (%v)", err)
	}
}

// TestEncryptedRoundTrip: an E-flag message exposes header and ciphertext
// only, and re-encodes unchanged.
func TestEncryptedRoundTrip(t *testing.T) {
	m := &Message{Header: testHeader(), Ciphertext: bytes.Repeat([]byte{0x5a}, 48)}
	m.Header.Flags, m.Header.NextPayload = FlagEncryption, PayloadHASH
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	m.Header.Length = uint32(len(b))
	if diff := cmp.Diff(m, got, cmpOpts); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var v View
	if _, err := v.Start(b); err != nil || v.Next() || !bytes.Equal(v.Ciphertext(), m.Ciphertext) {
		t.Errorf("View on encrypted message: err %v, ciphertext %x", err, v.Ciphertext())
	}
	if _, err := (&Message{Header: m.Header, Payloads: []Payload{&Hash{}}}).Marshal(); !errors.Is(err, ErrUnencodable) {
		t.Errorf("encrypted message with payloads: %v", err)
	}
}

// TestParsePayloadsPadding: a decrypted body ends at next payload NONE and
// the rest is padding, accepted even in strict mode; View agrees.
func TestParsePayloadsPadding(t *testing.T) {
	ps := []Payload{&Hash{Data: bytes.Repeat([]byte{1}, 20)}, testSA(), &Nonce{Data: []byte("nonce-nonce-nonce")}}
	body, err := AppendPayloads(nil, ps)
	if err != nil {
		t.Fatal(err)
	}
	n := len(body)
	pad := []byte{0, 0, 0, 0, 0, 0, 0, 7} // RFC 2409 App. B style: last byte counts the rest
	body = append(body, pad...)
	got, err := ParsePayloads(PayloadHASH, body, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Body{Payloads: ps, Padding: pad}, got, cmpOpts); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var v View
	v.StartPayloads(PayloadHASH, body, ParseOptions{})
	var offs []int
	for v.Next() {
		offs = append(offs, v.Offset())
	}
	if v.Err() != nil || !bytes.Equal(v.Padding(), pad) || len(offs) != 3 || offs[0] != 0 || offs[1] != 24 {
		t.Errorf("View: err %v padding %x offsets %v", v.Err(), v.Padding(), offs)
	}
	// Truncating into the chain is an error, not padding.
	if _, err := ParsePayloads(PayloadHASH, body[:n-1], ParseOptions{}); !errors.Is(err, ErrUnequalPayloadLengths) {
		t.Errorf("truncated body: %v", err)
	}
	// The first payload type comes from the caller: a wrong one fails.
	if _, err := ParsePayloads(PayloadProposal, body, ParseOptions{}); !errors.Is(err, ErrInvalidPayloadType) {
		t.Errorf("first type P: %v", err)
	}
}

// TestViewAccessors: the typed View accessors decode what Parse does, and
// refuse other payload types.
func TestViewAccessors(t *testing.T) {
	ps := allPayloads()
	b := build(t, ps...)
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	var v View
	if _, err := v.Start(b); err != nil {
		t.Fatal(err)
	}
	opt := cmp.Options{cmpOpts, cmpopts.EquateEmpty()}
	for i := 0; v.Next(); i++ {
		want := m.Payloads[i]
		var got any
		var err error
		switch v.Type() {
		case PayloadSA:
			var r SAReader
			r, err = v.SA()
			sa := &SA{DOI: r.DOI, Situation: r.Situation}
			for r.Next() {
				pr := r.Proposal()
				p := Proposal{Number: pr.Number, Protocol: pr.Protocol, SPI: pr.SPI}
				for pr.Next() {
					tr := pr.Transform()
					tf := Transform{Number: tr.Number, ID: tr.ID}
					for tr.Next() {
						tf.Attributes = append(tf.Attributes, tr.Attribute())
					}
					p.Transforms = append(p.Transforms, tf)
				}
				sa.Proposals = append(sa.Proposals, p)
			}
			got = sa
		case PayloadN:
			n, e := v.Notification()
			got, err = &n, e
		case PayloadD:
			d, e := v.Delete()
			got, err = &d, e
		case PayloadID:
			id, e := v.Identification()
			got, err = &id, e
		case PayloadNATOA, PayloadNATOADraft:
			oa, e := v.NATOA()
			got, err = &oa, e
		default:
			if _, err := v.Delete(); !errors.Is(err, ErrWrongPayload) {
				t.Errorf("Delete() on %v: %v", v.Type(), err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("payload %d: %v", i, err)
		}
		if diff := cmp.Diff(want, got, opt); diff != "" {
			t.Errorf("payload %d (-Parse +View):\n%s", i, diff)
		}
	}
	if v.Err() != nil {
		t.Fatal(v.Err())
	}
}

// TestViewZeroAlloc: walking a real message, its SA down to the attributes
// and a Delete allocates nothing.
func TestViewZeroAlloc(t *testing.T) {
	msgs := [][]byte{loadCaptures(t)[0].msg, build(t, allPayloads()...)}
	for _, b := range msgs {
		allocs := testing.AllocsPerRun(100, func() { walkAll(b) })
		if allocs != 0 {
			t.Errorf("View walk allocates %.1f times per message", allocs)
		}
	}
}

// walkAll visits every payload, proposal, transform, attribute and SPI.
func walkAll(b []byte) int {
	var v View
	n := 0
	if _, err := v.Start(b); err != nil {
		return -1
	}
	for v.Next() {
		switch v.Type() {
		case PayloadSA:
			r, _ := v.SA()
			for r.Next() {
				p := r.Proposal()
				for p.Next() {
					tr := p.Transform()
					for tr.Next() {
						a := tr.Attribute()
						n += int(a.Value) + len(a.Data)
					}
				}
			}
		case PayloadD:
			d, _ := v.Delete()
			for i := 0; i < d.NumSPIs(); i++ {
				n += int(d.SPI(i)[0])
			}
		case PayloadN:
			nt, _ := v.Notification()
			n += int(nt.Notify)
		}
		n += len(v.Body())
	}
	if v.Err() != nil {
		return -1
	}
	return n
}

// TestParseCopies: a parsed Message does not alias the caller's buffer.
func TestParseCopies(t *testing.T) {
	b := build(t, &Nonce{Data: []byte{1, 2, 3}})
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	b[HeaderLen+4] = 0xee
	if m.Payloads[0].(*Nonce).Data[0] != 1 {
		t.Error("Parse result aliases the input")
	}
}

func TestHelpers(t *testing.T) {
	id := IDFromPrefix(netip.MustParsePrefix("10.1.2.0/23"), 0, 0)
	if p, ok := id.Prefix(); !ok || p.String() != "10.1.2.0/23" {
		t.Errorf("Prefix() = %v %v", p, ok)
	}
	id6 := IDFromPrefix(netip.MustParsePrefix("2001:db8::/33"), 0, 0)
	if p, ok := id6.Prefix(); !ok || p.String() != "2001:db8::/33" {
		t.Errorf("Prefix() = %v %v", p, ok)
	}
	holey := Identification{IDType: IDIPv4AddrSubnet, Data: []byte{10, 0, 0, 0, 255, 0, 255, 0}}
	if _, ok := holey.Prefix(); ok {
		t.Error("non-contiguous mask accepted")
	}
	r := Identification{IDType: IDIPv4AddrRange, Data: []byte{10, 0, 0, 1, 10, 0, 0, 9}}
	if lo, hi, ok := r.Range(); !ok || lo.String() != "10.0.0.1" || hi.String() != "10.0.0.9" {
		t.Errorf("Range() = %v %v %v", lo, hi, ok)
	}
	if a, ok := IDFromAddr(netip.MustParseAddr("::ffff:10.0.0.1"), 0, 0).Addr(); !ok || a.String() != "10.0.0.1" {
		t.Errorf("mapped address: %v %v", a, ok)
	}
	for v, want := range map[uint64]int{0: -1, 0xffff: -1, 0x10000: 3, 1 << 40: 6} {
		a := UintAttribute(IPsecAttrSALifeDuration, v)
		if got, ok := a.Uint(); !ok || got != v || (want < 0) != a.Basic || (want > 0 && len(a.Data) != want) {
			t.Errorf("UintAttribute(%d) = %+v", v, a)
		}
	}
	if _, ok := VariableAttribute(ClassGroupPrime, make([]byte, 9)).Uint(); ok {
		t.Error("9-byte value reported as integer")
	}
	d := Delete{Protocol: ProtoIPsecESP, SPISize: 4, SPIs: []byte{1, 2, 3, 4, 5, 6, 7, 8}}
	if d.NumSPIs() != 2 || d.SPI(1)[0] != 5 {
		t.Errorf("Delete SPIs: %d %x", d.NumSPIs(), d.SPI(1))
	}
}
