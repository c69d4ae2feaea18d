package isakmp_test

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

// Build a Quick Mode SA proposal, encode it as a decrypted body and parse
// it back.
func Example_build() {
	sa := &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SitIdentityOnly, Proposals: []isakmp.Proposal{{
		Number: 1, Protocol: isakmp.ProtoIPsecESP, SPI: []byte{0xc0, 0x01, 0xca, 0xfe},
		Transforms: []isakmp.Transform{{Number: 1, ID: uint8(isakmp.ESPAES), Attributes: []isakmp.Attribute{
			isakmp.BasicAttribute(isakmp.IPsecAttrEncapsulationMode, isakmp.EncapUDPTunnel),
			isakmp.BasicAttribute(isakmp.IPsecAttrAuthenticationAlgorithm, isakmp.AuthHMACSHA),
			isakmp.BasicAttribute(isakmp.IPsecAttrKeyLength, uint16(128)),
			isakmp.UintAttribute(isakmp.IPsecAttrSALifeDuration, 3600),
		}}},
	}}}
	id := isakmp.IDFromPrefix(netip.MustParsePrefix("10.1.0.0/16"), 0, 0)
	body, err := isakmp.AppendPayloads(nil, []isakmp.Payload{&isakmp.Hash{Data: make([]byte, 20)}, sa,
		&isakmp.Nonce{Data: make([]byte, 16)}, &id})
	if err != nil {
		panic(err)
	}
	body = append(body, 0, 0, 0, 3) // cipher padding
	b, err := isakmp.ParsePayloads(isakmp.PayloadHASH, body, isakmp.ParseOptions{})
	if err != nil {
		panic(err)
	}
	for _, p := range b.Payloads {
		fmt.Println(p.Type())
	}
	fmt.Println("padding", len(b.Padding))
	// Output:
	// HASH
	// SA
	// NONCE
	// ID
	// padding 4
}

// Parse a message and answer a malformed one with the right notify type.
func ExampleParse() {
	m := &isakmp.Message{
		Header: isakmp.Header{InitiatorCookie: isakmp.Cookie{1}, MajorVersion: 1,
			Exchange: isakmp.ExchangeInformational},
		Payloads: []isakmp.Payload{&isakmp.Delete{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoIPsecESP,
			SPISize: 4, SPIs: []byte{0xc0, 0x01, 0xca, 0xfe}}},
	}
	b, _ := m.Marshal()
	got, err := isakmp.Parse(b)
	if err != nil {
		panic(err)
	}
	d := got.Payloads[0].(*isakmp.Delete)
	fmt.Printf("%v %v %x\n", got.Header.Exchange, d.Protocol, d.SPI(0))

	b[len(b)-5] = 2 // #SPIs 2, but one is present
	_, err = isakmp.Parse(b)
	var e *isakmp.Error
	fmt.Println(errors.Is(err, isakmp.ErrCountMismatch), errors.As(err, &e), e.Path, isakmp.NotifyFor(err))
	// Output:
	// Informational PROTO_IPSEC_ESP c001cafe
	// true true D[0] PAYLOAD-MALFORMED
}

// Walk a message without allocating, down to the SA's attributes.
func ExampleView() {
	sa := &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SitIdentityOnly, Proposals: []isakmp.Proposal{{
		Number: 1, Protocol: isakmp.ProtoISAKMP, Transforms: []isakmp.Transform{{Number: 1, ID: uint8(isakmp.KeyIKE),
			Attributes: []isakmp.Attribute{
				isakmp.BasicAttribute(isakmp.ClassEncryptionAlgorithm, isakmp.EncAESCBC),
				isakmp.BasicAttribute(isakmp.ClassHashAlgorithm, isakmp.HashSHA),
				isakmp.BasicAttribute(isakmp.ClassGroupDescription, isakmp.GroupMODP2048),
			}}}}}}
	m := &isakmp.Message{Header: isakmp.Header{MajorVersion: 1, Exchange: isakmp.ExchangeMainMode},
		Payloads: []isakmp.Payload{sa, &isakmp.VendorID{Data: []byte("hitless")}}}
	b, _ := m.Marshal()

	var v isakmp.View
	if _, err := v.Start(b); err != nil {
		panic(err)
	}
	for v.Next() {
		fmt.Println(v.Type(), v.Offset())
		if v.Type() != isakmp.PayloadSA {
			continue
		}
		r, _ := v.SA()
		for r.Next() {
			p := r.Proposal()
			for p.Next() {
				t := p.Transform()
				for t.Next() {
					a := t.Attribute()
					fmt.Printf("  %v = %d\n", isakmp.AttributeClass(a.Type), a.Value)
				}
			}
		}
	}
	if err := v.Err(); err != nil {
		panic(err)
	}
	// Output:
	// SA 28
	//   Encryption Algorithm = 7
	//   Hash Algorithm = 2
	//   Group Description = 14
	// VID 68
}

// Demultiplex UDP port 4500.
func ExampleClassifyUDP4500() {
	for _, d := range [][]byte{{0xff}, {0xc0, 1, 2, 3, 0, 0, 0, 1}, {0, 0, 0, 0, 1}} {
		k, _, err := isakmp.ClassifyUDP4500(d)
		fmt.Println(k, err)
	}
	// Output:
	// NAT-keepalive <nil>
	// ESP <nil>
	// invalid isakmp: truncated in UDP at offset 5
}
