package corpus_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/corpus"
	"github.com/hitless-ike/hitless/corpus/capture"
	"github.com/hitless-ike/hitless/corpus/internal/generate"
	"github.com/hitless-ike/hitless/fuzz"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// root is the module root, relative to this package's directory.
const root = ".."

// working is the corpus as checked out, including files embed would skip.
var working = os.DirFS(".")

// sentinels maps the expected-outcome names of the manifests to errors.
var sentinels = map[string]error{
	"ErrTruncated":             isakmp.ErrTruncated,
	"ErrBadLength":             isakmp.ErrBadLength,
	"ErrUnequalPayloadLengths": isakmp.ErrUnequalPayloadLengths,
	"ErrTrailingData":          isakmp.ErrTrailingData,
	"ErrInvalidPayloadType":    isakmp.ErrInvalidPayloadType,
	"ErrInvalidSPI":            isakmp.ErrInvalidSPI,
	"ErrInvalidProtocol":       isakmp.ErrInvalidProtocol,
	"ErrReservedNotZero":       isakmp.ErrReservedNotZero,
	"ErrInvalidMajorVersion":   isakmp.ErrInvalidMajorVersion,
	"ErrInvalidMinorVersion":   isakmp.ErrInvalidMinorVersion,
	"ErrInvalidFlags":          isakmp.ErrInvalidFlags,
	"ErrCountMismatch":         isakmp.ErrCountMismatch,
	"ErrBadProposalSyntax":     isakmp.ErrBadProposalSyntax,
	"ErrUnsupportedDOI":        isakmp.ErrUnsupportedDOI,
	"ErrUnsupportedSituation":  isakmp.ErrUnsupportedSituation,
	"ErrInvalidID":             isakmp.ErrInvalidID,
	"ErrUDPFraming":            isakmp.ErrUDPFraming,
}

// qmSentinels are the expected-outcome names of the qm1 and qm2 manifests.
var qmSentinels = map[string]error{
	"ErrMalformed":         quickmode.ErrMalformed,
	"ErrBadHash":           quickmode.ErrBadHash,
	"ErrMissingPayload":    quickmode.ErrMissingPayload,
	"ErrUnexpectedPayload": quickmode.ErrUnexpectedPayload,
	"ErrNonceLength":       quickmode.ErrNonceLength,
	"ErrNoProposalChosen":  quickmode.ErrNoProposalChosen,
	"ErrInvalidSPI":        quickmode.ErrInvalidSPI,
	"ErrInvalidKE":         quickmode.ErrInvalidKE,
	"ErrInvalidID":         quickmode.ErrInvalidID,
}

// encryptedSentinels are the names of the encrypted manifest: the fuzz
// framing, ikecrypto's decryption errors, then the parser's.
var encryptedSentinels = map[string]error{
	"ErrShortInput":       fuzz.ErrShortInput,
	"ErrMessageID":        ikecrypto.ErrMessageID,
	"ErrEmpty":            ikecrypto.ErrEmpty,
	"ErrNotBlockMultiple": ikecrypto.ErrNotBlockMultiple,
}

// sentinelFor returns the error a manifest's expected name stands for in
// target, and whether it must come as an *isakmp.Error.
func sentinelFor(target, name string) (err error, parseErr bool) {
	switch target {
	case corpus.TargetQM1, corpus.TargetQM2:
		return qmSentinels[name], false
	case corpus.TargetEncrypted:
		if e, ok := encryptedSentinels[name]; ok {
			return e, false
		}
	}
	return sentinels[name], true
}

// TestFileNames checks that every file of a target folder is metadata or
// an input named by the SHA-256 of its content (so no content appears
// twice), and that the embedded corpus is the checked-out one.
func TestFileNames(t *testing.T) {
	for _, target := range corpus.Targets() {
		ents, err := fs.ReadDir(working, target)
		if err != nil {
			t.Fatal(err)
		}
		onDisk := 0
		for _, e := range ents {
			n := e.Name()
			switch {
			case n == corpus.ManifestFile || n == corpus.ProvenanceFile:
			case !corpus.IsInputName(n):
				t.Errorf("%s/%s: not a metadata file and not named by SHA-256", target, n)
			default:
				onDisk++
				b, err := fs.ReadFile(working, path.Join(target, n))
				if err != nil {
					t.Fatal(err)
				}
				if got := corpus.Name(b); got != n {
					t.Errorf("%s/%s: content hashes to %s", target, n, got)
				}
			}
		}
		in, err := corpus.Load(target)
		if err != nil {
			t.Fatal(err)
		}
		if len(in) != onDisk || len(in) == 0 {
			t.Errorf("%s: %d embedded inputs, %d on disk", target, len(in), onDisk)
		}
	}
}

