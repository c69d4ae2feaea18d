package simcmd

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hitless-ike/hitless/props/effect"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// quick are flags for a run of a fraction of a second.
var quick = []string{"--tunnels", "3", "--duration", "12s", "--soft", "4s", "--hard", "10s", "--rate", "100",
	"--jitter", "3ms", "--esp-loss", "0.01", "--transform", "null-sha1"}

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = Command(context.Background(), &o, &e, args)
	return o.String(), e.String(), code
}

func TestDeterministicOutput(t *testing.T) {
	for _, format := range []string{"", "--csv", "--json"} {
		args := append(append([]string{}, quick...), "--shard-tunnels", "1")
		if format != "" {
			args = append(args, format)
		}
		one, _, c1 := run(t, append(args, "--workers", "1")...)
		two, _, c2 := run(t, append(args, "--workers", "2")...)
		if c1 != ExitOK || c2 != ExitOK {
			t.Fatalf("%q: exit %d, %d", format, c1, c2)
		}
		if one != two {
			t.Errorf("%q: output differs between 1 and 2 workers:\n%s\n%s", format, one, two)
		}
		if again, _, _ := run(t, append(args, "--workers", "2")...); again != two {
			t.Errorf("%q: output differs between two runs", format)
		}
	}
}

// --exact steps every packet; coasting must not change a byte of output.
func TestExactGivesTheSameOutput(t *testing.T) {
	for _, format := range []string{"--csv", "--json"} {
		args := append(append([]string{}, quick...), format, "--ike-loss", "0.05")
		fast, _, c1 := run(t, args...)
		exact, _, c2 := run(t, append(args, "--exact")...)
		if c1 != ExitOK || c2 != ExitOK {
			t.Fatalf("%s: exit %d, %d", format, c1, c2)
		}
		if fast != exact {
			t.Errorf("%s: coasting changed the output:\n%s\n--exact:\n%s", format, fast, exact)
		}
	}
}

func TestFormats(t *testing.T) {
	out, _, code := run(t, append(quick, "--profiles", "hitless,install-at-qm3")...)
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "loss/rekey") || !strings.Contains(lines[2], "install-at-qm3") {
		t.Errorf("table:\n%s", out)
	}
	// Right-aligned columns: every line has the same width.
	if utf8.RuneCountInString(lines[0]) != utf8.RuneCountInString(lines[1]) {
		t.Errorf("table lines are not aligned:\n%s", out)
	}

	out, _, _ = run(t, append(quick, "--csv")...)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 7 {
		t.Fatalf("CSV: %v, %d records", err, len(recs))
	}
	for _, r := range recs[1:] {
		if len(r) != len(recs[0]) {
			t.Errorf("CSV record %v has %d fields, header %d", r, len(r), len(recs[0]))
		}
	}

	out, _, _ = run(t, append(quick, "--json", "--profiles", "hitless")...)
	var doc struct {
		Scenario struct{ Tunnels int }
		Profiles []Row
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Scenario.Tunnels != 3 || len(doc.Profiles) != 1 || doc.Profiles[0].Sent == 0 ||
		doc.Profiles[0].Rekeys == 0 || doc.Profiles[0].LackOfActiveSA != 0 {
		t.Errorf("JSON: %+v", doc)
	}
}

func TestPlotFiles(t *testing.T) {
	dir := t.TempDir()
	png, svg := filepath.Join(dir, "c.png"), filepath.Join(dir, "c.svg")
	for _, f := range []string{png, svg} {
		if _, e, code := run(t, append(quick, "--plot", f)...); code != ExitOK {
			t.Fatalf("%s: exit %d: %s", f, code, e)
		}
	}
	b, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 10000 {
		t.Errorf("PNG: %v, %d bytes, starts %q", err, len(b), b[:min(8, len(b))])
	}
	b, err = os.ReadFile(svg)
	if err != nil || !bytes.Contains(b[:min(500, len(b))], []byte("<svg")) || !bytes.Contains(b, []byte("hitless")) {
		t.Errorf("SVG: %v, %d bytes", err, len(b))
	}
}

