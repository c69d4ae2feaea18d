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
