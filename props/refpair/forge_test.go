package refpair_test

import (
	"testing"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/ladder"
	"github.com/hitless-ike/hitless/ref/gateway"
)

// Every single-bit forgery of every IKE message of a rekey (QM1, QM2,
// QM3, the Deletes; input class: one flipped bit anywhere after the
// non-ESP marker) changes nothing on the reference gateway: it is
// rejected, or, where the flipped bit is one no HASH covers and no check
// needs (the header's Commit flag on a QM3 of a finished exchange, CBC
// padding), it is the genuine message again and is answered as a
// duplicate. The test counts both outcomes so that a reader sees the
// second one is real, not hypothetical.
func TestForgeEveryBit(t *testing.T) {
	for _, natt := range []bool{false, true} {
		m := established(t, 3, func(a, _ *gateway.Config) { a.Phase1.NATT = natt })
		m.Rekey(0, props.SideA)
		m.Settle() // the rekey, its Deletes and their answers
		if len(m.Violations()) != 0 {
			t.Fatalf("setup: %v\n%s", m.Violations(), ladder.Ladder(m.Trace()))
		}
		from := m.Trace().Len()
		rejected, duplicate := 0, 0
		bits := 8 * 128 // header and the first payloads: Forge takes bit mod the length
		if natt {
			bits = 8 * 40 // the marker and the header
		}
		for k := range 8 {
			for bit := range bits {
				m.Forge(k, bit)
				if len(m.Violations()) != 0 {
					t.Fatalf("NAT-T %v: %v\n%s", natt, m.Violations()[0], ladder.Ladder(m.Trace()))
				}
			}
		}
		for _, s := range m.Trace().Steps[from:] {
			r := false
			for _, e := range s.Events {
				r = r || e.Label == "reject"
			}
			if r {
				rejected++
			} else {
				duplicate++
			}
		}
		t.Logf("NAT-T %v: %d forgeries rejected, %d answered as duplicates", natt, rejected, duplicate)
		if rejected == 0 {
			t.Errorf("NAT-T %v: no forgery rejected", natt)
		}
	}
}
