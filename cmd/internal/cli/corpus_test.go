package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/corpus"
	"github.com/hitless-ike/hitless/fuzz"
)

const corpusDir = "../../../corpus"

// inputFiles returns the inputs of a corpus folder, name to content.
func inputFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	in, err := corpus.LoadFS(os.DirFS(filepath.Dir(dir)), filepath.Base(dir))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, s := range in {
		m[s.Name] = string(s.Data)
	}
	return m
}

// TestCorpusExportImport: export then import gives the same corpus, byte
// for byte, for every format and every target.
func TestCorpusExportImport(t *testing.T) {
	for _, target := range []string{"FuzzParse", "attributes", "udp4500"} {
		for _, format := range []string{"go", "raw", "libfuzzer", "oss-fuzz-zip"} {
			tmp := t.TempDir()
			out := filepath.Join(tmp, "out")
			if format == "oss-fuzz-zip" {
				out = filepath.Join(tmp, target+"_seed_corpus.zip")
			}
			code, stdout, errs := runCLI(nil, "corpus", "export", "--dir", corpusDir, "--target", target, "--format", format, "--out", out)
			if code != ExitOK || errs != "" || !strings.Contains(stdout, " inputs of ") {
				t.Fatalf("%s %s: export exit %d, %q %q", target, format, code, stdout, errs)
			}
			back := filepath.Join(tmp, "corpus")
			code, stdout, errs = runCLI(nil, "corpus", "import", "--dir", back, "--target", target, "--format", format, out)
			if code != ExitOK || errs != "" || !strings.Contains(stdout, "already present") {
				t.Fatalf("%s %s: import exit %d, %q %q", target, format, code, stdout, errs)
			}
			folder, _ := resolveTarget(target)
			want, got := inputFiles(t, filepath.Join(corpusDir, folder)), inputFiles(t, filepath.Join(back, folder))
			if len(got) != len(want) {
				t.Fatalf("%s %s: %d inputs back, want %d", target, format, len(got), len(want))
			}
			for n, c := range want {
				if got[n] != c {
					t.Errorf("%s %s: input %s lost or changed", target, format, n)
				}
			}
			prov, _ := os.ReadFile(filepath.Join(back, folder, "PROVENANCE.md"))
			if !strings.Contains(string(prov), "format:"+format) {
				t.Errorf("%s %s: provenance %q", target, format, prov)
			}
		}
	}
}

func TestCorpusStats(t *testing.T) {
	code, out, errs := runCLI(nil, "corpus", "stats", "--dir", corpusDir)
	if code != ExitOK || errs != "" {
		t.Fatalf("exit %d, %q", code, errs)
	}
	for _, target := range corpus.Targets() {
		n := len(inputFiles(t, filepath.Join(corpusDir, target)))
		if !strings.Contains(out, target+" (") || !strings.Contains(out, "): "+strconv.Itoa(n)+" inputs") {
			t.Errorf("stats lack %s with %d inputs:\n%s", target, n, out)
		}
	}
	if !strings.Contains(out, "parse (FuzzParse, FuzzViewVsParse)") || !strings.Contains(out, "source `corpus/captures/") {
		t.Errorf("stats lack readers or sources:\n%s", out)
	}
}

func TestCorpusCrashers(t *testing.T) {
	tmp := t.TempDir()
	// A libFuzzer-style raw crasher and a Go-format one; both inputs pass
	// the property (no known crasher exists), so the tool says so.
	raw := filepath.Join(tmp, "crash-0a")
	os.WriteFile(raw, []byte{0xff}, 0o644)
	goFile := filepath.Join(tmp, "goinput")
	os.WriteFile(goFile, []byte("go test fuzz v1\n[]byte(\"\\x00\\x00\")\n"), 0o644)
	out := filepath.Join(tmp, "testdata", "fuzz")
	code, stdout, errs := runCLI(nil, "corpus", "crashers", "--target", "FuzzClassifyUDP4500", "--out", out, raw, goFile)
	if code != ExitOK || errs != "" || strings.Count(stdout, "passes now") != 2 {
		t.Fatalf("exit %d, %q %q", code, stdout, errs)
	}
	for _, in := range [][]byte{{0xff}, {0, 0}} {
		b, err := os.ReadFile(filepath.Join(out, "FuzzClassifyUDP4500", corpus.Name(in)))
		if err != nil || !bytes.HasPrefix(b, []byte("go test fuzz v1\n[]byte(")) {
			t.Errorf("input %x: %q, %v", in, b, err)
		}
	}
	code, _, errs = runCLI(nil, "corpus", "crashers", "--target", "FuzzParse", "--out", out, filepath.Join(tmp, "missing"))
	if code != ExitInput || errs == "" {
		t.Errorf("missing crasher: exit %d, %q", code, errs)
	}
}

func TestCorpusUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		class string
		args  []string
	}{
		{"export without format", []string{"corpus", "export", "--target", "parse", "--out", dir}},
		{"export as pcap", []string{"corpus", "export", "--format", "pcap", "--target", "parse", "--out", dir}},
		{"export unknown format", []string{"corpus", "export", "--format", "afl", "--target", "parse", "--out", dir}},
		{"export without out", []string{"corpus", "export", "--format", "raw", "--target", "parse"}},
		{"export unknown target", []string{"corpus", "export", "--dir", corpusDir, "--format", "raw", "--target", "nope", "--out", dir}},
		{"import unknown format", []string{"corpus", "import", "--format", "afl", dir}},
		{"minimize without target", []string{"corpus", "minimize", "--out", dir}},
		{"minimize corpus folder only", []string{"corpus", "minimize", "--target", "nope", "--out", dir}},
		{"stats unknown target", []string{"corpus", "stats", "--dir", corpusDir, "nope"}},
		{"crashers without files", []string{"corpus", "crashers", "--target", "FuzzParse"}},
		{"crashers unknown target", []string{"corpus", "crashers", "--target", "nope", "x"}},
	} {
		if code, _, errs := runCLI(nil, c.args...); code != ExitUsage || errs == "" {
			t.Errorf("%s: exit %d (want %d), stderr %q", c.class, code, ExitUsage, errs)
		}
	}
	// A source in the wrong format is an input error and adds nothing.
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "x"), []byte("not go"), 0o644)
	if code, _, errs := runCLI(nil, "corpus", "import", "--dir", filepath.Join(dir, "c"), "--format", "go", bad); code != ExitInput || errs == "" {
		t.Errorf("malformed Go folder: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "c")); err == nil {
		t.Error("a failed import created the corpus folder")
	}
}

// TestCorpusHelpNamesEveryTarget keeps the help text in step with the fuzz
// targets and corpus folders that exist.
func TestCorpusHelpNamesEveryTarget(t *testing.T) {
	for _, tg := range fuzz.Targets() {
		if !strings.Contains(corpusLong, tg.Name) {
			t.Errorf("corpus help does not name fuzz target %s", tg.Name)
		}
	}
	for _, name := range corpus.Targets() {
		if !strings.Contains(corpusLong, name) {
			t.Errorf("corpus help does not name corpus folder %s", name)
		}
	}
}
