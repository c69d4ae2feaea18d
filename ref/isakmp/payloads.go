package isakmp

import (
	"net/netip"

	"golang.org/x/crypto/cryptobyte"
)

// Payload is one payload of a message's payload chain. The concrete types
// are the pointer types of this package (*SA, *Nonce, ..., *Unknown);
// Marshal derives each generic header (next payload, length) from them.
type Payload interface {
	// Type is the payload type written in the preceding next-payload field.
	Type() PayloadType
	// bodySize returns the encoded size of the body (without the 4-byte
	// generic header), or ErrUnencodable.
	bodySize() (int, error)
	// appendBody appends the encoded body.
	appendBody(b *cryptobyte.Builder)
}

// SA is a Security Association payload (RFC 2408 §3.4) of the IPsec DOI
// (RFC 2407 §4.6.1) with an identity-only situation.
type SA struct {
	DOI       DOI
	Situation Situation
	Proposals []Proposal
}

// Proposal is a Proposal payload (RFC 2408 §3.5). Proposals sharing a
// Number are alternatives ANDed together (e.g. AH and ESP).
type Proposal struct {
	Number     uint8
	Protocol   ProtocolID
	SPI        []byte // 0 or 16 bytes for ISAKMP, 4 for AH/ESP, 2 or 4 for IPCOMP
	Transforms []Transform
}

// Transform is a Transform payload (RFC 2408 §3.6). ID is interpreted
// relative to the proposal's protocol, see [TransformName].
type Transform struct {
	Number     uint8
	ID         uint8
	Attributes []Attribute
}

// Attribute is a data attribute (RFC 2408 §3.3) in basic (TV, AF=1) or
// variable (TLV) form. Type excludes the AF bit; it is an [AttributeClass]
// in phase-1 transforms and an [IPsecAttributeType] in IPsec ones.
type Attribute struct {
	Type  uint16
	Basic bool   // TV form: the value is Value
	Value uint16 // value of a basic attribute
	Data  []byte // value of a variable attribute
}

// KeyExchange is a Key Exchange payload (RFC 2408 §3.7).
type KeyExchange struct{ Data []byte }

// Identification is an ID payload in the IPsec DOI format (RFC 2407
// §4.6.2), used in phase 1 and for Quick Mode client IDs.
type Identification struct {
	IDType   IDType
	Protocol uint8 // IP protocol number, 0 for any
	Port     uint16
	Data     []byte
}

// Certificate is a Certificate payload (RFC 2408 §3.9).
type Certificate struct {
	Encoding CertEncoding
	Data     []byte
}

// CertificateRequest is a Certificate Request payload (RFC 2408 §3.10).
type CertificateRequest struct {
	Encoding  CertEncoding
	Authority []byte
}

// Hash is a Hash payload (RFC 2408 §3.11).
type Hash struct{ Data []byte }

// Signature is a Signature payload (RFC 2408 §3.12).
type Signature struct{ Data []byte }

// Nonce is a Nonce payload (RFC 2408 §3.13).
type Nonce struct{ Data []byte }

// Notification is a Notification payload (RFC 2408 §3.14).
type Notification struct {
	DOI      DOI
	Protocol ProtocolID // 0 when the notification concerns no SA
	Notify   NotifyType
	SPI      []byte
	Data     []byte
}

// Delete is a Delete payload (RFC 2408 §3.15). SPIs holds the SPIs
// back to back, each SPISize bytes long, so that a Delete costs one slice.
type Delete struct {
	DOI      DOI
	Protocol ProtocolID
	SPISize  uint8
	SPIs     []byte
}

// VendorID is a Vendor ID payload (RFC 2408 §3.16).
type VendorID struct{ Data []byte }

// NATD is a NAT-Discovery payload (RFC 3947 §3.2). Draft selects payload
// type 130 instead of 20.
type NATD struct {
	Hash  []byte
	Draft bool
}

// NATOA is a NAT Original Address payload (RFC 3947 §5.1). Draft selects
// payload type 131 instead of 21.
type NATOA struct {
	IDType IDType // IDIPv4Addr or IDIPv6Addr
	Addr   netip.Addr
	Draft  bool
}

// Unknown is a payload this package does not model (Mode Config, GDOI,
// private use, or — lenient only — unassigned types), kept as raw body
// bytes so that it round-trips.
type Unknown struct {
	PayloadType PayloadType
	Data        []byte
}

// Type returns PayloadSA.
func (*SA) Type() PayloadType { return PayloadSA }

// Type returns PayloadKE.
func (*KeyExchange) Type() PayloadType { return PayloadKE }

// Type returns PayloadID.
func (*Identification) Type() PayloadType { return PayloadID }

// Type returns PayloadCERT.
func (*Certificate) Type() PayloadType { return PayloadCERT }

// Type returns PayloadCR.
func (*CertificateRequest) Type() PayloadType { return PayloadCR }

// Type returns PayloadHASH.
func (*Hash) Type() PayloadType { return PayloadHASH }

// Type returns PayloadSIG.
func (*Signature) Type() PayloadType { return PayloadSIG }

// Type returns PayloadNONCE.
func (*Nonce) Type() PayloadType { return PayloadNONCE }

// Type returns PayloadN.
func (*Notification) Type() PayloadType { return PayloadN }

// Type returns PayloadD.
func (*Delete) Type() PayloadType { return PayloadD }

// Type returns PayloadVID.
func (*VendorID) Type() PayloadType { return PayloadVID }

// Type returns PayloadNATD, or PayloadNATDDraft if p.Draft.
func (p *NATD) Type() PayloadType {
	if p.Draft {
		return PayloadNATDDraft
	}
	return PayloadNATD
}

