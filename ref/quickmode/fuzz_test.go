package quickmode

import (
	"errors"
	"testing"
)

// fuzzState is a responder and an initiator with one open and one
// completed exchange each, and the datagrams seen so far.
func fuzzState(t testing.TB) (*pair, *flow, []byte) {
	p := newPair(t, pairOpts{})
	f := p.run(simpleRequest())
	ev, _, _ := p.i.Initiate(nil, p.now, simpleRequest())
	qm1 := one(t, ev)
	if _, err := p.r.HandleDatagram(nil, p.now, qm1); err != nil {
		t.Fatal(err)
	}
	return p, f, qm1
}

// checkNoChange delivers b to x and fails if an error left state changed
// or came with events.
func checkNoChange(t *testing.T, x *Exchanges, b []byte) {
	before := snapshot(x)
	out, err := x.HandleDatagram(nil, t0, b)
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("untyped error %v", err)
	}
	if len(out) != 0 || snapshot(x) != before {
		t.Fatalf("error %v changed state or produced events", err)
	}
}

// FuzzHandleDatagram feeds arbitrary datagrams to both sides. The fuzzers
// of authenticated QM1 and QM2 bodies, which get past the HASH check, are
// FuzzResponderQM1 and FuzzInitiatorQM2 in ./fuzz, seeded from corpus/qm1
// and corpus/qm2.
func FuzzHandleDatagram(f *testing.F) {
	p, fl, qm1 := fuzzState(f)
	for _, s := range [][]byte{qm1, fl.qm1, fl.qm2, fl.qm3, qm1[:40]} {
		f.Add(s)
	}
	_ = p
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _, _ := fuzzState(t)
		checkNoChange(t, p.r, b)
		checkNoChange(t, p.i, b)
	})
}
