package props_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain makes a plain "go test" run deterministic: rapid draws a random
// seed unless -rapid.seed is given, so a fixed one is set here; pass
// -rapid.seed=N to explore other schedules (a failure still writes a
// testdata/rapid fail file that replays it).
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "rapid.seed" })
	if !given {
		_ = flag.Set("rapid.seed", "1")
	}
	os.Exit(m.Run())
}
