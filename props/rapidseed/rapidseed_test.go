package rapidseed_test

import (
	"flag"
	"testing"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props/rapidseed"
)

func TestMain(m *testing.M) { rapidseed.Main(m) }

// TestSeedFixed fails if a plain run leaves rapid's seed random.
func TestSeedFixed(t *testing.T) {
	f := flag.Lookup("rapid.seed")
	if f == nil {
		t.Fatal("rapid.seed is not registered")
	}
	explicit := false
	flag.Visit(func(g *flag.Flag) {
		explicit = explicit || g.Name == "rapid.seed" && g.Value.String() != rapidseed.Seed
	})
	if !explicit && f.Value.String() != rapidseed.Seed {
		t.Fatalf("rapid.seed = %s, want %s", f.Value, rapidseed.Seed)
	}
	rapid.Check(t, func(*rapid.T) {}) // rapid is linked, as in a real caller
}
