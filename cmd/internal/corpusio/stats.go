package corpusio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/hitless-ike/hitless/corpus"
)

// Stats describes one corpus target folder.
type Stats struct {
	Target   string
	Files    int   // inputs (files named by their SHA-256)
	Bytes    int64 // their total size
	Min, Max int   // smallest and largest input
	Classes  int   // inputs listed in the manifest, one per input class
	// Rejected counts the manifest classes whose expected outcome is an
	// error (malformed inputs); Classes-Rejected are accepted ones.
	Rejected int
	// Misnamed counts files with an input-like name that is not the
	// SHA-256 of their content.
	Misnamed int
	// Sources are the provenance lines ("- `source` ..."), verbatim
	// without the leading "- ".
	Sources []string
}

// ReadStats computes the Stats of target in fsys, a tree with the corpus
// layout (os.DirFS("corpus") or corpus.FS()).
func ReadStats(fsys fs.FS, target string) (Stats, error) {
	st := Stats{Target: target}
	in, err := corpus.LoadFS(fsys, target)
	if err != nil {
		return st, err
	}
	for i, s := range in {
		n := len(s.Data)
		st.Files++
		st.Bytes += int64(n)
		if i == 0 || n < st.Min {
			st.Min = n
		}
		st.Max = max(st.Max, n)
		if corpus.Name(s.Data) != s.Name {
			st.Misnamed++
		}
	}
	cs, err := corpus.ManifestFS(fsys, target)
	if err != nil {
		return st, err
	}
	st.Classes = len(cs)
	for _, c := range cs {
		if strings.HasPrefix(c.Expected, "Err") {
			st.Rejected++
		}
	}
	pv, err := fs.ReadFile(fsys, path.Join(target, corpus.ProvenanceFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return st, err
	}
	sc := bufio.NewScanner(bytes.NewReader(pv))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l, ok := strings.CutPrefix(sc.Text(), "- `"); ok {
			st.Sources = append(st.Sources, "`"+l)
		}
	}
	return st, sc.Err()
}

// ReadCrasher returns the input held by a crasher file of either engine:
// a "go test fuzz v1" file as `go test -fuzz` writes under
// testdata/fuzz/FuzzX/, or a raw input as libFuzzer writes (crash-<sha1>,
// leak-, timeout-, oom-). A raw input that itself starts with the Go
// header line is read as a Go file; no ISAKMP input does.
func ReadCrasher(path string) ([]byte, error) {
	b, err := readLimited(path, FormatGo)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(b, []byte(goHeader+"\n")) {
		in, err := ParseGo(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return in, nil
	}
	if len(b) > MaxInputSize {
		return nil, ErrTooLarge
	}
	return b, nil
}
