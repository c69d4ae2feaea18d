package isakmp

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

func testHeader() Header {
	return Header{
		InitiatorCookie: Cookie{1, 2, 3, 4, 5, 6, 7, 8},
		ResponderCookie: Cookie{9, 10, 11, 12, 13, 14, 15, 16},
		MajorVersion:    1,
		Exchange:        ExchangeQuickMode,
		MessageID:       0x01020304,
	}
}

func testSA() *SA {
	return &SA{DOI: DOIIPsec, Situation: SitIdentityOnly, Proposals: []Proposal{{
		Number: 1, Protocol: ProtoIPsecESP, SPI: []byte{0xc1, 0xc2, 0xc3, 0xc4},
		Transforms: []Transform{
			{Number: 1, ID: uint8(ESPAES), Attributes: []Attribute{
				BasicAttribute(IPsecAttrSALifeType, LifeSeconds),
				UintAttribute(IPsecAttrSALifeDuration, 100000), // TLV, 3 bytes
				BasicAttribute(IPsecAttrKeyLength, uint16(128)),
				BasicAttribute(IPsecAttrAuthenticationAlgorithm, AuthHMACSHA),
			}},
			{Number: 2, ID: uint8(ESP3DES), Attributes: []Attribute{
				BasicAttribute(IPsecAttrAuthenticationAlgorithm, AuthHMACSHA),
			}},
		},
	}}}
}

// Offsets inside the body of testSA (see the layout in the comment of
// testSABody).
const (
	saProp     = 8  // the proposal
	saT1       = 20 // transform 1
	saT1Attr1  = 32 // the TLV life duration
	saT2       = 47 // transform 2
	saBodySize = 59
)

// testSABody returns the encoded body of testSA: DOI, situation, proposal
// (8 bytes + SPI 4), transform 1 (8 + TV 4 + TLV 7 + TV 4 + TV 4), transform
// 2 (8 + TV 4).
func testSABody(t *testing.T) []byte {
	t.Helper()
	b, err := AppendPayloads(nil, []Payload{testSA()})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4+saBodySize {
		t.Fatalf("testSA body is %d bytes, layout constants assume %d", len(b)-4, saBodySize)
	}
	return b[4:]
}

