// Package charonlog reads the binary values strongSwan's charon writes to
// its log at level 4 (keys, IVs, nonces, DH secrets, hashes): the
// comparison targets of the known-answer tests against the recorded runs
// under corpus/captures/strongswan-5.9.8 and of any new recording.
package charonlog

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Entry is one binary value charon logged at level 4:
//
//	HH:MM:SS TT[GRP] <conn|n> NAME => N bytes @ 0xADDR
//	HH:MM:SS TT[GRP] <conn|n>    0: XX XX ... (up to 16 bytes)  ascii
type Entry struct {
	Name string
	Line int // 1-based line of the "=>" header
	Data []byte
}

// Log is the ordered list of binary values in one charon log.
type Log []Entry

var (
	logHeaderRE = regexp.MustCompile(`^\S+ (\d+\[\w+\]) (?:<[^>]*> )?(.+) => (\d+) bytes @ 0x[0-9a-fA-F]+$`)
	logDumpRE   = regexp.MustCompile(`^\S+ (\d+\[\w+\]) (?:<[^>]*> )?\s*(\d+): (.*)$`)
)

// Read parses the charon log at path: every "NAME => N bytes @ ADDR" entry and its hex-dump
// lines. Dump lines are matched to their header by thread and group, since
// charon threads may interleave; a short or malformed dump is an error.
func Read(path string) (Log, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	type pending struct {
		idx  int
		want int
	}
	var (
		out  Log
		open = map[string]*pending{}
		sc   = bufio.NewScanner(f)
		line int
	)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line++
		s := sc.Text()
		if m := logHeaderRE.FindStringSubmatch(s); m != nil {
			if p := open[m[1]]; p != nil && len(out[p.idx].Data) != p.want {
				return nil, fmt.Errorf("%s:%d: %q cut short", path, out[p.idx].Line, out[p.idx].Name)
			}
			n, err := strconv.Atoi(m[3])
			if err != nil || n > 1<<20 {
				return nil, fmt.Errorf("%s:%d: bad length %q", path, line, m[3])
			}
			out = append(out, Entry{Name: m[2], Line: line, Data: make([]byte, 0, n)})
			open[m[1]] = &pending{idx: len(out) - 1, want: n}
			if n == 0 {
				delete(open, m[1])
			}
			continue
		}
		m := logDumpRE.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		p := open[m[1]]
		if p == nil {
			continue
		}
		e := &out[p.idx]
		off, _ := strconv.Atoi(m[2])
		if off != len(e.Data) {
			return nil, fmt.Errorf("%s:%d: offset %d, expected %d", path, line, off, len(e.Data))
		}
		n := min(16, p.want-len(e.Data))
		fields := strings.Fields(m[3])
		if len(fields) < n {
			return nil, fmt.Errorf("%s:%d: %d hex bytes, expected %d", path, line, len(fields), n)
		}
		for _, h := range fields[:n] {
			b, err := hex.DecodeString(h)
			if err != nil || len(b) != 1 {
				return nil, fmt.Errorf("%s:%d: bad hex byte %q", path, line, h)
			}
			e.Data = append(e.Data, b[0])
		}
		if len(e.Data) == p.want {
			delete(open, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, p := range open {
		return nil, fmt.Errorf("%s:%d: %q cut short", path, out[p.idx].Line, out[p.idx].Name)
	}
	return out, nil
}

// First returns the first value logged under name, or nil.
func (l Log) First(name string) []byte {
	for _, e := range l {
		if e.Name == name {
			return e.Data
		}
	}
	return nil
}

// Contains reports whether v was logged under name.
func (l Log) Contains(name string, v []byte) bool {
	for _, e := range l {
		if e.Name == name && bytes.Equal(e.Data, v) {
			return true
		}
	}
	return false
}

// Nth returns the value logged under name the n-th time (from 0), or
// nil.
func (l Log) Nth(name string, n int) []byte {
	for _, e := range l {
		if e.Name == name {
			if n == 0 {
				return e.Data
			}
			n--
		}
	}
	return nil
}
