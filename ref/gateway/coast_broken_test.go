//go:build hitlessbroken

package gateway

import (
	"testing"

	"github.com/hitless-ike/hitless/ref/quickmode"
)

// A broken variant changes what Step does with ESP (cleartext, replays,
// keys): while one is on, nothing coasts (input class: every variant, on
// an established pair that coasts with the reference).
func TestCoastRefusesBroken(t *testing.T) {
	defer SetBroken("")
	for _, v := range BrokenVariants() {
		h := newHarness(t, 46, quickmode.Hitless, nil)
		h.establish()
		coasts := func() (out, in bool) {
			spi, _, _, out := h.a.g.CoastOut(0, coastSize)
			if !out {
				spi = h.b.g.db.Active(0).SPI
			}
			_, _, in = h.b.g.CoastIn(spi, coastSize)
			return out, in
		}
		if out, in := coasts(); !out || !in {
			t.Fatalf("%s: reference refuses to coast: out %v in %v", v, out, in)
		}
		if err := SetBroken(v); err != nil {
			t.Fatal(err)
		}
		out, in := coasts()
		if err := SetBroken(""); err != nil {
			t.Fatal(err)
		}
		if out || in {
			t.Errorf("%s on: CoastOut %v, CoastIn %v", v, out, in)
		}
		if out, in := coasts(); !out || !in {
			t.Errorf("%s off again: CoastOut %v, CoastIn %v", v, out, in)
		}
	}
}