// build marshals a plaintext message with payloads ps.
func build(t *testing.T, ps ...Payload) []byte {
	t.Helper()
	m := &Message{Header: testHeader(), Payloads: ps}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withSABody returns a message whose SA payload body is mutated by f.
func withSABody(t *testing.T, f func(b []byte) []byte) []byte {
	body := f(testSABody(t))
	return build(t, &Unknown{PayloadType: PayloadSA, Data: body}, &Nonce{Data: []byte("nonce-nonce")})
}

func put16(b []byte, off int, v uint16) []byte { binary.BigEndian.PutUint16(b[off:], v); return b }
func put32(b []byte, off int, v uint32) []byte { binary.BigEndian.PutUint32(b[off:], v); return b }

type badCase struct {
	class   string // the input class this case covers
	in      []byte
	want    error
	lenient bool // accepted by a lenient parse, with a note of kind want
}

// notifyOverride lists the classes answered with another notify type than
// their kind's default.
var notifyOverride = map[string]NotifyType{
	"delete #SPIs larger than present":     NotifyPayloadMalformed,
	"delete #SPIs 0xffff (count overflow)": NotifyPayloadMalformed,
}

func malformedCases(t *testing.T) []badCase {
	base := build(t, testSA(), &Nonce{Data: []byte("0123456789abcdef")}, &KeyExchange{Data: make([]byte, 32)})
	nonceOff := HeaderLen + 4 + saBodySize // generic header of the Nonce
	keOff := nonceOff + 4 + 16
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), base...)) }
	oneTransform := func(b []byte) []byte { // SA body with one proposal, one transform, no attributes
		b = b[:saT1+8]
		put16(b, saProp+2, uint16(len(b)-saProp))
		b[saProp+7] = 1
		b[saT1] = 0
		return put16(b, saT1+2, 8)
	}
	return []badCase{
		// header
		{"empty datagram", nil, ErrTruncated, false},
		{"truncated header", base[:HeaderLen-1], ErrTruncated, false},
		{"major version 2", mut(func(b []byte) []byte { b[17] = 0x20; return b }), ErrInvalidMajorVersion, false},
		{"minor version 1", mut(func(b []byte) []byte { b[17] = 0x11; return b }), ErrInvalidMinorVersion, true},
		{"undefined flag bit", mut(func(b []byte) []byte { b[19] |= 0x40; return b }), ErrInvalidFlags, true},
		{"header length below 28", mut(func(b []byte) []byte { return put32(b, 24, 27) }), ErrBadLength, false},
		{"header length beyond datagram (truncated datagram)", base[:len(base)-1], ErrTruncated, false},
		{"header length overflow 0xffffffff", mut(func(b []byte) []byte { return put32(b, 24, 0xffffffff) }), ErrTruncated, false},
		{"trailing garbage after header length", append(append([]byte(nil), base...), 1, 2, 3), ErrTrailingData, true},

		// payload chain
		{"payload length zero (zero-length loop)", mut(func(b []byte) []byte { return put16(b, nonceOff+2, 0) }), ErrBadLength, false},
		{"payload length 3", mut(func(b []byte) []byte { return put16(b, nonceOff+2, 3) }), ErrBadLength, false},
		{"payload length beyond message", mut(func(b []byte) []byte { return put16(b, keOff+2, 37) }), ErrUnequalPayloadLengths, false},
		{"payload length overflow 0xffff", mut(func(b []byte) []byte { return put16(b, nonceOff+2, 0xffff) }), ErrUnequalPayloadLengths, false},
		{"chain ends before header length", mut(func(b []byte) []byte { b[nonceOff] = 0; return b }), ErrUnequalPayloadLengths, true},
		{"chain continues past header length", mut(func(b []byte) []byte { b[keOff] = byte(PayloadNONCE); return b }), ErrUnequalPayloadLengths, false},
		{"generic header reserved not zero", mut(func(b []byte) []byte { b[nonceOff+1] = 1; return b }), ErrReservedNotZero, true},
		{"unassigned payload type 77", mut(func(b []byte) []byte { b[nonceOff] = 77; return b }), ErrInvalidPayloadType, true},
		{"proposal type at top level", mut(func(b []byte) []byte { b[16] = byte(PayloadProposal); return b }), ErrInvalidPayloadType, false},
		{"transform type at top level", mut(func(b []byte) []byte { b[nonceOff] = byte(PayloadTransform); return b }), ErrInvalidPayloadType, false},

		// SA
		{"SA shorter than DOI and situation", build(t, &Unknown{PayloadType: PayloadSA, Data: []byte{0, 0, 0, 1}}), ErrBadLength, false},
		{"SA DOI not IPsec", withSABody(t, func(b []byte) []byte { return put32(b, 0, 7) }), ErrUnsupportedDOI, false},
		{"SA labeled situation", withSABody(t, func(b []byte) []byte { return put32(b, 4, uint32(SitSecrecy|SitIdentityOnly)) }), ErrUnsupportedSituation, false},
		{"SA without proposals", withSABody(t, func(b []byte) []byte { return b[:8] }), ErrBadProposalSyntax, false},
		{"proposal truncated fixed part", withSABody(t, func(b []byte) []byte { return b[:saProp+5] }), ErrBadLength, false},
		{"proposal length below fixed part + SPI", withSABody(t, func(b []byte) []byte { return put16(b, saProp+2, 11) }), ErrBadLength, false},
		{"proposal length exceeds SA (nested length exceeding parent)", withSABody(t, func(b []byte) []byte { return put16(b, saProp+2, saBodySize) }), ErrBadLength, false},
		{"proposal next payload not P or NONE", withSABody(t, func(b []byte) []byte { b[saProp] = 3; return b }), ErrBadProposalSyntax, false},
		{"proposal says more follow, none does", withSABody(t, func(b []byte) []byte { b[saProp] = 2; return b }), ErrBadProposalSyntax, false},
		{"bytes after last proposal", withSABody(t, func(b []byte) []byte { return append(b, 0, 0, 0, 0) }), ErrBadProposalSyntax, false},
		{"proposal reserved not zero", withSABody(t, func(b []byte) []byte { b[saProp+1] = 9; return b }), ErrReservedNotZero, true},
		{"unknown protocol ID", withSABody(t, func(b []byte) []byte { b[saProp+5] = 9; return b }), ErrInvalidProtocol, false},
		{"ESP SPI size 3", withSABody(t, func(b []byte) []byte { b[saProp+6] = 3; return b }), ErrInvalidSPI, false},
		{"AH SPI size 16", withSABody(t, func(b []byte) []byte { b[saProp+5], b[saProp+6] = 2, 16; return b }), ErrInvalidSPI, false},
		{"#transforms larger than present", withSABody(t, func(b []byte) []byte { b[saProp+7] = 3; return b }), ErrCountMismatch, false},
		{"#transforms smaller than present", withSABody(t, func(b []byte) []byte { b[saProp+7] = 1; return b }), ErrCountMismatch, false},
		{"#transforms zero", withSABody(t, func(b []byte) []byte { b[saProp+7] = 0; return b }), ErrCountMismatch, false},
		{"transform length below 8", withSABody(t, func(b []byte) []byte { return put16(b, saT1+2, 7) }), ErrBadLength, false},
		{"transform length exceeds proposal", withSABody(t, func(b []byte) []byte { return put16(b, saT2+2, 13) }), ErrBadLength, false},
		{"transform next payload not T or NONE", withSABody(t, func(b []byte) []byte { b[saT1] = 2; return b }), ErrBadProposalSyntax, false},
		{"last transform says more follow", withSABody(t, func(b []byte) []byte { b[saT2] = 3; return b }), ErrBadProposalSyntax, false},
		{"transform reserved2 not zero", withSABody(t, func(b []byte) []byte { b[saT1+6] = 1; return b }), ErrReservedNotZero, true},
		{"attribute TLV overflow", withSABody(t, func(b []byte) []byte { return put16(b, saT1Attr1+2, 200) }), ErrBadLength, false},
		{"attribute truncated (2 bytes left)", withSABody(t, func(b []byte) []byte {
			b = append(oneTransform(b), 0x80, 0x01)
			put16(b, saProp+2, uint16(len(b)-saProp))
			return put16(b, saT1+2, 10)
		}), ErrBadLength, false},

		// other payloads
		{"notification shorter than fixed part", build(t, &Unknown{PayloadType: PayloadN, Data: []byte{0, 0, 0, 1, 3, 4, 0}}), ErrBadLength, false},
		{"notification SPI size beyond payload", build(t, &Unknown{PayloadType: PayloadN, Data: []byte{0, 0, 0, 1, 3, 4, 0x60, 0, 1, 2}}), ErrBadLength, false},
		{"notification ESP SPI size 3", build(t, &Notification{DOI: DOIIPsec, Protocol: ProtoIPsecESP, Notify: NotifyResponderLifetime, SPI: []byte{1, 2, 3}}), ErrInvalidSPI, true},
		{"notification unknown protocol", build(t, &Notification{DOI: DOIIPsec, Protocol: 9, Notify: NotifyInitialContact}), ErrInvalidProtocol, true},
		{"notification DOI 7", build(t, &Notification{DOI: 7, Notify: NotifyInitialContact}), ErrUnsupportedDOI, true},
		{"delete SPI size zero", build(t, &Delete{DOI: DOIIPsec, Protocol: ProtoISAKMP}), ErrInvalidSPI, false},
		{"delete ESP SPI size 2", build(t, &Delete{DOI: DOIIPsec, Protocol: ProtoIPsecESP, SPISize: 2, SPIs: []byte{1, 2}}), ErrInvalidSPI, false},
		{"delete #SPIs larger than present", build(t, &Unknown{PayloadType: PayloadD, Data: []byte{0, 0, 0, 1, 3, 4, 0, 2, 1, 2, 3, 4}}), ErrCountMismatch, false},
		{"delete #SPIs 0xffff (count overflow)", build(t, &Unknown{PayloadType: PayloadD, Data: []byte{0, 0, 0, 1, 3, 4, 0xff, 0xff, 1, 2, 3, 4}}), ErrCountMismatch, false},
		{"delete truncated fixed part", build(t, &Unknown{PayloadType: PayloadD, Data: []byte{0, 0, 0, 1, 3}}), ErrBadLength, false},
		{"ID shorter than fixed part", build(t, &Unknown{PayloadType: PayloadID, Data: []byte{1, 0, 0}}), ErrBadLength, false},
		{"ID_IPV4_ADDR with 3 bytes", build(t, &Identification{IDType: IDIPv4Addr, Data: []byte{10, 0, 0}}), ErrInvalidID, true},
		{"ID_IPV6_ADDR_SUBNET with 16 bytes", build(t, &Identification{IDType: IDIPv6AddrSubnet, Data: make([]byte, 16)}), ErrInvalidID, true},
		{"ID type 0", build(t, &Identification{IDType: 0, Data: []byte{1}}), ErrInvalidID, true},
		{"ID type 12", build(t, &Identification{IDType: 12, Data: []byte{1}}), ErrInvalidID, true},
		{"CERT without encoding", build(t, &Unknown{PayloadType: PayloadCERT}), ErrBadLength, false},
		{"CR without encoding", build(t, &Unknown{PayloadType: PayloadCR}), ErrBadLength, false},
		{"NAT-OA ID type FQDN", build(t, &Unknown{PayloadType: PayloadNATOA, Data: []byte{2, 0, 0, 0, 1, 2, 3, 4}}), ErrInvalidID, false},
		{"NAT-OA IPv4 with 16 bytes", build(t, &Unknown{PayloadType: PayloadNATOA, Data: append([]byte{1, 0, 0, 0}, make([]byte, 16)...)}), ErrBadLength, false},
		{"NAT-OA truncated fixed part", build(t, &Unknown{PayloadType: PayloadNATOADraft, Data: []byte{1, 0}}), ErrBadLength, false},
		{"NAT-OA reserved not zero", build(t, &Unknown{PayloadType: PayloadNATOA, Data: []byte{1, 0, 7, 0, 1, 2, 3, 4}}), ErrReservedNotZero, true},
	}
}

