package isakmp

import "golang.org/x/crypto/cryptobyte"

func unencodable(t PayloadType) error {
	return &Error{Path: t.String(), Err: ErrUnencodable}
}

func (sa *SA) bodySize() (int, error) {
	if sa.Situation&^SitIdentityOnly != 0 {
		return 0, unencodable(PayloadSA)
	}
	n := 8
	for _, p := range sa.Proposals {
		if len(p.SPI) > 0xff || len(p.Transforms) > 0xff {
			return 0, unencodable(PayloadSA)
		}
		pn := 8 + len(p.SPI)
		for _, t := range p.Transforms {
			tn := 8
			for _, a := range t.Attributes {
				if a.Type&0x8000 != 0 || len(a.Data) > 0xffff || (a.Basic && len(a.Data) > 0) {
					return 0, unencodable(PayloadSA)
				}
				tn += 4
				if !a.Basic {
					tn += len(a.Data)
				}
			}
			if tn > 0xffff {
				return 0, unencodable(PayloadSA)
			}
			pn += tn
		}
		if pn > 0xffff {
			return 0, unencodable(PayloadSA)
		}
		n += pn
	}
	return n, nil
}

// appendBody writes the SA; sizes were checked by bodySize.
func (sa *SA) appendBody(b *cryptobyte.Builder) {
	b.AddUint32(uint32(sa.DOI))
	b.AddUint32(uint32(sa.Situation))
	for i, p := range sa.Proposals {
		next := PayloadProposal
		if i == len(sa.Proposals)-1 {
			next = PayloadNone
		}
		pn := 8 + len(p.SPI)
		for _, t := range p.Transforms {
			pn += t.size()
		}
		b.AddUint8(uint8(next))
		b.AddUint8(0)
		b.AddUint16(uint16(pn))
		b.AddUint8(p.Number)
		b.AddUint8(uint8(p.Protocol))
		b.AddUint8(uint8(len(p.SPI)))
		b.AddUint8(uint8(len(p.Transforms)))
		b.AddBytes(p.SPI)
		for j, t := range p.Transforms {
			next := PayloadTransform
			if j == len(p.Transforms)-1 {
				next = PayloadNone
			}
			b.AddUint8(uint8(next))
			b.AddUint8(0)
			b.AddUint16(uint16(t.size()))
			b.AddUint8(t.Number)
			b.AddUint8(t.ID)
			b.AddUint16(0)
			for _, a := range t.Attributes {
				if a.Basic {
					b.AddUint16(a.Type | 0x8000)
					b.AddUint16(a.Value)
				} else {
					b.AddUint16(a.Type)
					b.AddUint16(uint16(len(a.Data)))
					b.AddBytes(a.Data)
				}
			}
		}
	}
}

func (t *Transform) size() int {
	n := 8
	for _, a := range t.Attributes {
		n += 4
		if !a.Basic {
			n += len(a.Data)
		}
	}
	return n
}

func (p *KeyExchange) bodySize() (int, error)           { return len(p.Data), nil }
func (p *KeyExchange) appendBody(b *cryptobyte.Builder) { b.AddBytes(p.Data) }
func (p *Hash) bodySize() (int, error)                  { return len(p.Data), nil }
func (p *Hash) appendBody(b *cryptobyte.Builder)        { b.AddBytes(p.Data) }
func (p *Signature) bodySize() (int, error)             { return len(p.Data), nil }
func (p *Signature) appendBody(b *cryptobyte.Builder)   { b.AddBytes(p.Data) }
func (p *Nonce) bodySize() (int, error)                 { return len(p.Data), nil }
func (p *Nonce) appendBody(b *cryptobyte.Builder)       { b.AddBytes(p.Data) }
func (p *VendorID) bodySize() (int, error)              { return len(p.Data), nil }
func (p *VendorID) appendBody(b *cryptobyte.Builder)    { b.AddBytes(p.Data) }
func (p *NATD) bodySize() (int, error)                  { return len(p.Hash), nil }
func (p *NATD) appendBody(b *cryptobyte.Builder)        { b.AddBytes(p.Hash) }
func (p *Unknown) bodySize() (int, error)               { return len(p.Data), nil }
func (p *Unknown) appendBody(b *cryptobyte.Builder)     { b.AddBytes(p.Data) }

func (p *Identification) bodySize() (int, error) { return 4 + len(p.Data), nil }
func (p *Identification) appendBody(b *cryptobyte.Builder) {
	b.AddUint8(uint8(p.IDType))
	b.AddUint8(p.Protocol)
	b.AddUint16(p.Port)
	b.AddBytes(p.Data)
}

func (p *Certificate) bodySize() (int, error) { return 1 + len(p.Data), nil }
func (p *Certificate) appendBody(b *cryptobyte.Builder) {
	b.AddUint8(uint8(p.Encoding))
	b.AddBytes(p.Data)
}

func (p *CertificateRequest) bodySize() (int, error) { return 1 + len(p.Authority), nil }
func (p *CertificateRequest) appendBody(b *cryptobyte.Builder) {
	b.AddUint8(uint8(p.Encoding))
	b.AddBytes(p.Authority)
}

func (p *Notification) bodySize() (int, error) {
	if len(p.SPI) > 0xff {
		return 0, unencodable(PayloadN)
	}
	return 8 + len(p.SPI) + len(p.Data), nil
}
func (p *Notification) appendBody(b *cryptobyte.Builder) {
	b.AddUint32(uint32(p.DOI))
	b.AddUint8(uint8(p.Protocol))
	b.AddUint8(uint8(len(p.SPI)))
	b.AddUint16(uint16(p.Notify))
	b.AddBytes(p.SPI)
	b.AddBytes(p.Data)
}

func (p *Delete) bodySize() (int, error) {
	if (p.SPISize == 0 && len(p.SPIs) > 0) || (p.SPISize > 0 && len(p.SPIs)%int(p.SPISize) != 0) ||
		p.NumSPIs() > 0xffff {
		return 0, unencodable(PayloadD)
	}
	return 8 + len(p.SPIs), nil
}
func (p *Delete) appendBody(b *cryptobyte.Builder) {
	b.AddUint32(uint32(p.DOI))
	b.AddUint8(uint8(p.Protocol))
	b.AddUint8(p.SPISize)
	b.AddUint16(uint16(p.NumSPIs()))
	b.AddBytes(p.SPIs)
}

func (p *NATOA) bodySize() (int, error) {
	switch {
	case p.IDType == IDIPv4Addr && p.Addr.Is4():
		return 8, nil
	case p.IDType == IDIPv6Addr && p.Addr.Is6():
		return 20, nil
	}
	return 0, unencodable(p.Type())
}
func (p *NATOA) appendBody(b *cryptobyte.Builder) {
	b.AddUint8(uint8(p.IDType))
	b.AddUint8(0)
	b.AddUint16(0)
	b.AddBytes(p.Addr.AsSlice())
}