// Type returns PayloadNATOA, or PayloadNATOADraft if p.Draft.
func (p *NATOA) Type() PayloadType {
	if p.Draft {
		return PayloadNATOADraft
	}
	return PayloadNATOA
}

// Type returns p.PayloadType.
func (p *Unknown) Type() PayloadType { return p.PayloadType }

// NumSPIs returns the number of SPIs in d.
func (d Delete) NumSPIs() int {
	if d.SPISize == 0 {
		return 0
	}
	return len(d.SPIs) / int(d.SPISize)
}

// SPI returns the i'th SPI of d, aliasing d.SPIs.
func (d Delete) SPI(i int) []byte {
	n := int(d.SPISize)
	return d.SPIs[i*n : (i+1)*n : (i+1)*n]
}

// BasicAttribute returns the TV-form attribute t = v.
func BasicAttribute[T, V ~uint16](t T, v V) Attribute {
	return Attribute{Type: uint16(t), Basic: true, Value: uint16(v)}
}

// VariableAttribute returns the TLV-form attribute t = data.
func VariableAttribute[T ~uint16](t T, data []byte) Attribute {
	return Attribute{Type: uint16(t), Data: data}
}

// UintAttribute returns t = v in the shortest form: basic if v fits in 16
// bits, otherwise variable with the minimal big-endian encoding (as life
// durations are sent).
func UintAttribute[T ~uint16](t T, v uint64) Attribute {
	if v <= 0xffff {
		return BasicAttribute(t, uint16(v))
	}
	var buf [8]byte
	n := 0
	for x := v; x > 0; x >>= 8 {
		n++
	}
	for i := 0; i < n; i++ {
		buf[8-1-i] = byte(v >> (8 * i))
	}
	return Attribute{Type: uint16(t), Data: append([]byte(nil), buf[8-n:]...)}
}

// Uint returns the attribute's value as an integer: Value for a basic
// attribute, the big-endian Data for a variable one of at most 8 bytes.
func (a Attribute) Uint() (uint64, bool) {
	if a.Basic {
		return uint64(a.Value), true
	}
	if len(a.Data) > 8 {
		return 0, false
	}
	var v uint64
	for _, c := range a.Data {
		v = v<<8 | uint64(c)
	}
	return v, true
}

// IDFromAddr returns an ID_IPV4_ADDR or ID_IPV6_ADDR identification.
func IDFromAddr(a netip.Addr, protocol uint8, port uint16) Identification {
	if a.Is4() || a.Is4In6() {
		b := a.Unmap().As4()
		return Identification{IDType: IDIPv4Addr, Protocol: protocol, Port: port, Data: b[:]}
	}
	b := a.As16()
	return Identification{IDType: IDIPv6Addr, Protocol: protocol, Port: port, Data: b[:]}
}

// IDFromPrefix returns an ID_IPV4_ADDR_SUBNET or ID_IPV6_ADDR_SUBNET
// identification (address and mask) for p.
func IDFromPrefix(p netip.Prefix, protocol uint8, port uint16) Identification {
	p = p.Masked()
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		m := mask(4, p.Bits())
		return Identification{IDType: IDIPv4AddrSubnet, Protocol: protocol, Port: port, Data: append(b[:], m...)}
	}
	b := a.As16()
	m := mask(16, p.Bits())
	return Identification{IDType: IDIPv6AddrSubnet, Protocol: protocol, Port: port, Data: append(b[:], m...)}
}

func mask(n, bits int) []byte {
	m := make([]byte, n)
	for i := range m {
		switch {
		case bits >= 8:
			m[i] = 0xff
			bits -= 8
		case bits > 0:
			m[i] = byte(0xff << (8 - bits))
			bits = 0
		}
	}
	return m
}

// Addr returns the address of an ID_IPV4_ADDR or ID_IPV6_ADDR identification.
func (id Identification) Addr() (netip.Addr, bool) {
	switch {
	case id.IDType == IDIPv4Addr && len(id.Data) == 4:
		return netip.AddrFrom4([4]byte(id.Data)), true
	case id.IDType == IDIPv6Addr && len(id.Data) == 16:
		return netip.AddrFrom16([16]byte(id.Data)), true
	}
	return netip.Addr{}, false
}

// Prefix returns the prefix of an address or subnet identification. It
// fails for subnets whose mask is not contiguous.
func (id Identification) Prefix() (netip.Prefix, bool) {
	if a, ok := id.Addr(); ok {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	var n int
	switch {
	case id.IDType == IDIPv4AddrSubnet && len(id.Data) == 8:
		n = 4
	case id.IDType == IDIPv6AddrSubnet && len(id.Data) == 32:
		n = 16
	default:
		return netip.Prefix{}, false
	}
	a, _ := netip.AddrFromSlice(id.Data[:n])
	bits, zero := 0, false
	for _, c := range id.Data[n:] {
		for i := 7; i >= 0; i-- {
			if c>>i&1 == 1 {
				if zero {
					return netip.Prefix{}, false
				}
				bits++
			} else {
				zero = true
			}
		}
	}
	return netip.PrefixFrom(a, bits).Masked(), true
}

// Range returns the bounds of an ID_IPV4_ADDR_RANGE or ID_IPV6_ADDR_RANGE.
func (id Identification) Range() (lo, hi netip.Addr, ok bool) {
	var n int
	switch {
	case id.IDType == IDIPv4AddrRange && len(id.Data) == 8:
		n = 4
	case id.IDType == IDIPv6AddrRange && len(id.Data) == 32:
		n = 16
	default:
		return lo, hi, false
	}
	lo, _ = netip.AddrFromSlice(id.Data[:n])
	hi, _ = netip.AddrFromSlice(id.Data[n:])
	return lo, hi, true
}