// TestMalformed: each class of bad input fails strict Parse and the View
// walk with the same typed error, mapped to its notify type, at an offset
// inside the input; classes real peers produce pass a lenient parse with a
// note of the same kind.
func TestMalformed(t *testing.T) {
	for _, c := range malformedCases(t) {
		t.Run(c.class, func(t *testing.T) {
			m, err := Parse(c.in)
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", m)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Parse error %v, want kind %v", err, c.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.Offset < 0 || e.Offset > len(c.in) {
				t.Errorf("offset %d outside input of %d bytes", e.Offset, len(c.in))
			}
			want := c.want.(*errKind).notify
			if n, ok := notifyOverride[c.class]; ok {
				want = n
			}
			if got := NotifyFor(err); got != want || e.Notify != want {
				t.Errorf("NotifyFor = %v, Error.Notify = %v, want %v", got, e.Notify, want)
			}
			agree(t, c.class, c.in, ParseOptions{})
			agree(t, c.class, c.in, ParseOptions{Lenient: true})

			lm, lerr := ParseWith(c.in, ParseOptions{Lenient: true})
			if !c.lenient {
				if lerr == nil {
					t.Fatalf("lenient parse accepted it")
				}
				return
			}
			if lerr != nil {
				t.Fatalf("lenient parse: %v", lerr)
			}
			found := false
			for _, n := range lm.Notes {
				found = found || errors.Is(n.Err, c.want)
			}
			if !found {
				t.Errorf("lenient notes %v lack %v", lm.Notes, c.want)
			}
		})
	}
}

