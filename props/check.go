package props

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props/ladder"
)

// CheckOptions configure Check, the programmatic property check used
// outside `go test` (e.g. by `hitless check`) and by tests that assert a
// property is violated.
type CheckOptions struct {
	Options
	// Checks is the number of schedules to try (default 100).
	Checks int
	// Steps is rapid's average number of actions per schedule (default 30).
	Steps int
	// Seed makes the run reproducible: schedule i uses rapid seed Seed+i.
	// Zero means 1 (never a random seed: runs are deterministic).
	Seed uint64
	// Budget stops starting new schedules once this much wall time has
	// passed (0: no limit). Shrinking a counterexample is bounded by
	// ShrinkTime separately.
	Budget time.Duration
	// ShrinkTime bounds the minimisation of a counterexample (default 10s).
	ShrinkTime time.Duration
	// FailFile, if set, is a rapid fail file replayed before any new
	// schedule (as -rapid.failfile does).
	FailFile string
	// ReplayOnly runs only FailFile, no new schedules.
	ReplayOnly bool
	// SaveFailFile, if set, is where the rapid fail file of the failing
	// schedule is written (e.g. to commit it as a regression input that
	// FailFile replays). Its directory must exist.
	SaveFailFile string
	// Progress, if set, is called after each schedule that passed.
	Progress func(Progress)
}

// Progress reports how a Check is going.
type Progress struct {
	Checks  int           // schedules run so far
	Elapsed time.Duration // wall time so far
}

// Result is the outcome of Check.
type Result struct {
	// Checks is the number of schedules run (including a replayed fail file).
	Checks int
	// Verdicts says, for each property checked, whether it held on every
	// schedule run (true) or was violated (false). A run stops at the first
	// violation, so "held" means "not falsified before the run stopped".
	Verdicts map[PropertyID]bool
	// Violations are those of the shrunk counterexample.
	Violations []Violation
	// Counterexample is the shrunk schedule, nil if every check passed;
	// Actions is its number of actions (settle phase not counted).
	Counterexample *ladder.Trace
	Actions        int
	// Seed is the rapid seed of the failing schedule (0 if none or replayed).
	Seed uint64
	// Classified counts, over all schedules, drops outside the assumptions.
	Classified map[string]int
	// Report is rapid's failure message (empty when every check passed).
	Report string
	// Elapsed is the wall time spent.
	Elapsed time.Duration
}

// Holds reports whether no property was violated.
func (r *Result) Holds() bool { return len(r.Violations) == 0 && r.Report == "" }

// Violated reports whether p was violated.
func (r *Result) Violated(p PropertyID) bool {
	held, ok := r.Verdicts[p]
	return ok && !held
}

// rapidMu serialises Check: rapid reads its configuration (checks, seed,
// fail file, shrink time) from process-wide flags.
var rapidMu sync.Mutex

