// Package fuzz holds the fuzz properties of hitless and their native Go
// fuzz targets. Every property is a func(T, []byte) in ordinary code, so
// that the same body runs under `go test -fuzz` (the FuzzX wrappers in the
// _test.go files), as a libFuzzer target (./libfuzzer) and in the
// command-line tool (Check); any raw input of the shareable corpus (see
// package corpus) fits it, and each Go target seeds itself from its
// corpus folder:
//
//	FuzzParse            corpus/parse       strict and lenient Parse, Marshal round trip
//	FuzzViewVsParse      corpus/parse       the zero-allocation View agrees with Parse
//	FuzzAttributes       corpus/attributes  the TV/TLV attribute walker, typed and View
//	FuzzClassifyUDP4500  corpus/udp4500     RFC 3948 framing on port 4500
//	FuzzResponderQM1     corpus/qm1         a responder fed authenticated QM1 bodies
//	FuzzInitiatorQM2     corpus/qm2         an initiator fed authenticated QM2 bodies
//	FuzzDecryptParse     corpus/encrypted   decrypt-then-parse of phase-2 bodies
//
// The Quick Mode targets take payload chains, not datagrams: the harness
// computes the HASH over the fuzzed payloads and encrypts them under a
// fixed phase-1 SA, so that the fuzzer gets past authentication, and
// checks that the same chain with a corrupted HASH changes nothing.
//
// Run one target at a time:
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 60s ./fuzz/
//
// Crashers found by the fuzzer are kept in testdata/fuzz/<Target>/ so that
// `go test ./fuzz/` replays them as regression inputs; `hitless corpus
// crashers` puts libFuzzer's crashers there too.
package fuzz
