package isakmp

import (
	"strconv"

	"golang.org/x/crypto/cryptobyte"
)

// parser carries the options and the notes of one parse. Parse and View
// share it, with every check, so that the two APIs agree on every input.
type parser struct {
	lenient bool
	mute    bool // lenient re-reads of validated bodies: notes already taken
	notes   []Note
}

// muted re-reads bodies a View has already validated; it is never written.
var muted = &parser{lenient: true, mute: true}

// tolerate fails with kind k, or records it when lenient.
func (p *parser) tolerate(off int, l loc, k error) error {
	if !p.lenient {
		return l.err(off, k)
	}
	if !p.mute {
		p.notes = append(p.notes, Note{Offset: off, Path: l.String(), Err: k})
	}
	return nil
}

// loc names a place in a message; it becomes a string only on error.
type loc struct {
	pt             PayloadType
	depth          uint8 // 0 payload, 1 proposal, 2 transform, 3 attribute
	idx            int32 // index in the payload chain, -1 for the header
	prop, tr, attr uint16
}

var headerLoc = loc{idx: -1}

// String renders l as a path such as "SA[0]/Proposal[0]/Transform[1]".
func (l loc) String() string {
	if l.idx < 0 {
		return "Header"
	}
	s := l.pt.String() + "[" + strconv.Itoa(int(l.idx)) + "]"
	if l.depth >= 1 {
		s += "/Proposal[" + strconv.Itoa(int(l.prop)) + "]"
	}
	if l.depth >= 2 {
		s += "/Transform[" + strconv.Itoa(int(l.tr)) + "]"
	}
	if l.depth >= 3 {
		s += "/Attr[" + strconv.Itoa(int(l.attr)) + "]"
	}
	return s
}

func (l loc) err(off int, k error) error {
	return &Error{Offset: off, Path: l.String(), Notify: k.(*errKind).notify, Err: k}
}

// errN is err with a notify type other than the kind's default.
func (l loc) errN(off int, k error, n NotifyType) error {
	return &Error{Offset: off, Path: l.String(), Notify: n, Err: k}
}

// chain walks a payload chain.
type chain struct {
	buf   []byte // the payload area
	base  int    // offset of buf[0] in the caller's input
	off   int    // offset of the next payload in buf
	next  PayloadType
	idx   int
	padOK bool // a decrypted body: bytes after the chain are padding
	done  bool

	// the current payload
	typ   PayloadType
	start int // offset of its generic header in buf
	body  []byte

	padding  []byte
	trailing []byte
}

// header checks the ISAKMP header of b and prepares c to walk its payloads.
func (p *parser) header(b []byte, c *chain) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if h.MajorVersion != 1 {
		return h, headerLoc.err(17, ErrInvalidMajorVersion)
	}
	if h.MinorVersion != 0 {
		if err := p.tolerate(17, headerLoc, ErrInvalidMinorVersion); err != nil {
			return h, err
		}
	}
	if h.Flags&^definedFlags != 0 {
		if err := p.tolerate(19, headerLoc, ErrInvalidFlags); err != nil {
			return h, err
		}
	}
	if h.Length < HeaderLen {
		return h, headerLoc.err(24, ErrBadLength)
	}
	if uint64(h.Length) > uint64(len(b)) {
		return h, headerLoc.err(len(b), ErrTruncated)
	}
	if int(h.Length) < len(b) {
		if err := p.tolerate(int(h.Length), headerLoc, ErrTrailingData); err != nil {
			return h, err
		}
	}
	*c = chain{buf: b[HeaderLen:h.Length], base: HeaderLen, next: h.NextPayload, trailing: b[h.Length:]}
	if h.Flags&FlagEncryption != 0 {
		c.done = true
	}
	return h, nil
}

// modeled reports whether t has its own payload type in this package.
func modeled(t PayloadType) bool {
	switch t {
	case PayloadSA, PayloadKE, PayloadID, PayloadCERT, PayloadCR, PayloadHASH,
		PayloadSIG, PayloadNONCE, PayloadN, PayloadD, PayloadVID, PayloadNATD,
		PayloadNATOA, PayloadNATDDraft, PayloadNATOADraft:
		return true
	}
	return false
}

