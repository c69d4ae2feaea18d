// Package checkcmd implements "hitless check": the rapid properties
// (package props) run against the reference gateway (package refpair) in
// each Quick Mode profile, with a verdict table, the shrunk
// counterexamples as ladders, and optional Markdown and JSON reports.
package checkcmd

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/extpair"
	"github.com/hitless-ike/hitless/props/ladder"
	"github.com/hitless-ike/hitless/props/refpair"
	"github.com/hitless-ike/hitless/ref/peer/adapter"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Exit codes of "hitless check".
const (
	// ExitOK: the hitless profile held every property (or was not
	// checked). Other profiles may have failed: that is their verdict.
	ExitOK = 0
	// ExitHitlessFails: the hitless profile violated a property.
	ExitHitlessFails = 1
	// ExitUsage: bad command line.
	ExitUsage = 2
	// ExitOutput: the report could not be written.
	ExitOutput = 3
	// ExitPeer: with --peer, the shim broke the adapter protocol (or
	// could not be started); no verdict.
	ExitPeer = 4
)

// Args and Short describe the command to the command-line front end;
// Long is its help text.
const (
	Args  = "[--profile NAME,...] [--peer 'CMD ARGS' [--side initiator|responder|both|self] [--expect NAME] [--peer-timeout D]] [--checks N] [--seed N] [--time D] [--shrinktime D] [--report FILE.md] [--json] [--progress]"
	Short = "check the properties on the reference gateway in every profile"
	Long  = `Runs the rapid state-machine properties against the reference gateway in
each Quick Mode profile (all of them by default): for every profile and
every property (P1 no-drop, P2 protected, P3 agreement, P4 convergence,
P5 forgery-inert, P6 bounded) a separate search of --checks schedules, so
that one violation cannot hide another. Prints a verdict table (profile ×
property: holds, or VIOLATED, with the schedules run and "!" where the
verdict is not the profile's expected one, "?" where the expected
violation is a rare one this search did not reach), then every shrunk
counterexample as a ladder diagram. A fixed --seed gives the same output
(unless --time cuts a search short).

--time bounds the whole run in wall time (the searches share it; a
verdict reached before its search ran all --checks says so). --report
writes the table, the reasons behind the expected verdicts and a Mermaid
sequenceDiagram per counterexample as Markdown. --json writes one JSON
object to stdout instead of the text. A progress bar goes to stderr when
it is a terminal, or with --progress.

--peer 'CMD ARGS' checks another implementation instead: CMD is started as
a shim of the out-of-process adapter protocol (ref/peer/adapter/PROTOCOL.md;
"hitless peer conform" checks its hygiene first) and paired with the
reference gateway in each --profile (default hitless only). --side says
which end it takes: initiator (A, starts the first negotiation), responder
(B), both (one search each way, the default) or self (both ends are copies
of the shim; --profile is then unused). Each row of the table is one
pairing, e.g. "ref/hitless(A)+peer(B)". --expect NAME marks as unexpected
("!") every verdict that differs from what profile NAME is expected to get.
The shim is started once per end and re-initialised for every schedule;
a reply later than --peer-timeout, malformed or too large ends the run
with exit status 4 and the shim's stderr.

Exit status: 0 the hitless profile held every property (or was not
checked) — with --peer: every pairing held every property, or with
--expect every verdict was the expected one; 1 otherwise; 2 usage error;
3 the report could not be written; 4 (--peer) the shim failed.`
)

// Options configure a run.
type Options struct {
	Profiles []quickmode.Profile
	Checks   int           // schedules per search (default 100)
	Seed     uint64        // rapid seed of the first schedule (default 1)
	Time     time.Duration // wall-time budget of the whole run (0: none)
	Shrink   time.Duration // bound on shrinking each counterexample (default 10s)
	Report   string        // Markdown report file ("" : none)
	JSON     bool
	Progress bool

	// Peer, if set, is the command line of a shim to check instead of the
	// reference (see package extpair).
	Peer []string
	// Ends are the placements of the shim, one row each per profile (nil:
	// A and B).
	Ends []extpair.Ends
	// Expect names the profile whose expected verdicts the shim's are
	// compared with ("": none; then every violation is unexpected).
	Expect string
	// PeerTimeout bounds each reply of the shim (0: 5 s).
	PeerTimeout time.Duration
}

