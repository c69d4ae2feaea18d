// Package generate builds the committed corpus from the shipped strongSwan
// captures: every ISAKMP message and port-4500 payload they hold, one
// hand-made input per input class (each a mutation of a real message), and
// the ISAKMP dictionary. It is deterministic, so that the corpus test can
// rerun it and compare.
package generate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hitless-ike/hitless/corpus/capture"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// Captures lists the shipped captures the corpus is generated from, as
// paths relative to the module root (the form provenance lines use).
var Captures = []string{
	"corpus/captures/strongswan-5.9.8/fakesa/capture.pcap",
	"corpus/captures/strongswan-5.9.8/libipsec/capture.pcap",
}

// Tool is how provenance lines name this generator.
const Tool = "`go run ./corpus/gen`"

// Targets, manifest and provenance names; they must match package corpus,
// which cannot be imported here without a cycle in its tests.
const (
	targetParse      = "parse"
	targetAttributes = "attributes"
	targetUDP4500    = "udp4500"
	manifestFile     = "CLASSES.tsv"
	provenanceFile   = "PROVENANCE.md"
	dictFile         = "isakmp.dict"
)

// ErrBaseMessage is returned when a capture lacks a message the hand-made
// inputs are derived from.
var ErrBaseMessage = errors.New("generate: base message missing from captures")

// Files returns the generated corpus as slash-separated paths relative to
// the corpus root and their contents. root is the module root, where the
// Captures paths are resolved.
func Files(root string) (map[string][]byte, error) {
	g := &gen{out: map[string][]byte{}}
	for _, p := range Captures {
		raw, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			return nil, err
		}
		ds, err := capture.Read(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		g.sources = append(g.sources, source{path: p, sha: sum(raw), ds: ds})
	}
	g.captured()
	if err := g.phase2(root); err != nil {
		return nil, err
	}
	if err := g.handMade(); err != nil {
		return nil, err
	}
	g.dictionary()
	g.metadata()
	return g.out, nil
}

