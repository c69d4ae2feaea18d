package adapter_test

import (
	"slices"
	"testing"

	"github.com/hitless-ike/hitless/ref/peer/adapter"
)

// TestConformServed: the reference behind Serve passes every check.
func TestConformServed(t *testing.T) {
	t.Setenv("HITLESS_SHIM", "serve")
	for _, f := range adapter.Conform([]string{self(t)}, adapter.Options{}, initConfig(t)) {
		if !f.OK {
			t.Errorf("%s (%s): %s", f.Name, f.Class, f.Detail)
		}
	}
}

// TestConformCatchesASloppyShim: a shim that answers everything with
// success and validates nothing fails exactly the checks of the bad
// requests it should have refused.
func TestConformCatchesASloppyShim(t *testing.T) {
	t.Setenv("HITLESS_SHIM", "yes-man")
	var failed []string
	for _, f := range adapter.Conform([]string{self(t)}, adapter.Options{}, initConfig(t)) {
		if !f.OK {
			failed = append(failed, f.Name)
		}
	}
	want := []string{"no session", "version", "bad JSON", "not an object", "unknown type", "unknown input kind",
		"flow out of range", "time backwards", "over-long line"}
	if !slices.Equal(failed, want) {
		t.Errorf("failed checks %q, want %q", failed, want)
	}
}