// step frames the next payload of c; false at the end of the chain.
func (p *parser) step(c *chain) (bool, error) {
	if c.done {
		return false, nil
	}
	rest := c.buf[c.off:]
	off := c.base + c.off
	if c.next == PayloadNone {
		c.done = true
		if len(rest) > 0 {
			if !c.padOK {
				if err := p.tolerate(off, loc{pt: c.typ, idx: int32(c.idx - 1)}, ErrUnequalPayloadLengths); err != nil {
					return false, err
				}
			}
			c.padding = rest
		}
		return false, nil
	}
	l := loc{pt: c.next, idx: int32(c.idx)}
	if len(rest) < 4 {
		return false, l.err(off, ErrUnequalPayloadLengths)
	}
	length := int(rest[2])<<8 | int(rest[3])
	if length < 4 {
		return false, l.err(off+2, ErrBadLength)
	}
	if length > len(rest) {
		return false, l.err(off+2, ErrUnequalPayloadLengths)
	}
	if rest[1] != 0 {
		if err := p.tolerate(off+1, l, ErrReservedNotZero); err != nil {
			return false, err
		}
	}
	switch t := c.next; {
	case t == PayloadProposal || t == PayloadTransform:
		return false, l.err(off, ErrInvalidPayloadType)
	case modeled(t) || t.registered():
	default:
		if err := p.tolerate(off, l, ErrInvalidPayloadType); err != nil {
			return false, err
		}
	}
	c.typ, c.start, c.body = c.next, c.off, rest[4:length]
	c.next = PayloadType(rest[0])
	c.off += length
	c.idx++
	return true, nil
}

// bodyLoc returns the location and absolute body offset of c's payload.
func (c *chain) bodyLoc() (loc, int) {
	return loc{pt: c.typ, idx: int32(c.idx - 1)}, c.base + c.start + 4
}

// check validates the current payload of c without allocating, and adds
// what Parse will build for it to k.
func (p *parser) check(c *chain, k *counts) error {
	l, base := c.bodyLoc()
	k.payloads++
	var err error
	switch c.typ {
	case PayloadSA:
		var r SAReader
		if err := p.initSA(&r, c.body, base, l); err != nil {
			return err
		}
		k.sa++
		for r.Next() {
			k.props++
			pr := r.Proposal()
			for pr.Next() {
				k.trs++
				tr := pr.Transform()
				for tr.Next() {
					k.attrs++
				}
				if err := tr.Err(); err != nil {
					return err
				}
			}
			if err := pr.Err(); err != nil {
				return err
			}
		}
		return r.Err()
	case PayloadKE, PayloadHASH, PayloadSIG, PayloadNONCE, PayloadVID:
		k.data++
	case PayloadNATD, PayloadNATDDraft:
		k.natd++
	case PayloadID:
		k.id++
		_, err = p.decodeID(c.body, base, l)
	case PayloadCERT, PayloadCR:
		_, _, err = decodeCert(c.body, base, l)
	case PayloadN:
		k.n++
		_, err = p.decodeNotification(c.body, base, l)
	case PayloadD:
		k.d++
		_, err = p.decodeDelete(c.body, base, l)
	case PayloadNATOA, PayloadNATOADraft:
		_, err = p.decodeNATOA(c.body, base, l)
	}
	return err
}

// idDataLen is the data length an ID type requires: 0 for variable, -1
// for unassigned types.
func idDataLen(t IDType) int {
	switch t {
	case IDIPv4Addr:
		return 4
	case IDIPv4AddrSubnet, IDIPv4AddrRange:
		return 8
	case IDIPv6Addr:
		return 16
	case IDIPv6AddrSubnet, IDIPv6AddrRange:
		return 32
	case IDFQDN, IDUserFQDN, IDDERASN1DN, IDDERASN1GN, IDKeyID:
		return 0
	}
	return -1
}

func (p *parser) decodeID(body []byte, base int, l loc) (Identification, error) {
	var id Identification
	s := cryptobyte.String(body)
	if !s.ReadUint8((*uint8)(&id.IDType)) || !s.ReadUint8(&id.Protocol) || !s.ReadUint16(&id.Port) {
		return Identification{}, l.err(base-2, ErrBadLength)
	}
	id.Data = nz(s)
	switch want := idDataLen(id.IDType); {
	case want < 0:
		if err := p.tolerate(base, l, ErrInvalidID); err != nil {
			return Identification{}, err
		}
	case want > 0 && len(s) != want:
		if err := p.tolerate(base+4, l, ErrInvalidID); err != nil {
			return Identification{}, err
		}
	}
	return id, nil
}

