package corpus_test

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/corpus"
	"github.com/hitless-ike/hitless/corpus/capture"
	"github.com/hitless-ike/hitless/corpus/internal/generate"
	"github.com/hitless-ike/hitless/ref/isakmp"
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
				want, ok := sentinels[c.Expected]
				if !ok {
					t.Errorf("%s/%s: rejected with %v, want %s", target, c.Class, err, c.Expected)
				} else if !errors.Is(err, want) {
					t.Errorf("%s/%s: rejected with %v, want %s", target, c.Class, err, c.Expected)
				}
				var pe *isakmp.Error
				if !errors.As(err, &pe) {
					t.Errorf("%s/%s: error %T is not *isakmp.Error", target, c.Class, err)
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

var provenanceLine = regexp.MustCompile("^- `([^`]+)` sha256:([0-9a-f]{64}) ")

// TestProvenance checks that every input is listed in its manifest or comes
// from a capture its PROVENANCE.md lists, with the recorded SHA-256.
func TestProvenance(t *testing.T) {
	for _, target := range corpus.Targets() {
		pv, err := fs.ReadFile(working, path.Join(target, corpus.ProvenanceFile))
		if err != nil {
			t.Fatal(err)
		}
		explained := map[string]bool{}
		cs, _ := corpus.ManifestFS(working, target)
		for _, c := range cs {
			explained[c.Name] = true
		}
		sc := bufio.NewScanner(bytes.NewReader(pv))
		sources := 0
		for sc.Scan() {
			m := provenanceLine.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			sources++
			file := filepath.FromSlash(m[1])
			if !filepath.IsAbs(file) {
				file = filepath.Join(root, file) // imports run from the module root
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Errorf("%s: provenance source %s: %v", target, m[1], err)
				continue
			}
			if corpus.Name(raw) != m[2] {
				t.Errorf("%s: %s has changed since it was imported", target, m[1])
			}
			for n := range derive(t, file)[target] {
				explained[n] = true
			}
		}
		if sources == 0 {
			t.Errorf("%s: PROVENANCE.md lists no source", target)
		}
		in, err := corpus.LoadFS(working, target)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range in {
			if !explained[f.Name] {
				t.Errorf("%s/%s: neither in %s nor from a listed capture", target, f.Name, corpus.ManifestFile)
			}
		}
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
