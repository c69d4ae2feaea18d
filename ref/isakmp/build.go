package isakmp

// Parse runs in two passes over its private copy of the input. The first
// is the View walk: every check, every note, and a count of the structs
// the chain needs. The second builds them into slabs carved from one
// per-message arena that also holds the Message (or Body), so a typical
// message costs three allocations: its bytes, its arena and its SA
// attributes. Larger messages add one exactly sized slab per overflowing
// kind. Only the copy is allocated before the input is known valid.

// counts is what the first pass found, and the second will build.
type counts struct {
	payloads, data, natd, id, n, d int
	sa, props, trs, attrs          int
}

// dataPayload is the shape of KeyExchange, Hash, Signature, Nonce and
// VendorID, so that one slab serves all five.
type dataPayload = struct{ Data []byte }

// Two arena layouts, so that small messages do not pay for room they do
// not use: live bytes, not allocation counts, set how often the GC runs,
// and the GC dominated Parse. H is the result (Message or Body) that the
// arena also holds. Attributes, the bulk of an SA, get an exact slab.
type (
	// smallArena fits a message without SA, such as a Main Mode KE message.
	smallArena[H any] struct {
		h    H
		ps   [4]Payload
		data [2]dataPayload
		natd [2]NATD
	}
	// saArena fits a message with one SA of one proposal and transform:
	// Main Mode's first messages and a Quick Mode body.
	saArena[H any] struct {
		h     H
		ps    [6]Payload
		data  [5]dataPayload
		id    [2]Identification
		sa    [1]SA
		props [1]Proposal
		trs   [1]Transform
	}
)

// newArena allocates an arena fit for k and returns its result and slabs.
func newArena[H any](k *counts) (*H, slabs) {
	var h *H
	var s slabs
	if k.sa == 0 && k.payloads <= 4 && k.data <= 2 && k.natd <= 2 {
		a := new(smallArena[H])
		h = &a.h
		s.ps, s.data, s.natd = carve(a.ps[:], k.payloads), carve(a.data[:], k.data), carve(a.natd[:], k.natd)
		s.id = carve[Identification](nil, k.id)
	} else {
		a := new(saArena[H])
		h = &a.h
		s.ps, s.data, s.id = carve(a.ps[:], k.payloads), carve(a.data[:], k.data), carve(a.id[:], k.id)
		s.sa, s.props, s.trs = carve(a.sa[:], k.sa), carve(a.props[:], k.props), carve(a.trs[:], k.trs)
		s.natd = carve[NATD](nil, k.natd)
	}
	s.n, s.d = carve[Notification](nil, k.n), carve[Delete](nil, k.d)
	s.attrs = carve[Attribute](nil, k.attrs)
	if k.payloads == 0 {
		s.ps = nil
	}
	return h, s
}

// slabs are the arena's (or overflow) slices, each with capacity exactly
// the count of the first pass, so that appends never move elements
// already handed out.
type slabs struct {
	ps    []Payload
	data  []dataPayload
	natd  []NATD
	id    []Identification
	n     []Notification
	d     []Delete
	sa    []SA
	props []Proposal
	trs   []Transform
	attrs []Attribute
}

// carve returns an empty slice of capacity n, from inline if it fits.
func carve[T any](inline []T, n int) []T {
	if n <= len(inline) {
		return inline[:0:n]
	}
	return make([]T, 0, n)
}

// push appends v to *s and returns a pointer to the stored copy.
func push[T any](s *[]T, v T) *T {
	*s = append(*s, v)
	return &(*s)[len(*s)-1]
}

// validate walks a copy of c with every check of p, taking its notes,
// and counts what build will need for the chain.
func (p *parser) validate(c chain) (counts, error) {
	var k counts
	for {
		ok, err := p.step(&c)
		if err != nil {
			return k, err
		}
		if !ok {
			return k, nil
		}
		if err := p.check(&c, &k); err != nil {
			return k, err
		}
	}
}

// build walks c again, validated by validate, and returns its payloads
// (nil for an empty chain) built in s. It re-checks muted: cheap, and it
// keeps build safe on its own.
func (s *slabs) build(c *chain) ([]Payload, error) {
	for {
		ok, err := muted.step(c)
		if err != nil {
			return nil, err
		}
		if !ok {
			return s.ps, nil
		}
		pl, err := s.decode(c)
		if err != nil {
			return nil, err
		}
		s.ps = append(s.ps, pl)
	}
}