// kind returns the sentinel an *isakmp.Error wraps, err itself otherwise.
func kind(err error) error {
	var pe *isakmp.Error
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// outcome runs the target's code under test on b and names the result as
// manifests do.
func outcome(target string, b []byte) (string, error) {
	var err error
	switch target {
	case corpus.TargetParse:
		_, err = isakmp.Parse(b)
	case corpus.TargetAttributes:
		// Both framings must agree; report the phase-1 one.
		_, err = isakmp.Parse(corpus.WrapAttributes(nil, b, false))
		_, err2 := isakmp.Parse(corpus.WrapAttributes(nil, b, true))
		if kind(err) != kind(err2) {
			return "phase-1 and ESP framings disagree", nil
		}
	case corpus.TargetUDP4500:
		var k isakmp.Kind
		k, _, err = isakmp.ClassifyUDP4500(b)
		if err == nil {
			return k.String(), nil
		}
	case corpus.TargetQM1:
		_, err = fuzz.RespondQM1(b)
	case corpus.TargetQM2:
		_, err = fuzz.AnswerQM2(b)
	case corpus.TargetEncrypted:
		_, err = fuzz.OpenEncrypted(b)
	}
	if err == nil {
		return "ok", nil
	}
	return "", err
}

// TestManifests checks every manifest line: the file exists, hash and
// class are unique, and the input produces exactly the declared outcome.
func TestManifests(t *testing.T) {
	for _, target := range corpus.Targets() {
		cs, err := corpus.ManifestFS(working, target)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			t.Errorf("%s: no manifest", target)
		}
		seenName, seenClass := map[string]bool{}, map[string]bool{}
		for _, c := range cs {
			if seenName[c.Name] || seenClass[c.Class] {
				t.Errorf("%s: %s (%s) listed twice", target, c.Class, c.Name)
			}
			seenName[c.Name], seenClass[c.Class] = true, true
			b, err := fs.ReadFile(working, path.Join(target, c.Name))
			if err != nil {
				t.Errorf("%s/%s: %v", target, c.Class, err)
				continue
			}
			got, err := outcome(target, b)
			if err != nil {
				want, parseErr := sentinelFor(target, c.Expected)
				if want == nil || !errors.Is(err, want) {
					t.Errorf("%s/%s: rejected with %v, want %s", target, c.Class, err, c.Expected)
				}
				var pe *isakmp.Error
				var qe *quickmode.Error
				switch {
				case parseErr && !errors.As(err, &pe):
					t.Errorf("%s/%s: error %T is not *isakmp.Error", target, c.Class, err)
				case (target == corpus.TargetQM1 || target == corpus.TargetQM2) && !errors.As(err, &qe):
					t.Errorf("%s/%s: error %T is not *quickmode.Error", target, c.Class, err)
				}
				continue
			}
			if got != c.Expected {
				t.Errorf("%s/%s: outcome %s, want %s", target, c.Class, got, c.Expected)
			}
		}
	}
}

// derive extracts from one capture what each target takes from it, by the
// rules PROVENANCE.md states: ISAKMP messages (port 4500 marker stripped,
// port 500 winning over 4500), raw port-4500 payloads, and the attribute
// lists of plaintext SA payloads.
func derive(t *testing.T, file string) map[string]map[string]bool {
	t.Helper()
	ds, err := capture.ReadFile(file)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := map[string]map[string]bool{}
	for _, tg := range corpus.Targets() {
		out[tg] = map[string]bool{}
	}
	for _, d := range ds {
		msg := d.Payload
		sp, dp := d.Src.Port(), d.Dst.Port()
		if (sp == 4500 || dp == 4500) && sp != 500 && dp != 500 {
			out[corpus.TargetUDP4500][corpus.Name(msg)] = true
			if len(msg) < 4 || !bytes.Equal(msg[:4], isakmp.NonESPMarker[:]) {
				continue
			}
			msg = msg[4:]
		}
		out[corpus.TargetParse][corpus.Name(msg)] = true
		m, err := isakmp.Parse(msg)
		if err != nil {
			continue
		}
		for _, p := range m.Payloads {
			sa, ok := p.(*isakmp.SA)
			if !ok {
				continue
			}
			for _, pr := range sa.Proposals {
				for _, tr := range pr.Transforms {
					var attrs []byte
					for _, a := range tr.Attributes {
						if a.Basic {
							attrs = append(attrs, byte(a.Type>>8)|0x80, byte(a.Type), byte(a.Value>>8), byte(a.Value))
						} else {
							attrs = append(attrs, byte(a.Type>>8), byte(a.Type), byte(len(a.Data)>>8), byte(len(a.Data)))
							attrs = append(attrs, a.Data...)
						}
					}
					out[corpus.TargetAttributes][corpus.Name(attrs)] = true
				}
			}
		}
	}
	return out
}

