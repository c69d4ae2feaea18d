package corpusio

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Format is a corpus interchange format: how one fuzz target's inputs are
// laid out on disk for an engine.
type Format string

// Formats for Export and ReadInputs. Every one holds raw inputs, so a
// corpus survives any round trip through them byte for byte.
const (
	// FormatGo is Go's fuzzing corpus: a folder of "go test fuzz v1"
	// files, each one []byte value, as under testdata/fuzz/FuzzX/ or in
	// $GOCACHE/fuzz. Export names the files by the SHA-256 of the input.
	FormatGo Format = "go"
	// FormatRaw is the shareable corpus layout of one target: a folder of
	// raw inputs, each named by the lowercase hex SHA-256 of its content.
	// Reading it checks the names.
	FormatRaw Format = "raw"
	// FormatLibFuzzer is a libFuzzer corpus folder: raw inputs, named by
	// the SHA-1 of their content as libFuzzer names the inputs it adds,
	// so that exporting into a folder libFuzzer has grown adds no
	// duplicates. Reading it accepts any names.
	FormatLibFuzzer Format = "libfuzzer"
	// FormatOSSFuzzZip is an OSS-Fuzz seed corpus, <fuzzer>_seed_corpus.zip:
	// raw inputs at the top of a zip file. Export writes entries named by
	// SHA-256 in name order with a fixed time, so the same corpus gives
	// the same zip; reading accepts any entry names.
	FormatOSSFuzzZip Format = "oss-fuzz-zip"
	// FormatPcap is a pcap or pcapng capture (see Importer.Import); it can
	// only be read.
	FormatPcap Format = "pcap"
)

// Limits on what ReadInputs accepts, so a hostile folder or zip cannot
// make it use unbounded memory.
const (
	// MaxInputSize is the largest input read: ISAKMP lengths are 32-bit,
	// but no UDP datagram exceeds 64 KiB, and libFuzzer's default
	// -max_len is far below this.
	MaxInputSize = 1 << 20
	// MaxInputs is the most inputs one source may hold.
	MaxInputs = 1 << 16
	// MaxTotalSize bounds the inputs of one source together.
	MaxTotalSize = 1 << 28
)

// Errors of the interchange formats. Each is wrapped with the file it
// concerns.
var (
	// ErrFormat is returned for a format name that is not one of the
	// constants, or one that cannot be used in that direction.
	ErrFormat = errors.New("corpusio: unknown format")
	// ErrGoFile is returned for a file that is not a "go test fuzz v1"
	// file holding exactly one []byte value.
	ErrGoFile = errors.New("corpusio: not a go test fuzz v1 file with one []byte value")
	// ErrRawName is returned when a raw-format file is not named by the
	// SHA-256 of its content.
	ErrRawName = errors.New("corpusio: raw input not named by its SHA-256")
	// ErrTooLarge is returned for an input above MaxInputSize, or a
	// source with more than MaxInputs inputs or MaxTotalSize bytes.
	ErrTooLarge = errors.New("corpusio: input or source too large")
)

// ParseFormat returns the Format named s.
func ParseFormat(s string) (Format, error) {
	f := Format(s)
	switch f {
	case FormatGo, FormatRaw, FormatLibFuzzer, FormatOSSFuzzZip, FormatPcap:
		return f, nil
	}
	return "", fmt.Errorf("%w: %q (want go, raw, libfuzzer, oss-fuzz-zip or pcap)", ErrFormat, s)
}

// goHeader is the first line of every Go corpus file.
const goHeader = "go test fuzz v1"

// AppendGo appends the Go corpus file encoding of input to dst: the header
// line and one []byte value, quoted as Go's fuzzing engine writes it.
func AppendGo(dst, input []byte) []byte {
	dst = append(dst, goHeader+"\n[]byte("...)
	dst = strconv.AppendQuote(dst, string(input))
	return append(dst, ")\n"...)
}

// ParseGo returns the input held by a Go corpus file. It accepts what Go
// writes for a func(*testing.T, []byte) target: the header, then one line
// []byte("...") with an interpreted or raw string literal; blank lines are
// ignored as Go ignores them.
func ParseGo(file []byte) ([]byte, error) {
	if len(file) > 4*MaxInputSize+64 { // \xNN quoting at most quadruples
		return nil, ErrTooLarge
	}
	var lines []string
	for l := range strings.SplitSeq(string(file), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
		if len(lines) > 2 {
			return nil, fmt.Errorf("%w: more than one value", ErrGoFile)
		}
	}
	if len(lines) != 2 || lines[0] != goHeader {
		return nil, fmt.Errorf("%w: want the header line and one value", ErrGoFile)
	}
	lit, pre := strings.CutPrefix(lines[1], "[]byte(")
	lit, suf := strings.CutSuffix(lit, ")")
	if !pre || !suf {
		return nil, fmt.Errorf("%w: value is not []byte(...)", ErrGoFile)
	}
	s, err := strconv.Unquote(lit)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrGoFile, err)
	}
	if len(s) > MaxInputSize {
		return nil, ErrTooLarge
	}
	return []byte(s), nil
}

