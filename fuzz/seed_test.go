package fuzz

import (
	"testing"

	"github.com/hitless-ike/hitless/corpus"
)

// seed adds every input of a corpus target to f.
func seed(f *testing.F, target string) {
	in, err := corpus.Load(target)
	if err != nil {
		f.Fatal(err)
	}
	if len(in) == 0 {
		f.Fatalf("corpus/%s is empty", target)
	}
	for _, s := range in {
		f.Add(s.Data)
	}
}
