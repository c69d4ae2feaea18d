package isakmp

import (
	"bytes"
	"errors"
	"testing"
)

func TestClassifyUDP4500(t *testing.T) {
	ike := build(t, &Hash{Data: []byte{1}})
	marked := AppendNonESPMarker(nil, ike)
	esp := []byte{0xc1, 0xc2, 0xc3, 0xc4, 0, 0, 0, 1, 0xaa}
	for _, c := range []struct {
		class string
		in    []byte
		kind  Kind
		part  []byte
		err   error
	}{
		{"IKE after non-ESP marker", marked, KindIKE, ike, nil},
		{"ESP with SPI and sequence number", esp, KindESP, esp, nil},
		{"ESP of exactly 8 bytes", esp[:8], KindESP, esp[:8], nil},
		{"NAT-keepalive", []byte{0xff}, KindKeepalive, nil, nil},
		{"empty datagram", nil, KindInvalid, nil, ErrTruncated},
		{"one byte not 0xFF", []byte{0}, KindInvalid, nil, ErrUDPFraming},
		{"two bytes", []byte{0xff, 0xff}, KindInvalid, nil, ErrUDPFraming},
		{"marker alone", []byte{0, 0, 0, 0}, KindInvalid, nil, ErrTruncated},
		{"marker with short ISAKMP header", marked[:4+HeaderLen-1], KindInvalid, nil, ErrTruncated},
		{"ESP shorter than SPI and sequence number", esp[:7], KindInvalid, nil, ErrTruncated},
	} {
		k, part, err := ClassifyUDP4500(c.in)
		if k != c.kind || !bytes.Equal(part, c.part) || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%s: got %v %x %v, want %v %x %v", c.class, k, part, err, c.kind, c.part, c.err)
		}
		if err != nil && NotifyFor(err) != NotifyPayloadMalformed {
			t.Errorf("%s: NotifyFor = %v", c.class, NotifyFor(err))
		}
	}
	if !bytes.Equal(marked[:4], []byte{0, 0, 0, 0}) || !bytes.Equal(marked[4:], ike) {
		t.Errorf("AppendNonESPMarker = %x", marked)
	}
}

// TestNames checks String against registry names for a sample of each
// registry, and the fallback for unassigned values.
func TestNames(t *testing.T) {
	for _, c := range []struct {
		got  interface{ String() string }
		want string
	}{
		{PayloadNATD, "NAT-D"}, {PayloadNATOADraft, "NAT-OA (draft)"}, {PayloadType(77), "PayloadType(77)"},
		{ExchangeQuickMode, "Quick Mode"}, {ExchangeMainMode, "Identity Protection"}, {ExchangeInformational, "Informational"},
		{ExchangeTransaction, "Transaction"}, {ExchangeNewGroupMode, "New Group Mode"},
		{NotifyUnequalPayloadLengths, "UNEQUAL-PAYLOAD-LENGTHS"}, {NotifyResponderLifetime, "RESPONDER-LIFETIME"},
		{NotifyReplayStatus, "REPLAY-STATUS"}, {NotifyInitialContact, "INITIAL-CONTACT"}, {NotifyConnected, "CONNECTED"},
		{NotifyType(31), "NotifyType(31)"},
		{DOIIPsec, "IPSEC"}, {ProtoIPsecESP, "PROTO_IPSEC_ESP"}, {ProtoIPComp, "PROTO_IPCOMP"},
		{KeyIKE, "KEY_IKE"}, {ESPAES, "ESP_AES-CBC"}, {ESPAESGCM16, "ESP_AES-GCM_16"}, {ESPNullAuthAESGMAC, "ESP_NULL_AUTH_AES-GMAC"},
		{ESPTransformID(17), "ESPTransformID(17)"}, {AHSHA, "AH_SHA"}, {IPCompDeflate, "IPCOMP_DEFLATE"},
		{ClassKeyLength, "Key Length"}, {ClassGroupOrder, "Group Order"}, {EncAESCBC, "AES-CBC"}, {HashSHA2512, "SHA2-512"},
		{AuthPreSharedKey, "pre-shared key"}, {GroupTypeECP, "ECP"}, {GroupMODP2048, "2048-bit MODP group"},
		{GroupCurve25519, "Curve25519"}, {LifeKilobytes, "kilobytes"},
		{IPsecAttrExtendedSequenceNumber, "Extended (64-bit) Sequence Number"}, {IPsecAttrEncapsulationMode, "Encapsulation Mode"},
		{EncapUDPTunnel, "UDP-Encapsulated-Tunnel"}, {EncapUDPTransportDraft, "UDP-Encapsulated-Transport (draft)"},
		{AuthHMACSHA2256, "HMAC-SHA2-256"}, {ECNAllowed, "Allowed"}, {IDKeyID, "ID_KEY_ID"}, {IDIPv4AddrSubnet, "ID_IPV4_ADDR_SUBNET"},
		{CertX509Signature, "X.509 Certificate - Signature"}, {SitIdentityOnly, "SIT_IDENTITY_ONLY"},
		{SitIdentityOnly | Situation(0x80), "SIT_IDENTITY_ONLY|Situation(0x80)"}, {KindKeepalive, "NAT-keepalive"},
	} {
		if s := c.got.String(); s != c.want {
			t.Errorf("%T(%v): String() = %q, want %q", c.got, c.got, s, c.want)
		}
	}
	if TransformName(ProtoIPsecESP, 12) != "ESP_AES-CBC" || TransformName(ProtoIPsecAH, 3) != "AH_SHA" ||
		TransformName(9, 1) != "TransformID(1)" {
		t.Error("TransformName")
	}
	if !NotifyInvalidSPI.IsError() || NotifyInitialContact.IsError() {
		t.Error("IsError")
	}
	if NotifyFor(nil) != NotifyNone || NotifyFor(errors.New("x")) != NotifyPayloadMalformed || NotifyFor(ErrInvalidSPI) != NotifyInvalidSPI {
		t.Error("NotifyFor on nil, foreign and bare-kind errors")
	}
}

// TestZeroValues: zero readers and a View used before Start neither panic
// nor report payloads.
func TestZeroValues(t *testing.T) {
	var v View
	if v.Next() || v.Raw() != nil || v.Body() != nil || v.Notes() != nil || v.Err() != nil {
		t.Error("zero View")
	}
	if _, err := v.SA(); !errors.Is(err, ErrWrongPayload) {
		t.Errorf("SA() on zero View: %v", err)
	}
	var r SAReader
	var p ProposalReader
	var tr TransformReader
	if r.Next() || p.Next() || tr.Next() || r.Err() != nil || p.Err() != nil || tr.Err() != nil {
		t.Error("zero readers")
	}
}
