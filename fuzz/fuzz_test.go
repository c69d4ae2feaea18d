package fuzz

import (
	"testing"

	"github.com/hitless-ike/hitless/corpus"
)

// FuzzParse checks Parse (strict and lenient parsing, Marshal round trip).
func FuzzParse(f *testing.F) {
	seed(f, corpus.TargetParse)
	f.Fuzz(func(t *testing.T, b []byte) { Parse(t, b) })
}

// FuzzViewVsParse checks ViewVsParse (the View agrees with Parse).
func FuzzViewVsParse(f *testing.F) {
	seed(f, corpus.TargetParse)
	f.Fuzz(func(t *testing.T, b []byte) { ViewVsParse(t, b) })
}

// FuzzAttributes checks Attributes (the TV/TLV attribute walker).
func FuzzAttributes(f *testing.F) {
	seed(f, corpus.TargetAttributes)
	f.Fuzz(func(t *testing.T, b []byte) { Attributes(t, b) })
}

// FuzzClassifyUDP4500 checks ClassifyUDP4500 (RFC 3948 framing).
func FuzzClassifyUDP4500(f *testing.F) {
	seed(f, corpus.TargetUDP4500)
	f.Fuzz(func(t *testing.T, b []byte) { ClassifyUDP4500(t, b) })
}

// FuzzResponderQM1 checks ResponderQM1 (a responder fed authenticated QM1
// payload chains).
func FuzzResponderQM1(f *testing.F) {
	seed(f, corpus.TargetQM1)
	f.Fuzz(func(t *testing.T, b []byte) { ResponderQM1(t, b) })
}

// FuzzInitiatorQM2 checks InitiatorQM2 (an initiator fed authenticated QM2
// payload chains).
func FuzzInitiatorQM2(f *testing.F) {
	seed(f, corpus.TargetQM2)
	f.Fuzz(func(t *testing.T, b []byte) { InitiatorQM2(t, b) })
}

// FuzzDecryptParse checks DecryptParse (decrypt-then-parse of encrypted
// phase-2 bodies).
func FuzzDecryptParse(f *testing.F) {
	seed(f, corpus.TargetEncrypted)
	f.Fuzz(func(t *testing.T, b []byte) { DecryptParse(t, b) })
}
