package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/corpus/capture"
)

const libipsec = "../../../corpus/captures/strongswan-5.9.8/libipsec/capture.pcap"

func runCLI(stdin []byte, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(Env{Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"help"},
		{"dump", "-h"}, {"dump", "--help"}, {"help", "dump"},
		{"corpus", "-h"}, {"corpus", "import", "-h"}, {"help", "corpus"},
		{"synth", "-h"},
	} {
		code, out, errs := runCLI(nil, args...)
		if code != ExitOK || !strings.Contains(out, "Usage") || !strings.Contains(out, "Exit status") || errs != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	_, out, _ := runCLI(nil, "-h")
	if strings.Contains(out, "synth") {
		t.Error("hidden command synth listed in usage")
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		class string
		args  []string
	}{
		{"no command", nil},
		{"unknown command", []string{"frobnicate"}},
		{"help for unknown command", []string{"help", "frobnicate"}},
		{"dump without file", []string{"dump"}},
		{"dump with two files", []string{"dump", "a", "b"}},
		{"dump unknown flag", []string{"dump", "--yaml", libipsec}},
		{"corpus without subcommand", []string{"corpus"}},
		{"corpus unknown subcommand", []string{"corpus", "frobnicate"}},
		{"corpus import without file", []string{"corpus", "import"}},
		{"corpus import bad target", []string{"corpus", "import", "--dir", "/nonexistent", "--target", "../x", libipsec}},
		{"synth without output", []string{"synth", libipsec}},
	} {
		if code, _, errs := runCLI(nil, c.args...); code != ExitUsage || errs == "" {
			t.Errorf("%s: exit %d (want %d), stderr %q", c.class, code, ExitUsage, errs)
		}
	}
}

func TestDumpInputs(t *testing.T) {
	file, err := os.ReadFile(libipsec)
	if err != nil {
		t.Fatal(err)
	}
	codeF, outF, _ := runCLI(nil, "dump", "--json", libipsec)
	codeS, outS, _ := runCLI(file, "dump", "--json", "-")
	if codeF != ExitOK || codeS != ExitOK || outF != outS || outF == "" {
		t.Fatalf("file exit %d, stdin exit %d, outputs equal %v", codeF, codeS, outF == outS)
	}
	for _, line := range strings.Split(strings.TrimSpace(outF), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("invalid JSON line %s", line)
		}
	}
	if code, out, _ := runCLI(file, "dump", "-"); code != ExitOK || !strings.HasPrefix(out, "Frame 1: isakmp\n") {
		t.Errorf("text dump from stdin: exit %d, %.40q", code, out)
	}

	for _, c := range []struct {
		class string
		args  []string
		stdin []byte
	}{
		{"missing file", []string{"dump", filepath.Join(t.TempDir(), "none.pcap")}, nil},
		{"garbage on stdin", []string{"dump", "-"}, []byte("not a capture")},
		{"file cut mid-record", []string{"dump", "-"}, file[:len(file)-10]},
	} {
		if code, _, errs := runCLI(c.stdin, c.args...); code != ExitInput || errs == "" {
			t.Errorf("%s: exit %d (want %d), stderr %q", c.class, code, ExitInput, errs)
		}
	}
}

func TestDumpBadPacketExit(t *testing.T) {
	file, err := os.ReadFile(libipsec)
	if err != nil {
		t.Fatal(err)
	}
	// Corrupt the ISAKMP major version of frame 1, found by its cookies
	// (the shipped file is pcapng, so offsets are not fixed).
	ds, err := capture.ReadFile(libipsec)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(file, ds[0].Payload[:28])
	if at < 0 || ds[0].Frame != 1 {
		t.Fatal("frame 1 not found in the file")
	}
	bad := bytes.Clone(file)
	bad[at+17] = 0x20
	code, out, errs := runCLI(bad, "dump", "--json", "-")
	if code != ExitBad || !strings.HasPrefix(errs, "frame 1: isakmp: invalid major version") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if n := strings.Count(out, "\n"); n < 20 {
		t.Errorf("dump stopped after the bad packet: %d lines", n)
	}
}

func TestCorpusImport(t *testing.T) {
	dir := t.TempDir()
	file, _ := os.ReadFile(libipsec)
	code, out, errs := runCLI(file, "corpus", "import", "--dir", dir, "--target", "parse", "--date", "2026-11-27", "-", libipsec)
	if code != ExitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "21 ISAKMP messages, 21 added") || !strings.Contains(lines[1], "0 added, 21 already present") {
		t.Fatalf("output %q", out)
	}
	prov, err := os.ReadFile(filepath.Join(dir, "parse", "PROVENANCE.md"))
	if err != nil || !strings.Contains(string(prov), "`-` sha256:") || !strings.Contains(string(prov), "date:2026-11-27") {
		t.Errorf("provenance %q %v", prov, err)
	}
	if code, _, _ := runCLI([]byte("junk"), "corpus", "import", "--dir", dir, "-"); code != ExitInput {
		t.Errorf("garbage import: exit %d", code)
	}
}

func TestSynth(t *testing.T) {
	out := filepath.Join(t.TempDir(), "big.pcap")
	code, stdout, errs := runCLI(nil, "synth", "-n", "50", "-o", out, libipsec)
	if code != ExitOK || !strings.Contains(stdout, "ISAKMP messages") {
		t.Fatalf("exit %d, %q %q", code, stdout, errs)
	}
	code, dumped, _ := runCLI(nil, "dump", "--json", out)
	if code != ExitOK || strings.Count(dumped, "\n") < 50 {
		t.Errorf("dump of synthetic capture: exit %d, %d lines", code, strings.Count(dumped, "\n"))
	}
}
