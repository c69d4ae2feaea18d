package generate

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

// Offsets in the first Main Mode message of strongSwan 5.9.8 (SA with one
// ISAKMP proposal and one transform of basic attributes, then Vendor IDs).
// handMade checks them against the message before mutating it.
const (
	offSA        = isakmp.HeaderLen // SA generic header
	offDOI       = offSA + 4
	offProposal  = offSA + 12
	offTransform = offProposal + 8 // no SPI in a phase-1 proposal
	offAttrs     = offTransform + 8
)

// base holds the real messages the hand-made inputs mutate.
type base struct {
	mm1 []byte // SA + VIDs
	mm3 []byte // KE, NONCE, NAT-D x2
	qm1 []byte // encrypted Quick Mode message 1
}

func (g *gen) bases() (base, error) {
	var b base
	for _, d := range g.sources[0].ds {
		m, err := isakmp.Parse(d.Payload)
		if err != nil {
			continue
		}
		h := m.Header
		switch {
		case b.mm1 == nil && h.Exchange == isakmp.ExchangeMainMode && h.NextPayload == isakmp.PayloadSA &&
			h.ResponderCookie == isakmp.Cookie{}:
			b.mm1 = d.Payload
		case b.mm3 == nil && h.Exchange == isakmp.ExchangeMainMode && h.NextPayload == isakmp.PayloadKE:
			b.mm3 = d.Payload
		case b.qm1 == nil && h.Exchange == isakmp.ExchangeQuickMode && h.Flags&isakmp.FlagEncryption != 0:
			b.qm1 = d.Payload
		}
	}
	if b.mm1 == nil || b.mm3 == nil || b.qm1 == nil {
		return b, ErrBaseMessage
	}
	// The byte-level mutations below assume this layout.
	m1 := b.mm1
	if m1[offSA] != byte(isakmp.PayloadVID) || m1[offProposal] != 0 || m1[offProposal+5] != byte(isakmp.ProtoISAKMP) ||
		m1[offProposal+6] != 0 || m1[offProposal+7] != 1 || m1[offTransform] != 0 || m1[offAttrs]&0x80 == 0 {
		return b, fmt.Errorf("%w: first message is not SA(1 proposal, 1 transform) + VID", ErrBaseMessage)
	}
	return b, nil
}

func put16(b []byte, off int, v int) { b[off], b[off+1] = byte(v>>8), byte(v) }
func get16(b []byte, off int) int    { return int(b[off])<<8 | int(b[off+1]) }

// edit returns a copy of b changed by f.
func edit(b []byte, f func(b []byte)) []byte {
	c := bytes.Clone(b)
	f(c)
	return c
}

// insert returns b with ins inserted at at, every 16-bit length field at
// the offsets lens grown by len(ins), and the header length fixed.
func insert(b []byte, at int, ins []byte, lens ...int) []byte {
	c := append(append(bytes.Clone(b[:at]), ins...), b[at:]...)
	for _, o := range lens {
		put16(c, o, get16(c, o)+len(ins))
	}
	n := len(c)
	c[24], c[25], c[26], c[27] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return c
}

// rebuild parses b, lets f change the structs and marshals the result;
// Marshal does not validate, so f may build malformed messages.
func rebuild(b []byte, f func(m *isakmp.Message)) ([]byte, error) {
	m, err := isakmp.Parse(b)
	if err != nil {
		return nil, err
	}
	f(m)
	return m.Marshal()
}

// lastPayload returns the offset of the generic header of b's last payload.
func lastPayload(b []byte) int {
	var v isakmp.View
	off := -1
	if _, err := v.Start(b); err != nil {
		return off
	}
	for v.Next() {
		off = v.Offset()
	}
	return off
}

func sa(m *isakmp.Message) *isakmp.SA { return m.Payloads[0].(*isakmp.SA) }

// handMade adds one input per class to the manifests of all targets.
func (g *gen) handMade() error {
	b, err := g.bases()
	if err != nil {
		return err
	}
	if err := g.parseClasses(b); err != nil {
		return err
	}
	g.attributeClasses()
	g.udpClasses(b)
	return g.phase2Classes()
}

