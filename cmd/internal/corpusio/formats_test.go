package corpusio

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/corpus"
)

// goExpr evaluates the value line of a Go corpus file with go/parser and
// go/constant, as Go's fuzzing engine reads it, independently of ParseGo.
func goExpr(t *testing.T, file []byte) []byte {
	t.Helper()
	header, value, ok := strings.Cut(string(file), "\n")
	if !ok || header != "go test fuzz v1" || !strings.HasSuffix(value, "\n") {
		t.Fatalf("not a Go corpus file: %q", file)
	}
	e, err := parser.ParseExpr(strings.TrimSuffix(value, "\n"))
	if err != nil {
		t.Fatalf("value %q: %v", value, err)
	}
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		t.Fatalf("value %q is not a conversion", value)
	}
	if at, ok := call.Fun.(*ast.ArrayType); !ok || at.Len != nil || at.Elt.(*ast.Ident).Name != "byte" {
		t.Fatalf("value %q is not []byte(...)", value)
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		t.Fatalf("value %q: argument is not a string literal", value)
	}
	return []byte(constant.StringVal(constant.MakeFromLiteral(lit.Value, lit.Kind, 0)))
}

func TestGoEncoding(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		in := rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(rt, "input")
		file := AppendGo(nil, in)
		// Go's fuzzing engine writes a []byte with this very format string.
		if want := "go test fuzz v1\n" + fmt.Sprintf("[]byte(%q)\n", in); string(file) != want {
			rt.Fatalf("AppendGo = %q, Go writes %q", file, want)
		}
		if got := goExpr(t, file); !bytes.Equal(got, in) {
			rt.Fatalf("go/parser reads %x from %q, want %x", got, file, in)
		}
		got, err := ParseGo(file)
		if err != nil || !bytes.Equal(got, in) {
			rt.Fatalf("ParseGo(%q) = %x, %v; want %x", file, got, err, in)
		}
	})
	// Files as `go test -fuzz` writes them, and the forms Go also reads.
	for _, c := range []struct {
		class, file, want string
	}{
		{"escaped bytes", "go test fuzz v1\n[]byte(\"\\x00\\xffA\\n\")\n", "\x00\xffA\n"},
		{"raw string literal", "go test fuzz v1\n[]byte(`a\\b`)\n", `a\b`},
		{"empty input", "go test fuzz v1\n[]byte(\"\")\n", ""},
		{"no final newline", "go test fuzz v1\n[]byte(\"x\")", "x"},
		{"blank lines", "go test fuzz v1\n\n[]byte(\"x\")\n\n", "x"},
	} {
		got, err := ParseGo([]byte(c.file))
		if err != nil || string(got) != c.want {
			t.Errorf("%s: ParseGo = %q, %v; want %q", c.class, got, err, c.want)
		}
	}
}

func TestParseGoBadInput(t *testing.T) {
	for _, c := range []struct {
		class, file string
		want        error
	}{
		{"empty file", "", ErrGoFile},
		{"header only", "go test fuzz v1\n", ErrGoFile},
		{"wrong header", "go test fuzz v2\n[]byte(\"x\")\n", ErrGoFile},
		{"two values", "go test fuzz v1\n[]byte(\"x\")\n[]byte(\"y\")\n", ErrGoFile},
		{"string value, not []byte", "go test fuzz v1\nstring(\"x\")\n", ErrGoFile},
		{"int value", "go test fuzz v1\nint(1)\n", ErrGoFile},
		{"bare literal and parenthesis", "go test fuzz v1\n\"x\")\n", ErrGoFile},
		{"unterminated literal", "go test fuzz v1\n[]byte(\"x)\n", ErrGoFile},
		{"bad escape", "go test fuzz v1\n[]byte(\"\\q\")\n", ErrGoFile},
		{"missing parenthesis", "go test fuzz v1\n[]byte(\"x\"\n", ErrGoFile},
		{"oversized file", "go test fuzz v1\n[]byte(\"" + strings.Repeat("a", 4*MaxInputSize+64) + "\")\n", ErrTooLarge},
		{"oversized input", "go test fuzz v1\n[]byte(`" + strings.Repeat("a", MaxInputSize+1) + "`)\n", ErrTooLarge},
	} {
		if got, err := ParseGo([]byte(c.file)); !errors.Is(err, c.want) || got != nil {
			t.Errorf("%s: got %q, %v; want %v", c.class, got, err, c.want)
		}
	}
}