var (
	// provenanceLine starts every source line: the source and, for a
	// capture or a decrypted capture, its SHA-256.
	provenanceLine = regexp.MustCompile("^- `([^`]+)` sha256:([0-9a-f]{64}) ")
	// decryptedLine is a phase-2 target's source: a capture and the
	// charon log whose secrets decrypt it (written by the generator).
	decryptedLine = regexp.MustCompile("^- `([^`]+)` sha256:([0-9a-f]{64}) inputs:\\d+ decrypted with `([^`]+)` sha256:([0-9a-f]{64}) by ")
	// importLine is what `hitless corpus import --format go|raw|libfuzzer|
	// oss-fuzz-zip` appends: the set's SHA-256 is that of the sorted,
	// distinct input names joined by newlines.
	importLine = regexp.MustCompile("^- `([^`]+)` format:(go|raw|libfuzzer|oss-fuzz-zip) set-sha256:([0-9a-f]{64})(?: date:\\S+)? inputs:(\\d+) imported by `hitless corpus import`$")
)

// sourcePath resolves a provenance path: imports run from the module root.
func sourcePath(p string) string {
	file := filepath.FromSlash(p)
	if !filepath.IsAbs(file) {
		file = filepath.Join(root, file)
	}
	return file
}

// checkSum fails unless the file at p has the recorded SHA-256.
func checkSum(t *testing.T, target, p, want string) bool {
	t.Helper()
	raw, err := os.ReadFile(sourcePath(p))
	if err != nil {
		t.Errorf("%s: provenance source %s: %v", target, p, err)
		return false
	}
	if corpus.Name(raw) != want {
		t.Errorf("%s: %s has changed since it was imported", target, p)
		return false
	}
	return true
}

// TestProvenance checks that every input is listed in its manifest or
// comes from a source its PROVENANCE.md lists: a capture with the recorded
// SHA-256 (re-derived here), a capture decrypted with a charon log (both
// SHA-256s checked, the seeds re-derived by the generator's decryption),
// or a set imported by `hitless corpus import` from Go, raw, libFuzzer or
// OSS-Fuzz zip inputs (re-read, set-sha256 and count recomputed).
func TestProvenance(t *testing.T) {
	for _, target := range corpus.Targets() {
		pv, err := fs.ReadFile(working, path.Join(target, corpus.ProvenanceFile))
		if err != nil {
			t.Fatal(err)
		}
		in, err := corpus.LoadFS(working, target)
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, f := range in {
			have[f.Name] = true
		}
		explained := map[string]bool{}
		cs, _ := corpus.ManifestFS(working, target)
		for _, c := range cs {
			explained[c.Name] = true
		}
		sc := bufio.NewScanner(bytes.NewReader(pv))
		sources := 0
		var gone []importSet // imports whose source is no longer there
		for sc.Scan() {
			line := sc.Text()
			if m := importLine.FindStringSubmatch(line); m != nil {
				sources++
				set, err := readImport(m)
				switch {
				case errors.Is(err, fs.ErrNotExist):
					gone = append(gone, set)
				case err != nil:
					t.Errorf("%s: %v", target, err)
				default:
					for _, n := range set.names {
						if !have[n] {
							t.Errorf("%s: input %s imported from %s is missing", target, n, m[1])
						}
						explained[n] = true
					}
				}
				continue
			}
			if m := decryptedLine.FindStringSubmatch(line); m != nil {
				sources++
				if !checkSum(t, target, m[1], m[2]) || !checkSum(t, target, m[3], m[4]) {
					continue
				}
				if generate.LogOf(m[1]) != m[3] {
					t.Errorf("%s: %s is not keyed by %s", target, m[1], m[3])
					continue
				}
				seeds, err := generate.Phase2Inputs(root, m[1])
				if err != nil {
					t.Errorf("%s: %s: %v", target, m[1], err)
					continue
				}
				for _, b := range seeds[target] {
					explained[corpus.Name(b)] = true
				}
				continue
			}
			m := provenanceLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			sources++
			if checkSum(t, target, m[1], m[2]) {
				for n := range derive(t, sourcePath(m[1]))[target] {
					explained[n] = true
				}
			}
		}
		if sources == 0 {
			t.Errorf("%s: PROVENANCE.md lists no source", target)
		}
		var rest []string
		for _, f := range in {
			if !explained[f.Name] {
				rest = append(rest, f.Name)
			}
		}
		// An import whose source was not kept can only be checked when it
		// is the one source left to explain the rest: then the rest must
		// be exactly its set.
		if len(gone) == 1 && len(rest) > 0 && setSHA(rest) == gone[0].sha && len(rest) == gone[0].n {
			rest = nil
		} else if len(rest) > 0 {
			for _, g := range gone {
				t.Errorf("%s: import source %s is gone and the unexplained inputs are not its set", target, g.src)
			}
		}
		for _, n := range rest {
			t.Errorf("%s/%s: neither in %s nor from a listed source", target, n, corpus.ManifestFile)
		}
	}
}