func TestConfigFileAndOverride(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "s.json")
	if err := os.WriteFile(cfg, []byte(`{"tunnels": 2, "duration": "9s", "soft": "3s", "hard": "8s",
		"ab": {"rate": 50, "size": 100}, "ba": {"rate": 50, "size": 100}, "profiles": ["hitless"], "transform": "null-sha1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, e, code := run(t, "--config", cfg, "--json", "--tunnels", "4")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, e)
	}
	var doc struct {
		Scenario struct {
			Tunnels  int
			Duration string
		}
		Profiles []Row
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Scenario.Tunnels != 4 || doc.Scenario.Duration != "9s" || len(doc.Profiles) != 1 {
		t.Errorf("flags should override the file, the file the defaults: %+v", doc)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	badJSON := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(badJSON, []byte(`{"tunels": 3}`), 0o644)
	cases := []struct {
		class string
		args  []string
		code  int
	}{
		{"unknown flag", []string{"--nope"}, ExitUsage},
		{"malformed number", []string{"--tunnels", "x"}, ExitUsage},
		{"malformed duration", []string{"--delay", "5"}, ExitUsage},
		{"out-of-range value", []string{"--esp-loss", "2"}, ExitUsage},
		{"unknown profile", []string{"--profiles", "hitless,nope"}, ExitUsage},
		{"stray argument", []string{"extra"}, ExitUsage},
		{"exclusive formats", []string{"--csv", "--json"}, ExitUsage},
		{"unknown chart format", []string{"--plot", "x.gif"}, ExitUsage},
		{"missing config file", []string{"--config", filepath.Join(dir, "none.json")}, ExitInput},
		{"config with unknown field", []string{"--config", badJSON}, ExitUsage},
		{"unwritable chart", []string{"--tunnels", "1", "--duration", "1s", "--plot", filepath.Join(dir, "no", "x.png")}, ExitInput},
	}
	for _, c := range cases {
		out, e, code := run(t, c.args...)
		if code != c.code || !strings.Contains(e, "sim") && code != ExitUsage {
			t.Errorf("%s: exit %d (want %d), stderr %q", c.class, code, c.code, e)
		}
		if c.code == ExitUsage && out != "" {
			t.Errorf("%s: wrote to stdout: %q", c.class, out)
		}
	}
	if out, _, code := run(t, "-h"); code != ExitOK || !strings.Contains(out, "--plot") {
		t.Errorf("-h: exit %d, %q", code, out)
	}
}

func TestInterruptPrintsPartialResults(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var o, e bytes.Buffer
	// Cancel from the progress callback: the run is under way by then.
	opts := []string{"--tunnels", "2", "--duration", "10h", "--rate", "50", "--profiles", "hitless", "--transform", "null-sha1"}
	done := make(chan int)
	go func() { done <- Command(ctx, &o, &e, opts) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != ExitInterrupted {
			t.Errorf("exit %d, want %d; stderr %q", code, ExitInterrupted, e.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not stop after cancel")
	}
	out := o.String()
	if !strings.Contains(out, "interrupted: partial results") || !strings.Contains(out, "hitless") {
		t.Errorf("no partial results:\n%s", out)
	}
}

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	p := progressBar(&b)
	p(0.5, 500*time.Millisecond)
	if b.Len() != 0 {
		t.Errorf("bar shown before a second: %q", b.String())
	}
	p(0.5, 2*time.Second)
	if s := b.String(); !strings.Contains(s, "50%") || !strings.HasPrefix(s, "\r[###") || !strings.Contains(s, "2s left") {
		t.Errorf("bar %q", s)
	}
}

func TestParallelMatchesSerial(t *testing.T) {
	s := effect.Default()
	s.Tunnels, s.ShardTunnels, s.Duration = 5, 2, effect.Duration(15*time.Second)
	s.Soft, s.Hard, s.ESPLoss, s.IKELoss = effect.Duration(4*time.Second), effect.Duration(10*time.Second), 0.01, 0.02
	s.Profiles = []string{"install-at-qm3", "hitless"}
	rep, err := Run(context.Background(), Options{Scenario: s, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range s.Profiles {
		p, _ := quickmode.ParseProfile(name)
		want, err := s.Run(p)
		if err != nil {
			t.Fatal(err)
		}
		// How much was coasted depends on where the run was cut into
		// slices; nothing else may.
		got := rep.Outcomes[i]
		got.Result.Coasted, want.Result.Coasted = 0, 0
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: parallel run differs from serial:\n%+v\n%+v", name, rep.Outcomes[i].Result, want.Result)
		}
	}
}
