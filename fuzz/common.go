package fuzz

import (
	"errors"
	"reflect"
	"strings"
	"sync"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

// same reports whether a and b are equal. The parse results go to the
// field-by-field eq functions (eq.go), which allocate nothing; anything
// else to reflect.DeepEqual. diff explains a failure once found.
func same(a, b any) bool {
	switch x := a.(type) {
	case *isakmp.Message:
		if y, ok := b.(*isakmp.Message); ok {
			return eqMessage(x, y)
		}
	case *isakmp.Body:
		if y, ok := b.(*isakmp.Body); ok {
			return eqBody(x, y)
		}
	case []isakmp.Note:
		if y, ok := b.([]isakmp.Note); ok {
			return eqNotes(x, y)
		}
	case isakmp.Payload:
		if y, ok := b.(isakmp.Payload); ok {
			return eqPayload(x, y)
		}
	}
	return reflect.DeepEqual(a, b)
}

// scratch holds the buffers one property call reuses; scratchPool keeps
// them goroutine-safe for parallel tests while libFuzzer's single thread
// and each `go test -fuzz` worker process get the same few back.
type scratch struct {
	in, out []byte
	w       walk
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maxScratch bounds what the pool keeps: one huge input must not pin its
// buffers for the rest of the run.
const maxScratch = 64 << 10

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// put returns s to the pool unless it grew past maxScratch. The walk is
// reset when next used, not here: it pins at most one message meanwhile.
func (s *scratch) put() {
	if cap(s.in) > maxScratch || cap(s.out) > maxScratch || cap(s.w.bodies) > maxScratch/8 {
		return
	}
	scratchPool.Put(s)
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

// kinds is notifyFor with each sentinel's Error text, which is constant:
// building it again for every rejected input cost an allocation, and one
// map lookup serves both.
var kinds = func() map[error]kindInfo {
	m := make(map[error]kindInfo, len(notifyFor))
	for k, n := range notifyFor {
		m[k] = kindInfo{n, k.Error()}
	}
	return m
}()

type kindInfo struct {
	notify isakmp.NotifyType
	text   string
}

// checkError checks that err, returned for an input of n bytes, is an
// *isakmp.Error wrapping a known parse sentinel, with that sentinel's
// notify type and an offset inside the input. It returns the sentinel.
func checkError(t T, what string, err error, n int) error {
	t.Helper()
	pe, ok := err.(*isakmp.Error) // what the parsers return; errors.As allocates
	if (!ok && !errors.As(err, &pe)) || pe == nil {
		t.Fatalf("%s: error %T %v is not an *isakmp.Error", what, err, err)
	}
	if pe.Offset < 0 || pe.Offset > n {
		t.Fatalf("%s: %v: offset %d outside the %d-byte input", what, err, pe.Offset, n)
	}
	kind, ok := kinds[pe.Err]
	if !ok {
		t.Fatalf("%s: %v wraps %v, not a parse error kind", what, err, pe.Err)
	}
	want := kind.notify
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
	// len, not == "": libFuzzer builds hook string comparisons, copying
	// both sides to C strings when they differ, on every rejected input.
	if len(pe.Path) == 0 || !strings.Contains(err.Error(), kind.text) {
		t.Fatalf("%s: %q lacks a path or its kind's text", what, err.Error())
	}
	return pe.Err
}

// sameError reports whether two parse errors are the same failure: kind,
// offset, path and notify type.
func sameError(a, b error) bool {
	if x, ok := a.(*isakmp.Error); ok && x != nil {
		if y, ok := b.(*isakmp.Error); ok && y != nil {
			return *x == *y
		}
	}
	var x, y *isakmp.Error
	if !errors.As(a, &x) || !errors.As(b, &y) || x == nil || y == nil {
		return false
	}
	return *x == *y
}