func (g *gen) parseClasses(b base) error {
	const T = targetParse
	mm1, mm3, qm1 := b.mm1, b.mm3, b.qm1
	last := lastPayload(mm1)
	n := len(mm1)

	// Header framing.
	g.class(T, "header-truncated", "ErrTruncated", mm1[:20])
	g.class(T, "header-length-exceeds-datagram", "ErrTruncated", mm1[:n-8])
	g.class(T, "header-length-below-datagram", "ErrTrailingData", edit(mm1, func(c []byte) { c[27] -= 8 }))
	g.class(T, "header-length-below-header-size", "ErrBadLength", edit(mm1, func(c []byte) { c[24], c[25], c[26], c[27] = 0, 0, 0, 27 }))
	g.class(T, "trailing-garbage", "ErrTrailingData", append(bytes.Clone(mm1), 0xde, 0xad, 0xbe, 0xef))
	g.class(T, "bad-major-version", "ErrInvalidMajorVersion", edit(mm1, func(c []byte) { c[17] = 0x20 }))
	g.class(T, "bad-minor-version", "ErrInvalidMinorVersion", edit(mm1, func(c []byte) { c[17] = 0x11 }))
	g.class(T, "undefined-flag", "ErrInvalidFlags", edit(mm1, func(c []byte) { c[19] = 0x08 }))

	// Generic payload headers.
	g.class(T, "payload-length-below-4", "ErrBadLength", edit(mm1, func(c []byte) { put16(c, offSA+2, 3) }))
	g.class(T, "payload-length-zero-loop", "ErrBadLength", edit(mm1, func(c []byte) { put16(c, offSA+2, 0) }))
	g.class(T, "payload-overruns-message", "ErrUnequalPayloadLengths", edit(mm1, func(c []byte) { put16(c, last+2, get16(c, last+2)+4) }))
	g.class(T, "chain-ends-before-message", "ErrUnequalPayloadLengths", edit(mm1, func(c []byte) { c[offSA] = 0 }))
	g.class(T, "chain-continues-past-message", "ErrUnequalPayloadLengths", edit(mm1, func(c []byte) { c[last] = byte(isakmp.PayloadVID) }))
	g.class(T, "payload-reserved-nonzero", "ErrReservedNotZero", edit(mm1, func(c []byte) { c[offSA+1] = 1 }))
	g.class(T, "unassigned-payload-type", "ErrInvalidPayloadType", edit(mm1, func(c []byte) { c[offSA] = 50 }))
	g.class(T, "proposal-as-top-level-payload", "ErrInvalidPayloadType", edit(mm1, func(c []byte) { c[16] = byte(isakmp.PayloadProposal) }))

	// SA, proposal and transform framing.
	g.class(T, "sa-doi-not-ipsec", "ErrUnsupportedDOI", edit(mm1, func(c []byte) { c[offDOI+3] = 2 }))
	g.class(T, "sa-labeled-situation", "ErrUnsupportedSituation", edit(mm1, func(c []byte) { c[offDOI+7] = 0x03 }))
	g.class(T, "proposal-overruns-sa", "ErrBadLength", edit(mm1, func(c []byte) { put16(c, offProposal+2, get16(c, offProposal+2)+4) }))
	g.class(T, "proposal-length-zero-loop", "ErrBadLength", edit(mm1, func(c []byte) { put16(c, offProposal+2, 0) }))
	g.class(T, "proposal-next-not-proposal", "ErrBadProposalSyntax", edit(mm1, func(c []byte) { c[offProposal] = byte(isakmp.PayloadTransform) }))
	g.class(T, "proposal-says-more-follow", "ErrBadProposalSyntax", edit(mm1, func(c []byte) { c[offProposal] = byte(isakmp.PayloadProposal) }))
	g.class(T, "proposal-reserved-nonzero", "ErrReservedNotZero", edit(mm1, func(c []byte) { c[offProposal+1] = 1 }))
	g.class(T, "proposal-unknown-protocol", "ErrInvalidProtocol", edit(mm1, func(c []byte) { c[offProposal+5] = 9 }))
	g.class(T, "proposal-zero-transforms", "ErrCountMismatch", edit(mm1, func(c []byte) { c[offProposal+7] = 0 }))
	g.class(T, "transform-count-too-high", "ErrCountMismatch", edit(mm1, func(c []byte) { c[offProposal+7] = 2 }))
	g.class(T, "transform-overruns-proposal", "ErrBadLength", edit(mm1, func(c []byte) { put16(c, offTransform+2, get16(c, offTransform+2)+4) }))
	g.class(T, "transform-length-zero-loop", "ErrBadLength", edit(mm1, func(c []byte) { put16(c, offTransform+2, 0) }))
	g.class(T, "transform-next-not-transform", "ErrBadProposalSyntax", edit(mm1, func(c []byte) { c[offTransform] = byte(isakmp.PayloadProposal) }))
	g.class(T, "transform-reserved2-nonzero", "ErrReservedNotZero", edit(mm1, func(c []byte) { c[offTransform+7] = 1 }))
	g.class(T, "tlv-attribute-overflows-transform", "ErrBadLength", edit(mm1, func(c []byte) {
		c[offAttrs] &^= 0x80 // the TV value now reads as a TLV length
		put16(c, offAttrs+2, 0xff00)
	}))
	lensAttr := []int{offSA + 2, offProposal + 2, offTransform + 2}
	attrEnd := offTransform + get16(mm1, offTransform+2)
	g.class(T, "attribute-header-truncated", "ErrBadLength", insert(mm1, attrEnd, []byte{0x80, 0x01}, lensAttr...))

	// SPI sizes per protocol, built through the structs.
	type spiCase struct {
		name  string
		proto isakmp.ProtocolID
		spi   int
		want  string
	}
	for _, c := range []spiCase{
		{"isakmp-proposal-spi-size-4", isakmp.ProtoISAKMP, 4, "ErrInvalidSPI"},
		{"esp-proposal-spi-size-3", isakmp.ProtoIPsecESP, 3, "ErrInvalidSPI"},
		{"ah-proposal-spi-size-0", isakmp.ProtoIPsecAH, 0, "ErrInvalidSPI"},
		{"ipcomp-proposal-spi-size-1", isakmp.ProtoIPComp, 1, "ErrInvalidSPI"},
		{"isakmp-proposal-spi-size-16", isakmp.ProtoISAKMP, 16, "ok"},
		{"ipcomp-proposal-spi-size-2", isakmp.ProtoIPComp, 2, "ok"},
	} {
		out, err := rebuild(mm1, func(m *isakmp.Message) {
			p := &sa(m).Proposals[0]
			p.Protocol, p.SPI = c.proto, bytes.Repeat([]byte{0xa5}, c.spi)
		})
		if err != nil {
			return err
		}
		g.class(T, c.name, c.want, out)
	}

	out, err := rebuild(mm1, func(m *isakmp.Message) { sa(m).Proposals = nil })
	if err != nil {
		return err
	}
	g.class(T, "sa-without-proposals", "ErrBadProposalSyntax", out)

	// Other payloads, appended to the first message through the structs;
	// *Unknown with a modeled type writes a raw body the parser then checks.
	v4 := netip.MustParseAddr("10.99.0.1")
	v6 := netip.MustParseAddr("2001:db8::1")
	id := isakmp.IDFromAddr(v4, 17, 500)
	type extra struct {
		name, want string
		p          []isakmp.Payload
	}
	for _, e := range []extra{
		{"notify-spi-size-invalid-for-protocol", "ErrInvalidSPI", []isakmp.Payload{&isakmp.Notification{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoIPsecESP, Notify: isakmp.NotifyInvalidSPI, SPI: []byte{1, 2, 3}}}},
		{"notify-unknown-protocol", "ErrInvalidProtocol", []isakmp.Payload{&isakmp.Notification{DOI: isakmp.DOIIPsec, Protocol: 7, Notify: isakmp.NotifyInvalidSPI, SPI: []byte{1, 2, 3, 4}}}},
		{"notify-body-truncated", "ErrBadLength", []isakmp.Payload{&isakmp.Unknown{PayloadType: isakmp.PayloadN, Data: []byte{0, 0, 0, 1, 3, 4}}}},
		{"delete-count-mismatch", "ErrCountMismatch", []isakmp.Payload{&isakmp.Unknown{PayloadType: isakmp.PayloadD, Data: []byte{0, 0, 0, 1, 3, 4, 0, 2, 0xc0, 0xff, 0xee, 0x01}}}},
		{"delete-isakmp-spi-size-zero", "ErrInvalidSPI", []isakmp.Payload{&isakmp.Delete{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoISAKMP}}},
		{"id-ipv4-wrong-length", "ErrInvalidID", []isakmp.Payload{&isakmp.Unknown{PayloadType: isakmp.PayloadID, Data: []byte{1, 17, 1, 244, 10, 99, 0}}}},
		{"id-unassigned-type", "ErrInvalidID", []isakmp.Payload{&isakmp.Unknown{PayloadType: isakmp.PayloadID, Data: []byte{200, 0, 0, 0, 'x'}}}},
		{"natoa-fqdn-type", "ErrInvalidID", []isakmp.Payload{&isakmp.Unknown{PayloadType: isakmp.PayloadNATOA, Data: []byte{2, 0, 0, 0, 'a', '.', 'b', 'c'}}}},
		{"natoa-reserved-nonzero", "ErrReservedNotZero", []isakmp.Payload{&isakmp.Unknown{PayloadType: isakmp.PayloadNATOA, Data: []byte{1, 0, 1, 0, 10, 99, 0, 1}}}},
		{"cert-empty-body", "ErrBadLength", []isakmp.Payload{&isakmp.Unknown{PayloadType: isakmp.PayloadCERT}}},
		// Valid but unusual.
		{"private-use-payload-round-trips", "ok", []isakmp.Payload{&isakmp.Unknown{PayloadType: 200, Data: []byte("private")}}},
		{"mode-config-payload-kept-raw", "ok", []isakmp.Payload{&isakmp.Unknown{PayloadType: isakmp.PayloadAttribute, Data: []byte{1, 0, 0, 7, 0x40, 0x01, 0, 0}}}},
		{"empty-vendor-id", "ok", []isakmp.Payload{&isakmp.VendorID{}}},
		{"notify-without-spi", "ok", []isakmp.Payload{&isakmp.Notification{DOI: isakmp.DOIIPsec, Notify: isakmp.NotifyInitialContact}}},
		{"delete-two-esp-spis", "ok", []isakmp.Payload{&isakmp.Delete{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoIPsecESP, SPISize: 4, SPIs: []byte{0xc0, 0xff, 0xee, 1, 0xc0, 0xff, 0xee, 2}}}},
		{"natoa-draft-and-rfc-types", "ok", []isakmp.Payload{&isakmp.NATOA{IDType: isakmp.IDIPv4Addr, Addr: v4, Draft: true}, &isakmp.NATOA{IDType: isakmp.IDIPv6Addr, Addr: v6}}},
		{"id-ipv4-with-protocol-and-port", "ok", []isakmp.Payload{&id}},
	} {
		out, err := rebuild(mm1, func(m *isakmp.Message) { m.Payloads = append(m.Payloads, e.p...) })
		if err != nil {
			return err
		}
		g.class(T, e.name, e.want, out)
	}

	// Valid but unusual forms of the real messages.
	out, err = rebuild(mm1, func(m *isakmp.Message) {
		t := &sa(m).Proposals[0].Transforms[0]
		for i, a := range t.Attributes {
			if a.Basic && isakmp.AttributeClass(a.Type) == isakmp.ClassLifeDuration {
				t.Attributes[i] = isakmp.VariableAttribute(a.Type, []byte{byte(a.Value >> 8), byte(a.Value)})
			}
		}
	})
	if err != nil {
		return err
	}
	g.class(T, "tlv-attribute-value-fits-tv", "ok", out)
	if out, err = rebuild(mm1, func(m *isakmp.Message) {
		t := &sa(m).Proposals[0].Transforms[0]
		t.Attributes = append(t.Attributes, isakmp.VariableAttribute(isakmp.ClassGroupPrime, nil))
	}); err != nil {
		return err
	}
	g.class(T, "tlv-attribute-empty-value", "ok", out)
	if out, err = rebuild(mm1, func(m *isakmp.Message) { sa(m).Proposals[0].Transforms[0].Attributes = nil }); err != nil {
		return err
	}
	g.class(T, "transform-without-attributes", "ok", out)
	if out, err = rebuild(mm1, func(m *isakmp.Message) {
		s := sa(m)
		p := s.Proposals[0]
		ah := isakmp.Proposal{Number: 1, Protocol: isakmp.ProtoIPsecAH, SPI: []byte{0xc0, 0xff, 0xee, 2},
			Transforms: []isakmp.Transform{{Number: 1, ID: uint8(isakmp.AHSHA)}}}
		esp := isakmp.Proposal{Number: 1, Protocol: isakmp.ProtoIPsecESP, SPI: []byte{0xc0, 0xff, 0xee, 3},
			Transforms: []isakmp.Transform{{Number: 1, ID: uint8(isakmp.ESPAES), Attributes: []isakmp.Attribute{
				isakmp.BasicAttribute(isakmp.IPsecAttrEncapsulationMode, isakmp.EncapUDPTunnelDraft),
				isakmp.UintAttribute(isakmp.IPsecAttrSALifeDuration, 1<<20)}}}}
		p.Number = 2
		s.Proposals = []isakmp.Proposal{ah, esp, p}
	}); err != nil {
		return err
	}
	g.class(T, "ah-and-esp-proposals-anded", "ok", out)
	if out, err = rebuild(mm1, func(m *isakmp.Message) { m.Payloads = nil }); err != nil {
		return err
	}
	g.class(T, "header-only-no-payloads", "ok", out)
	if out, err = rebuild(mm3, func(m *isakmp.Message) {
		for _, p := range m.Payloads {
			if d, ok := p.(*isakmp.NATD); ok {
				d.Draft = true
			}
		}
	}); err != nil {
		return err
	}
	g.class(T, "natd-draft-payload-numbers", "ok", out)
	g.class(T, "commit-flag", "ok", edit(mm1, func(c []byte) { c[19] = byte(isakmp.FlagCommit) }))
	g.class(T, "plaintext-flagged-encrypted", "ok", edit(mm1, func(c []byte) { c[19] = byte(isakmp.FlagEncryption) }))

	// Encrypted messages: only the framing is checked.
	g.class(T, "encrypted-length-exceeds-datagram", "ErrTruncated", qm1[:len(qm1)-16])
	g.class(T, "encrypted-trailing-garbage", "ErrTrailingData", append(bytes.Clone(qm1), 0, 0, 0, 0))
	g.class(T, "encrypted-body-empty", "ok", edit(qm1[:isakmp.HeaderLen], func(c []byte) { c[24], c[25], c[26], c[27] = 0, 0, 0, isakmp.HeaderLen }))
	return nil
}