// TestKeptUnknown: registered-but-unmodelled and private-use payload types
// pass strict parsing as *Unknown, are reported, and round-trip.
func TestKeptUnknown(t *testing.T) {
	in := build(t, &Hash{Data: []byte{1, 2}}, &Unknown{PayloadType: PayloadAttribute, Data: []byte{1, 0, 0, 0}},
		&Unknown{PayloadType: 200, Data: []byte("private")})
	m, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	got := m.UnknownPayloads()
	if len(got) != 2 || got[0] != PayloadAttribute || got[1] != 200 {
		t.Errorf("UnknownPayloads = %v", got)
	}
	out, err := m.Marshal()
	if err != nil || string(out) != string(in) {
		t.Errorf("round trip: %v", err)
	}
}

// TestLenientRoundTrip: what a lenient parse keeps as Padding and Trailing
// is re-encoded in place.
func TestLenientRoundTrip(t *testing.T) {
	in := build(t, &Hash{Data: []byte{1, 2}}, &Nonce{Data: []byte{3}})
	in[HeaderLen] = 0 // the chain now ends after HASH: the Nonce becomes padding
	in = append(in, 0xee, 0xee)
	m, err := ParseWith(in, ParseOptions{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Payloads) != 1 || len(m.Padding) != 5 || len(m.Trailing) != 2 || len(m.Notes) != 2 {
		t.Fatalf("payloads %d padding %x trailing %x notes %v", len(m.Payloads), m.Padding, m.Trailing, m.Notes)
	}
	out, err := m.Marshal()
	if err != nil || string(out) != string(in) {
		t.Fatalf("lenient round trip: %v\n got %x\nwant %x", err, out, in)
	}
}

// TestUnencodable: Marshal refuses structs whose lengths or counts do not
// fit their fields rather than writing a truncated field.
func TestUnencodable(t *testing.T) {
	for _, c := range []struct {
		class string
		p     Payload
	}{
		{"payload over 65535 bytes", &Nonce{Data: make([]byte, 0xffff)}},
		{"SPI over 255 bytes", &Notification{SPI: make([]byte, 256)}},
		{"delete SPIs not a multiple of SPISize", &Delete{Protocol: ProtoIPsecESP, SPISize: 4, SPIs: make([]byte, 5)}},
		{"NAT-OA IPv4 type with IPv6 address", &NATOA{IDType: IDIPv4Addr, Addr: netip.IPv6Loopback()}},
		{"NAT-OA without address", &NATOA{IDType: IDIPv4Addr}},
		{"attribute type with AF bit", &SA{DOI: DOIIPsec, Proposals: []Proposal{{Transforms: []Transform{{Attributes: []Attribute{{Type: 0x8001}}}}}}}},
		{"basic attribute with data", &SA{DOI: DOIIPsec, Proposals: []Proposal{{Transforms: []Transform{{Attributes: []Attribute{{Type: 1, Basic: true, Data: []byte{1}}}}}}}}},
		{"labeled situation", &SA{DOI: DOIIPsec, Situation: SitSecrecy}},
		{"nil payload", nil},
	} {
		m := &Message{Header: testHeader(), Payloads: []Payload{c.p}}
		if _, err := m.Marshal(); !errors.Is(err, ErrUnencodable) {
			t.Errorf("%s: Marshal error %v, want ErrUnencodable", c.class, err)
		}
	}
}
