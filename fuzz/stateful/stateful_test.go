package stateful_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/extpair"
	"github.com/hitless-ike/hitless/props/refpair"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/peer/adapter"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// FuzzReferenceProperties is the rapid state machine over the reference
// gateway pair (hitless profile, all properties) as a native fuzz target:
// the fuzzer's bytes are rapid's choices (gateway seed, lifetimes, which
// action, which datagram, how long to wait), so coverage of the gateway
// steers the schedules.
//
//	go test ./fuzz/stateful -run '^$' -fuzz FuzzReferenceProperties -fuzztime 60s
func FuzzReferenceProperties(f *testing.F) {
	addSeeds(f)
	f.Fuzz(rapid.MakeFuzz(props.Property(refpair.Pair(quickmode.Hitless, refpair.Options{}), props.Options{})))
}

// FuzzPeerProperties is the same state machine with another
// implementation at one end, through the out-of-process adapter, and the
// hitless reference at the other: the fuzzer's bytes draw the same
// schedules refpair would, so a failing input replays with the shim in
// any end. HITLESS_FUZZ_PEER is the shim's command line (default: this
// test binary serving the hitless reference, as `hitless peer serve`
// does) and HITLESS_FUZZ_SIDE its end: responder (B, the default),
// initiator (A) or self (both). A shim that breaks the protocol fails the
// input it broke on and every later one.
//
//	HITLESS_FUZZ_PEER='/usr/bin/python3 ref/peer/adapter/pyshim/shim.py' \
//	  go test ./fuzz/stateful -run '^$' -fuzz FuzzPeerProperties -fuzztime 60s
//
// HITLESS_FUZZ_SERVE names the profile the default shim serves (hitless).
//
// (the path is relative to this package's directory, where go test runs
// it: ../../ref/peer/adapter/pyshim/shim.py.)
func FuzzPeerProperties(f *testing.F) {
	spec, err := fuzzPeer()
	if err != nil {
		f.Fatal(err)
	}
	x := extpair.New(spec)
	f.Cleanup(x.Close)
	addSeeds(f)
	f.Fuzz(rapid.MakeFuzz(props.Property(x.Props(), props.Options{})))
}

// fuzzPeer is the pair FuzzPeerProperties runs, from the environment.
func fuzzPeer() (extpair.Spec, error) {
	spec := extpair.Spec{Against: quickmode.Hitless, Ends: extpair.EndB}
	switch side := os.Getenv("HITLESS_FUZZ_SIDE"); side {
	case "", "responder":
	case "initiator":
		spec.Ends = extpair.EndA
	case "self":
		spec.Ends = extpair.EndBoth
	default:
		return spec, fmt.Errorf("HITLESS_FUZZ_SIDE=%q: want responder, initiator or self", side)
	}
	if cmd := os.Getenv("HITLESS_FUZZ_PEER"); cmd != "" {
		argv, err := adapter.Split(cmd)
		if err != nil {
			return spec, fmt.Errorf("HITLESS_FUZZ_PEER: %w", err)
		}
		spec.Command = argv
		return spec, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return spec, err
	}
	served := quickmode.Hitless.Name
	if v := os.Getenv("HITLESS_FUZZ_SERVE"); v != "" {
		served = v // for the test of the target's teeth
	}
	spec.Command = []string{exe}
	spec.Process.Env = []string{gateway.ServeEnv + "=" + served}
	return spec, nil
}

// TestMain lets the test binary be FuzzPeerProperties's default shim.
func TestMain(m *testing.M) {
	gateway.ServeFromEnv()
	os.Exit(m.Run())
}

// addSeeds adds the committed rapid fail files as seeds. They hold the
// same choices rapid.MakeFuzz reads: the counterexamples of the lossy
// profiles are schedules that reach deep into a rekey, a good start for
// the hitless one.
func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "props", "testdata", "rapid", "ref", "*.fail"))
	if len(files) == 0 {
		f.Fatal("no rapid fail files under props/testdata/rapid/ref")
	}
	for _, name := range files {
		b, err := failFileInput(name)
		if err != nil {
			f.Fatal(err)
		}
		// Zero choices after a schedule that failed early end it cleanly
		// where the hitless profile goes on drawing.
		f.Add(append(b, make([]byte, 8*64)...))
	}
}

// failFileInput turns a rapid fail file (comment lines, "version#seed",
// then one hexadecimal choice per line) into rapid.MakeFuzz's input: each
// choice as 8 little-endian bytes.
func failFileInput(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []byte
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if header {
			header = false // version#seed
			continue
		}
		u, err := strconv.ParseUint(strings.TrimPrefix(line, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = binary.LittleEndian.AppendUint64(out, u)
	}
	return out, sc.Err()
}

// TestPeerTargetHasTeeth runs FuzzPeerProperties's seeds in a child test
// binary: they pass with the hitless reference served as the responder
// and fail, with a counterexample, with install-at-qm3 served —
// so the target sees the shim, not only the reference end.
func TestPeerTargetHasTeeth(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child test binaries")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		served string
		fails  bool
	}{{"hitless", false}, {"install-at-qm3", true}} {
		cmd := exec.Command(exe, "-test.run=^FuzzPeerProperties$", "-test.v")
		cmd.Env = append(os.Environ(), "HITLESS_FUZZ_SERVE="+c.served, "HITLESS_FUZZ_PEER=", "HITLESS_FUZZ_SIDE=")
		out, err := cmd.CombinedOutput()
		failed := err != nil
		if failed != c.fails || (c.fails && !strings.Contains(string(out), "counterexample")) ||
			!strings.Contains(string(out), "FuzzPeerProperties/seed#0") {
			t.Errorf("served %s: failed %v, want %v:\n%s", c.served, failed, c.fails, out)
		}
	}
}
