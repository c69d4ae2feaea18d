package isakmp

// View walks a message's payload chain without allocating, applying the
// same checks as [Parse]: a View walk and Parse fail on the same inputs with
// the same error. The zero View is ready for Start.
//
//	var v isakmp.View
//	h, err := v.Start(b)
//	for v.Next() {
//		_ = v.Type() // and v.Body(), v.SA(), ...
//	}
//	err = v.Err()
//
// Slices returned by a View alias its input.
type View struct {
	p   *parser // strictParser, or a private parser for lenient walks
	c   chain
	ct  []byte
	err error
}

// Start checks the ISAKMP header of b strictly and positions v before the
// first payload. For an encrypted message Next returns false at once and
// Ciphertext returns the body.
func (v *View) Start(b []byte) (Header, error) { return v.StartWith(b, ParseOptions{}) }

// StartWith is Start with options; a lenient View reuses its Notes buffer.
func (v *View) StartWith(b []byte, o ParseOptions) (Header, error) {
	v.reset(o)
	h, err := v.p.header(b, &v.c)
	if err != nil {
		v.err, v.c.done = err, true
		return h, err
	}
	if h.Flags&FlagEncryption != 0 {
		v.ct = v.c.buf
	}
	return h, nil
}

// StartPayloads positions v before the first payload of a decrypted body,
// as [ParsePayloads] does: bytes after the chain are Padding.
func (v *View) StartPayloads(first PayloadType, body []byte, o ParseOptions) {
	v.reset(o)
	v.c = chain{buf: body, next: first, padOK: true}
}

// strictParser serves every strict View: strict parsing never writes to
// its parser, and sharing it keeps a View's address from escaping.
var strictParser = &parser{}

func (v *View) reset(o ParseOptions) {
	p := strictParser
	if o.Lenient {
		if v.p != nil && v.p != strictParser {
			p = v.p
			p.notes = p.notes[:0]
		} else {
			p = &parser{lenient: true}
		}
	}
	*v = View{p: p}
}

// Next advances to the next payload and checks it entirely; it returns
// false at the end of the chain or on error (see Err).
func (v *View) Next() bool {
	if v.err != nil || v.p == nil {
		return false
	}
	ok, err := v.p.step(&v.c)
	if ok && err == nil {
		var k counts // unused: a View builds nothing
		err = v.p.check(&v.c, &k)
	}
	if err != nil {
		v.err, v.c.done = err, true
		return false
	}
	return ok
}

// Err returns the first error met by Start or Next.
func (v *View) Err() error { return v.err }

// Type returns the current payload's type.
func (v *View) Type() PayloadType { return v.c.typ }

// Body returns the current payload's body, after its generic header.
func (v *View) Body() []byte { return v.c.body }

// Raw returns the current payload including its generic header.
func (v *View) Raw() []byte {
	if v.c.body == nil {
		return nil
	}
	return v.c.buf[v.c.start : v.c.start+4+len(v.c.body)]
}

// Offset returns the offset of the current payload's generic header in
// the input (the datagram for Start, the body for StartPayloads).
func (v *View) Offset() int { return v.c.base + v.c.start }

// Ciphertext returns the encrypted body of a message with the E flag.
func (v *View) Ciphertext() []byte { return v.ct }

// Padding returns the bytes after the end of the chain, once Next has
// returned false without error.
func (v *View) Padding() []byte { return v.c.padding }

// Trailing returns the bytes after the header length (lenient only).
func (v *View) Trailing() []byte { return v.c.trailing }

// Notes returns what a lenient walk has tolerated so far.
func (v *View) Notes() []Note {
	if v.p == nil {
		return nil
	}
	return v.p.notes
}

func (v *View) wrong() error {
	l, base := v.c.bodyLoc()
	return l.err(base-4, ErrWrongPayload)
}

// SA returns a reader over the current SA payload.
func (v *View) SA() (SAReader, error) {
	if v.c.typ != PayloadSA || v.c.body == nil {
		return SAReader{}, v.wrong()
	}
	l, base := v.c.bodyLoc()
	var r SAReader
	err := muted.initSA(&r, v.c.body, base, l)
	return r, err
}

// Notification decodes the current N payload; its slices alias the input.
func (v *View) Notification() (Notification, error) {
	if v.c.typ != PayloadN || v.c.body == nil {
		return Notification{}, v.wrong()
	}
	l, base := v.c.bodyLoc()
	return muted.decodeNotification(v.c.body, base, l)
}

// Delete decodes the current D payload; its SPIs alias the input.
func (v *View) Delete() (Delete, error) {
	if v.c.typ != PayloadD || v.c.body == nil {
		return Delete{}, v.wrong()
	}
	l, base := v.c.bodyLoc()
	return muted.decodeDelete(v.c.body, base, l)
}

// Identification decodes the current ID payload; Data aliases the input.
func (v *View) Identification() (Identification, error) {
	if v.c.typ != PayloadID || v.c.body == nil {
		return Identification{}, v.wrong()
	}
	l, base := v.c.bodyLoc()
	return muted.decodeID(v.c.body, base, l)
}

// NATOA decodes the current NAT-OA payload (RFC or draft type).
func (v *View) NATOA() (NATOA, error) {
	if (v.c.typ != PayloadNATOA && v.c.typ != PayloadNATOADraft) || v.c.body == nil {
		return NATOA{}, v.wrong()
	}
	l, base := v.c.bodyLoc()
	return muted.decodeNATOA(v.c.body, base, l)
}
