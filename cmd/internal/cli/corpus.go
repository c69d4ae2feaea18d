package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hitless-ike/hitless/cmd/internal/corpusio"
	"github.com/hitless-ike/hitless/cmd/internal/minimize"
	"github.com/hitless-ike/hitless/corpus"
	"github.com/hitless-ike/hitless/fuzz"
)

const corpusArgs = "import|export|minimize|stats|crashers [FLAGS] [ARGS]"

const corpusLong = `Moves fuzz inputs between the shareable corpus (DIR/<folder>/<sha256>, raw
bytes) and the formats of the fuzzing engines, in both directions.

TARGET is a Go fuzz target of ./fuzz (FuzzParse, FuzzViewVsParse,
FuzzAttributes, FuzzClassifyUDP4500, FuzzResponderQM1, FuzzInitiatorQM2,
FuzzDecryptParse; the Fuzz prefix and case may be left out) or a corpus
folder (parse, attributes, udp4500, qm1, qm2, encrypted).

FORMAT is one of
  go            folder of "go test fuzz v1" files (testdata/fuzz/FuzzX/)
  raw           folder of raw inputs named by their SHA-256 (the corpus layout)
  libfuzzer     folder of raw inputs named by their SHA-1 (as libFuzzer names them)
  oss-fuzz-zip  zip file of raw inputs (<fuzzer>_seed_corpus.zip)
  pcap          pcap/pcapng capture (import only; ISAKMP messages, marker removed)

  corpus import [--dir DIR] [--target TARGET] [--format FORMAT] [--date DATE] SOURCE...
    adds the inputs of each SOURCE ("-" is stdin for pcap) under their SHA-256
    names, skipping those already there, and appends one line per source to
    PROVENANCE.md (for a capture: its path, SHA-256, DATE if given and message
    count). Importing the same source again changes nothing.
  corpus export --format FORMAT --target TARGET [--dir DIR] --out DIR|FILE
    writes the target's inputs; export then import gives the same corpus.
  corpus minimize --target TARGET [--dir DIR] [--libfuzzer BINARY] --out DIR
    writes a small set of the target's inputs keeping their coverage, in
    --format (raw by default): with --libfuzzer, the libFuzzer binary's
    -merge=1 (fuzz/libfuzzer/build.sh builds it); otherwise one run per input
    of the Go test binary built with -cover and a greedy set cover of the
    covered blocks of --coverpkg (run from the module root).
  corpus stats [--dir DIR] [TARGET...]
    per target: inputs, bytes, smallest and largest, manifest classes
    (accepted/rejected), provenance sources.
  corpus crashers --target TARGET [--out DIR] FILE...
    turns crashers of either engine (libFuzzer crash-*, or Go files) into Go
    regression inputs DIR/<FuzzX>/<sha256> that "go test ./fuzz" replays, and
    says whether each still fails.`

// corpusSub is one `hitless corpus` subcommand.
type corpusSub struct {
	name string
	run  func(env Env, fs *flag.FlagSet, args []string) int
}

func corpusSubs() []corpusSub {
	return []corpusSub{
		{"import", runCorpusImport},
		{"export", runCorpusExport},
		{"minimize", runCorpusMinimize},
		{"stats", runCorpusStats},
		{"crashers", runCorpusCrashers},
	}
}

