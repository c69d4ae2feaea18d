package dh

import "testing"

// Run: go test -run '^$' -bench . -benchmem ./ref/dh
func BenchmarkGroups(b *testing.B) {
	for _, id := range allIDs {
		g, _ := Lookup(id)
		peer, _ := g.GenerateKey(detRand(9))
		pub := peer.Public()
		b.Run(g.String()+"/GenerateKey", func(b *testing.B) {
			r := detRand(7)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.GenerateKey(r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(g.String()+"/SharedSecret", func(b *testing.B) {
			k, _ := g.GenerateKey(detRand(8))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.SharedSecret(pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