// importSet is one import line.
type importSet struct {
	src   string
	sha   string // set-sha256
	n     int    // inputs:
	names []string
}

// setSHA is the set-sha256 of input names: sorted, distinct, one a line.
func setSHA(names []string) string {
	s := slices.Clone(names)
	slices.Sort(s)
	return corpus.Name([]byte(strings.Join(slices.Compact(s), "\n")))
}

// readImport rereads the source of an import line (a folder of Go, raw or
// libFuzzer inputs, or an OSS-Fuzz zip) and checks that its inputs are
// the set the line names. A source that no longer exists yields
// fs.ErrNotExist and the set as recorded.
func readImport(m []string) (importSet, error) {
	set := importSet{src: m[1], sha: m[3]}
	set.n, _ = strconv.Atoi(m[4])
	inputs, err := readInputs(m[2], sourcePath(m[1]))
	if err != nil {
		return set, fmt.Errorf("import source %s: %w", m[1], err)
	}
	for _, b := range inputs {
		set.names = append(set.names, corpus.Name(b))
	}
	set.names = slices.Compact(slices.Sorted(slices.Values(set.names)))
	if got := setSHA(set.names); got != set.sha || len(set.names) != set.n {
		return set, fmt.Errorf("import source %s: %d inputs with set-sha256 %s, the line says %d and %s", m[1], len(set.names), got, set.n, set.sha)
	}
	return set, nil
}