func runCorpus(env Env, args []string) int {
	c := find("corpus")
	if len(args) == 0 {
		newFlags(env, c, "corpus").Usage() // to stderr
		return ExitUsage
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		code, _ := parse(env, newFlags(env, c, "corpus"), []string{"-h"})
		return code
	}
	for _, s := range corpusSubs() {
		if s.name == args[0] {
			return s.run(env, newFlags(env, c, "corpus "+s.name), args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "hitless corpus: unknown subcommand %q (want import, export, minimize, stats or crashers)\n", args[0])
	return ExitUsage
}

// resolveTarget maps TARGET to its corpus folder and, when it names a Go
// fuzz target (or a folder that exactly one target reads), that target.
func resolveTarget(name string) (string, *fuzz.Target) {
	if t, err := fuzz.Lookup(name); err == nil {
		return t.Corpus, &t
	}
	var only []fuzz.Target
	for _, t := range fuzz.Targets() {
		if t.Corpus == name {
			only = append(only, t)
		}
	}
	if len(only) == 1 {
		return name, &only[0]
	}
	return name, nil
}

// formatFlag registers --format and returns a getter that validates it.
func formatFlag(fs *flag.FlagSet, def string) func() (corpusio.Format, error) {
	s := fs.String("format", def, "go, raw, libfuzzer, oss-fuzz-zip or pcap")
	return func() (corpusio.Format, error) { return corpusio.ParseFormat(*s) }
}

func usageErr(env Env, sub, msg string) int {
	fmt.Fprintf(env.Stderr, "hitless corpus %s: %s\n", sub, msg)
	return ExitUsage
}

func runCorpusImport(env Env, fs *flag.FlagSet, args []string) int {
	im := corpusio.Importer{}
	fs.StringVar(&im.Dir, "dir", "corpus", "corpus root directory")
	target := fs.String("target", corpusio.DefaultTarget, "fuzz target or corpus folder")
	fs.StringVar(&im.Date, "date", "", "date recorded in PROVENANCE.md (omitted when empty, for reproducible output)")
	format := formatFlag(fs, string(corpusio.FormatPcap))
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	f, err := format()
	if err != nil {
		return usageErr(env, "import", err.Error())
	}
	if fs.NArg() == 0 {
		return usageErr(env, "import", "at least one SOURCE is required")
	}
	im.Target, _ = resolveTarget(*target)
	code := ExitOK
	for _, name := range fs.Args() {
		var res corpusio.Result
		if f == corpusio.FormatPcap {
			in, done, oerr := open(env, name)
			if oerr != nil {
				fmt.Fprintf(env.Stderr, "hitless corpus import: %v\n", oerr)
				code = ExitInput
				continue
			}
			res, err = im.Import(filepath.ToSlash(name), in)
			done()
			if err == nil {
				for _, fe := range res.Skipped {
					fmt.Fprintf(env.Stderr, "%s: %v\n", name, fe)
				}
				if len(res.Skipped) > 0 && code == ExitOK {
					code = ExitBad
				}
			}
		} else {
			var inputs [][]byte
			if inputs, err = corpusio.ReadInputs(f, name); err == nil {
				res, err = im.ImportInputs(filepath.ToSlash(name), f, inputs)
			}
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "hitless corpus import: %s: %v\n", name, err)
			if errors.Is(err, corpusio.ErrTarget) {
				return ExitUsage
			}
			code = ExitInput
			continue
		}
		what := "ISAKMP messages"
		if f != corpusio.FormatPcap {
			what = "inputs"
		}
		fmt.Fprintf(env.Stdout, "%s: %d %s, %d added, %d already present\n", name, res.Messages, what, res.Added, res.Duplicates)
	}
	return code
}

// loadTarget reads the inputs of a corpus folder of the tree at dir.
func loadTarget(dir, folder string) ([][]byte, error) {
	in, err := corpus.LoadFS(os.DirFS(dir), folder)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(in))
	for i, s := range in {
		out[i] = s.Data
	}
	return out, nil
}

func runCorpusExport(env Env, fs *flag.FlagSet, args []string) int {
	dir := fs.String("dir", "corpus", "corpus root directory")
	target := fs.String("target", "", "fuzz target or corpus folder (required)")
	out := fs.String("out", "", "output folder, or zip file for oss-fuzz-zip (required)")
	format := formatFlag(fs, "")
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	f, err := format()
	if err != nil || f == corpusio.FormatPcap {
		return usageErr(env, "export", "--format go, raw, libfuzzer or oss-fuzz-zip is required")
	}
	if *target == "" || *out == "" || fs.NArg() != 0 {
		return usageErr(env, "export", "--target and --out are required, and no other arguments")
	}
	folder, _ := resolveTarget(*target)
	inputs, err := loadTarget(*dir, folder)
	if errors.Is(err, corpus.ErrUnknownTarget) {
		return usageErr(env, "export", err.Error())
	} else if err != nil {
		fmt.Fprintf(env.Stderr, "hitless corpus export: %v\n", err)
		return ExitInput
	}
	n, err := corpusio.Export(f, *out, inputs)
	if err != nil {
		fmt.Fprintf(env.Stderr, "hitless corpus export: %v\n", err)
		return ExitInput
	}
	fmt.Fprintf(env.Stdout, "%s: %d inputs of %s/%s as %s\n", *out, n, *dir, folder, f)
	return ExitOK
}

