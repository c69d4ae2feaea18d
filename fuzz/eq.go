package fuzz

import (
	"bytes"
	"fmt"
	"net/netip"
	"reflect"
	"strings"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

// The eq functions compare parsed values field by field, as
// reflect.DeepEqual does (a nil slice differs from an empty one,
// addresses compare by value) but with errors by identity, the parse
// sentinels being pointers. They run on every exec, where reflection cost
// more than the parse itself; TestEqualMatchesDeepEqual mutates every
// leaf of parsed messages to keep them in step with DeepEqual, and a
// payload type they do not know falls back to reflection rather than
// passing.
//
// Package fuzz does not use go-cmp: `go test -fuzz` instruments every
// package linked in and snapshots all their counters after each exec, and
// go-cmp's made a third of them (FuzzParse: 31k instead of 22k execs per
// CPU-second without it).

func eqBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func eqMessage(a, b *isakmp.Message) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Header == b.Header && eqPayloads(a.Payloads, b.Payloads) &&
		eqBytes(a.Ciphertext, b.Ciphertext) && eqBytes(a.Padding, b.Padding) &&
		eqBytes(a.Trailing, b.Trailing) && eqNotes(a.Notes, b.Notes)
}

func eqBody(a, b *isakmp.Body) bool {
	if a == nil || b == nil {
		return a == b
	}
	return eqPayloads(a.Payloads, b.Payloads) && eqBytes(a.Padding, b.Padding) && eqNotes(a.Notes, b.Notes)
}

func eqNotes(a, b []isakmp.Note) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] { // Offset, Path and the sentinel's identity
			return false
		}
	}
	return true
}

func eqPayloads(a, b []isakmp.Payload) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if !eqPayload(a[i], b[i]) {
			return false
		}
	}
	return true
}

// eqPayload compares two payloads of this package's pointer types.
func eqPayload(a, b isakmp.Payload) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	switch x := a.(type) {
	case nil:
		return true
	case *isakmp.SA:
		y := b.(*isakmp.SA)
		return x == y || x != nil && y != nil && eqSA(x, y)
	case *isakmp.KeyExchange:
		y := b.(*isakmp.KeyExchange)
		return x == y || x != nil && y != nil && eqBytes(x.Data, y.Data)
	case *isakmp.Identification:
		y := b.(*isakmp.Identification)
		return x == y || x != nil && y != nil && x.IDType == y.IDType && x.Protocol == y.Protocol &&
			x.Port == y.Port && eqBytes(x.Data, y.Data)
	case *isakmp.Certificate:
		y := b.(*isakmp.Certificate)
		return x == y || x != nil && y != nil && x.Encoding == y.Encoding && eqBytes(x.Data, y.Data)
	case *isakmp.CertificateRequest:
		y := b.(*isakmp.CertificateRequest)
		return x == y || x != nil && y != nil && x.Encoding == y.Encoding && eqBytes(x.Authority, y.Authority)
	case *isakmp.Hash:
		y := b.(*isakmp.Hash)
		return x == y || x != nil && y != nil && eqBytes(x.Data, y.Data)
	case *isakmp.Signature:
		y := b.(*isakmp.Signature)
		return x == y || x != nil && y != nil && eqBytes(x.Data, y.Data)
	case *isakmp.Nonce:
		y := b.(*isakmp.Nonce)
		return x == y || x != nil && y != nil && eqBytes(x.Data, y.Data)
	case *isakmp.Notification:
		y := b.(*isakmp.Notification)
		return x == y || x != nil && y != nil && x.DOI == y.DOI && x.Protocol == y.Protocol &&
			x.Notify == y.Notify && eqBytes(x.SPI, y.SPI) && eqBytes(x.Data, y.Data)
	case *isakmp.Delete:
		y := b.(*isakmp.Delete)
		return x == y || x != nil && y != nil && x.DOI == y.DOI && x.Protocol == y.Protocol &&
			x.SPISize == y.SPISize && eqBytes(x.SPIs, y.SPIs)
	case *isakmp.VendorID:
		y := b.(*isakmp.VendorID)
		return x == y || x != nil && y != nil && eqBytes(x.Data, y.Data)
	case *isakmp.NATD:
		y := b.(*isakmp.NATD)
		return x == y || x != nil && y != nil && x.Draft == y.Draft && eqBytes(x.Hash, y.Hash)
	case *isakmp.NATOA:
		y := b.(*isakmp.NATOA)
		return x == y || x != nil && y != nil && *x == *y // netip.Addr compares by value
	case *isakmp.Unknown:
		y := b.(*isakmp.Unknown)
		return x == y || x != nil && y != nil && x.PayloadType == y.PayloadType && eqBytes(x.Data, y.Data)
	}
	return reflect.DeepEqual(a, b)
}

