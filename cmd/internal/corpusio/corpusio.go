// Package corpusio adds the ISAKMP messages of packet captures to the
// shareable corpus: one raw file per distinct message, named by the
// lowercase hex SHA-256 of its content (all 64 digits: the names must stay
// unique as the corpus is merged with other projects', and a shortened hash
// buys nothing), in <Dir>/<Target>/, with one provenance line per source in
// <Dir>/<Target>/PROVENANCE.md.
//
// It also moves inputs between that layout and the formats of the fuzzing
// engines, in both directions and byte for byte: Go's testdata/fuzz files,
// libFuzzer corpus folders and OSS-Fuzz seed zips (Export, ReadInputs,
// Importer.ImportInputs), reads crashers of either engine (ReadCrasher)
// and summarises a corpus folder (ReadStats).
package corpusio

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hitless-ike/hitless/cmd/internal/udpencap"
	"github.com/hitless-ike/hitless/corpus/capture"
)

// ProvenanceFile is the name of the per-target provenance log.
const ProvenanceFile = "PROVENANCE.md"

// DefaultTarget is the corpus target that receives whole ISAKMP messages.
const DefaultTarget = "parse"

// Importer adds capture contents to one corpus target directory.
type Importer struct {
	Dir    string // corpus root, e.g. "corpus"
	Target string // target subdirectory, e.g. "parse"; must be a single path element
	// Date is written into provenance lines as given (e.g. "2026-11-27");
	// empty leaves it out, so that repeated imports are byte-identical.
	Date string
}

// Result summarises one imported source.
type Result struct {
	Source     string // the name the source was given, "-" for stdin
	SHA256     string // hex SHA-256 of the whole source file
	Messages   int    // ISAKMP datagrams found
	Added      int    // new corpus files written
	Duplicates int    // messages already in the corpus (or repeated in the source)
	// Skipped lists frames the capture reader could not decode.
	Skipped []*capture.FrameError
}

// ErrTarget reports an unusable target name.
var ErrTarget = errors.New("corpusio: target must be a single non-empty path element")

func (im *Importer) dir() (string, error) {
	t := im.Target
	if t == "" || t == "." || t == ".." || strings.ContainsAny(t, `/\`) {
		return "", fmt.Errorf("%w: %q", ErrTarget, t)
	}
	return filepath.Join(im.Dir, t), nil
}

// ImportFile imports the capture at path; "-" is not special here.
func (im *Importer) ImportFile(path string) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{Source: path}, err
	}
	defer f.Close()
	return im.Import(path, f)
}

// Import reads a whole capture from r, names it source in the provenance
// line, and adds its ISAKMP messages (non-ESP marker stripped). ESP and
// keepalives are not ISAKMP and are left out; malformed ISAKMP messages are
// kept, since they are what a fuzzer wants most. A damaged capture file
// is an error and adds nothing.
func (im *Importer) Import(source string, r io.Reader) (Result, error) {
	res := Result{Source: source}
	dir, err := im.dir()
	if err != nil {
		return res, err
	}
	h := sha256.New()
	ds, err := capture.Read(io.TeeReader(r, h))
	var sk *capture.SkippedFrames
	if errors.As(err, &sk) {
		res.Skipped = sk.Frames
	} else if err != nil {
		return res, err
	}
	// The reader may stop before the end of a trailing garbage-free file;
	// hash whatever it left so the digest covers the whole source.
	if _, err := io.Copy(h, r); err != nil {
		return res, err
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	for i := range ds {
		kind, msg, _ := udpencap.Classify(&ds[i])
		if kind != udpencap.ISAKMP {
			continue
		}
		res.Messages++
		if err := res.store(dir, msg); err != nil {
			return res, err
		}
	}
	return res, appendProvenance(dir, im.line(res))
}

// Name returns the corpus file name for content.
func Name(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}

// writeOnce writes content under its hash name unless a file by that name
// exists; the temporary file and rename keep a crash from leaving a
// truncated input under a valid name.
// store writes content into dir under its name unless it is there
// already, counting it as added or duplicate.
func (r *Result) store(dir string, content []byte) error {
	added, err := writeOnce(dir, content)
	if err != nil {
		return err
	}
	if added {
		r.Added++
	} else {
		r.Duplicates++
	}
	return nil
}

func writeOnce(dir string, content []byte) (bool, error) {
	path := filepath.Join(dir, Name(content))
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	tmp, err := os.CreateTemp(dir, ".import-*")
	if err != nil {
		return false, err
	}
	_, werr := tmp.Write(content)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return false, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return false, err
	}
	return true, os.Rename(tmp.Name(), path)
}

// line is the provenance entry for one source. It records what identifies
// the source and what it held, not what this run added, so that importing
// the same file twice yields the same line.
func (im *Importer) line(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- `%s` sha256:%s", filepath.ToSlash(r.Source), r.SHA256)
	if im.Date != "" {
		fmt.Fprintf(&b, " date:%s", im.Date)
	}
	fmt.Fprintf(&b, " isakmp-messages:%d imported by `hitless corpus import`", r.Messages)
	return b.String()
}

// appendProvenance adds line to the provenance file unless it is already
// there, creating the file with a heading if needed.
func appendProvenance(dir, line string) error {
	path := filepath.Join(dir, ProvenanceFile)
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(old))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if sc.Text() == line {
			return nil
		}
	}
	var add bytes.Buffer
	if len(old) == 0 {
		fmt.Fprintf(&add, "# Provenance of corpus/%s\n\nOne line per imported source: path as given, SHA-256 of the file, ISAKMP messages it held.\n\n", filepath.Base(dir))
	} else if old[len(old)-1] != '\n' {
		add.WriteByte('\n')
	}
	add.WriteString(line)
	add.WriteByte('\n')
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.Write(add.Bytes())
	return errors.Join(werr, f.Close())
}
