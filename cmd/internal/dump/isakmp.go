package dump

import (
	"encoding/hex"
	"strconv"

	"github.com/hitless-ike/hitless/cmd/internal/vendorid"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// isakmp parses msg leniently (real peers send trailing bytes and the like;
// what was tolerated is listed under "notes") and adds it to the tree.
func (d *Dumper) isakmp(top int32, msg []byte) error {
	m, err := isakmp.ParseWith(msg, isakmp.ParseOptions{Lenient: true})
	if err != nil {
		return err
	}
	t := &d.t
	h := &m.Header
	o := t.obj(top, "isakmp", "ISAKMP")
	t.bytes(o, "ispi", "Initiator cookie", h.InitiatorCookie[:])
	t.bytes(o, "rspi", "Responder cookie", h.ResponderCookie[:])
	t.num(o, "next_payload", "Next payload", uint64(h.NextPayload), h.NextPayload.String())
	t.num(o, "major_version", "Major version", uint64(h.MajorVersion), "")
	t.num(o, "minor_version", "Minor version", uint64(h.MinorVersion), "")
	t.num(o, "exchange", "Exchange type", uint64(h.Exchange), h.Exchange.String())
	t.num(o, "flags", "Flags", uint64(h.Flags), flagNames(h.Flags))
	t.hexnum(o, "message_id", "Message ID", uint64(h.MessageID), 8)
	t.num(o, "length", "Length", uint64(h.Length), "")
	if m.Ciphertext != nil || h.Flags&isakmp.FlagEncryption != 0 {
		e := t.obj(o, "encrypted", "Encrypted payloads (not decrypted)")
		t.num(e, "length", "Length", uint64(len(m.Ciphertext)), "")
	} else {
		ps := t.list(o, "payloads")
		for i, p := range m.Payloads {
			d.payload(ps, i, p)
		}
	}
	if len(m.Padding) > 0 {
		t.bytes(o, "padding", "Padding", m.Padding)
	}
	if len(m.Trailing) > 0 {
		t.bytes(o, "trailing", "Trailing data", m.Trailing)
	}
	if len(m.Notes) > 0 {
		ns := t.list(o, "notes")
		for _, n := range m.Notes {
			t.str(ns, "", "Note", n.String())
		}
	}
	return nil
}

func flagNames(f isakmp.Flags) string {
	if f == 0 {
		return "none"
	}
	s := ""
	for _, x := range []struct {
		f isakmp.Flags
		n string
	}{{isakmp.FlagEncryption, "Encryption"}, {isakmp.FlagCommit, "Commit"}, {isakmp.FlagAuthOnly, "Authentication only"}} {
		if f&x.f != 0 {
			if s != "" {
				s += ", "
			}
			s += x.n
		}
	}
	if f&^(isakmp.FlagEncryption|isakmp.FlagCommit|isakmp.FlagAuthOnly) != 0 {
		if s != "" {
			s += ", "
		}
		s += "undefined bits"
	}
	return s
}

func (d *Dumper) payload(list int32, i int, p isakmp.Payload) {
	t := &d.t
	typ := p.Type()
	title := ""
	if !d.opt.JSON {
		title = "Payload " + strconv.Itoa(i+1) + ": " + typ.String() + " (" + strconv.Itoa(int(typ)) + ")"
	}
	o := t.obj(list, "", title)
	t.num(o, "type", "Type", uint64(typ), typ.String())
	t.hide()
	switch p := p.(type) {
	case *isakmp.SA:
		t.num(o, "doi", "DOI", uint64(p.DOI), p.DOI.String())
		t.num(o, "situation", "Situation", uint64(p.Situation), p.Situation.String())
		props := t.list(o, "proposals")
		for j := range p.Proposals {
			d.proposal(props, &p.Proposals[j])
		}
	case *isakmp.KeyExchange:
		t.bytes(o, "data", "Key exchange data", p.Data)
	case *isakmp.Identification:
		d.id(o, p)
	case *isakmp.Certificate:
		t.num(o, "encoding", "Encoding", uint64(p.Encoding), p.Encoding.String())
		t.bytes(o, "data", "Certificate data", p.Data)
	case *isakmp.CertificateRequest:
		t.num(o, "encoding", "Encoding", uint64(p.Encoding), p.Encoding.String())
		t.bytes(o, "authority", "Certificate authority", p.Authority)
	case *isakmp.Hash:
		t.bytes(o, "data", "Hash data", p.Data)
	case *isakmp.Signature:
		t.bytes(o, "data", "Signature data", p.Data)
	case *isakmp.Nonce:
		t.bytes(o, "data", "Nonce data", p.Data)
	case *isakmp.Notification:
		t.num(o, "doi", "DOI", uint64(p.DOI), p.DOI.String())
		t.num(o, "protocol", "Protocol", uint64(p.Protocol), protoName(p.Protocol))
		t.num(o, "notify", "Notify message type", uint64(p.Notify), p.Notify.String())
		t.bytes(o, "spi", "SPI", p.SPI)
		t.bytes(o, "data", "Notification data", p.Data)
	case *isakmp.Delete:
		t.num(o, "doi", "DOI", uint64(p.DOI), p.DOI.String())
		t.num(o, "protocol", "Protocol", uint64(p.Protocol), protoName(p.Protocol))
		t.num(o, "spi_size", "SPI size", uint64(p.SPISize), "")
		spis := t.list(o, "spis")
		for k := range p.NumSPIs() {
			t.bytes(spis, "", "SPI", p.SPI(k))
		}
	case *isakmp.VendorID:
		t.bytes(o, "data", "Vendor ID", p.Data)
		if n := vendorid.Name(p.Data); n != "" {
			t.str(o, "name", "Vendor", n)
		}
	case *isakmp.NATD:
		t.bytes(o, "hash", "Hash of address and port", p.Hash)
		t.boolean(o, "draft", "Draft payload number", p.Draft)
	case *isakmp.NATOA:
		t.num(o, "id_type", "ID type", uint64(p.IDType), p.IDType.String())
		t.str(o, "addr", "Original address", p.Addr.String())
		t.boolean(o, "draft", "Draft payload number", p.Draft)
	case *isakmp.Unknown:
		t.bytes(o, "data", "Data", p.Data)
	}
}

func protoName(p isakmp.ProtocolID) string {
	if p == 0 {
		return "none"
	}
	return p.String()
}

func (d *Dumper) proposal(list int32, p *isakmp.Proposal) {
	t := &d.t
	title := ""
	if !d.opt.JSON {
		title = "Proposal #" + strconv.Itoa(int(p.Number)) + ": " + protoName(p.Protocol)
	}
	o := t.obj(list, "", title)
	t.num(o, "number", "Proposal number", uint64(p.Number), "")
	t.num(o, "protocol", "Protocol ID", uint64(p.Protocol), protoName(p.Protocol))
	t.bytes(o, "spi", "SPI", p.SPI)
	t.num(o, "transform_count", "Transforms", uint64(len(p.Transforms)), "")
	ts := t.list(o, "transforms")
	for i := range p.Transforms {
		tr := &p.Transforms[i]
		name := isakmp.TransformName(p.Protocol, tr.ID)
		title := ""
		if !d.opt.JSON {
			title = "Transform #" + strconv.Itoa(int(tr.Number)) + ": " + name
		}
		to := t.obj(ts, "", title)
		t.num(to, "number", "Transform number", uint64(tr.Number), "")
		t.num(to, "id", "Transform ID", uint64(tr.ID), name)
		as := t.list(to, "attributes")
		for j := range tr.Attributes {
			d.attribute(as, p.Protocol, &tr.Attributes[j])
		}
	}
}

// attribute adds one SA attribute; its type and value names depend on
// whether it describes the ISAKMP SA (phase 1) or an IPsec SA.
func (d *Dumper) attribute(list int32, proto isakmp.ProtocolID, a *isakmp.Attribute) {
	t := &d.t
	typeName, valueName := attrNames(proto, a)
	title := ""
	if !d.opt.JSON {
		title = attrTitle(typeName, valueName, a)
	}
	o := t.obj(list, "", title)
	t.n[o].collapse = true
	t.num(o, "type", "Type", uint64(a.Type), typeName)
	t.boolean(o, "basic", "Basic (TV)", a.Basic)
	if a.Basic {
		t.num(o, "value", "Value", uint64(a.Value), valueName)
		return
	}
	t.bytes(o, "data", "Data", a.Data)
	if v, ok := a.Uint(); ok && len(a.Data) > 0 {
		t.num(o, "value", "Value", v, "")
	}
}

// attrTitle is the one-line text form of an attribute, e.g.
// "Encryption Algorithm (1) = AES-CBC (7)".
func attrTitle(typeName, valueName string, a *isakmp.Attribute) string {
	s := "Attribute " + typeName + " (" + strconv.Itoa(int(a.Type)) + ") = "
	switch {
	case a.Basic && valueName != "":
		return s + valueName + " (" + strconv.Itoa(int(a.Value)) + ")"
	case a.Basic:
		return s + strconv.Itoa(int(a.Value))
	}
	if v, ok := a.Uint(); ok && len(a.Data) > 0 {
		return s + strconv.FormatUint(v, 10) + " (" + strconv.Itoa(len(a.Data)) + " bytes)"
	}
	return s + hex.EncodeToString(a.Data) + " (" + strconv.Itoa(len(a.Data)) + " bytes)"
}

func attrNames(proto isakmp.ProtocolID, a *isakmp.Attribute) (typ, val string) {
	v := a.Value
	if proto == isakmp.ProtoISAKMP {
		c := isakmp.AttributeClass(a.Type)
		typ = c.String()
		if !a.Basic {
			return typ, ""
		}
		switch c {
		case isakmp.ClassEncryptionAlgorithm:
			val = isakmp.EncryptionAlgorithm(v).String()
		case isakmp.ClassHashAlgorithm:
			val = isakmp.HashAlgorithm(v).String()
		case isakmp.ClassAuthenticationMethod:
			val = isakmp.AuthMethod(v).String()
		case isakmp.ClassGroupDescription:
			val = isakmp.GroupDescription(v).String()
		case isakmp.ClassGroupType:
			val = isakmp.GroupType(v).String()
		case isakmp.ClassLifeType:
			val = isakmp.LifeType(v).String()
		}
		return typ, val
	}
	at := isakmp.IPsecAttributeType(a.Type)
	typ = at.String()
	if !a.Basic {
		return typ, ""
	}
	switch at {
	case isakmp.IPsecAttrSALifeType:
		val = isakmp.LifeType(v).String()
	case isakmp.IPsecAttrGroupDescription:
		val = isakmp.GroupDescription(v).String()
	case isakmp.IPsecAttrEncapsulationMode:
		val = isakmp.EncapsulationMode(v).String()
	case isakmp.IPsecAttrAuthenticationAlgorithm:
		val = isakmp.AuthAlgorithm(v).String()
	case isakmp.IPsecAttrECNTunnel:
		val = isakmp.ECNTunnel(v).String()
	}
	return typ, val
}

// id adds an Identification payload with its data decoded where the type
// allows: addresses, subnets, ranges and names.
func (d *Dumper) id(o int32, p *isakmp.Identification) {
	t := &d.t
	t.num(o, "id_type", "ID type", uint64(p.IDType), p.IDType.String())
	t.num(o, "protocol", "Protocol ID", uint64(p.Protocol), "")
	t.num(o, "port", "Port", uint64(p.Port), "")
	t.bytes(o, "data", "Identification data", p.Data)
	switch p.IDType {
	case isakmp.IDIPv4Addr, isakmp.IDIPv6Addr:
		if a, ok := p.Addr(); ok {
			t.str(o, "addr", "Address", a.String())
		}
	case isakmp.IDIPv4AddrSubnet, isakmp.IDIPv6AddrSubnet:
		if pf, ok := p.Prefix(); ok {
			t.str(o, "subnet", "Subnet", pf.String())
		}
	case isakmp.IDIPv4AddrRange, isakmp.IDIPv6AddrRange:
		if lo, hi, ok := p.Range(); ok {
			t.str(o, "range", "Range", lo.String()+"-"+hi.String())
		}
	case isakmp.IDFQDN, isakmp.IDUserFQDN:
		t.str(o, "name", "Name", string(p.Data))
	}
}
