package mainmode

import "testing"

// BenchmarkMainMode runs one full exchange per iteration, NAT-T with a
// forced NAT, AES-128/SHA1/MODP-2048: two DH key generations and two
// shared secrets (math/big, full-length exponents) dominate.
//
// Run: go test -run '^$' -bench MainMode -benchmem ./ref/mainmode
func BenchmarkMainMode(b *testing.B) {
	benchExchange(b, func(ci, _ *Config) { ci.ForceNATT = true })
}

// BenchmarkMainModeX25519 is the same exchange over Curve25519 (group
// 31), which shows the cost of everything but MODP arithmetic.
func BenchmarkMainModeX25519(b *testing.B) {
	benchExchange(b, func(ci, cr *Config) { ci.Proposal.Group, cr.Proposal.Group = 31, 31 })
}

// benchExchange runs a whole exchange of configs tuned by tune per
// iteration.
func benchExchange(b *testing.B, tune func(ci, cr *Config)) {
	b.ReportAllocs()
	for n := uint64(0); b.Loop(); n++ {
		ci, cr := configs(n, true)
		tune(&ci, &cr)
		i, msg, err := Initiate(ci)
		if err != nil {
			b.Fatal(err)
		}
		r, err := Respond(cr)
		if err != nil {
			b.Fatal(err)
		}
		for k := 0; !i.Done(); k++ {
			x := r
			if k%2 == 1 {
				x = i
			}
			if msg, err = x.Receive(msg); err != nil {
				b.Fatal(err)
			}
		}
		if !r.Done() {
			b.Fatal("responder not done")
		}
	}
}
