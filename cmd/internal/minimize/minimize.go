// Package minimize shrinks a fuzz corpus to a small set of inputs that
// keeps the coverage of the whole. Two engines measure coverage:
//
//   - LibFuzzer hands the inputs to a libFuzzer binary built by
//     fuzz/libfuzzer/build.sh with -merge=1, which keeps a minimal set
//     preserving libFuzzer's coverage features (edges and hit counts of
//     all instrumented Go code). It is fast and needs clang.
//   - GoCover builds the fuzz package's test binary with -cover once,
//     runs it once per input (Go has no per-input coverage in one
//     process) and picks a set by greedy set cover over the covered
//     blocks of the packages under test. It needs only the go command.
package minimize

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/hitless-ike/hitless/cmd/internal/corpusio"
)

// ErrFails is returned when an input fails the target's property: a
// corpus to be minimized must pass, and a crasher belongs in the Go
// regression inputs instead (see `hitless corpus crashers`).
var ErrFails = errors.New("minimize: input fails the fuzz property")

// ErrTarget is returned for a target name that cannot be a Go fuzz
// function.
var ErrTarget = errors.New("minimize: bad fuzz target name")

// Cover returns the indexes, in ascending order, of a subset of inputs
// whose features together are all the features of every input. It is the
// greedy set cover: repeatedly take the input adding the most features
// not yet covered, preferring the smaller input on a tie, then the
// earlier one. size[i] is the size of input i; features[i] lists its
// features, in any order, duplicates allowed.
func Cover(size []int, features [][]string) []int {
	left := map[string]bool{}
	uniq := make([][]string, len(features))
	for i, fs := range features {
		uniq[i] = slices.Compact(slices.Sorted(slices.Values(fs)))
		for _, f := range fs {
			left[f] = true
		}
	}
	var picked []int
	taken := make([]bool, len(features))
	for len(left) > 0 {
		best, gain := -1, 0
		for i, fs := range uniq {
			if taken[i] {
				continue
			}
			g := 0
			for _, f := range fs {
				if left[f] {
					g++
				}
			}
			if g > gain || (g == gain && g > 0 && size[i] < size[best]) {
				best, gain = i, g
			}
		}
		taken[best] = true
		picked = append(picked, best)
		for _, f := range features[best] {
			delete(left, f)
		}
	}
	slices.Sort(picked)
	return picked
}

// fuzzName is what a Go fuzz function may be called.
var fuzzName = regexp.MustCompile(`^Fuzz[A-Za-z0-9_]*$`)

// GoCover measures per-input Go statement coverage.
type GoCover struct {
	ModuleDir string // module root, where `go test -c` runs
	Package   string // package holding the fuzz function, e.g. "./fuzz"
	Target    string // fuzz function, e.g. "FuzzParse"
	// CoverPkg is the -coverpkg list: the code under test, e.g.
	// "github.com/hitless-ike/hitless/ref/...".
	CoverPkg string
	Go       string // go command; "go" when empty
	Workers  int    // processes run at once; 1 when zero
}

// Features returns, for each input, the coverage blocks ("file:line.col,
// line.col") it executes in CoverPkg.
func (g GoCover) Features(ctx context.Context, inputs [][]byte) ([][]string, error) {
	if !fuzzName.MatchString(g.Target) {
		return nil, fmt.Errorf("%w: %q", ErrTarget, g.Target)
	}
	tmp, err := os.MkdirTemp("", "hitless-minimize-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "fuzz.test")
	gocmd := cmp.Or(g.Go, "go")
	build := exec.CommandContext(ctx, gocmd, "test", "-c", "-cover", "-covermode=set",
		"-coverpkg="+g.CoverPkg, "-o", bin, g.Package)
	build.Dir = g.ModuleDir
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("minimize: go test -c: %v\n%s", err, out)
	}
	// The test binary reads its Go-format inputs from testdata/fuzz/<Target>
	// under its working directory, one subtest per file name.
	seeds := filepath.Join(tmp, "run", "testdata", "fuzz", g.Target)
	if err := os.MkdirAll(seeds, 0o755); err != nil {
		return nil, err
	}
	for i, in := range inputs {
		if err := os.WriteFile(filepath.Join(seeds, name(i)), corpusio.AppendGo(nil, in), 0o644); err != nil {
			return nil, err
		}
	}
	feats := make([][]string, len(inputs))
	errs := make([]error, len(inputs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(g.Workers, 1) {
		wg.Go(func() {
			for i := range next {
				feats[i], errs[i] = g.run(ctx, bin, tmp, i)
			}
		})
	}
	for i := range inputs {
		next <- i
	}
	close(next)
	wg.Wait()
	return feats, errors.Join(errs...)
}

func name(i int) string { return fmt.Sprintf("input%06d", i) }

// run runs input i alone and returns the blocks it covered.
func (g GoCover) run(ctx context.Context, bin, tmp string, i int) ([]string, error) {
	prof := filepath.Join(tmp, name(i)+".cov")
	cmd := exec.CommandContext(ctx, bin, "-test.run=^"+g.Target+"$/^"+name(i)+"$",
		"-test.count=1", "-test.coverprofile="+prof)
	cmd.Dir = filepath.Join(tmp, "run")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("input %d: %w: %v\n%s", i, ErrFails, err, out)
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		return nil, err
	}
	return ParseProfile(b)
}

// ParseProfile returns the blocks a text coverage profile (`go test
// -coverprofile`) marks as executed.
func ParseProfile(b []byte) ([]string, error) {
	var blocks []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			if !strings.HasPrefix(line, "mode: ") {
				return nil, fmt.Errorf("minimize: coverage profile: no mode line")
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("minimize: coverage profile line %d: %q", n, line)
		}
		if f[2] != "0" {
			blocks = append(blocks, f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("minimize: coverage profile: empty")
	}
	return blocks, nil
}

// LibFuzzer minimizes with a libFuzzer binary's -merge=1.
type LibFuzzer struct {
	Binary string // e.g. $OUT/FuzzParse from fuzz/libfuzzer/build.sh
}

// Minimize returns the inputs libFuzzer keeps when merging them into an
// empty corpus.
func (l LibFuzzer) Minimize(ctx context.Context, inputs [][]byte) ([][]byte, error) {
	tmp, err := os.MkdirTemp("", "hitless-merge-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	in, out := filepath.Join(tmp, "in"), filepath.Join(tmp, "out")
	if _, err := corpusio.Export(corpusio.FormatLibFuzzer, in, inputs); err != nil {
		return nil, err
	}
	if err := os.Mkdir(out, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, l.Binary, "-merge=1", "-artifact_prefix="+tmp+"/", out, in)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("minimize: %s -merge=1: %v\n%s", l.Binary, err, tail(b))
	}
	return corpusio.ReadInputs(corpusio.FormatLibFuzzer, out)
}

// tail keeps the end of a long tool output, where the error is.
func tail(b []byte) []byte {
	if len(b) > 4096 {
		return b[len(b)-4096:]
	}
	return b
}
