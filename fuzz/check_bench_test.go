package fuzz

import (
	"testing"

	"github.com/hitless-ike/hitless/corpus"
)

// BenchmarkCheck runs each target's property once per corpus input per
// iteration, outside package testing (as libFuzzer and the tool do); the
// ns/op divided by the input count bounds a fuzzer's execs/s.
func BenchmarkCheck(b *testing.B) {
	for _, tg := range Targets() {
		b.Run(tg.Name, func(b *testing.B) {
			in, err := corpus.Load(tg.Corpus)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range in {
					if err := Check(tg.Check, s.Data); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(in)), "ns/input")
		})
	}
}