// decode builds the current payload of c from s.
func (s *slabs) decode(c *chain) (Payload, error) {
	l, base := c.bodyLoc()
	body := c.body
	switch c.typ {
	case PayloadSA:
		return s.decodeSA(body, base, l)
	case PayloadKE:
		return (*KeyExchange)(push(&s.data, dataPayload{nz(body)})), nil
	case PayloadHASH:
		return (*Hash)(push(&s.data, dataPayload{nz(body)})), nil
	case PayloadSIG:
		return (*Signature)(push(&s.data, dataPayload{nz(body)})), nil
	case PayloadNONCE:
		return (*Nonce)(push(&s.data, dataPayload{nz(body)})), nil
	case PayloadVID:
		return (*VendorID)(push(&s.data, dataPayload{nz(body)})), nil
	case PayloadNATD, PayloadNATDDraft:
		return push(&s.natd, NATD{Hash: nz(body), Draft: c.typ == PayloadNATDDraft}), nil
	case PayloadID:
		id, err := muted.decodeID(body, base, l)
		if err != nil {
			return nil, err
		}
		return push(&s.id, id), nil
	case PayloadCERT:
		e, d, err := decodeCert(body, base, l)
		if err != nil {
			return nil, err
		}
		return &Certificate{Encoding: e, Data: d}, nil
	case PayloadCR:
		e, d, err := decodeCert(body, base, l)
		if err != nil {
			return nil, err
		}
		return &CertificateRequest{Encoding: e, Authority: d}, nil
	case PayloadN:
		n, err := muted.decodeNotification(body, base, l)
		if err != nil {
			return nil, err
		}
		return push(&s.n, n), nil
	case PayloadD:
		d, err := muted.decodeDelete(body, base, l)
		if err != nil {
			return nil, err
		}
		return push(&s.d, d), nil
	case PayloadNATOA, PayloadNATOADraft:
		oa, err := muted.decodeNATOA(body, base, l)
		if err != nil {
			return nil, err
		}
		return &oa, nil
	}
	return &Unknown{PayloadType: c.typ, Data: nz(body)}, nil
}

// decodeSA builds an SA whose proposals, transforms and attributes are
// windows of the shared slabs, each capped so that an append by the
// caller copies instead of overwriting its neighbour. The body passed
// validate, so this walks the framing without the readers' checks (half
// of Parse's time went to walking twice); its slices are cut exactly as
// the readers cut them. The bounds tests only keep it panic-free.
func (s *slabs) decodeSA(body []byte, base int, l loc) (*SA, error) {
	if len(body) < 8 {
		return nil, l.err(base-2, ErrBadLength)
	}
	p0 := len(s.props)
	for rest := body[8:]; len(rest) > 0; {
		if len(rest) < 8 {
			return nil, l.err(base, ErrBadLength)
		}
		length, size := int(rest[2])<<8|int(rest[3]), int(rest[6])
		if length < 8+size || length > len(rest) {
			return nil, l.err(base, ErrBadLength)
		}
		t0 := len(s.trs)
		for trs := rest[8+size : length]; len(trs) > 0; {
			tl := 0
			if len(trs) >= 8 {
				tl = int(trs[2])<<8 | int(trs[3])
			}
			if tl < 8 || tl > len(trs) {
				return nil, l.err(base, ErrBadLength)
			}
			a0 := len(s.attrs)
			for as := trs[8:tl]; len(as) > 0; {
				if len(as) < 4 {
					return nil, l.err(base, ErrBadLength)
				}
				t, v := uint16(as[0])<<8|uint16(as[1]), uint16(as[2])<<8|uint16(as[3])
				if t&0x8000 != 0 {
					s.attrs = append(s.attrs, Attribute{Type: t & 0x7fff, Basic: true, Value: v})
					as = as[4:]
					continue
				}
				if 4+int(v) > len(as) {
					return nil, l.err(base, ErrBadLength)
				}
				s.attrs = append(s.attrs, Attribute{Type: t, Data: nz(as[4 : 4+int(v)])})
				as = as[4+int(v):]
			}
			t := Transform{Number: trs[4], ID: trs[5]}
			if a1 := len(s.attrs); a1 > a0 {
				t.Attributes = s.attrs[a0:a1:a1]
			}
			s.trs = append(s.trs, t)
			trs = trs[tl:]
		}
		t1 := len(s.trs)
		s.props = append(s.props, Proposal{Number: rest[4], Protocol: ProtocolID(rest[5]),
			SPI: nz(rest[8 : 8+size]), Transforms: s.trs[t0:t1:t1]})
		rest = rest[length:]
	}
	p1 := len(s.props)
	return push(&s.sa, SA{DOI: DOI(be32(body)), Situation: Situation(be32(body[4:])),
		Proposals: s.props[p0:p1:p1]}), nil
}
