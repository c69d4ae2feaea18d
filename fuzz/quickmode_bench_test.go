package fuzz

import (
	"testing"

	"github.com/hitless-ike/hitless/corpus"
)

// benchClass runs check on one hand-made input of target per iteration:
// the cost of one exec of its fuzz target, harness included.
func benchClass(b *testing.B, target, class string, check func(T, []byte)) {
	cs, err := corpus.Manifest(target)
	if err != nil {
		b.Fatal(err)
	}
	in, err := corpus.Load(target)
	if err != nil {
		b.Fatal(err)
	}
	var data []byte
	for _, c := range cs {
		if c.Class == class {
			for _, s := range in {
				if s.Name == c.Name {
					data = s.Data
				}
			}
		}
	}
	if data == nil {
		b.Fatalf("%s: no class %s", target, class)
	}
	b.ReportAllocs()
	for b.Loop() {
		check(b, data)
	}
}

// An accepted QM1 without PFS, with ECP-256 and with strongSwan's
// MODP-2048: the group dominates the cost of an exec.
func BenchmarkResponderQM1NoPFS(b *testing.B) {
	benchClass(b, corpus.TargetQM1, "no-pfs", ResponderQM1)
}

func BenchmarkResponderQM1ECP256(b *testing.B) {
	benchClass(b, corpus.TargetQM1, "ecp256-pfs", ResponderQM1)
}

func BenchmarkResponderQM1MODP2048(b *testing.B) {
	benchClass(b, corpus.TargetQM1, "strongswan-unchanged", ResponderQM1)
}

// A refused QM1 (nonce of 7 bytes): two HASH computations, no DH.
func BenchmarkResponderQM1Refused(b *testing.B) {
	benchClass(b, corpus.TargetQM1, "nonce-7-bytes", ResponderQM1)
}

func BenchmarkInitiatorQM2ECP256(b *testing.B) {
	benchClass(b, corpus.TargetQM2, "ecp256-pfs", InitiatorQM2)
}

func BenchmarkInitiatorQM2MODP2048(b *testing.B) {
	benchClass(b, corpus.TargetQM2, "strongswan-unchanged", InitiatorQM2)
}

func BenchmarkDecryptParse(b *testing.B) {
	benchClass(b, corpus.TargetEncrypted, "3des-strongswan-qm1", DecryptParse)
}
