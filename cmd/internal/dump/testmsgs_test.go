package dump

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/cmd/internal/synth"
	"github.com/hitless-ike/hitless/corpus/capture"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// testMessages returns plaintext messages that together use every payload
// type and ID type the dump decodes, built with the isakmp package.
func testMessages(t testing.TB) [][]byte {
	ic := isakmp.Cookie{1, 2, 3, 4, 5, 6, 7, 8}
	rc := isakmp.Cookie{9, 10, 11, 12, 13, 14, 15, 16}
	hdr := func(x isakmp.ExchangeType, id uint32) isakmp.Header {
		return isakmp.Header{InitiatorCookie: ic, ResponderCookie: rc, MajorVersion: 1, Exchange: x, MessageID: id}
	}
	seq := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + n)
		}
		return b
	}
	idSubnet6 := isakmp.IDFromPrefix(netip.MustParsePrefix("2001:db8:1::/48"), 0, 0)
	idAddr6 := isakmp.IDFromAddr(netip.MustParseAddr("2001:db8::5"), 17, 4500)
	msgs := []*isakmp.Message{
		{Header: hdr(isakmp.ExchangeMainMode, 0), Payloads: []isakmp.Payload{
			&isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SitIdentityOnly, Proposals: []isakmp.Proposal{{
				Number: 1, Protocol: isakmp.ProtoISAKMP, Transforms: []isakmp.Transform{
					{Number: 1, ID: 1, Attributes: []isakmp.Attribute{
						isakmp.BasicAttribute(isakmp.ClassEncryptionAlgorithm, isakmp.EncAESCBC),
						isakmp.BasicAttribute(isakmp.ClassKeyLength, uint16(256)),
						isakmp.BasicAttribute(isakmp.ClassHashAlgorithm, isakmp.HashSHA2256),
						isakmp.BasicAttribute(isakmp.ClassGroupDescription, uint16(14)),
						isakmp.BasicAttribute(isakmp.ClassAuthenticationMethod, isakmp.AuthPreSharedKey),
						isakmp.BasicAttribute(isakmp.ClassLifeType, isakmp.LifeSeconds),
						isakmp.UintAttribute(isakmp.ClassLifeDuration, 86400),
					}},
					{Number: 2, ID: 1, Attributes: []isakmp.Attribute{
						isakmp.BasicAttribute(isakmp.ClassEncryptionAlgorithm, isakmp.Enc3DESCBC),
					}},
				}}}},
			&isakmp.KeyExchange{Data: seq(96)},
			&isakmp.Nonce{Data: seq(20)},
			&isakmp.NATD{Hash: seq(20)},
			&isakmp.NATD{Hash: seq(21)[1:], Draft: true},
			&isakmp.VendorID{Data: []byte{0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 1, 0}},
		}},
		{Header: hdr(isakmp.ExchangeQuickMode, 0x11223344), Payloads: []isakmp.Payload{
			&isakmp.Hash{Data: seq(20)},
			&isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SitIdentityOnly, Proposals: []isakmp.Proposal{{
				Number: 1, Protocol: isakmp.ProtoIPsecESP, SPI: []byte{0xc0, 0xff, 0xee, 0x01}, Transforms: []isakmp.Transform{
					{Number: 1, ID: 12, Attributes: []isakmp.Attribute{
						isakmp.BasicAttribute(isakmp.IPsecAttrSALifeType, isakmp.LifeSeconds),
						isakmp.UintAttribute(isakmp.IPsecAttrSALifeDuration, 3600),
						isakmp.BasicAttribute(isakmp.IPsecAttrSALifeType, isakmp.LifeKilobytes),
						isakmp.UintAttribute(isakmp.IPsecAttrSALifeDuration, 1<<20),
						isakmp.BasicAttribute(isakmp.IPsecAttrEncapsulationMode, isakmp.EncapUDPTunnel),
						isakmp.BasicAttribute(isakmp.IPsecAttrAuthenticationAlgorithm, isakmp.AuthHMACSHA),
						isakmp.BasicAttribute(isakmp.IPsecAttrKeyLength, uint16(128)),
						isakmp.BasicAttribute(isakmp.IPsecAttrGroupDescription, uint16(14)),
					}},
				}}, {
				Number: 2, Protocol: isakmp.ProtoIPsecAH, SPI: []byte{0xc0, 0xff, 0xee, 0x02}, Transforms: []isakmp.Transform{
					{Number: 1, ID: 3, Attributes: []isakmp.Attribute{
						isakmp.BasicAttribute(isakmp.IPsecAttrAuthenticationAlgorithm, isakmp.AuthHMACSHA),
					}},
				}}}},
			&isakmp.Nonce{Data: seq(32)},
			ptr(isakmp.IDFromPrefix(netip.MustParsePrefix("10.1.0.0/16"), 0, 0)),
			ptr(isakmp.IDFromAddr(netip.MustParseAddr("10.2.3.4"), 17, 500)),
			&isakmp.NATOA{IDType: isakmp.IDIPv4Addr, Addr: netip.MustParseAddr("192.168.1.10")},
		}},
		{Header: hdr(isakmp.ExchangeInformational, 0xdeadbeef), Payloads: []isakmp.Payload{
			&isakmp.Hash{Data: seq(20)},
			&isakmp.Notification{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoISAKMP, Notify: isakmp.NotifyInitialContact, SPI: append(ic[:], rc[:]...)},
			&isakmp.Notification{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoISAKMP, Notify: isakmp.NotifyRUThere, SPI: append(ic[:], rc[:]...), Data: []byte{0, 0, 0x12, 0x34}},
			&isakmp.Notification{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoIPsecESP, Notify: isakmp.NotifyResponderLifetime, SPI: []byte{1, 2, 3, 4}, Data: []byte{0x80, 0x01, 0x00, 0x01}},
			&isakmp.Notification{DOI: isakmp.DOIIPsec, Notify: isakmp.NotifyNoProposalChosen},
			&isakmp.Delete{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoIPsecESP, SPISize: 4, SPIs: []byte{0xaa, 0xbb, 0xcc, 0xdd, 0x11, 0x22, 0x33, 0x44}},
			&isakmp.Delete{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoISAKMP, SPISize: 16, SPIs: append(ic[:], rc[:]...)},
		}},
		{Header: hdr(isakmp.ExchangeAggressive, 0), Payloads: []isakmp.Payload{
			&isakmp.Identification{IDType: isakmp.IDFQDN, Data: []byte("vpn.example.org")},
			&isakmp.Identification{IDType: isakmp.IDUserFQDN, Data: []byte("alice@example.org")},
			&isakmp.Identification{IDType: isakmp.IDKeyID, Data: []byte{1, 2, 3, 0xff}},
			&isakmp.Identification{IDType: isakmp.IDIPv4AddrRange, Data: []byte{10, 0, 0, 1, 10, 0, 0, 200}},
			&idSubnet6,
			&idAddr6,
			&isakmp.Certificate{Encoding: isakmp.CertX509Signature, Data: seq(40)},
			&isakmp.CertificateRequest{Encoding: isakmp.CertX509Signature},
			&isakmp.Signature{Data: seq(64)},
			&isakmp.VendorID{Data: []byte("unknown vendor")},
		}},
	}
	var out [][]byte
	for _, m := range msgs {
		b, err := m.Marshal()
		if err != nil {
			t.Fatalf("marshal %v: %v", m.Header.Exchange, err)
		}
		out = append(out, b)
	}
	// An encrypted message: header plus opaque bytes.
	enc := isakmp.Message{Header: hdr(isakmp.ExchangeQuickMode, 0x01020304), Ciphertext: seq(48)}
	enc.Header.Flags = isakmp.FlagEncryption
	enc.Header.NextPayload = isakmp.PayloadHASH
	b, err := enc.Marshal()
	if err != nil {
		t.Fatalf("marshal encrypted: %v", err)
	}
	return append(out, b)
}

func ptr[T any](v T) *T { return &v }

// testCapture writes the test messages as a pcap: each once on port 500
// and once on 4500 behind a non-ESP marker, plus an ESP packet and a
// NAT-keepalive.
func testCapture(t testing.TB) []byte {
	a := netip.MustParseAddrPort("192.0.2.1:500")
	b := netip.MustParseAddrPort("192.0.2.2:500")
	a4 := netip.AddrPortFrom(a.Addr(), 4500)
	b4 := netip.AddrPortFrom(b.Addr(), 4500)
	var ds []capture.Datagram
	for _, m := range testMessages(t) {
		ds = append(ds, capture.Datagram{Src: a, Dst: b, Payload: m})
		ds = append(ds, capture.Datagram{Src: b4, Dst: a4, Payload: isakmp.AppendNonESPMarker(nil, m)})
	}
	ds = append(ds,
		capture.Datagram{Src: a4, Dst: b4, Payload: []byte{0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8}},
		capture.Datagram{Src: a4, Dst: b4, Payload: []byte{0xff}},
	)
	for i := range ds {
		ds[i].Time = time.Unix(1700000000, int64(i))
	}
	var buf bytes.Buffer
	if _, err := synth.Generate(&buf, [][]capture.Datagram{ds}, 1); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
