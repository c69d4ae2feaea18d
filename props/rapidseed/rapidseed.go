// Package rapidseed makes rapid property tests deterministic by default.
//
// rapid draws a random seed for every run unless -rapid.seed is given. A
// package whose tests use rapid calls Main from its TestMain, so a plain
// "go test" (and CI) always explores the same schedules, while
// -rapid.seed=N still explores others and a failure still writes a
// testdata/rapid fail file that replays it.
package rapidseed

import (
	"flag"
	"os"
	"testing"
)

// Seed is the seed used when -rapid.seed is not given.
const Seed = "1"

// Main parses the flags, sets -rapid.seed to Seed unless it was given,
// and runs the tests.
func Main(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "rapid.seed" })
	if !given {
		// The flag is registered by rapid's init; Set fails only if a
		// package calls Main without importing rapid, which is harmless.
		_ = flag.Set("rapid.seed", Seed)
	}
	os.Exit(m.Run())
}