func eqSA(a, b *isakmp.SA) bool {
	if a.DOI != b.DOI || a.Situation != b.Situation ||
		(a.Proposals == nil) != (b.Proposals == nil) || len(a.Proposals) != len(b.Proposals) {
		return false
	}
	for i := range a.Proposals {
		p, q := &a.Proposals[i], &b.Proposals[i]
		if p.Number != q.Number || p.Protocol != q.Protocol || !eqBytes(p.SPI, q.SPI) ||
			(p.Transforms == nil) != (q.Transforms == nil) || len(p.Transforms) != len(q.Transforms) {
			return false
		}
		for j := range p.Transforms {
			x, y := &p.Transforms[j], &q.Transforms[j]
			if x.Number != y.Number || x.ID != y.ID ||
				(x.Attributes == nil) != (y.Attributes == nil) || len(x.Attributes) != len(y.Attributes) {
				return false
			}
			for k := range x.Attributes {
				u, v := &x.Attributes[k], &y.Attributes[k]
				if u.Type != v.Type || u.Basic != v.Basic || u.Value != v.Value || !eqBytes(u.Data, v.Data) {
					return false
				}
			}
		}
	}
	return true
}

// maxDiffs bounds what diff reports.
const maxDiffs = 8

// diff explains how a and b differ, one "path: -a +b" line per differing
// leaf (at most maxDiffs), by reflection; only failures call it.
func diff(a, b any) string {
	var d differ
	d.walk("", reflect.ValueOf(a), reflect.ValueOf(b))
	if d.n > maxDiffs {
		fmt.Fprintf(&d.out, "... %d more\n", d.n-maxDiffs)
	}
	return d.out.String()
}

type differ struct {
	out strings.Builder
	n   int
}

var (
	errType  = reflect.TypeFor[error]()
	addrType = reflect.TypeFor[netip.Addr]()
)

func (d *differ) report(path string, x, y reflect.Value) {
	d.n++
	if d.n <= maxDiffs {
		fmt.Fprintf(&d.out, "%s: -%s +%s\n", path, show(x), show(y))
	}
}

func show(v reflect.Value) string {
	switch {
	case !v.IsValid():
		return "<nil>"
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		if v.IsNil() {
			return "nil"
		}
		return fmt.Sprintf("%x", v.Bytes())
	case v.CanInterface():
		return fmt.Sprintf("%+v", v.Interface())
	}
	return v.String()
}

func (d *differ) walk(path string, x, y reflect.Value) {
	switch {
	case !x.IsValid() || !y.IsValid():
		if x.IsValid() != y.IsValid() {
			d.report(path, x, y)
		}
		return
	case x.Type() != y.Type():
		d.report(path, x, y)
		return
	case x.Type() == errType || x.Type() == addrType:
		if x.Interface() != y.Interface() {
			d.report(path, x, y)
		}
		return
	}
	switch x.Kind() {
	case reflect.Pointer, reflect.Interface:
		if x.IsNil() || y.IsNil() {
			if x.IsNil() != y.IsNil() {
				d.report(path, x, y)
			}
			return
		}
		d.walk(path, x.Elem(), y.Elem())
	case reflect.Struct:
		for i := range x.NumField() {
			if f := x.Type().Field(i); f.IsExported() {
				d.walk(path+"."+f.Name, x.Field(i), y.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		if x.Kind() == reflect.Slice && (x.Type().Elem().Kind() == reflect.Uint8 ||
			x.IsNil() != y.IsNil() || x.Len() != y.Len()) {
			if !reflect.DeepEqual(x.Interface(), y.Interface()) {
				d.report(path, x, y)
			}
			return
		}
		for i := range x.Len() {
			d.walk(fmt.Sprintf("%s[%d]", path, i), x.Index(i), y.Index(i))
		}
	default:
		if x.CanInterface() && !reflect.DeepEqual(x.Interface(), y.Interface()) {
			d.report(path, x, y)
		}
	}
}