// Write generates the corpus and writes it under corpusDir, leaving other
// files (inputs added by `hitless corpus import`) in place. A provenance
// file keeps the lines other tools appended after the generated ones.
func Write(root, corpusDir string) error {
	files, err := Files(root)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(corpusDir, filepath.FromSlash(n))
		data := files[n]
		if path.Base(n) == provenanceFile {
			data = mergeProvenance(data, p)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// mergeProvenance appends to gen the lines of the existing file at p that
// gen lacks, so that imports recorded by other tools survive a rerun.
func mergeProvenance(gen []byte, p string) []byte {
	old, err := os.ReadFile(p)
	if err != nil {
		return gen
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(gen), "\n") {
		have[l] = true
	}
	out := bytes.Clone(gen)
	for _, l := range strings.Split(string(old), "\n") {
		if strings.HasPrefix(l, "- `") && !have[l] {
			out = append(out, l...)
			out = append(out, '\n')
		}
	}
	return out
}

type source struct {
	path string
	sha  string
	ds   []capture.Datagram
}

// class is one hand-made input of a manifest.
type class struct {
	name, expected string
	data           []byte
}

type gen struct {
	sources []source
	out     map[string][]byte
	// counts of capture-derived inputs per target and source, for provenance
	counts  map[string][]int
	classes map[string][]class
	vids    [][]byte // distinct vendor IDs, in capture order
	// decrypted Quick Mode messages and the log that keyed them, by source
	qms    [][]QMMessage
	logSHA []string
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (g *gen) add(target string, b []byte) {
	g.out[target+"/"+sum(b)] = bytes.Clone(b)
}

// encapsulated applies the RFC 3948 framing rule used by
// `hitless corpus import`: port 4500 on either side, and 500 on neither
// (a message from a floated port to 500 is plain ISAKMP).
func encapsulated(d *capture.Datagram) bool {
	s, t := d.Src.Port(), d.Dst.Port()
	return (s == capture.PortNATT || t == capture.PortNATT) && s != capture.PortIKE && t != capture.PortIKE
}

// captured adds every ISAKMP message to parse, every port-4500 payload to
// udp4500 and every plaintext transform's attribute list to attributes.
func (g *gen) captured() {
	g.counts = map[string][]int{}
	seenVID := map[string]bool{}
	for si, s := range g.sources {
		counts := make([]int, 3)
		for i := range s.ds {
			d := &s.ds[i]
			msg := d.Payload
			if encapsulated(d) {
				g.add(targetUDP4500, d.Payload)
				counts[2]++
				k, part, _ := isakmp.ClassifyUDP4500(d.Payload)
				if k != isakmp.KindIKE {
					continue
				}
				msg = part
			}
			g.add(targetParse, msg)
			counts[0]++
			var v isakmp.View
			if _, err := v.Start(msg); err != nil {
				continue
			}
			for v.Next() {
				switch v.Type() {
				case isakmp.PayloadVID:
					if !seenVID[string(v.Body())] {
						seenVID[string(v.Body())] = true
						g.vids = append(g.vids, bytes.Clone(v.Body()))
					}
				case isakmp.PayloadSA:
					counts[1] += g.transforms(&v)
				}
			}
		}
		g.counts[g.sources[si].path] = counts
	}
}

// transforms adds the attribute list of every transform of the current SA
// payload of v and returns how many it found.
func (g *gen) transforms(v *isakmp.View) int {
	n := 0
	r, err := v.SA()
	if err != nil {
		return 0
	}
	for r.Next() {
		p := r.Proposal()
		for p.Next() {
			t := p.Transform()
			var attrs []byte
			for t.Next() {
				attrs = appendAttr(attrs, t.Attribute())
			}
			g.add(targetAttributes, attrs)
			n++
		}
	}
	return n
}

// appendAttr encodes a (RFC 2408 §3.3): AF=1 with a 16-bit value, or AF=0
// with a 16-bit length and the value.
func appendAttr(b []byte, a isakmp.Attribute) []byte {
	if a.Basic {
		return append(b, byte(a.Type>>8)|0x80, byte(a.Type), byte(a.Value>>8), byte(a.Value))
	}
	b = append(b, byte(a.Type>>8), byte(a.Type), byte(len(a.Data)>>8), byte(len(a.Data)))
	return append(b, a.Data...)
}

func (g *gen) class(target, name, expected string, data []byte) {
	if g.classes == nil {
		g.classes = map[string][]class{}
	}
	g.classes[target] = append(g.classes[target], class{name, expected, bytes.Clone(data)})
	g.add(target, data)
}

// metadata writes the manifests and provenance notes.
func (g *gen) metadata() {
	for _, t := range []string{targetParse, targetAttributes, targetUDP4500, targetQM1, targetQM2, targetEncrypted} {
		var m strings.Builder
		fmt.Fprintf(&m, "# Hand-made inputs of corpus/%s, written by %s.\n", t, Tool)
		fmt.Fprintf(&m, "# <sha256>\\t<class>\\t<expected: %s>\n", expectedDoc[t])
		for _, c := range g.classes[t] {
			fmt.Fprintf(&m, "%s\t%s\t%s\n", sum(c.data), c.name, c.expected)
		}
		g.out[t+"/"+manifestFile] = []byte(m.String())
		if p2, ok := phase2Provenance[t]; ok {
			g.out[t+"/"+provenanceFile] = g.provenance2(t, p2)
		} else {
			g.out[t+"/"+provenanceFile] = g.provenance(t)
		}
	}
}

// expectedDoc says what the third column of each manifest holds.
var expectedDoc = map[string]string{
	targetParse:      "ok or the isakmp sentinel error",
	targetAttributes: "ok or the isakmp sentinel error",
	targetUDP4500:    "ok (IKE, ESP, NAT-keepalive) or the isakmp sentinel error",
	targetQM1:        "ok or the quickmode sentinel error",
	targetQM2:        "ok or the quickmode sentinel error",
	targetEncrypted:  "ok or the ikecrypto, fuzz or isakmp sentinel error",
}

var provenanceIntro = map[string]string{
	targetParse: "Whole ISAKMP messages, as Parse and View take them (no non-ESP marker).\n" +
		"Shared by FuzzParse and FuzzViewVsParse.",
	targetAttributes: "Raw data-attribute lists (RFC 2408 §3.3): the bytes after a transform's\n" +
		"8-byte header. FuzzAttributes frames them with corpus.WrapAttributes.",
	targetUDP4500: "UDP payloads as received on port 4500 (RFC 3948): non-ESP marker and\n" +
		"ISAKMP, ESP, or the NAT-keepalive byte. Used by FuzzClassifyUDP4500.",
}

var provenanceHow = map[string]string{
	targetParse: "every datagram on port 500 and every non-ESP-marked datagram on port 4500,\n" +
		"marker stripped (the rule of `hitless corpus import`)",
	targetAttributes: "the attribute list of every transform of every plaintext SA payload,\n" +
		"re-encoded from the parsed attributes (byte-identical for valid input)",
	targetUDP4500: "the UDP payload of every datagram on port 4500, unchanged",
}

func (g *gen) provenance(t string) []byte {
	idx := map[string]int{targetParse: 0, targetAttributes: 1, targetUDP4500: 2}[t]
	var b strings.Builder
	fmt.Fprintf(&b, "# Provenance of corpus/%s\n\n%s\n\n", t, provenanceIntro[t])
	fmt.Fprintf(&b, "Captured inputs: %s, taken by %s from\n%s.\n", "one file per distinct input", Tool, provenanceHow[t])
	fmt.Fprintf(&b, "The captures are two strongSwan 5.9.8 IKEv1 runs (Main Mode PSK, Quick Mode\n"+
		"with PFS, two rekeys, Deletes); see corpus/captures/strongswan-5.9.8/ORIGIN.md.\n\n")
	fmt.Fprintf(&b, "Hand-made inputs: listed in %s, one per input class, each derived by\n"+
		"%s from a message of the first capture (generator source:\n"+
		"corpus/internal/generate).\n\n", manifestFile, Tool)
	fmt.Fprintf(&b, "One line per source (the format `hitless corpus import` appends):\n\n")
	for _, s := range g.sources {
		fmt.Fprintf(&b, "- `%s` sha256:%s inputs:%d generated by %s\n", s.path, s.sha, g.counts[s.path][idx], Tool)
	}
	return []byte(b.String())
}