// Check runs the properties of opts against pair with rapid, outside or
// inside `go test`, and returns the verdicts with the shrunk
// counterexample. It does not write rapid fail files. Concurrent calls
// are serialised; it must not run concurrently with other rapid checks in
// the same process (rapid's flags are process-wide).
func Check(pair Pair, opts CheckOptions) Result {
	rapidMu.Lock()
	defer rapidMu.Unlock()
	testing.Init() // rapid consults testing.Short; a no-op under go test
	if !flag.Parsed() {
		// testing.Short panics before the flags were parsed, as they are
		// not in a program that is not a test (e.g. hitless check).
		_ = flag.CommandLine.Parse(nil)
	}
	if opts.Checks <= 0 {
		opts.Checks = 100
	}
	if opts.Steps <= 0 {
		opts.Steps = 30
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.ShrinkTime <= 0 {
		opts.ShrinkTime = 10 * time.Second
	}
	restore := setFlags(map[string]string{
		"rapid.checks": "1", "rapid.steps": strconv.Itoa(opts.Steps), "rapid.nofailfile": "true",
		"rapid.shrinktime": opts.ShrinkTime.String(), "rapid.failfile": "", "rapid.v": "false", "rapid.log": "false",
	})
	defer restore()

	res := Result{Verdicts: map[PropertyID]bool{}, Classified: map[string]int{}}
	props := opts.Properties
	if props == nil {
		props = AllProperties
	}
	for _, p := range props {
		res.Verdicts[p] = true
	}
	var last *Machine
	inner := opts.Options
	inner.Observe = func(m *Machine) {
		last = m
		if opts.Observe != nil {
			opts.Observe(m)
		}
	}
	prop := Property(pair, inner)
	start := time.Now()
	run := func(seed uint64, failfile string, checks int) bool {
		setFlags(map[string]string{"rapid.seed": strconv.FormatUint(seed, 10), "rapid.failfile": failfile, "rapid.checks": strconv.Itoa(checks)})
		tb := &reportTB{}
		if opts.SaveFailFile != "" {
			setFlags(map[string]string{"rapid.nofailfile": "false"})
		}
		rapid.Check(tb, prop)
		res.Checks++
		if opts.SaveFailFile != "" && tb.failed {
			if err := moveFailFile(tb.Name(), opts.SaveFailFile); err != nil {
				fmt.Fprintf(&tb.report, "saving fail file: %v\n", err)
			}
		}
		if last != nil {
			for k, v := range last.Classified() {
				res.Classified[k] += v
			}
		}
		if !tb.failed {
			return false
		}
		res.Report = tb.report.String()
		if last != nil {
			res.Violations = last.Violations()
			res.Counterexample = last.Trace()
			res.Actions = last.Actions()
		}
		for _, v := range res.Violations {
			res.Verdicts[v.Property] = false
		}
		return true
	}
	if opts.FailFile != "" {
		checks := 1
		if opts.ReplayOnly {
			checks = 0
		}
		if run(opts.Seed, opts.FailFile, checks) {
			res.Elapsed = time.Since(start)
			return res
		}
	}
	for i := uint64(0); !opts.ReplayOnly && res.Checks < opts.Checks; i++ {
		if opts.Budget > 0 && time.Since(start) > opts.Budget {
			break
		}
		if run(opts.Seed+i, "", 1) {
			res.Seed = opts.Seed + i
			break
		}
		if opts.Progress != nil {
			opts.Progress(Progress{Checks: res.Checks, Elapsed: time.Since(start)})
		}
	}
	res.Elapsed = time.Since(start)
	return res
}

// CheckEach runs Check once per property (each search looking for that
// property's violations only), so one violated property cannot hide
// another. The results are in the order of opts.Properties (or
// AllProperties).
func CheckEach(pair Pair, opts CheckOptions) []Result {
	props := opts.Properties
	if props == nil {
		props = AllProperties
	}
	out := make([]Result, 0, len(props))
	for _, p := range props {
		o := opts
		o.Properties = []PropertyID{p}
		out = append(out, Check(pair, o))
	}
	return out
}

// moveFailFile moves the fail file rapid wrote for test name (under
// testdata/rapid/<name>/ in the working directory) to dst.
func moveFailFile(name, dst string) error {
	dir := filepath.Join("testdata", "rapid", name)
	files, _ := filepath.Glob(filepath.Join(dir, name+"-*.fail"))
	if len(files) != 1 {
		return fmt.Errorf("want one fail file in %s, found %d", dir, len(files))
	}
	if err := os.Rename(files[0], dst); err != nil {
		return err
	}
	// Remove the directories rapid made, where empty.
	for d := dir; d != "." && os.Remove(d) == nil; d = filepath.Dir(d) {
	}
	return nil
}

// setFlags sets rapid's flags and returns a function restoring them.
func setFlags(vals map[string]string) (restore func()) {
	old := map[string]string{}
	for name, v := range vals {
		f := flag.Lookup(name)
		if f == nil {
			continue
		}
		old[name] = f.Value.String()
		_ = f.Value.Set(v)
	}
	return func() {
		for name, v := range old {
			_ = flag.Lookup(name).Value.Set(v)
		}
	}
}

// reportTB is the rapid.TB Check hands to rapid: it records failure and
// rapid's report instead of failing a test. FailNow and SkipNow return
// (rapid only calls them after its last use of the TB).
type reportTB struct {
	failed bool
	report strings.Builder
}

func (r *reportTB) Helper()                         {}
func (r *reportTB) Name() string                    { return "hitless-check" }
func (r *reportTB) Logf(format string, args ...any) { fmt.Fprintf(&r.report, format+"\n", args...) }
func (r *reportTB) Log(args ...any)                 { fmt.Fprintln(&r.report, args...) }
func (r *reportTB) Skipf(format string, args ...any) {
	r.Logf(format, args...)
}
func (r *reportTB) Skip(args ...any) { r.Log(args...) }
func (r *reportTB) SkipNow()         {}
func (r *reportTB) Errorf(format string, args ...any) {
	r.failed = true
	r.Logf(format, args...)
}
func (r *reportTB) Error(args ...any) { r.failed = true; r.Log(args...) }
func (r *reportTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
}
func (r *reportTB) Fatal(args ...any) { r.Error(args...) }
func (r *reportTB) FailNow()          { r.failed = true }
func (r *reportTB) Fail()             { r.failed = true }
func (r *reportTB) Failed() bool      { return r.failed }