// sha1Name is the name libFuzzer gives an input.
func sha1Name(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// zipTime is the modification time of every exported zip entry: the
// earliest a zip header can hold, so that exports are reproducible.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Export writes inputs to out in format f: a folder (created if needed;
// files already there are kept) or, for FormatOSSFuzzZip, a zip file
// (replaced). Duplicate inputs are written once. It returns the number of
// distinct inputs.
func Export(f Format, out string, inputs [][]byte) (int, error) {
	byName := map[string][]byte{}
	for _, in := range inputs {
		byName[Name(in)] = in
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	if f == FormatOSSFuzzZip {
		return len(names), writeZip(out, names, byName)
	}
	if f != FormatGo && f != FormatRaw && f != FormatLibFuzzer {
		return 0, fmt.Errorf("%w: cannot export %q", ErrFormat, f)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, err
	}
	for _, n := range names {
		content, name := byName[n], n
		switch f {
		case FormatGo:
			content = AppendGo(nil, content)
		case FormatLibFuzzer:
			name = sha1Name(content)
		}
		if err := writeFile(out, name, content); err != nil {
			return 0, err
		}
	}
	return len(names), nil
}

func writeZip(out string, names []string, byName map[string][]byte) error {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: zipTime})
		if err != nil {
			return err
		}
		if _, err := w.Write(byName[n]); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	dir, base := filepath.Split(out)
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return writeFile(dir, base, buf.Bytes())
}

// writeFile replaces dir/name with content through a temporary file, so
// that an interrupted export never leaves a truncated input.
func writeFile(dir, name string, content []byte) error {
	tmp, err := os.CreateTemp(dir, ".export-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(content)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o644)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}

// ReadInputs returns every input held by src in format f (not
// FormatPcap): the files of a folder, skipping subfolders and names
// starting with '.' (temporary files) or in upper case (README.md,
// PROVENANCE.md, CLASSES.tsv), or the entries of a zip. Any bad file makes
// it fail, naming the file, so that an import is all or nothing.
func ReadInputs(f Format, src string) ([][]byte, error) {
	switch f {
	case FormatOSSFuzzZip:
		return readZip(src)
	case FormatGo, FormatRaw, FormatLibFuzzer:
	default:
		return nil, fmt.Errorf("%w: cannot read %q as a list of inputs", ErrFormat, f)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	total := 0
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || skipName(n) {
			continue
		}
		if len(out) == MaxInputs {
			return nil, fmt.Errorf("%s: %w: more than %d inputs", src, ErrTooLarge, MaxInputs)
		}
		b, err := readLimited(filepath.Join(src, n), f)
		if err != nil {
			return nil, err
		}
		if total += len(b); total > MaxTotalSize {
			return nil, fmt.Errorf("%s: %w: more than %d bytes", src, ErrTooLarge, MaxTotalSize)
		}
		switch f {
		case FormatGo:
			if b, err = ParseGo(b); err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(src, n), err)
			}
		case FormatRaw:
			if Name(b) != n {
				return nil, fmt.Errorf("%s: %w", filepath.Join(src, n), ErrRawName)
			}
		}
		out = append(out, b)
	}
	return out, nil
}

// skipName reports whether a folder entry is metadata, not an input.
func skipName(n string) bool {
	return strings.HasPrefix(n, ".") || (n[0] >= 'A' && n[0] <= 'Z')
}

// readLimited reads a file of at most the size an input of format f may
// take.
func readLimited(path string, f Format) ([]byte, error) {
	limit := int64(MaxInputSize)
	if f == FormatGo {
		limit = 4*MaxInputSize + 64
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w", path, ErrTooLarge)
	}
	return b, nil
}

func readZip(src string) ([][]byte, error) {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	defer zr.Close()
	var out [][]byte
	total := 0
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() || skipName(filepath.Base(zf.Name)) {
			continue
		}
		if len(out) == MaxInputs || zf.UncompressedSize64 > MaxInputSize {
			return nil, fmt.Errorf("%s: %s: %w", src, zf.Name, ErrTooLarge)
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", src, zf.Name, err)
		}
		// The header's size may lie; the limit holds regardless.
		b, err := io.ReadAll(io.LimitReader(rc, MaxInputSize+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", src, zf.Name, err)
		}
		if total += len(b); len(b) > MaxInputSize || total > MaxTotalSize {
			return nil, fmt.Errorf("%s: %s: %w", src, zf.Name, ErrTooLarge)
		}
		out = append(out, b)
	}
	return out, nil
}

// ImportInputs adds inputs, read from source in format f, to the target
// folder under their SHA-256 names and appends one provenance line:
// source, format, the SHA-256 of the sorted input names (which identifies
// the set whatever the source's file names) and the number of inputs.
func (im *Importer) ImportInputs(source string, f Format, inputs [][]byte) (Result, error) {
	res := Result{Source: source, Messages: len(inputs)}
	dir, err := im.dir()
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	names := make([]string, 0, len(inputs))
	for _, in := range inputs {
		if err := res.store(dir, in); err != nil {
			return res, err
		}
		names = append(names, Name(in))
	}
	slices.Sort(names)
	names = slices.Compact(names)
	res.SHA256 = Name([]byte(strings.Join(names, "\n")))
	var b strings.Builder
	fmt.Fprintf(&b, "- `%s` format:%s set-sha256:%s", filepath.ToSlash(source), f, res.SHA256)
	if im.Date != "" {
		fmt.Fprintf(&b, " date:%s", im.Date)
	}
	fmt.Fprintf(&b, " inputs:%d imported by `hitless corpus import`", len(names))
	return res, appendProvenance(dir, b.String())
}
