package fuzz

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"

	"github.com/google/go-cmp/cmp"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

// cmpOpts compares parsed structs: addresses by value, errors by identity
// (the sentinels are pointers).
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b error) bool { return a == b }),
}

// same reports whether a and b are equal under cmpOpts. reflect.DeepEqual
// answers the common equal case about ten times faster than cmp, whose
// cost dominated every exec; cmp stays the authority when DeepEqual says
// no (it differs for distinct but identical errors), and explains failures.
func same(a, b any) bool {
	return reflect.DeepEqual(a, b) || cmp.Equal(a, b, cmpOpts)
}

// notifyFor is the notify type each parse error kind maps to, as the
// isakmp API documents it (RFC 2408 §3.14.1 names).
var notifyFor = map[error]isakmp.NotifyType{
	isakmp.ErrTruncated:             isakmp.NotifyPayloadMalformed,
	isakmp.ErrBadLength:             isakmp.NotifyPayloadMalformed,
	isakmp.ErrUnequalPayloadLengths: isakmp.NotifyUnequalPayloadLengths,
	isakmp.ErrTrailingData:          isakmp.NotifyPayloadMalformed,
	isakmp.ErrInvalidPayloadType:    isakmp.NotifyInvalidPayloadType,
	isakmp.ErrInvalidSPI:            isakmp.NotifyInvalidSPI,
	isakmp.ErrInvalidProtocol:       isakmp.NotifyInvalidProtocolID,
	isakmp.ErrReservedNotZero:       isakmp.NotifyPayloadMalformed,
	isakmp.ErrInvalidMajorVersion:   isakmp.NotifyInvalidMajorVersion,
	isakmp.ErrInvalidMinorVersion:   isakmp.NotifyInvalidMinorVersion,
	isakmp.ErrInvalidFlags:          isakmp.NotifyInvalidFlags,
	isakmp.ErrCountMismatch:         isakmp.NotifyBadProposalSyntax,
	isakmp.ErrBadProposalSyntax:     isakmp.NotifyBadProposalSyntax,
	isakmp.ErrUnsupportedDOI:        isakmp.NotifyDOINotSupported,
	isakmp.ErrUnsupportedSituation:  isakmp.NotifySituationNotSupported,
	isakmp.ErrInvalidID:             isakmp.NotifyInvalidIDInformation,
	isakmp.ErrUDPFraming:            isakmp.NotifyPayloadMalformed,
}

// checkError checks that err, returned for an input of n bytes, is an
// *isakmp.Error wrapping a known parse sentinel, with that sentinel's
// notify type and an offset inside the input. It returns the sentinel.
func checkError(t T, what string, err error, n int) error {
	t.Helper()
	var pe *isakmp.Error
	if !errors.As(err, &pe) {
		t.Fatalf("%s: error %T %v is not an *isakmp.Error", what, err, err)
	}
	want, ok := notifyFor[pe.Err]
	if !ok {
		t.Fatalf("%s: %v wraps %v, not a parse error kind", what, err, pe.Err)
	}
	// A Delete's SPI count is no proposal syntax (RFC 2408 §3.15).
	if pe.Err == isakmp.ErrCountMismatch && strings.HasPrefix(pe.Path, isakmp.PayloadD.String()+"[") {
		want = isakmp.NotifyPayloadMalformed
	}
	if !errors.Is(err, pe.Err) {
		t.Fatalf("%s: errors.Is(%v, its own kind) is false", what, err)
	}
	if pe.Notify != want || isakmp.NotifyFor(err) != want || !want.IsError() {
		t.Fatalf("%s: %v maps to notify %v (NotifyFor %v), want %v", what, err, pe.Notify, isakmp.NotifyFor(err), want)
	}
	if pe.Offset < 0 || pe.Offset > n {
		t.Fatalf("%s: %v: offset %d outside the %d-byte input", what, err, pe.Offset, n)
	}
	if pe.Path == "" || !strings.Contains(err.Error(), pe.Err.Error()) {
		t.Fatalf("%s: %q lacks a path or its kind's text", what, err.Error())
	}
	return pe.Err
}

// sameError reports whether two parse errors are the same failure: kind,
// offset, path and notify type.
func sameError(a, b error) bool {
	var x, y *isakmp.Error
	if !errors.As(a, &x) || !errors.As(b, &y) {
		return false
	}
	return *x == *y
}
