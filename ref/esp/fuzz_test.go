package esp

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzOpen feeds arbitrary bytes to Open: it must never panic, must fail
// with a *DropError and no state change, or deliver an IP packet.
func FuzzOpen(f *testing.F) {
	cfgs := []Config{
		testConfig(allTransforms[0], 0x51, true, 11),
		testConfig(allTransforms[6], 0x51, true, 11),
		testConfig(allTransforms[9], 0x51, false, 11),
	}
	for i, c := range cfgs {
		out, _ := pair(f, c)
		for _, v := range []int{4, 6} {
			p, _ := out.Seal(nil, inner(v, 60))
			f.Add(byte(i), p)
		}
	}
	f.Fuzz(func(t *testing.T, which byte, b []byte) {
		_, in := pair(t, cfgs[int(which)%len(cfgs)])
		in.win.top = 1
		before := snap(in)
		got, err := in.Open(nil, b)
		if err != nil {
			if _, ok := ReasonOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			if d := cmp.Diff(before, snap(in)); d != "" && !bytes.Contains([]byte(err.Error()), []byte("dummy")) {
				t.Fatalf("state changed on %v: %s", err, d)
			}
			return
		}
		if _, err := innerNextHeader(got); err != nil {
			t.Fatalf("delivered a non-IP packet: %v", err)
		}
	})
}
