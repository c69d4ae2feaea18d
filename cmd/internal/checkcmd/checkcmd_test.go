package checkcmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(&out, &errb, args)
	return code, out.String(), errb.String()
}

// Usage errors (input classes: unknown profile, empty list element,
// non-numeric and out-of-range counts, negative budget, stray argument,
// unknown flag) exit 2 and say why on stderr; help exits 0 on stdout.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--profile", "nope"}, {"--profile", "hitless,"}, {"--checks", "x"}, {"--checks", "0"},
		{"--time", "-1s"}, {"--shrinktime", "-1s"}, {"extra"}, {"--bogus"},
	} {
		code, out, errs := run(args...)
		if code != ExitUsage || out != "" || errs == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	code, out, _ := run("-h")
	if code != ExitOK || !strings.Contains(out, "Usage: hitless check") || !strings.Contains(out, "Exit status") {
		t.Errorf("-h: exit %d, %q", code, out)
	}
}

// A profile that loses traffic does not make the command fail (its
// verdict is expected); the table shows it, the ladder follows, and a
// fixed seed gives byte-identical output.
func TestTextDeterministic(t *testing.T) {
	args := []string{"--profile", "install-at-qm3", "--checks", "5", "--seed", "3", "--shrinktime", "1s"}
	code, out1, _ := run(args...)
	_, out2, _ := run(args...)
	if code != ExitOK {
		t.Errorf("exit %d, want %d (only the hitless profile's failure fails the command)", code, ExitOK)
	}
	if out1 != out2 {
		t.Errorf("same seed, different output:\n%s\n---\n%s", out1, out2)
	}
	for _, want := range []string{"install-at-qm3  VIOLATED (", "P1 no-drop", "P6 bounded", "== install-at-qm3: P1 no-drop violated", "✗ drop", "unknown-spi"} {
		if !strings.Contains(out1, want) {
			t.Errorf("output lacks %q:\n%s", want, out1)
		}
	}
}

// --json prints one object: seed, checks, one verdict per profile and
// property, each violation with its ladder and Mermaid diagram.
func TestJSONShape(t *testing.T) {
	code, out, _ := run("--profile", "hitless", "--profile", "install-at-qm3", "--checks", "5", "--shrinktime", "1s", "--json")
	if code != ExitOK && code != ExitHitlessFails {
		t.Fatalf("exit %d", code)
	}
	var s struct {
		Seed     uint64 `json:"seed"`
		Checks   int    `json:"checks"`
		Verdicts []struct {
			Profile, Property, Reason, Violation, Ladder, Mermaid string
			Holds, Expected, Complete                             bool
			Checks, Actions                                       int
			Seed                                                  uint64
		} `json:"verdicts"`
		HitlessHolds *bool  `json:"hitless_holds"`
		Elapsed      *int64 `json:"elapsed_ms"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if s.Seed != 1 || s.Checks != 5 || len(s.Verdicts) != 12 || s.HitlessHolds == nil || s.Elapsed == nil {
		t.Fatalf("summary %+v", s)
	}
	if (code == ExitOK) != *s.HitlessHolds {
		t.Errorf("exit %d but hitless_holds %v", code, *s.HitlessHolds)
	}
	v := s.Verdicts[6]
	if v.Profile != "install-at-qm3" || v.Property != "P1 no-drop" || v.Holds || !v.Expected || v.Seed == 0 ||
		!strings.Contains(v.Ladder, "✗ drop") || !strings.HasPrefix(v.Mermaid, "```mermaid\nsequenceDiagram") {
		t.Errorf("install-at-qm3 P1 verdict %+v", v)
	}
}

// --report writes Markdown: the verdict table and a fenced Mermaid
// sequenceDiagram per counterexample. An unwritable report exits 3.
func TestReport(t *testing.T) {
	file := filepath.Join(t.TempDir(), "r.md")
	code, _, _ := run("--profile", "install-at-qm3", "--checks", "5", "--shrinktime", "1s", "--report", file)
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, want := range []string{"| profile | P1 no-drop |", "| `install-at-qm3` | **VIOLATED (", "## `install-at-qm3`: P1 no-drop", "```mermaid\nsequenceDiagram\n", "## Expected verdicts"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if n, m := strings.Count(md, "```mermaid"), len(regexp.MustCompile(`(?m)^## `+"`").FindAllString(md, -1)); n == 0 || n != m {
		t.Errorf("%d mermaid blocks for %d counterexamples", n, m)
	}
	code, _, errs := run("--profile", "hitless", "--checks", "1", "--report", filepath.Join(t.TempDir(), "no", "such", "dir.md"))
	if code != ExitOutput || !strings.Contains(errs, "no such file") {
		t.Errorf("unwritable report: exit %d, stderr %q", code, errs)
	}
}

// The exit status follows the hitless profile only.
func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		s    Summary
		want int
	}{
		{Summary{HitlessHolds: true}, ExitOK},
		{Summary{HitlessHolds: false}, ExitHitlessFails},
	} {
		if got := exitCode(&c.s); got != c.want {
			t.Errorf("hitless holds %v: exit %d, want %d", c.s.HitlessHolds, got, c.want)
		}
	}
}

// --progress draws a bar on stderr; without it (not a terminal) stderr
// gets only the summary line.
func TestProgress(t *testing.T) {
	_, _, errs := run("--profile", "hitless", "--checks", "2", "--progress")
	if !strings.Contains(errs, "\r[") || !strings.Contains(errs, "%") {
		t.Errorf("no progress bar: %q", errs)
	}
	_, _, errs = run("--profile", "hitless", "--checks", "2")
	if strings.Contains(errs, "\r") {
		t.Errorf("progress bar without --progress: %q", errs)
	}
}
