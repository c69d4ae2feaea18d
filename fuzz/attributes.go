package fuzz

import (
	"bytes"
	"errors"
	"strings"

	"github.com/hitless-ike/hitless/corpus"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// refAttributes walks a data-attribute list by RFC 2408 §3.3 alone: AF=1
// is a 4-byte TV attribute, AF=0 a TLV with a 16-bit length. It is the
// independent model the isakmp walker is checked against. ok is false if
// the list ends inside an attribute.
func refAttributes(b []byte) (as []isakmp.Attribute, ok bool) {
	as = make([]isakmp.Attribute, 0, len(b)/4) // at most one per 4 bytes
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, false
		}
		t, v := uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3])
		if t&0x8000 != 0 {
			as = append(as, isakmp.Attribute{Type: t &^ 0x8000, Basic: true, Value: v})
			b = b[4:]
			continue
		}
		if len(b) < 4+int(v) {
			return nil, false
		}
		as = append(as, isakmp.Attribute{Type: t, Data: nz(b[4 : 4+int(v)])})
		b = b[4+int(v):]
	}
	return as, true
}

// encodeAttributes is the inverse of refAttributes.
func encodeAttributes(as []isakmp.Attribute) []byte {
	var b []byte
	for _, a := range as {
		if a.Basic {
			b = append(b, byte(a.Type>>8)|0x80, byte(a.Type), byte(a.Value>>8), byte(a.Value))
			continue
		}
		b = append(b, byte(a.Type>>8), byte(a.Type), byte(len(a.Data)>>8), byte(len(a.Data)))
		b = append(b, a.Data...)
	}
	return b
}

// sameAttributes compares attribute lists; diff, by reflection, is
// too slow for the long lists the fuzzer builds and only explains failures.
func sameAttributes(a, b []isakmp.Attribute) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Type != y.Type || x.Basic != y.Basic || x.Value != y.Value || !bytes.Equal(x.Data, y.Data) ||
			(x.Data == nil) != (y.Data == nil) {
			return false
		}
	}
	return true
}

// wantUint is Attribute.Uint by its documentation.
func wantUint(a isakmp.Attribute) (uint64, bool) {
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

// viewAttributes walks the only transform of a WrapAttributes message with
// the View's readers.
func viewAttributes(msg []byte) ([]isakmp.Attribute, error) {
	var v isakmp.View
	if _, err := v.Start(msg); err != nil {
		return nil, err
	}
	if !v.Next() {
		return nil, v.Err()
	}
	r, err := v.SA()
	if err != nil {
		return nil, err
	}
	as := make([]isakmp.Attribute, 0, len(msg)/4)
	for r.Next() {
		p := r.Proposal()
		for p.Next() {
			tr := p.Transform()
			for tr.Next() {
				as = append(as, tr.Attribute())
			}
			if err := tr.Err(); err != nil {
				return nil, err
			}
		}
	}
	return as, nil
}

// Attributes is the property of FuzzAttributes for one input b, a raw
// attribute list: framed by corpus.WrapAttributes in a phase-1 and an ESP
// proposal, the attribute walker agrees with the RFC 2408 model and with
// the View's reader walk, and round-trips.
func Attributes(t T, b []byte) {
	if len(b) > corpus.MaxAttributes {
		b = b[:corpus.MaxAttributes]
	}
	want, ok := refAttributes(b)
	for _, esp := range []bool{false, true} {
		msg := corpus.WrapAttributes(nil, b, esp)
		start := len(msg) - len(b)
		m, err := isakmp.Parse(msg)
		if ok != (err == nil) {
			t.Fatalf("esp=%v: model accepts=%v, Parse error %v", esp, ok, err)
		}
		// A View that fails must fail alike; one that succeeds (Next
		// already checked the SA) must yield the same attributes.
		vas, verr := viewAttributes(msg)
		if err != nil {
			if kind := checkError(t, "attributes", err, len(msg)); kind != isakmp.ErrBadLength {
				t.Fatalf("esp=%v: %v, want ErrBadLength", esp, err)
			}
			var pe *isakmp.Error
			errors.As(err, &pe)
			if pe.Offset < start || !strings.Contains(pe.Path, "/Attr[") {
				t.Fatalf("esp=%v: %v not located in the attributes (which start at %d)", esp, err, start)
			}
			if !sameError(err, verr) {
				t.Fatalf("esp=%v: Parse error %v, View error %v", esp, err, verr)
			}
			continue
		}
		got := m.Payloads[0].(*isakmp.SA).Proposals[0].Transforms[0].Attributes
		if !sameAttributes(want, got) {
			t.Fatalf("esp=%v: attributes differ from the RFC model (-model +Parse):\n%s", esp, diff(want, got))
		}
		if verr != nil {
			t.Fatalf("esp=%v: View fails on what Parse accepts: %v", esp, verr)
		}
		if !sameAttributes(got, vas) {
			t.Fatalf("esp=%v: View walk differs (-Parse +View):\n%s", esp, diff(got, vas))
		}
		if enc := encodeAttributes(got); !bytes.Equal(enc, b) {
			t.Fatalf("esp=%v: attributes re-encode to %x, input %x", esp, enc, b)
		}
		out, err := m.Marshal()
		if err != nil || !bytes.Equal(out, msg) {
			t.Fatalf("esp=%v: Marshal round trip: %v", esp, err)
		}
		for _, a := range got {
			v, ok := a.Uint()
			wv, wok := wantUint(a)
			if v != wv || ok != wok {
				t.Fatalf("%+v.Uint() = %d, %v; want %d, %v", a, v, ok, wv, wok)
			}
		}
	}
}