// attributeClasses adds hand-made attribute lists. The expectations hold
// under corpus.WrapAttributes for both proposal kinds.
func (g *gen) attributeClasses() {
	const T = targetAttributes
	tv := func(t, v int) []byte { return []byte{byte(t>>8) | 0x80, byte(t), byte(v >> 8), byte(v)} }
	tlv := func(t int, v ...byte) []byte {
		return append([]byte{byte(t >> 8), byte(t), byte(len(v) >> 8), byte(len(v))}, v...)
	}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	g.class(T, "no-attributes", "ok", nil)
	g.class(T, "tlv-value-fits-tv", "ok", cat(tv(1, 1), tlv(2, 0x70, 0x80)))
	g.class(T, "tlv-empty-value", "ok", tlv(6))
	g.class(T, "tlv-long-life-duration", "ok", cat(tv(1, 1), tlv(2, 0, 0, 0, 0, 0, 0x01, 0x51, 0x80)))
	g.class(T, "tv-highest-type", "ok", tv(0x7fff, 0xffff))
	g.class(T, "header-truncated", "ErrBadLength", cat(tv(4, 3), []byte{0x80, 0x05, 0x00}))
	g.class(T, "tlv-overflows-transform", "ErrBadLength", cat(tv(4, 3), tlv(2, 0, 0, 0x0e, 0x10)[:6]))
	g.class(T, "tlv-max-length-short-data", "ErrBadLength", []byte{0x00, 0x02, 0xff, 0xff, 1, 2, 3, 4})
}

