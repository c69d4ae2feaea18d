//go:build hitlessbroken

package refpair_test

import (
	"testing"
	"time"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/ladder"
	"github.com/hitless-ike/hitless/props/refpair"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// brokenCases are the deliberately broken variants of the reference
// (ref/gateway/broken_on.go), each with the property that must catch it in
// the hitless profile, and how.
var brokenCases = []struct {
	variant string
	prop    props.PropertyID
	how     string
}{
	{"delete-old-inbound", props.NoDrop, "the responder's ESP on the old pair, sent before QM3 reaches it, arrives for an SPI the initiator already deleted"},
	{"replay-accepted", props.Protected, "a replayed ESP packet is delivered a second time"},
	{"activate-before-hash", props.ForgeryInert, "a forged copy of QM1, arriving while the responder waits for QM3, activates its new outbound SA: the State changes"},
	{"wrong-keys", props.Agreement, "the initiator's outbound SA and the responder's inbound SA of one SPI hold different keys"},
	{"cleartext", props.Protected, "the application packet leaves in clear"},
	{"bad-icv", props.Agreement, "the responder's integrity check fails on genuine ESP: the ends' reported keys agree, the wire does not"},
	{"never-delete-old", props.Convergence, "superseded pairs pile up: after the settle phase a flow holds more than one pair"},
}

// Each broken variant is caught by its property within rapid's default
// budget (100 schedules, fixed seed), and only that property's search is
// run, so the test also shows which property has the teeth.
func TestBrokenVariantsCaught(t *testing.T) {
	if len(brokenCases) != len(gateway.BrokenVariants()) {
		t.Errorf("%d cases for variants %v", len(brokenCases), gateway.BrokenVariants())
	}
	for _, c := range brokenCases {
		t.Run(c.variant, func(t *testing.T) {
			if err := gateway.SetBroken(c.variant); err != nil {
				t.Fatal(err)
			}
			defer gateway.SetBroken("")
			o := props.CheckOptions{Seed: 1, ShrinkTime: 2 * time.Second}
			o.Properties = []props.PropertyID{c.prop}
			r := props.Check(refpair.Pair(quickmode.Hitless, refpair.Options{}), o)
			if !r.Violated(c.prop) {
				t.Fatalf("%v did not catch %s (%s) in %d schedules", c.prop, c.variant, c.how, r.Checks)
			}
			t.Logf("%v caught %s after %d schedules, %d actions: %v", c.prop, c.variant, r.Checks, r.Actions, r.Violations[0].Detail)
			if testing.Verbose() {
				t.Logf("\n%s", ladder.Ladder(r.Counterexample))
			}
		})
	}
}

// SetBroken refuses unknown names (input class: unknown variant), and ""
// restores the reference.
func TestSetBroken(t *testing.T) {
	if err := gateway.SetBroken("no-such-variant"); err == nil {
		t.Error("unknown variant accepted")
	}
	if err := gateway.SetBroken(""); err != nil {
		t.Error(err)
	}
}
