package fuzz

import (
	"testing"

	"github.com/hitless-ike/hitless/corpus"
)

// TestClasses runs every fuzz property on each hand-made input, one
// subtest named after the input class (the seeds of the fuzz targets only
// have numbers). Whether each class is accepted or rejected with the
// declared error is checked in package corpus.
func TestClasses(t *testing.T) {
	for _, target := range corpus.Targets() {
		in, err := corpus.Load(target)
		if err != nil {
			t.Fatal(err)
		}
		data := map[string][]byte{}
		for _, s := range in {
			data[s.Name] = s.Data
		}
		cs, err := corpus.Manifest(target)
		if err != nil || len(cs) == 0 {
			t.Fatalf("%s: manifest: %v, %d classes", target, err, len(cs))
		}
		for _, c := range cs {
			t.Run(target+"/"+c.Class, func(t *testing.T) {
				b, ok := data[c.Name]
				if !ok {
					t.Fatalf("input %s missing", c.Name)
				}
				for _, tg := range Targets() {
					if tg.Corpus == target {
						tg.Check(t, b)
					}
				}
			})
		}
	}
}