// treeOf returns the input files of a corpus folder: name to content.
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if corpus.IsInputName(e.Name()) {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			m[e.Name()] = string(b)
		}
	}
	return m
}

// TestRoundTrip exports every target of the shipped corpus in every
// format and imports it back into an empty corpus: the input files must be
// the same, name for name and byte for byte.
func TestRoundTrip(t *testing.T) {
	src := "../../../corpus"
	for _, target := range corpus.Targets() {
		in, err := corpus.LoadFS(os.DirFS(src), target)
		if err != nil || len(in) == 0 {
			t.Fatalf("%s: %d inputs, %v", target, len(in), err)
		}
		var inputs [][]byte
		for _, s := range in {
			inputs = append(inputs, s.Data)
		}
		want := treeOf(t, filepath.Join(src, target))
		for _, f := range []Format{FormatGo, FormatRaw, FormatLibFuzzer, FormatOSSFuzzZip} {
			tmp := t.TempDir()
			out := filepath.Join(tmp, "export")
			if f == FormatOSSFuzzZip {
				out += ".zip"
			}
			n, err := Export(f, out, inputs)
			if err != nil || n != len(inputs) {
				t.Fatalf("%s %s: exported %d of %d: %v", target, f, n, len(inputs), err)
			}
			back, err := ReadInputs(f, out)
			if err != nil {
				t.Fatalf("%s %s: %v", target, f, err)
			}
			im := &Importer{Dir: filepath.Join(tmp, "corpus"), Target: target}
			res, err := im.ImportInputs(out, f, back)
			if err != nil || res.Added != len(inputs) || res.Duplicates != 0 {
				t.Fatalf("%s %s: import %+v, %v", target, f, res, err)
			}
			got := treeOf(t, filepath.Join(tmp, "corpus", target))
			if len(got) != len(want) {
				t.Fatalf("%s %s: %d inputs back, want %d", target, f, len(got), len(want))
			}
			for name, content := range want {
				if got[name] != content {
					t.Errorf("%s %s: %s differs or is missing", target, f, name)
				}
			}
		}
	}
}

// TestExportNames checks the file names each format uses, recomputed here
// from the content.
func TestExportNames(t *testing.T) {
	in := [][]byte{[]byte("a"), []byte("b"), []byte("a")}
	sha := func(b []byte) string { return corpus.Name(b) }
	sha1x := func(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }
	for _, c := range []struct {
		f    Format
		name func([]byte) string
	}{{FormatGo, sha}, {FormatRaw, sha}, {FormatLibFuzzer, sha1x}} {
		dir := t.TempDir()
		if n, err := Export(c.f, dir, in); err != nil || n != 2 {
			t.Fatalf("%s: %d, %v", c.f, n, err)
		}
		var names []string
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			names = append(names, e.Name())
		}
		want := []string{c.name(in[0]), c.name(in[1])}
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("%s: files %v, want %v", c.f, names, want)
		}
	}
	// The zip is reproducible: the same corpus gives the same bytes.
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.zip"), filepath.Join(dir, "b.zip")
	Export(FormatOSSFuzzZip, a, in)
	Export(FormatOSSFuzzZip, b, [][]byte{in[1], in[0]})
	za, _ := os.ReadFile(a)
	zb, _ := os.ReadFile(b)
	if !bytes.Equal(za, zb) || len(za) == 0 {
		t.Error("zip export depends on input order")
	}
}

func TestReadInputsBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(p, content string) string {
		p = filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return filepath.Dir(p)
	}
	misnamed := write("misnamed/"+strings.Repeat("0", 64), "x")
	badGo := write("badgo/f1", "go test fuzz v1\nint(3)\n")
	big := write("big/f", strings.Repeat("x", MaxInputSize+1))
	notZip := filepath.Join(write("notzip/seed_corpus.zip", "PK junk"), "seed_corpus.zip")
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("huge")
	w.Write(make([]byte, MaxInputSize+1))
	zw.Close()
	bigZip := filepath.Join(write("bigzip/z.zip", zbuf.String()), "z.zip")
	for _, c := range []struct {
		class string
		f     Format
		src   string
		want  error
	}{
		{"raw file not named by its SHA-256", FormatRaw, misnamed, ErrRawName},
		{"go file holding an int", FormatGo, badGo, ErrGoFile},
		{"raw input above the size limit", FormatLibFuzzer, big, ErrTooLarge},
		{"zip entry above the size limit (zip bomb)", FormatOSSFuzzZip, bigZip, ErrTooLarge},
		{"file that is not a zip", FormatOSSFuzzZip, notZip, zip.ErrFormat},
		{"missing folder", FormatLibFuzzer, filepath.Join(dir, "nope"), fs.ErrNotExist},
		{"pcap is not a list of inputs", FormatPcap, dir, ErrFormat},
		{"unknown format", Format("afl"), dir, ErrFormat},
	} {
		if in, err := ReadInputs(c.f, c.src); !errors.Is(err, c.want) || in != nil {
			t.Errorf("%s: %d inputs, %v; want %v", c.class, len(in), err, c.want)
		}
	}
	if _, err := Export(FormatPcap, dir, nil); !errors.Is(err, ErrFormat) {
		t.Errorf("export as pcap: %v, want ErrFormat", err)
	}
	if _, err := ParseFormat("afl"); !errors.Is(err, ErrFormat) {
		t.Errorf("ParseFormat(afl): %v", err)
	}
}

func TestReadInputsSkipsMetadata(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"PROVENANCE.md": "# notes", "CLASSES.tsv": "x", ".import-123": "partial", "input": "raw",
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	in, err := ReadInputs(FormatLibFuzzer, dir)
	if err != nil || len(in) != 1 || string(in[0]) != "raw" {
		t.Errorf("got %q, %v; want only the input", in, err)
	}
}

func TestStats(t *testing.T) {
	st, err := ReadStats(os.DirFS("../../../corpus"), corpus.TargetParse)
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := corpus.ManifestFS(os.DirFS("../../../corpus"), corpus.TargetParse)
	in, _ := corpus.LoadFS(os.DirFS("../../../corpus"), corpus.TargetParse)
	var bytesTotal int64
	for _, s := range in {
		bytesTotal += int64(len(s.Data))
	}
	if st.Files != len(in) || st.Bytes != bytesTotal || st.Classes != len(cs) || st.Misnamed != 0 ||
		st.Rejected == 0 || st.Rejected >= st.Classes || st.Min > st.Max || len(st.Sources) == 0 {
		t.Errorf("stats %+v; corpus has %d inputs, %d bytes, %d classes", st, len(in), bytesTotal, len(cs))
	}
	if _, err := ReadStats(os.DirFS("."), "nope"); !errors.Is(err, corpus.ErrUnknownTarget) {
		t.Errorf("unknown target: %v", err)
	}
}

func TestReadCrasher(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "crash-1")
	goFile := filepath.Join(dir, "0123456789abcdef")
	bad := filepath.Join(dir, "bad")
	os.WriteFile(raw, []byte{0, 1, 2}, 0o644)
	os.WriteFile(goFile, AppendGo(nil, []byte{0, 1, 2}), 0o644)
	os.WriteFile(bad, []byte("go test fuzz v1\nint(1)\n"), 0o644)
	for _, p := range []string{raw, goFile} {
		if b, err := ReadCrasher(p); err != nil || !bytes.Equal(b, []byte{0, 1, 2}) {
			t.Errorf("%s: %x, %v", p, b, err)
		}
	}
	if _, err := ReadCrasher(bad); !errors.Is(err, ErrGoFile) {
		t.Errorf("malformed Go crasher: %v, want ErrGoFile", err)
	}
}
