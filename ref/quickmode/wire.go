package quickmode

import (
	"encoding/binary"
	"math"

	"golang.org/x/crypto/cryptobyte"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// body holds the payloads of one decrypted Quick Mode body. Slices alias
// the decrypted plaintext.
type body struct {
	hash      []byte
	rest      []byte // every payload after HASH, headers included
	sa        isakmp.SAReader
	hasSA     bool
	nonce     []byte
	ke        []byte
	hasKE     bool
	ids       [2]isakmp.Identification
	nIDs      int
	oa        [2]isakmp.NATOA
	nOA       int
	lifetime  []byte // RESPONDER-LIFETIME attributes
	hasLife   bool
	connected bool
	others    int // payloads other than HASH
}

// parseBody walks a decrypted body. It checks structure only; the caller
// verifies the HASH before acting on anything else.
func parseBody(mid uint32, first isakmp.PayloadType, plain []byte, b *body) error {
	var v isakmp.View
	v.StartPayloads(first, plain, isakmp.ParseOptions{})
	if !v.Next() {
		if err := v.Err(); err != nil {
			return newErr(ErrMalformed, mid, "", err)
		}
		return newErr(ErrMissingPayload, mid, "empty body", nil)
	}
	if v.Type() != isakmp.PayloadHASH {
		return newErr(ErrMissingPayload, mid, "HASH must be the first payload", nil)
	}
	b.hash = v.Body()
	hashEnd := v.Offset() + len(v.Raw())
	dup := func(what string) error { return newErr(ErrUnexpectedPayload, mid, "repeated "+what, nil) }
	for v.Next() {
		b.others++
		var err error
		switch t := v.Type(); t {
		case isakmp.PayloadSA:
			if b.hasSA {
				return dup("SA")
			}
			if b.others != 1 {
				return newErr(ErrUnexpectedPayload, mid, "SA must follow HASH", nil)
			}
			b.sa, err = v.SA()
			b.hasSA = true
		case isakmp.PayloadNONCE:
			if b.nonce != nil {
				return dup("nonce")
			}
			b.nonce = v.Body()
			if n := len(b.nonce); n < ikecrypto.MinNonceLen || n > ikecrypto.MaxNonceLen {
				return newErr(ErrNonceLength, mid, "", nil)
			}
		case isakmp.PayloadKE:
			if b.hasKE {
				return dup("KE")
			}
			b.ke, b.hasKE = v.Body(), true
		case isakmp.PayloadID:
			if b.nIDs == 2 {
				return dup("ID")
			}
			b.ids[b.nIDs], err = v.Identification()
			b.nIDs++
		case isakmp.PayloadNATOA, isakmp.PayloadNATOADraft:
			if b.nOA == 2 {
				return dup("NAT-OA")
			}
			b.oa[b.nOA], err = v.NATOA()
			b.nOA++
		case isakmp.PayloadN:
			var n isakmp.Notification
			n, err = v.Notification()
			switch {
			case err != nil:
			case n.Notify == isakmp.NotifyResponderLifetime:
				if b.hasLife {
					return dup("RESPONDER-LIFETIME")
				}
				b.lifetime, b.hasLife = n.Data, true
			case n.Notify == isakmp.NotifyConnected:
				b.connected = true
			case n.Notify.IsError():
				return newErr(ErrUnexpectedPayload, mid, "error notify "+n.Notify.String(), nil)
			}
		case isakmp.PayloadVID:
			// Vendor IDs carry no Quick Mode semantics; the HASH covers them.
		default:
			return newErr(ErrUnexpectedPayload, mid, t.String(), nil)
		}
		if err != nil {
			return newErr(ErrMalformed, mid, "", err)
		}
	}
	if err := v.Err(); err != nil {
		return newErr(ErrMalformed, mid, "", err)
	}
	b.rest = plain[hashEnd : len(plain)-len(v.Padding())]
	return nil
}

// offer is a transform as read from an SA payload.
type offer struct {
	propNum, trNum uint8
	spi            uint32
	t              Transform // lifetimes as proposed (0: attribute absent)
	group          dh.ID
	encap          uint16
	udp, draft     bool
}

// readTransform decodes one ESP transform. ok is false for transforms this
// package cannot use (unknown attributes, algorithms, modes, repeats).
func readTransform(tr *isakmp.TransformReader) (o offer, ok bool) {
	o.trNum = tr.Number
	o.t.ESP.ID = ikecrypto.ESPID(tr.ID)
	var seen uint16
	life := isakmp.LifeType(0)
	for tr.Next() {
		a := tr.Attribute()
		v, isUint := a.Uint()
		if !isUint {
			return o, false
		}
		typ := isakmp.IPsecAttributeType(a.Type)
		switch typ {
		case isakmp.IPsecAttrSALifeType:
			if life != 0 || (v != uint64(isakmp.LifeSeconds) && v != uint64(isakmp.LifeKilobytes)) {
				return o, false
			}
			life = isakmp.LifeType(v)
			continue
		case isakmp.IPsecAttrSALifeDuration:
			d := uint32(min(v, math.MaxUint32))
			switch {
			case life == isakmp.LifeSeconds && o.t.LifeSeconds == 0 && d != 0:
				o.t.LifeSeconds = d
			case life == isakmp.LifeKilobytes && o.t.LifeKilobytes == 0 && d != 0:
				o.t.LifeKilobytes = d
			default:
				return o, false
			}
			life = 0
			continue
		case isakmp.IPsecAttrGroupDescription, isakmp.IPsecAttrEncapsulationMode,
			isakmp.IPsecAttrAuthenticationAlgorithm, isakmp.IPsecAttrKeyLength:
			if seen&(1<<typ) != 0 || v > math.MaxUint16 {
				return o, false
			}
			seen |= 1 << typ
		default:
			return o, false
		}
		switch typ {
		case isakmp.IPsecAttrGroupDescription:
			o.group = dh.ID(v)
		case isakmp.IPsecAttrEncapsulationMode:
			o.encap = uint16(v)
		case isakmp.IPsecAttrAuthenticationAlgorithm:
			o.t.ESP.Auth = ikecrypto.ESPAuth(v)
		case isakmp.IPsecAttrKeyLength:
			o.t.ESP.KeyBits = int(v)
		}
	}
	if tr.Err() != nil || life != 0 {
		return o, false
	}
	var mok bool
	o.t.Mode, o.udp, o.draft, mok = modeOf(o.encap)
	if !mok {
		return o, false
	}
	if _, err := o.t.ESP.KeymatLen(); err != nil {
		return o, false
	}
	return o, true
}

// transformPayload encodes t as transform number n.
func transformPayload(n uint8, t Transform, group dh.ID, encap isakmp.EncapsulationMode) isakmp.Transform {
	attrs := make([]isakmp.Attribute, 0, 8)
	if t.LifeSeconds != 0 {
		attrs = append(attrs, isakmp.BasicAttribute(isakmp.IPsecAttrSALifeType, isakmp.LifeSeconds),
			isakmp.UintAttribute(isakmp.IPsecAttrSALifeDuration, uint64(t.LifeSeconds)))
	}
	if t.LifeKilobytes != 0 {
		attrs = append(attrs, isakmp.BasicAttribute(isakmp.IPsecAttrSALifeType, isakmp.LifeKilobytes),
			isakmp.UintAttribute(isakmp.IPsecAttrSALifeDuration, uint64(t.LifeKilobytes)))
	}
	if group != 0 {
		attrs = append(attrs, isakmp.BasicAttribute(isakmp.IPsecAttrGroupDescription, uint16(group)))
	}
	attrs = append(attrs, isakmp.BasicAttribute(isakmp.IPsecAttrEncapsulationMode, encap))
	if t.ESP.Auth != ikecrypto.AuthNone {
		attrs = append(attrs, isakmp.BasicAttribute(isakmp.IPsecAttrAuthenticationAlgorithm, uint16(t.ESP.Auth)))
	}
	if t.ESP.KeyBits != 0 {
		attrs = append(attrs, isakmp.BasicAttribute(isakmp.IPsecAttrKeyLength, uint16(t.ESP.KeyBits)))
	}
	return isakmp.Transform{Number: n, ID: uint8(t.ESP.ID), Attributes: attrs}
}

func spiBytes(spi uint32) []byte { return binary.BigEndian.AppendUint32(make([]byte, 0, 4), spi) }

// lifetimeData encodes the RESPONDER-LIFETIME attribute list (RFC 2407
// §4.6.3.1): the same SA Life Type/Duration pairs as in a transform.
func lifetimeData(sec, kb uint32) []byte {
	var b cryptobyte.Builder
	add := func(lt isakmp.LifeType, d uint32) {
		b.AddUint16(0x8000 | uint16(isakmp.IPsecAttrSALifeType))
		b.AddUint16(uint16(lt))
		b.AddUint16(uint16(isakmp.IPsecAttrSALifeDuration))
		b.AddUint16(4)
		b.AddUint32(d)
	}
	if sec != 0 {
		add(isakmp.LifeSeconds, sec)
	}
	if kb != 0 {
		add(isakmp.LifeKilobytes, kb)
	}
	out, _ := b.Bytes()
	return out
}

// parseLifetime decodes a RESPONDER-LIFETIME attribute list; 0 means the
// type was absent.
func parseLifetime(data []byte) (sec, kb uint32, ok bool) {
	s := cryptobyte.String(data)
	life := isakmp.LifeType(0)
	for !s.Empty() {
		var typ, val uint16
		if !s.ReadUint16(&typ) {
			return 0, 0, false
		}
		var v uint64
		if typ&0x8000 != 0 {
			if !s.ReadUint16(&val) {
				return 0, 0, false
			}
			v = uint64(val)
		} else {
			var d cryptobyte.String
			if !s.ReadUint16LengthPrefixed(&d) || len(d) == 0 || len(d) > 8 {
				return 0, 0, false
			}
			for _, c := range d {
				v = v<<8 | uint64(c)
			}
		}
		switch isakmp.IPsecAttributeType(typ &^ 0x8000) {
		case isakmp.IPsecAttrSALifeType:
			if v != uint64(isakmp.LifeSeconds) && v != uint64(isakmp.LifeKilobytes) {
				return 0, 0, false
			}
			life = isakmp.LifeType(v)
		case isakmp.IPsecAttrSALifeDuration:
			d := uint32(min(v, math.MaxUint32))
			switch life {
			case isakmp.LifeSeconds:
				sec = d
			case isakmp.LifeKilobytes:
				kb = d
			default:
				return 0, 0, false
			}
			life = 0
		default:
			return 0, 0, false
		}
	}
	return sec, kb, life == 0
}

// selector converts a client ID payload.
func selector(id *isakmp.Identification) (Selector, bool) {
	p, ok := id.Prefix()
	if !ok {
		return Selector{}, false
	}
	return Selector{Prefix: p, Protocol: id.Protocol, Port: id.Port}, true
}

// idPayload converts a selector to a client ID payload: an address ID for
// a full-length prefix, a subnet ID otherwise.
func idPayload(s Selector) *isakmp.Identification {
	var id isakmp.Identification
	if s.Prefix.IsSingleIP() {
		id = isakmp.IDFromAddr(s.Prefix.Addr(), s.Protocol, s.Port)
	} else {
		id = isakmp.IDFromPrefix(s.Prefix, s.Protocol, s.Port)
	}
	return &id
}