// Verdict is the outcome of one search: one profile, one property.
type Verdict struct {
	Profile  string `json:"profile"`
	Property string `json:"property"`
	Holds    bool   `json:"holds"`
	// Expected is whether Holds is the profile's expected verdict. Rare
	// marks an expected violation that a search of the default budget
	// from seed 1 does not reach (its reason names it): holding then is
	// not unexpected.
	Expected bool   `json:"expected"`
	Rare     bool   `json:"rare,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Checks   int    `json:"checks"`
	// Complete is false when the time budget stopped the search early.
	Complete bool `json:"complete"`
	// For a violation: the rapid seed of the failing schedule, the
	// violation, the shrunk schedule's length and its renderings.
	Seed      uint64 `json:"seed,omitempty"`
	Violation string `json:"violation,omitempty"`
	Actions   int    `json:"actions,omitempty"`
	Ladder    string `json:"ladder,omitempty"`
	Mermaid   string `json:"mermaid,omitempty"`

	trace *ladder.Trace
}

// Summary is the outcome of a run; --json prints it.
type Summary struct {
	Seed          uint64    `json:"seed"`
	Checks        int       `json:"checks"`
	Verdicts      []Verdict `json:"verdicts"`
	HitlessHolds  bool      `json:"hitless_holds"`
	ElapsedMillis int64     `json:"elapsed_ms"`
	// With --peer: the shim's name, and why it failed if it did (with the
	// tail of its stderr).
	Implementation string `json:"implementation,omitempty"`
	PeerError      string `json:"peer_error,omitempty"`
	PeerStderr     string `json:"peer_stderr,omitempty"`
	peer           bool
}

// Main parses args (without "check") and runs the command, writing to
// stdout and stderr; it returns the exit code.
func Main(stdout, stderr io.Writer, args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var profiles listFlag
	o := Options{}
	fs.Var(&profiles, "profile", "profile to check (repeatable, or a comma list); default all: "+names(quickmode.Profiles))
	fs.IntVar(&o.Checks, "checks", 100, "schedules per profile and property")
	fs.Uint64Var(&o.Seed, "seed", 1, "rapid seed of the first schedule")
	fs.DurationVar(&o.Time, "time", 0, "wall-time budget of the whole run, e.g. 30s (0: none)")
	fs.DurationVar(&o.Shrink, "shrinktime", 10*time.Second, "bound on shrinking each counterexample")
	fs.StringVar(&o.Report, "report", "", "write a Markdown report with Mermaid diagrams to `FILE.md`")
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object instead of the text")
	fs.BoolVar(&o.Progress, "progress", false, "show a progress bar on stderr even when it is not a terminal")
	peerCmd := fs.String("peer", "", "check the shim started by `CMD ARGS` (adapter protocol) instead of the reference")
	side := fs.String("side", "both", "with --peer: the shim's end, initiator (A), responder (B), both (each in turn) or self (both ends)")
	fs.StringVar(&o.Expect, "expect", "", "with --peer: compare the verdicts with those expected of profile `NAME`")
	fs.DurationVar(&o.PeerTimeout, "peer-timeout", 5*time.Second, "with --peer: bound on each reply of the shim")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: hitless check %s\n\n%s\n\nFlags:\n", Args, Long)
		fs.PrintDefaults()
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return ExitOK
		}
	}
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hitless check: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	if o.Checks < 1 || o.Time < 0 || o.Shrink < 0 {
		fmt.Fprintln(stderr, "hitless check: --checks must be at least 1, --time and --shrinktime not negative")
		return ExitUsage
	}
	for _, n := range profiles {
		p, err := quickmode.ParseProfile(n)
		if err != nil {
			fmt.Fprintf(stderr, "hitless check: unknown profile %q (known: %s)\n", n, names(quickmode.Profiles))
			return ExitUsage
		}
		o.Profiles = append(o.Profiles, p)
	}
	if *peerCmd != "" {
		argv, err := adapter.Split(*peerCmd)
		if err != nil {
			fmt.Fprintf(stderr, "hitless check: --peer: %v\n", err)
			return ExitUsage
		}
		o.Peer = argv
		switch *side {
		case "initiator":
			o.Ends = []extpair.Ends{extpair.EndA}
		case "responder":
			o.Ends = []extpair.Ends{extpair.EndB}
		case "both":
			o.Ends = []extpair.Ends{extpair.EndA, extpair.EndB}
		case "self":
			o.Ends = []extpair.Ends{extpair.EndBoth}
		default:
			fmt.Fprintf(stderr, "hitless check: --side %q: want initiator, responder, both or self\n", *side)
			return ExitUsage
		}
		if len(o.Profiles) == 0 {
			o.Profiles = []quickmode.Profile{quickmode.Hitless}
		}
		if o.Expect != "" && refpair.Expected(o.Expect) == nil {
			fmt.Fprintf(stderr, "hitless check: --expect: unknown profile %q (known: %s)\n", o.Expect, names(quickmode.Profiles))
			return ExitUsage
		}
	} else if o.Expect != "" || *side != "both" {
		fmt.Fprintln(stderr, "hitless check: --side and --expect need --peer")
		return ExitUsage
	}
	if !o.Progress {
		o.Progress = isTerminal(stderr)
	}
	return Run(stdout, stderr, o)
}

// Run checks every profile of o and prints the outcome.
func Run(stdout, stderr io.Writer, o Options) int {
	s := Check(o, stderr)
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // keep Mermaid arrows (->>) readable
		_ = enc.Encode(s)
	} else {
		WriteText(stdout, &s)
	}
	fmt.Fprintf(stderr, "hitless check: %d searches in %.1fs\n", len(s.Verdicts), float64(s.ElapsedMillis)/1000)
	if s.PeerError != "" {
		fmt.Fprintf(stderr, "hitless check: the shim failed: %s\n", s.PeerError)
		if s.PeerStderr != "" {
			fmt.Fprintf(stderr, "shim stderr (last lines):\n%s\n", s.PeerStderr)
		}
	}
	code := exitCode(&s)
	if o.Report != "" {
		if err := writeReport(o.Report, &s); err != nil {
			fmt.Fprintf(stderr, "hitless check: %v\n", err)
			return ExitOutput
		}
	}
	return code
}

// exitCode is the exit status of a run: the hitless profile's verdict.
func exitCode(s *Summary) int {
	if s.PeerError != "" {
		return ExitPeer
	}
	if s.peer {
		for _, v := range s.Verdicts {
			if !v.Expected {
				return ExitHitlessFails
			}
		}
		return ExitOK
	}
	if !s.HitlessHolds {
		return ExitHitlessFails
	}
	return ExitOK
}

// Check runs the searches of o and returns their verdicts. Progress, if
// o.Progress, is drawn on progress.
func Check(o Options, progress io.Writer) Summary {
	if len(o.Profiles) == 0 {
		o.Profiles = quickmode.Profiles
	}
	if o.Checks <= 0 {
		o.Checks = 100
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	start := time.Now()
	s := Summary{Seed: o.Seed, Checks: o.Checks, HitlessHolds: true, peer: o.Peer != nil}
	rs := rowsOf(&o)
	defer func() {
		for _, r := range rs {
			if r.ext != nil {
				r.ext.Close()
			}
		}
	}()
	total := len(rs) * len(props.AllProperties)
	bar := newBar(progress, o.Progress, total*o.Checks)
search:
	for i, row := range rs {
		for j, prop := range props.AllProperties {
			done := (i*len(props.AllProperties) + j) * o.Checks
			opts := props.CheckOptions{Checks: o.Checks, Seed: o.Seed, ShrinkTime: o.Shrink}
			opts.Properties = []props.PropertyID{prop}
			if o.Time > 0 {
				left := o.Time - time.Since(start)
				runs := total - (i*len(props.AllProperties) + j)
				opts.Budget = max(left/time.Duration(runs), time.Millisecond)
				if opts.ShrinkTime == 0 {
					opts.ShrinkTime = 10 * time.Second
				}
				opts.ShrinkTime = min(opts.ShrinkTime, max(opts.Budget, 100*time.Millisecond))
			}
			label := fmt.Sprintf("%s %v", row.name, prop)
			opts.Progress = func(pr props.Progress) { bar.set(done+pr.Checks, label) }
			r := props.Check(row.pair, opts)
			if row.ext != nil && row.ext.Err() != nil {
				s.PeerError, s.PeerStderr = row.ext.Err().Error(), row.ext.Stderr()
				break search
			}
			v := Verdict{Profile: row.name, Property: prop.String(), Holds: r.Holds(), Checks: r.Checks,
				Complete: !r.Holds() || r.Checks >= o.Checks}
			v.Expected = v.Holds || row.ext == nil
			if j < len(row.exp) {
				v.Rare = row.exp[j].Seed != 0
				v.Expected = row.exp[j].Violated != v.Holds || v.Rare
				v.Reason = row.exp[j].Reason
			}
			if !r.Holds() {
				v.Seed, v.Actions, v.trace = r.Seed, r.Actions, r.Counterexample
				if len(r.Violations) > 0 {
					v.Violation = r.Violations[0].Error()
				} else {
					v.Violation = firstLine(r.Report)
				}
				if r.Counterexample != nil {
					v.Ladder, v.Mermaid = ladder.Ladder(r.Counterexample), ladder.Mermaid(r.Counterexample)
				}
				if row.gate {
					s.HitlessHolds = false
				}
			}
			if row.ext != nil {
				s.Implementation = row.ext.Implementation()
			}
			s.Verdicts = append(s.Verdicts, v)
			bar.set(done+o.Checks, label)
		}
	}
	bar.finish()
	s.ElapsedMillis = time.Since(start).Milliseconds()
	return s
}

// row is one row of the verdict table: a pair to search, with the
// verdicts expected of it.
type row struct {
	name string
	pair props.Pair
	exp  []refpair.Expectation
	ext  *extpair.Pair // nil for the reference alone
	gate bool          // a violation makes the run fail (the hitless profile)
}

// rowsOf lists the rows of o: one per profile of the reference, or with
// a shim one per profile and placement (a single one for two copies of
// the shim).
func rowsOf(o *Options) []row {
	var rs []row
	if o.Peer == nil {
		for _, p := range o.Profiles {
			rs = append(rs, row{name: p.Name, pair: refpair.Pair(p, refpair.Options{}), exp: refpair.Expected(p.Name),
				gate: p.Name == quickmode.Hitless.Name})
		}
		return rs
	}
	ends := o.Ends
	if ends == nil {
		ends = []extpair.Ends{extpair.EndA, extpair.EndB}
	}
	po := adapter.Options{Timeout: o.PeerTimeout}
	profiles := o.Profiles
	if len(ends) == 1 && ends[0] == extpair.EndBoth {
		profiles = profiles[:1] // no reference end: one row
	}
	for _, p := range profiles {
		for _, e := range ends {
			x := extpair.New(extpair.Spec{Command: o.Peer, Process: po, Ends: e, Against: p})
			rs = append(rs, row{name: x.Name(), pair: x.Props(), exp: refpair.Expected(o.Expect), ext: x, gate: true})
		}
	}
	return rs
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// cell is a verdict as the table shows it.
func cell(v *Verdict) string {
	c := fmt.Sprintf("holds (%d)", v.Checks)
	if !v.Holds {
		c = fmt.Sprintf("VIOLATED (%d)", v.Checks)
	}
	if !v.Complete {
		c += " (time)"
	}
	switch {
	case !v.Expected:
		c += " !"
	case v.Rare && v.Holds:
		c += " ?"
	}
	return c
}

// rows groups verdicts by profile, in order.
func rows(s *Summary) (profiles []string, by map[string][]*Verdict) {
	by = map[string][]*Verdict{}
	for i := range s.Verdicts {
		v := &s.Verdicts[i]
		if _, ok := by[v.Profile]; !ok {
			profiles = append(profiles, v.Profile)
		}
		by[v.Profile] = append(by[v.Profile], v)
	}
	return profiles, by
}

// WriteText prints the verdict table and the counterexamples' ladders.
func WriteText(w io.Writer, s *Summary) {
	profiles, by := rows(s)
	width := len("profile")
	for _, p := range profiles {
		width = max(width, len(p))
	}
	fmt.Fprintf(w, "%-*s", width, "profile")
	for _, p := range props.AllProperties {
		fmt.Fprintf(w, "  %-18s", p)
	}
	fmt.Fprintln(w)
	for _, p := range profiles {
		fmt.Fprintf(w, "%-*s", width, p)
		for _, v := range by[p] {
			fmt.Fprintf(w, "  %-18s", cell(v))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\n(N) schedules run per search, seed %d; ! = not the profile's expected verdict;\n? = a rare violation this search did not reach (see --report).\n", s.Seed)
	for _, p := range profiles {
		for _, v := range by[p] {
			if v.Holds {
				continue
			}
			fmt.Fprintf(w, "\n== %s: %s (seed %d, %d actions)\n%s\n", v.Profile, v.Violation, v.Seed, v.Actions, v.Ladder)
		}
	}
}

func writeReport(name string, s *Summary) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	WriteMarkdown(f, s)
	if err := f.Close(); err != nil {
		return err
	}
	return nil
}

// WriteMarkdown writes the report: the verdict table, the expected
// verdicts with their reasons, and each counterexample as a Mermaid
// sequenceDiagram followed by its ladder.
func WriteMarkdown(w io.Writer, s *Summary) {
	profiles, by := rows(s)
	fmt.Fprintf(w, "# hitless check\n\nReference gateway, %d schedules per search, seed %d.\n\n| profile |", s.Checks, s.Seed)
	for _, p := range props.AllProperties {
		fmt.Fprintf(w, " %v |", p)
	}
	fmt.Fprintf(w, "\n| --- |%s\n", strings.Repeat(" --- |", len(props.AllProperties)))
	for _, p := range profiles {
		fmt.Fprintf(w, "| `%s` |", p)
		for _, v := range by[p] {
			c := cell(v)
			if !v.Holds {
				c = "**" + c + "**"
			}
			fmt.Fprintf(w, " %s |", c)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\n(N) is the number of schedules run; ! marks a verdict that is not the profile's expected one; ? a rare violation the search did not reach.\n\n## Expected verdicts\n\n")
	for _, p := range profiles {
		for _, v := range by[p] {
			if v.Reason == "" || v.Property != props.NoDrop.String() {
				continue
			}
			want := "holds"
			if v.Holds != v.Expected || v.Rare {
				want = "violated"
			}
			fmt.Fprintf(w, "- `%s`, %s %s: %s.\n", p, v.Property, want, v.Reason)
		}
	}
	for _, v := range s.Verdicts {
		if v.Reason != "" && v.Property != props.NoDrop.String() {
			fmt.Fprintf(w, "- Every profile, %s holds: %s.\n", v.Property, v.Reason)
		}
		if v.Property == props.Bounded.String() {
			break
		}
	}
	for _, p := range profiles {
		for _, v := range by[p] {
			if v.Holds {
				continue
			}
			fmt.Fprintf(w, "\n## `%s`: %s\n\n%s (rapid seed %d, shrunk to %d actions)\n\n%s\n<details><summary>ladder</summary>\n\n```text\n%s```\n\n</details>\n",
				v.Profile, v.Property, v.Violation, v.Seed, v.Actions, v.Mermaid, v.Ladder)
		}
	}
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n == "" {
			return errors.New("empty profile name")
		}
		*l = append(*l, n)
	}
	return nil
}

func names(ps []quickmode.Profile) string {
	var n []string
	for _, p := range ps {
		n = append(n, p.Name)
	}
	return strings.Join(n, ",")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// bar is a one-line progress bar redrawn in place, at most every 100ms.
type bar struct {
	w     io.Writer
	on    bool
	total int
	last  time.Time
	drawn bool
}

func newBar(w io.Writer, on bool, total int) *bar {
	return &bar{w: w, on: on && w != nil, total: max(total, 1)}
}

func (b *bar) set(done int, label string) {
	if !b.on || (b.drawn && time.Since(b.last) < 100*time.Millisecond && done < b.total) {
		return
	}
	b.last, b.drawn = time.Now(), true
	const width = 30
	n := min(width, done*width/b.total)
	fmt.Fprintf(b.w, "\r[%s%s] %3d%% %-40.40s", strings.Repeat("#", n), strings.Repeat(".", width-n), done*100/b.total, label)
}

func (b *bar) finish() {
	if b.on && b.drawn {
		fmt.Fprintf(b.w, "\r%*s\r", 30+2+5+41, "")
	}
}
