package isakmp

import "net/netip"

func netipFrom4(b []byte) netip.Addr  { return netip.AddrFrom4([4]byte(b)) }
func netipFrom16(b []byte) netip.Addr { return netip.AddrFrom16([16]byte(b)) }

// SAReader walks the proposals of an SA payload without allocating. Get one
// from [View.SA].
type SAReader struct {
	DOI       DOI
	Situation Situation

	p    *parser
	l    loc
	buf  []byte // the proposals
	base int
	off  int
	n    int
	last bool
	cur  ProposalReader
	err  error
}

// ProposalReader is one proposal of an SA and walks its transforms.
type ProposalReader struct {
	Number        uint8
	Protocol      ProtocolID
	SPI           []byte
	NumTransforms uint8

	p      *parser
	l      loc
	buf    []byte // the transforms
	base   int
	off    int
	n      int
	cntOff int
	done   bool
	cur    TransformReader
	err    error
}

// TransformReader is one transform of a proposal and walks its attributes.
type TransformReader struct {
	Number uint8
	ID     uint8

	l    loc
	buf  []byte // the attributes
	base int
	off  int
	n    int
	cur  Attribute
	err  error
}

// initSA points r at an SA body. It fills r in place: readers are large
// and copying them dominated the View walk.
func (p *parser) initSA(r *SAReader, body []byte, base int, l loc) error {
	if len(body) < 8 {
		return l.err(base-2, ErrBadLength)
	}
	doi, sit := DOI(be32(body)), Situation(be32(body[4:]))
	if doi != DOIIPsec {
		return l.err(base, ErrUnsupportedDOI)
	}
	if sit&^SitIdentityOnly != 0 {
		return l.err(base+4, ErrUnsupportedSituation)
	}
	if len(body) == 8 {
		return l.err(base+8, ErrBadProposalSyntax)
	}
	r.DOI, r.Situation = doi, sit
	r.p, r.l, r.buf, r.base = p, l, body[8:], base+8
	r.off, r.n, r.last, r.err = 0, 0, false, nil
	return nil
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// Next advances to the next proposal.
func (r *SAReader) Next() bool {
	if r.err != nil || r.last || r.buf == nil {
		return false
	}
	l := r.l
	l.depth, l.prop = 1, uint16(r.n)
	rest := r.buf[r.off:]
	off := r.base + r.off
	if len(rest) < 8 {
		r.err = l.err(off, ErrBadLength)
		return false
	}
	next, length := PayloadType(rest[0]), int(rest[2])<<8|int(rest[3])
	proto, size := ProtocolID(rest[5]), int(rest[6])
	switch {
	case next != PayloadNone && next != PayloadProposal:
		r.err = l.err(off, ErrBadProposalSyntax)
	case length < 8+size:
		r.err = l.err(off+2, ErrBadLength)
	case length > len(rest):
		r.err = l.err(off+2, ErrBadLength)
	case next == PayloadNone && length != len(rest):
		r.err = l.err(off+length, ErrBadProposalSyntax)
	case next == PayloadProposal && length == len(rest):
		r.err = l.err(off, ErrBadProposalSyntax)
	}
	if r.err == nil && rest[1] != 0 {
		r.err = r.p.tolerate(off+1, l, ErrReservedNotZero)
	}
	if r.err == nil {
		if k := checkSPI(proto, uint8(size)); k != nil {
			o := off + 6
			if k == ErrInvalidProtocol {
				o = off + 5
			}
			r.err = l.err(o, k)
		} else if rest[7] == 0 {
			r.err = l.err(off+7, ErrCountMismatch)
		}
	}
	if r.err != nil {
		return false
	}
	r.cur = ProposalReader{
		Number: rest[4], Protocol: proto, SPI: nz(rest[8 : 8+size]), NumTransforms: rest[7],
		p: r.p, l: l, buf: rest[8+size : length], base: off + 8 + size, cntOff: off + 7,
	}
	r.off += length
	r.n++
	r.last = next == PayloadNone
	return true
}

// Proposal returns the current proposal.
func (r *SAReader) Proposal() *ProposalReader { return &r.cur }

// Err returns the first error met.
func (r *SAReader) Err() error { return r.err }

// Next advances to the next transform.
func (r *ProposalReader) Next() bool {
	if r.err != nil || r.done {
		return false
	}
	l := r.l
	l.depth, l.tr = 2, uint16(r.n)
	rest := r.buf[r.off:]
	off := r.base + r.off
	if len(rest) == 0 {
		r.done = true
		if r.n != int(r.NumTransforms) {
			r.err = l.err(r.cntOff, ErrCountMismatch)
		}
		return false
	}
	if len(rest) < 8 {
		r.err = l.err(off, ErrBadLength)
		return false
	}
	next, length := PayloadType(rest[0]), int(rest[2])<<8|int(rest[3])
	switch {
	case next != PayloadNone && next != PayloadTransform:
		r.err = l.err(off, ErrBadProposalSyntax)
	case length < 8:
		r.err = l.err(off+2, ErrBadLength)
	case length > len(rest):
		r.err = l.err(off+2, ErrBadLength)
	case next == PayloadNone && length != len(rest):
		r.err = l.err(off+length, ErrBadProposalSyntax)
	case next == PayloadTransform && length == len(rest):
		r.err = l.err(off, ErrBadProposalSyntax)
	case r.n >= int(r.NumTransforms):
		r.err = l.err(r.cntOff, ErrCountMismatch)
	}
	if r.err == nil && rest[1] != 0 {
		r.err = r.p.tolerate(off+1, l, ErrReservedNotZero)
	}
	if r.err == nil && (rest[6] != 0 || rest[7] != 0) {
		r.err = r.p.tolerate(off+6, l, ErrReservedNotZero)
	}
	if r.err != nil {
		return false
	}
	r.cur = TransformReader{Number: rest[4], ID: rest[5], l: l, buf: rest[8:length], base: off + 8}
	r.off += length
	r.n++
	return true
}

// Transform returns the current transform.
func (r *ProposalReader) Transform() *TransformReader { return &r.cur }

// Err returns the first error met.
func (r *ProposalReader) Err() error { return r.err }

// Next advances to the next attribute.
func (r *TransformReader) Next() bool {
	if r.err != nil || r.off >= len(r.buf) {
		return false
	}
	rest := r.buf[r.off:]
	if len(rest) < 4 {
		r.err = r.attrLoc().err(r.base+r.off, ErrBadLength)
		return false
	}
	t, v := uint16(rest[0])<<8|uint16(rest[1]), uint16(rest[2])<<8|uint16(rest[3])
	if t&0x8000 != 0 {
		r.cur = Attribute{Type: t & 0x7fff, Basic: true, Value: v}
		r.off += 4
	} else {
		if 4+int(v) > len(rest) {
			r.err = r.attrLoc().err(r.base+r.off+2, ErrBadLength)
			return false
		}
		r.cur = Attribute{Type: t, Data: nz(rest[4 : 4+int(v)])}
		r.off += 4 + int(v)
	}
	r.n++
	return true
}

// attrLoc locates the attribute being read, for errors only.
func (r *TransformReader) attrLoc() loc {
	l := r.l
	l.depth, l.attr = 3, uint16(r.n)
	return l
}

// Attribute returns the current attribute; Data aliases the input.
func (r *TransformReader) Attribute() Attribute { return r.cur }

// Err returns the first error met.
func (r *TransformReader) Err() error { return r.err }
