package fuzz

import (
	"bytes"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

// walk is what a View walk saw: each payload's type, body and, for the
// payloads with typed accessors, the decoded value.
type walk struct {
	header  isakmp.Header
	types   []isakmp.PayloadType
	bodies  [][]byte
	decoded []isakmp.Payload // nil where the View has no accessor
	ct      []byte
	padding []byte
	trail   []byte
	notes   []isakmp.Note
	err     error
	enc     []byte // scratch for re-encoding one payload
}

// reset empties w for reuse, keeping its slices' capacity but none of the
// input or payloads they pointed to.
func (w *walk) reset() {
	clear(w.bodies)
	clear(w.decoded)
	*w = walk{
		types: w.types[:0], bodies: w.bodies[:0], decoded: w.decoded[:0],
		notes: w.notes[:0], enc: w.enc[:0],
	}
}

// viewWalk walks b with a View into w, which it resets first.
func viewWalk(t T, b []byte, o isakmp.ParseOptions, w *walk) {
	var v isakmp.View
	w.reset()
	w.header, w.err = v.StartWith(b, o)
	if w.err != nil {
		return
	}
	for v.Next() {
		w.types = append(w.types, v.Type())
		w.bodies = append(w.bodies, v.Body())
		if len(v.Raw()) != 4+len(v.Body()) || v.Offset() < isakmp.HeaderLen || v.Offset() >= len(b) {
			t.Fatalf("payload %d: Raw %d bytes for body %d, offset %d", len(w.types)-1, len(v.Raw()), len(v.Body()), v.Offset())
		}
		w.decoded = append(w.decoded, decodeCurrent(t, &v))
	}
	w.err = v.Err()
	w.ct, w.padding, w.trail = nz(v.Ciphertext()), nz(v.Padding()), nz(v.Trailing())
	w.notes = append(w.notes, v.Notes()...)
}

func nz(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// decodeCurrent decodes v's payload with its typed accessor; a payload
// Next accepted must decode.
func decodeCurrent(t T, v *isakmp.View) isakmp.Payload {
	var p isakmp.Payload
	var err error
	switch v.Type() {
	case isakmp.PayloadSA:
		var r isakmp.SAReader
		if r, err = v.SA(); err == nil {
			var sa *isakmp.SA
			sa, err = readSA(&r)
			p = sa
		}
	case isakmp.PayloadN:
		var n isakmp.Notification
		n, err = v.Notification()
		p = &n
	case isakmp.PayloadD:
		var d isakmp.Delete
		d, err = v.Delete()
		p = &d
	case isakmp.PayloadID:
		var id isakmp.Identification
		id, err = v.Identification()
		p = &id
	case isakmp.PayloadNATOA, isakmp.PayloadNATOADraft:
		var oa isakmp.NATOA
		oa, err = v.NATOA()
		p = &oa
	default:
		if _, err := v.SA(); err == nil {
			t.Fatalf("SA accessor accepted a %v payload", v.Type())
		}
		return nil
	}
	if err != nil {
		t.Fatalf("%v accessor failed after Next accepted it: %v", v.Type(), err)
	}
	return p
}

// readSA builds the typed SA from a reader walk, as an independent user
// of the reader API would.
func readSA(r *isakmp.SAReader) (*isakmp.SA, error) {
	sa := &isakmp.SA{DOI: r.DOI, Situation: r.Situation}
	for r.Next() {
		pr := r.Proposal()
		p := isakmp.Proposal{Number: pr.Number, Protocol: pr.Protocol, SPI: nz(pr.SPI)}
		for pr.Next() {
			tr := pr.Transform()
			x := isakmp.Transform{Number: tr.Number, ID: tr.ID}
			for tr.Next() {
				x.Attributes = append(x.Attributes, tr.Attribute())
			}
			if err := tr.Err(); err != nil {
				return nil, err
			}
			p.Transforms = append(p.Transforms, x)
		}
		if err := pr.Err(); err != nil {
			return nil, err
		}
		if int(pr.NumTransforms) != len(p.Transforms) {
			return nil, isakmp.ErrCountMismatch
		}
		sa.Proposals = append(sa.Proposals, p)
	}
	return sa, r.Err()
}

// ViewVsParse is the property of FuzzViewVsParse for one input b: the View
// and Parse agree, strict and lenient: accept or reject, the same error,
// header, payload types and bodies, the same decoded payloads, padding,
// trailing bytes and notes.
func ViewVsParse(t T, b []byte) {
	s := getScratch()
	defer s.put()
	w := &s.w
	for _, o := range [...]isakmp.ParseOptions{{}, lenient} {
		m, err := isakmp.ParseWith(b, o)
		viewWalk(t, b, o, w)
		if (err == nil) != (w.err == nil) {
			t.Fatalf("lenient=%v: Parse error %v, View error %v", o.Lenient, err, w.err)
		}
		if err != nil {
			if !sameError(err, w.err) {
				t.Fatalf("lenient=%v: Parse error %v, View error %v", o.Lenient, err, w.err)
			}
			continue
		}
		compareWalk(t, o, m, w)
	}
}

func compareWalk(t T, o isakmp.ParseOptions, m *isakmp.Message, w *walk) {
	t.Helper()
	if w.header != m.Header {
		t.Fatalf("lenient=%v: headers differ: View %+v, Parse %+v", o.Lenient, w.header, m.Header)
	}
	if len(w.types) != len(m.Payloads) {
		t.Fatalf("lenient=%v: View saw %d payloads, Parse %d", o.Lenient, len(w.types), len(m.Payloads))
	}
	for i, p := range m.Payloads {
		if p.Type() != w.types[i] {
			t.Fatalf("payload %d: View type %v, Parse %v", i, w.types[i], p.Type())
		}
		enc, err := isakmp.AppendPayloads(w.enc[:0], m.Payloads[i:i+1])
		if err != nil {
			t.Fatalf("payload %d: %v", i, err)
		}
		w.enc = enc
		// Marshal zeroes reserved fields a lenient parse tolerated.
		if !o.Lenient && !bytes.Equal(enc[4:], w.bodies[i]) {
			t.Fatalf("payload %d (%v): body %x, Parse re-encodes %x", i, p.Type(), w.bodies[i], enc[4:])
		}
		if w.decoded[i] != nil {
			if !eqPayload(p, w.decoded[i]) {
				t.Fatalf("payload %d (%v): View accessor differs (-Parse +View):\n%s", i, p.Type(), diff(p, w.decoded[i]))
			}
		}
	}
	if !bytes.Equal(w.ct, m.Ciphertext) || !bytes.Equal(w.padding, m.Padding) || !bytes.Equal(w.trail, m.Trailing) {
		t.Fatalf("lenient=%v: ciphertext/padding/trailing differ", o.Lenient)
	}
	if !eqNotes(m.Notes, nilIfEmpty(w.notes)) {
		t.Fatalf("lenient=%v: notes differ (-Parse +View):\n%s", o.Lenient, diff(m.Notes, nilIfEmpty(w.notes)))
	}
}

func nilIfEmpty(n []isakmp.Note) []isakmp.Note {
	if len(n) == 0 {
		return nil
	}
	return n
}