func decodeCert(body []byte, base int, l loc) (CertEncoding, []byte, error) {
	if len(body) < 1 {
		return 0, nil, l.err(base-2, ErrBadLength)
	}
	return CertEncoding(body[0]), nz(body[1:]), nil
}

// checkSPI validates an SPI size for protocol proto (RFC 2407 §4.4.1,
// RFC 2408 §2.4: ISAKMP SPIs are the two cookies).
func checkSPI(proto ProtocolID, size uint8) error {
	switch proto {
	case ProtoISAKMP:
		if size == 0 || size == 16 {
			return nil
		}
	case ProtoIPsecAH, ProtoIPsecESP:
		if size == 4 {
			return nil
		}
	case ProtoIPComp:
		if size == 2 || size == 4 {
			return nil
		}
	default:
		return ErrInvalidProtocol
	}
	return ErrInvalidSPI
}

func (p *parser) decodeNotification(body []byte, base int, l loc) (Notification, error) {
	var n Notification
	var doi uint32
	var size uint8
	var spi []byte
	s := cryptobyte.String(body)
	if !s.ReadUint32(&doi) || !s.ReadUint8((*uint8)(&n.Protocol)) || !s.ReadUint8(&size) ||
		!s.ReadUint16((*uint16)(&n.Notify)) || !s.ReadBytes(&spi, int(size)) {
		return Notification{}, l.err(base-2, ErrBadLength)
	}
	n.DOI, n.SPI, n.Data = DOI(doi), nz(spi), nz(s)
	if n.DOI > DOIIPsec {
		if err := p.tolerate(base, l, ErrUnsupportedDOI); err != nil {
			return Notification{}, err
		}
	}
	// A notification about no particular SA carries protocol 0 and no SPI.
	if n.Protocol != 0 || size != 0 {
		if k := checkSPI(n.Protocol, size); k != nil {
			if err := p.tolerate(base+4, l, k); err != nil {
				return Notification{}, err
			}
		}
	}
	return n, nil
}

func (p *parser) decodeDelete(body []byte, base int, l loc) (Delete, error) {
	var d Delete
	var doi uint32
	var count uint16
	s := cryptobyte.String(body)
	if !s.ReadUint32(&doi) || !s.ReadUint8((*uint8)(&d.Protocol)) || !s.ReadUint8(&d.SPISize) ||
		!s.ReadUint16(&count) {
		return Delete{}, l.err(base-2, ErrBadLength)
	}
	d.DOI = DOI(doi)
	if d.DOI > DOIIPsec {
		if err := p.tolerate(base, l, ErrUnsupportedDOI); err != nil {
			return Delete{}, err
		}
	}
	if k := checkSPI(d.Protocol, d.SPISize); k != nil {
		return Delete{}, l.err(base+4, k)
	}
	if d.SPISize == 0 {
		return Delete{}, l.err(base+5, ErrInvalidSPI)
	}
	if len(s) != int(count)*int(d.SPISize) {
		// Not a proposal: the count is a plain malformation here.
		return Delete{}, l.errN(base+6, ErrCountMismatch, NotifyPayloadMalformed)
	}
	d.SPIs = nz(s)
	return d, nil
}

func (p *parser) decodeNATOA(body []byte, base int, l loc) (NATOA, error) {
	var oa NATOA
	oa.Draft = l.pt == PayloadNATOADraft
	if len(body) < 4 {
		return NATOA{}, l.err(base-2, ErrBadLength)
	}
	oa.IDType = IDType(body[0])
	if body[1] != 0 || body[2] != 0 || body[3] != 0 {
		if err := p.tolerate(base+1, l, ErrReservedNotZero); err != nil {
			return NATOA{}, err
		}
	}
	a := body[4:]
	switch oa.IDType {
	case IDIPv4Addr:
		if len(a) != 4 {
			return NATOA{}, l.err(base-2, ErrBadLength)
		}
		oa.Addr = netipFrom4(a)
	case IDIPv6Addr:
		if len(a) != 16 {
			return NATOA{}, l.err(base-2, ErrBadLength)
		}
		oa.Addr = netipFrom16(a)
	default:
		return NATOA{}, l.err(base, ErrInvalidID)
	}
	return oa, nil
}