// udpClasses adds hand-made port-4500 payloads.
func (g *gen) udpClasses(b base) {
	const T = targetUDP4500
	mark := isakmp.NonESPMarker[:]
	g.class(T, "nat-keepalive", "NAT-keepalive", []byte{0xff})
	g.class(T, "empty-datagram", "ErrTruncated", nil)
	g.class(T, "one-byte-not-keepalive", "ErrUDPFraming", []byte{0x00})
	g.class(T, "shorter-than-marker", "ErrUDPFraming", []byte{0, 0, 0})
	g.class(T, "marker-only", "ErrTruncated", mark)
	g.class(T, "marker-and-truncated-header", "ErrTruncated", append(bytes.Clone(mark), b.mm1[:20]...))
	g.class(T, "esp-shorter-than-spi-and-seq", "ErrTruncated", []byte{0xc0, 0xff, 0xee, 0x01, 0})
	g.class(T, "esp-header-only", "ESP", []byte{0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 1})
	g.class(T, "marker-and-port-500-message", "IKE", isakmp.AppendNonESPMarker(nil, b.mm1))
	g.class(T, "marker-and-malformed-isakmp", "IKE", isakmp.AppendNonESPMarker(nil, edit(b.mm1, func(c []byte) { c[17] = 0x20 })))
}