func runCorpusMinimize(env Env, fs *flag.FlagSet, args []string) int {
	dir := fs.String("dir", "corpus", "corpus root directory")
	target := fs.String("target", "", "Go fuzz target (required)")
	out := fs.String("out", "", "output folder, or zip file for oss-fuzz-zip (required)")
	bin := fs.String("libfuzzer", "", "libFuzzer binary of the target: minimize with -merge=1")
	coverpkg := fs.String("coverpkg", "github.com/hitless-ike/hitless/ref/...", "packages whose coverage the Go engine keeps")
	format := formatFlag(fs, string(corpusio.FormatRaw))
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	f, err := format()
	if err != nil || f == corpusio.FormatPcap {
		return usageErr(env, "minimize", "--format must be go, raw, libfuzzer or oss-fuzz-zip")
	}
	folder, t := resolveTarget(*target)
	if t == nil || *out == "" || fs.NArg() != 0 {
		return usageErr(env, "minimize", "--target naming a Go fuzz target and --out are required")
	}
	inputs, err := loadTarget(*dir, folder)
	if err != nil {
		fmt.Fprintf(env.Stderr, "hitless corpus minimize: %v\n", err)
		return ExitInput
	}
	ctx := context.Background()
	var kept [][]byte
	engine := "libFuzzer -merge=1"
	if *bin != "" {
		kept, err = minimize.LibFuzzer{Binary: *bin}.Minimize(ctx, inputs)
	} else {
		engine = "Go coverage of " + *coverpkg
		g := minimize.GoCover{ModuleDir: ".", Package: "./fuzz", Target: t.Name, CoverPkg: *coverpkg, Workers: 2}
		var feats [][]string
		if feats, err = g.Features(ctx, inputs); err == nil {
			size := make([]int, len(inputs))
			for i, in := range inputs {
				size[i] = len(in)
			}
			for _, i := range minimize.Cover(size, feats) {
				kept = append(kept, inputs[i])
			}
		}
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "hitless corpus minimize: %v\n", err)
		return ExitInput
	}
	n, err := corpusio.Export(f, *out, kept)
	if err != nil {
		fmt.Fprintf(env.Stderr, "hitless corpus minimize: %v\n", err)
		return ExitInput
	}
	fmt.Fprintf(env.Stdout, "%s: %d of %d inputs (%d of %d bytes) keep the coverage (%s)\n",
		*out, n, len(inputs), total(kept), total(inputs), engine)
	return ExitOK
}

func total(in [][]byte) (n int) {
	for _, b := range in {
		n += len(b)
	}
	return n
}

func runCorpusStats(env Env, fs *flag.FlagSet, args []string) int {
	dir := fs.String("dir", "corpus", "corpus root directory")
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	targets := fs.Args()
	if len(targets) == 0 {
		targets = corpus.Targets()
	}
	code := ExitOK
	for _, name := range targets {
		folder, _ := resolveTarget(name)
		st, err := corpusio.ReadStats(os.DirFS(*dir), folder)
		if errors.Is(err, corpus.ErrUnknownTarget) {
			return usageErr(env, "stats", err.Error())
		} else if err != nil {
			fmt.Fprintf(env.Stderr, "hitless corpus stats: %v\n", err)
			code = ExitInput
			continue
		}
		var readers []string
		for _, t := range fuzz.Targets() {
			if t.Corpus == folder {
				readers = append(readers, t.Name)
			}
		}
		fmt.Fprintf(env.Stdout, "%s (%s): %d inputs, %d bytes, sizes %d..%d; %d classes (%d accepted, %d rejected)\n",
			folder, strings.Join(readers, ", "), st.Files, st.Bytes, st.Min, st.Max, st.Classes, st.Classes-st.Rejected, st.Rejected)
		if st.Misnamed > 0 {
			fmt.Fprintf(env.Stdout, "  %d inputs not named by their SHA-256\n", st.Misnamed)
			code = ExitBad
		}
		for _, s := range st.Sources {
			fmt.Fprintf(env.Stdout, "  source %s\n", s)
		}
	}
	return code
}

func runCorpusCrashers(env Env, fs *flag.FlagSet, args []string) int {
	target := fs.String("target", "", "Go fuzz target (required)")
	out := fs.String("out", filepath.Join("fuzz", "testdata", "fuzz"), "Go fuzz testdata root")
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	_, t := resolveTarget(*target)
	if t == nil || fs.NArg() == 0 {
		return usageErr(env, "crashers", "--target naming a Go fuzz target and at least one FILE are required")
	}
	var inputs [][]byte
	code := ExitOK
	for _, name := range fs.Args() {
		in, err := corpusio.ReadCrasher(name)
		if err != nil {
			fmt.Fprintf(env.Stderr, "hitless corpus crashers: %v\n", err)
			code = ExitInput
			continue
		}
		inputs = append(inputs, in)
		state := "passes now"
		if err := fuzz.Check(t.Check, in); err != nil {
			state = "still fails: " + firstLine(err.Error())
		}
		fmt.Fprintf(env.Stdout, "%s -> %s: %s\n", name, filepath.Join(*out, t.Name, corpusio.Name(in)), state)
	}
	if _, err := corpusio.Export(corpusio.FormatGo, filepath.Join(*out, t.Name), inputs); err != nil {
		fmt.Fprintf(env.Stderr, "hitless corpus crashers: %v\n", err)
		return ExitInput
	}
	return code
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
