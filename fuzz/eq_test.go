package fuzz

import (
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/corpus"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// mutateLeaves changes each leaf of v in turn — every number, flag,
// string, byte slice (a byte, its length, nil against empty), slice
// length, address, error and payload type reachable from it — calls
// check after each change and restores the leaf. v must be settable.
func mutateLeaves(v reflect.Value, path string, check func(path string)) {
	set := func(nv reflect.Value, what string) {
		old := reflect.New(v.Type()).Elem()
		old.Set(v)
		v.Set(nv)
		check(path + " " + what)
		v.Set(old)
	}
	switch {
	case v.Type() == addrType:
		a := v.Interface().(netip.Addr)
		if a.IsValid() {
			set(reflect.ValueOf(a.Next()), "next address")
		}
		set(reflect.ValueOf(netip.MustParseAddr("192.0.2.1")), "other address")
		return
	case v.Type() == errType:
		other := isakmp.ErrTruncated
		if v.Interface() == other {
			other = isakmp.ErrBadLength
		}
		set(reflect.ValueOf(&other).Elem(), "other sentinel")
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		set(reflect.ValueOf(!v.Bool()).Convert(v.Type()), "flipped")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		nv := reflect.New(v.Type()).Elem()
		nv.SetInt(v.Int() + 1)
		set(nv, "+1")
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		nv := reflect.New(v.Type()).Elem()
		nv.SetUint(v.Uint() + 1)
		if nv.Uint() == v.Uint() {
			nv.SetUint(0)
		}
		set(nv, "+1")
	case reflect.String:
		set(reflect.ValueOf(v.String()+"x").Convert(v.Type()), "longer")
	case reflect.Array:
		for i := range v.Len() {
			mutateLeaves(v.Index(i), path+"["+strconv.Itoa(i)+"]", check)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				mutateLeaves(v.Field(i), path+"."+v.Type().Field(i).Name, check)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			mutateLeaves(v.Elem(), path, check)
		}
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		if p, ok := v.Interface().(isakmp.Payload); ok {
			if _, unknown := p.(*isakmp.Unknown); !unknown {
				set(reflect.ValueOf(&isakmp.Unknown{PayloadType: p.Type()}), "as Unknown")
			}
		}
		mutateLeaves(v.Elem(), path, check) // a pointer: its target is settable
	case reflect.Slice:
		if v.IsNil() {
			set(reflect.MakeSlice(v.Type(), 0, 0), "empty, not nil")
			return
		}
		if v.Len() == 0 {
			set(reflect.Zero(v.Type()), "nil, not empty")
			return
		}
		set(v.Slice(0, v.Len()-1), "shorter")
		for i := range v.Len() {
			mutateLeaves(v.Index(i), path+"["+strconv.Itoa(i)+"]", check)
		}
	default:
		panic("mutateLeaves: no mutation for " + v.Type().String() + " at " + path)
	}
}

// TestEqualMatchesDeepEqual keeps the hand-written comparisons in step
// with reflect.DeepEqual: on two parses of every corpus input, strict and
// lenient, both say equal and diff says nothing; after any one leaf of one
// side changes (see mutateLeaves; that covers fields added to isakmp's
// structs later) both say different, and diff (sampled: it is slow)
// names a difference.
func TestEqualMatchesDeepEqual(t *testing.T) {
	in, err := corpus.Load(corpus.TargetParse)
	if err != nil {
		t.Fatal(err)
	}
	mutations := 0
	for _, s := range in {
		for _, o := range []isakmp.ParseOptions{{}, lenient} {
			a, err := isakmp.ParseWith(s.Data, o)
			if err != nil {
				continue
			}
			b, _ := isakmp.ParseWith(s.Data, o)
			ab := &isakmp.Body{Payloads: a.Payloads, Padding: a.Padding, Notes: a.Notes}
			bb := &isakmp.Body{Payloads: b.Payloads, Padding: b.Padding, Notes: b.Notes}
			if !same(a, b) || !reflect.DeepEqual(a, b) || !same(ab, bb) || !same(a.Notes, b.Notes) || diff(a, b) != "" {
				t.Fatalf("input %s lenient=%v: two parses differ", s.Name, o.Lenient)
			}
			for i := range a.Payloads {
				if !same(a.Payloads[i], b.Payloads[i]) {
					t.Fatalf("input %s: payload %d differs from itself", s.Name, i)
				}
			}
			mutateLeaves(reflect.ValueOf(b).Elem(), "Message", func(path string) {
				mutations++
				if eqMessage(a, b) || same(a, b) {
					t.Errorf("input %s lenient=%v: %s: eqMessage still equal", s.Name, o.Lenient, path)
				}
				if reflect.DeepEqual(a, b) {
					t.Errorf("input %s lenient=%v: %s: DeepEqual still equal (a no-op mutation)", s.Name, o.Lenient, path)
				}
				if mutations%16 == 0 && !strings.Contains(diff(a, b), ":") {
					t.Errorf("input %s lenient=%v: %s: diff explains nothing", s.Name, o.Lenient, path)
				}
			})
			mutateLeaves(reflect.ValueOf(bb).Elem(), "Body", func(path string) {
				mutations++
				if eqBody(ab, bb) || same(ab, bb) {
					t.Errorf("input %s lenient=%v: %s: eqBody still equal", s.Name, o.Lenient, path)
				}
			})
		}
	}
	t.Logf("%d mutations", mutations)
	if mutations < 1000 {
		t.Fatalf("only %d mutations: the corpus no longer exercises the comparisons", mutations)
	}
}

// TestEqPayloadKinds covers the payload comparisons the corpus may not:
// nil payloads, typed nil pointers and a type outside the switch.
func TestEqPayloadKinds(t *testing.T) {
	var nilSA *isakmp.SA
	for _, c := range []struct {
		class string
		a, b  isakmp.Payload
		want  bool
	}{
		{"both nil", nil, nil, true},
		{"nil against a payload", nil, &isakmp.Nonce{}, false},
		{"typed nil pointers", nilSA, nilSA, true},
		{"typed nil against a value", nilSA, &isakmp.SA{}, false},
		{"different types, same bytes", &isakmp.Hash{Data: []byte{1}}, &isakmp.Nonce{Data: []byte{1}}, false},
		{"nil against empty data", &isakmp.Nonce{}, &isakmp.Nonce{Data: []byte{}}, false},
		{"type outside the switch, equal", otherPayload{N: 1}, otherPayload{N: 1}, true},
		{"type outside the switch, different", otherPayload{N: 1}, otherPayload{N: 2}, false},
	} {
		if got := eqPayload(c.a, c.b); got != c.want || got != reflect.DeepEqual(c.a, c.b) || got != (diff(c.a, c.b) == "") {
			t.Errorf("%s: eqPayload %v, DeepEqual %v, diff %q, want %v", c.class, got, reflect.DeepEqual(c.a, c.b), diff(c.a, c.b), c.want)
		}
	}
}

// otherPayload stands for a payload type added to isakmp after eqPayload
// was written: it embeds the interface to satisfy its unexported methods.
type otherPayload struct {
	isakmp.Payload
	N int
}

func (otherPayload) Type() isakmp.PayloadType { return 250 }