// readInputs reads the inputs of an import source as the importer does:
// a folder's regular files except names starting with '.' or an upper-case
// letter (metadata), or a zip's entries likewise; Go corpus files hold one
// quoted []byte value.
func readInputs(format, src string) ([][]byte, error) {
	skip := func(n string) bool { return n == "" || n[0] == '.' || (n[0] >= 'A' && n[0] <= 'Z') }
	var out [][]byte
	if format == "oss-fuzz-zip" {
		zr, err := zip.OpenReader(src)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		for _, zf := range zr.File {
			if zf.FileInfo().IsDir() || skip(path.Base(zf.Name)) {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
			rc.Close()
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
		return out, nil
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || skip(e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return nil, err
		}
		if format == "go" {
			lit, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "go test fuzz v1\n[]byte(")
			lit, ok2 := strings.CutSuffix(lit, ")")
			s, err := strconv.Unquote(lit)
			if !ok || !ok2 || err != nil {
				return nil, fmt.Errorf("%s: not a go test fuzz v1 file with one []byte value", e.Name())
			}
			b = []byte(s)
		}
		out = append(out, b)
	}
	return out, nil
}

// TestImportLines covers the import provenance lines TestProvenance
// accepts, one input class each, with sources in a temporary folder.
func TestImportLines(t *testing.T) {
	dir := t.TempDir()
	inputs := [][]byte{[]byte("a"), []byte("bb"), []byte("a")} // a duplicate counts once
	names := []string{corpus.Name(inputs[0]), corpus.Name(inputs[1])}
	write := func(p string, b []byte) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range inputs {
		write(filepath.Join(dir, "raw", corpus.Name(b)), b)
		write(filepath.Join(dir, "lf", fmt.Sprintf("crash-%d", i)), b)
		write(filepath.Join(dir, "go", fmt.Sprintf("%d", i)), []byte("go test fuzz v1\n[]byte("+strconv.Quote(string(b))+")\n"))
	}
	write(filepath.Join(dir, "raw", corpus.ProvenanceFile), []byte("metadata, skipped"))
	write(filepath.Join(dir, "badgo", "x"), []byte("go test fuzz v1\nstring(\"a\")\n"))
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for _, b := range inputs[:2] {
		w, _ := zw.Create(corpus.Name(b))
		w.Write(b)
	}
	zw.Close()
	write(filepath.Join(dir, "seed.zip"), zb.Bytes())

	good := setSHA(names)
	line := func(src, format, sha string, n int) string {
		return fmt.Sprintf("- `%s` format:%s set-sha256:%s date:2026-11-27 inputs:%d imported by `hitless corpus import`",
			filepath.ToSlash(filepath.Join(dir, src)), format, sha, n)
	}
	for _, c := range []struct {
		class, line string
		ok, gone    bool
	}{
		{"raw folder", line("raw", "raw", good, 2), true, false},
		{"libfuzzer folder with any names", line("lf", "libfuzzer", good, 2), true, false},
		{"go corpus folder", line("go", "go", good, 2), true, false},
		{"oss-fuzz zip", line("seed.zip", "oss-fuzz-zip", good, 2), true, false},
		{"set-sha256 of another set", line("raw", "raw", strings.Repeat("0", 64), 2), false, false},
		{"input count differs", line("raw", "raw", good, 3), false, false},
		{"go file without a []byte value", line("badgo", "go", good, 2), false, false},
		{"source gone", line("nope", "raw", good, 2), false, true},
	} {
		m := importLine.FindStringSubmatch(c.line)
		if m == nil {
			t.Errorf("%s: line not recognised: %s", c.class, c.line)
			continue
		}
		set, err := readImport(m)
		switch {
		case c.ok && (err != nil || !slices.Equal(set.names, slices.Sorted(slices.Values(names)))):
			t.Errorf("%s: %v, names %v", c.class, err, set.names)
		case !c.ok && err == nil:
			t.Errorf("%s: accepted", c.class)
		case errors.Is(err, fs.ErrNotExist) != c.gone:
			t.Errorf("%s: %v, gone=%v", c.class, err, c.gone)
		}
	}
	if importLine.MatchString("- `x` format:pcap set-sha256:" + good + " inputs:1 imported by `hitless corpus import`") {
		t.Error("a pcap import is a capture line, not a set")
	}
}

// TestGeneratorReproduces runs the generator into a temporary directory
// and compares: every generated file must be committed byte for byte
// (provenance may have lines appended by imports), and a second run must
// produce the same set.
func TestGeneratorReproduces(t *testing.T) {
	dir := t.TempDir()
	if err := generate.Write(root, dir); err != nil {
		t.Fatal(err)
	}
	gen := os.DirFS(dir)
	n := 0
	err := fs.WalkDir(gen, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		want, err := fs.ReadFile(gen, p)
		if err != nil {
			return err
		}
		got, err := fs.ReadFile(working, p)
		switch {
		case err != nil:
			t.Errorf("%s: generated but not committed (%v); run go generate ./corpus", p, err)
		case path.Base(p) == corpus.ProvenanceFile && bytes.HasPrefix(got, want):
		case !bytes.Equal(got, want):
			t.Errorf("%s: committed file differs from the generator's; run go generate ./corpus", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("generator wrote nothing")
	}
	again, err := generate.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != n {
		t.Errorf("second run: %d files, first run %d", len(again), n)
	}
	for p, b := range again {
		if w, err := fs.ReadFile(gen, p); err != nil || !bytes.Equal(w, b) {
			t.Errorf("%s: differs between two runs", p)
		}
	}
}

// TestDict checks the dictionary format both libFuzzer and AFL read: every
// entry is name="..." with \xNN escapes only, preceded by a comment.
func TestDict(t *testing.T) {
	entry := regexp.MustCompile(`^[a-z0-9_]+="(\\x[0-9a-f]{2})+"$`)
	lines := strings.Split(strings.TrimRight(string(corpus.Dict()), "\n"), "\n")
	entries := 0
	for i, l := range lines {
		if l == "" || l[0] == '#' {
			continue
		}
		if !entry.MatchString(l) {
			t.Errorf("line %d: %q is not a dictionary entry", i+1, l)
		}
		if i == 0 || !strings.HasPrefix(lines[i-1], "# ") {
			t.Errorf("line %d: entry without a comment", i+1)
		}
		entries++
	}
	if entries < 50 || !strings.Contains(string(corpus.Dict()), `non_esp_marker="\x00\x00\x00\x00"`) {
		t.Errorf("dictionary has %d entries or lacks the non-ESP marker", entries)
	}
}

// TestBadInput covers the loader's bad-input classes.
func TestBadInput(t *testing.T) {
	if _, err := corpus.Load("../captures"); !errors.Is(err, corpus.ErrUnknownTarget) {
		t.Errorf("path-like target: %v, want ErrUnknownTarget", err)
	}
	if _, err := corpus.Manifest("nope"); !errors.Is(err, corpus.ErrUnknownTarget) {
		t.Errorf("unknown target: %v, want ErrUnknownTarget", err)
	}
	h := corpus.Name(nil)
	for class, text := range map[string]string{
		"too few fields":       h + "\tclass\n",
		"too many fields":      h + "\tclass\tok\textra\n",
		"name not a hash":      "abc\tclass\tok\n",
		"uppercase hash":       strings.ToUpper(h) + "\tclass\tok\n",
		"empty class":          h + "\t\tok\n",
		"empty expected value": h + "\tclass\t\n",
	} {
		if _, err := corpus.ParseManifest([]byte(text)); !errors.Is(err, corpus.ErrManifest) {
			t.Errorf("%s: %v, want ErrManifest", class, err)
		}
	}
	cs, err := corpus.ParseManifest([]byte("# comment\n\n" + h + "\tempty\tok\n"))
	if err != nil || len(cs) != 1 || cs[0] != (corpus.Class{Name: h, Class: "empty", Expected: "ok"}) {
		t.Errorf("valid manifest: %v %v", cs, err)
	}
}

// TestWrapAttributes checks the framing against the ISAKMP parser, and the
// cut at MaxAttributes.
func TestWrapAttributes(t *testing.T) {
	attrs := []byte{0x80, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 1, 2, 3}
	for _, esp := range []bool{false, true} {
		m, err := isakmp.Parse(corpus.WrapAttributes(nil, attrs, esp))
		if err != nil {
			t.Fatalf("esp=%v: %v", esp, err)
		}
		p := m.Payloads[0].(*isakmp.SA).Proposals[0]
		if want := map[bool]isakmp.ProtocolID{false: isakmp.ProtoISAKMP, true: isakmp.ProtoIPsecESP}[esp]; p.Protocol != want {
			t.Errorf("esp=%v: protocol %v", esp, p.Protocol)
		}
		as := p.Transforms[0].Attributes
		if len(as) != 2 || !as[0].Basic || as[0].Value != 1 || as[1].Basic || !bytes.Equal(as[1].Data, []byte{1, 2, 3}) {
			t.Errorf("esp=%v: attributes %+v", esp, as)
		}
	}
	// A longer list is cut where the SA payload length (16 bits) is full.
	long := bytes.Repeat([]byte{0x80, 0x01, 0x00, 0x01}, corpus.MaxAttributes/4+2)
	w := corpus.WrapAttributes(nil, long, true)
	if !bytes.Equal(w, corpus.WrapAttributes(nil, long[:corpus.MaxAttributes], true)) {
		t.Error("list longer than MaxAttributes not cut there")
	}
	if sa := int(w[isakmp.HeaderLen+2])<<8 | int(w[isakmp.HeaderLen+3]); sa != 0xffff || len(w) != isakmp.HeaderLen+sa {
		t.Errorf("cut list: SA payload of %d bytes in %d, want 65535", sa, len(w))
	}
}
