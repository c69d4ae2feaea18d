// Package stateful holds the stateful fuzz targets: rapid state machines
// over two peers run by `go test -fuzz` through rapid.MakeFuzz, so that the
// coverage of the reference gateway steers the schedules.
// FuzzReferenceProperties runs the reference pair; FuzzPeerProperties puts
// a shim of the out-of-process adapter (HITLESS_FUZZ_PEER, default the
// reference served by the test binary) at one end.
//
// They live apart from package fuzz because their input is rapid's choice
// encoding, not a raw datagram: they have no libFuzzer entry and no
// shareable corpus folder (package fuzz's drift test requires both of every
// target it holds). Their seeds are the committed rapid fail files of the
// lossy profiles under props/testdata/rapid/ref.
package stateful
