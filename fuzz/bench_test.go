package fuzz

import (
	"testing"

	"github.com/hitless-ike/hitless/corpus"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// loadBench returns the parse corpus, or only the inputs strict Parse
// accepts, and their total size.
func loadBench(b *testing.B, validOnly bool) ([]corpus.Input, int64) {
	all, err := corpus.Load(corpus.TargetParse)
	if err != nil {
		b.Fatal(err)
	}
	var in []corpus.Input
	var n int64
	for _, s := range all {
		if _, err := isakmp.Parse(s.Data); validOnly && err != nil {
			continue
		}
		in = append(in, s)
		n += int64(len(s.Data))
	}
	return in, n
}

// BenchmarkParseCorpus parses the whole parse corpus (valid and malformed)
// once per iteration: the cost of one FuzzParse-style pass.
func BenchmarkParseCorpus(b *testing.B) {
	in, n := loadBench(b, false)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range in {
			_, _ = isakmp.Parse(s.Data)
		}
	}
}

// BenchmarkParseCorpusValid parses the inputs strict Parse accepts.
func BenchmarkParseCorpusValid(b *testing.B) {
	in, n := loadBench(b, true)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range in {
			_, _ = isakmp.Parse(s.Data)
		}
	}
}

// BenchmarkViewCorpusValid walks the same inputs with a View, which is
// meant not to allocate.
func BenchmarkViewCorpusValid(b *testing.B) {
	in, n := loadBench(b, true)
	b.SetBytes(n)
	b.ReportAllocs()
	var v isakmp.View
	for b.Loop() {
		for _, s := range in {
			if _, err := v.Start(s.Data); err != nil {
				continue
			}
			for v.Next() {
			}
		}
	}
}
