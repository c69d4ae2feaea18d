// Package corpus is the shareable fuzzing corpus of hitless: raw inputs
// grouped by fuzz target, each file named by the lowercase hex SHA-256 of
// its content, embedded so that the inputs ship with the module.
//
// The fuzz targets in ./fuzz, the command-line tool and the tests all load
// seeds through this package, so there is one reader of the layout. See
// README.md in this directory for the layout, the input classes and how
// libFuzzer or AFL use the same files.
//
// The capture-derived and hand-made inputs are written by a deterministic
// generator (corpus/gen); after changing it, rerun it with
// `go generate ./corpus`.
package corpus

//go:generate go run ./gen

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Targets of the corpus; each is a folder of raw inputs.
const (
	// TargetParse holds whole ISAKMP messages (no non-ESP marker). The
	// Parse, View and lenient-parse fuzzers share it: they take the same
	// input and only check different properties.
	TargetParse = "parse"
	// TargetAttributes holds raw data-attribute lists (RFC 2408 §3.3), the
	// bytes after a transform's fixed header; see WrapAttributes.
	TargetAttributes = "attributes"
	// TargetUDP4500 holds UDP payloads as received on port 4500: non-ESP
	// marker plus ISAKMP, ESP, or NAT-keepalive (RFC 3948 §2).
	TargetUDP4500 = "udp4500"
	// TargetQM1 holds Quick Mode message 1 bodies after HASH(1): the
	// type of the first payload, then the payload chain (SA, Nonce,
	// [KE], [IDci, IDcr], ...) with generic headers. The fuzz harness
	// adds the HASH and the encryption.
	TargetQM1 = "qm1"
	// TargetQM2 holds Quick Mode message 2 bodies after HASH(2), framed
	// as TargetQM1.
	TargetQM2 = "qm2"
	// TargetEncrypted holds encrypted phase-2 bodies: a cipher selector,
	// the first payload type, the message ID and the ciphertext, to be
	// decrypted under fixed keys (see the fuzz package).
	TargetEncrypted = "encrypted"
)

// Files every target folder may hold besides inputs.
const (
	// ManifestFile lists the hand-made inputs of a target with their class
	// and expected outcome.
	ManifestFile = "CLASSES.tsv"
	// ProvenanceFile says where the target's inputs come from. The name and
	// line format are shared with `hitless corpus import`.
	ProvenanceFile = "PROVENANCE.md"
	// DictFile is the libFuzzer/AFL dictionary at the corpus root.
	DictFile = "isakmp.dict"
)

//go:embed parse attributes udp4500 qm1 qm2 encrypted isakmp.dict
var embedded embed.FS

// ErrUnknownTarget is returned for a target name the corpus does not have.
var ErrUnknownTarget = errors.New("corpus: unknown target")

// ErrManifest is returned for a malformed manifest line.
var ErrManifest = errors.New("corpus: malformed manifest")

// Targets returns the target names in a fixed order.
func Targets() []string {
	return []string{TargetParse, TargetAttributes, TargetUDP4500, TargetQM1, TargetQM2, TargetEncrypted}
}

// FS returns the embedded corpus: one folder per target and the
// dictionary, laid out as in the source tree.
func FS() fs.FS { return embedded }

// Input is one raw corpus input.
type Input struct {
	Name string // lowercase hex SHA-256 of Data
	Data []byte
}

// Name returns the corpus file name of content: its lowercase hex SHA-256,
// all 64 digits.
func Name(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}

// IsInputName reports whether name has the form of an input file name, 64
// lowercase hex digits; other files in a target folder are metadata.
func IsInputName(name string) bool {
	if len(name) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Load returns every input of target, sorted by name.
func Load(target string) ([]Input, error) { return LoadFS(embedded, target) }

// LoadFS is Load on another tree with the same layout, such as
// os.DirFS("corpus") for a working copy or a freshly generated corpus.
func LoadFS(fsys fs.FS, target string) ([]Input, error) {
	if !slices.Contains(Targets(), target) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTarget, target)
	}
	ents, err := fs.ReadDir(fsys, target)
	if err != nil {
		return nil, err
	}
	var in []Input
	for _, e := range ents {
		if e.IsDir() || !IsInputName(e.Name()) {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(target, e.Name()))
		if err != nil {
			return nil, err
		}
		in = append(in, Input{Name: e.Name(), Data: b})
	}
	return in, nil
}

// Class is one line of a target's manifest: a hand-made input, the
// input class it represents and the outcome its target must produce.
type Class struct {
	Name  string // input file name
	Class string // short kebab-case class name, unique per target
	// Expected is "ok" or the name of the isakmp sentinel error (e.g.
	// "ErrUnequalPayloadLengths"); for the udp4500 target an accepted
	// input names its isakmp.Kind ("IKE", "ESP", "NAT-keepalive"). For
	// qm1 and qm2 a refused input names the quickmode sentinel, for
	// encrypted the ikecrypto or isakmp one.
	Expected string
}

// Manifest returns the manifest of target; a target without one yields
// no classes and no error.
func Manifest(target string) ([]Class, error) { return ManifestFS(embedded, target) }

// ManifestFS is Manifest on another tree with the same layout.
func ManifestFS(fsys fs.FS, target string) ([]Class, error) {
	if !slices.Contains(Targets(), target) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTarget, target)
	}
	b, err := fs.ReadFile(fsys, path.Join(target, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return ParseManifest(b)
}

// ParseManifest parses manifest text: lines of name, class and expected
// outcome separated by tabs; blank lines and lines starting with '#' are
// comments.
func ParseManifest(b []byte) ([]Class, error) {
	var cs []Class
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || !IsInputName(f[0]) || f[1] == "" || f[2] == "" {
			return nil, fmt.Errorf("%w: line %d: want <sha256>\\t<class>\\t<expected>", ErrManifest, n)
		}
		cs = append(cs, Class{Name: f[0], Class: f[1], Expected: f[2]})
	}
	return cs, sc.Err()
}

// Dict returns the libFuzzer/AFL dictionary.
func Dict() []byte {
	b, _ := embedded.ReadFile(DictFile) // embedded at build time: cannot fail
	return b
}

// Limits of WrapAttributes.
const (
	// wrapOverhead is header, SA, proposal (4-byte SPI) and transform.
	wrapOverhead = 28 + 12 + 12 + 8
	// MaxAttributes is the longest attribute list WrapAttributes frames:
	// the SA payload length is 16 bits.
	MaxAttributes = 0xffff - (wrapOverhead - 28)
)

// WrapAttributes frames attrs, a raw attribute list, as the only transform
// of the only proposal of an SA payload in a plaintext ISAKMP message, so
// that any ISAKMP parser can be fuzzed on attribute lists. With esp false
// the proposal is a phase-1 PROTO_ISAKMP proposal without SPI (transform
// KEY_IKE); with esp true it is a PROTO_IPSEC_ESP proposal with a 4-byte
// SPI (transform ESP_AES). attrs longer than MaxAttributes are cut there.
// The result is appended to dst.
func WrapAttributes(dst, attrs []byte, esp bool) []byte {
	if len(attrs) > MaxAttributes {
		attrs = attrs[:MaxAttributes]
	}
	proto, spi, id := byte(1), []byte(nil), byte(1)
	if esp {
		proto, spi, id = 3, []byte{0xc0, 0xff, 0xee, 0x01}, 12
	}
	tr := 8 + len(attrs)
	prop := 8 + len(spi) + tr
	sa := 12 + prop
	msg := 28 + sa
	exch := byte(2) // Main Mode
	if esp {
		exch = 32 // Quick Mode
	}
	dst = append(dst,
		0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e, // initiator cookie
		0, 0, 0, 0, 0, 0, 0, 0, // responder cookie
		1, 0x10, exch, 0, // next payload SA, version 1.0, exchange, flags
		0, 0, 0, 0, // message ID
		byte(msg>>24), byte(msg>>16), byte(msg>>8), byte(msg),
		0, 0, byte(sa>>8), byte(sa), // SA generic header
		0, 0, 0, 1, 0, 0, 0, 1, // DOI IPsec, SIT_IDENTITY_ONLY
		0, 0, byte(prop>>8), byte(prop), 1, proto, byte(len(spi)), 1,
	)
	dst = append(dst, spi...)
	dst = append(dst, 0, 0, byte(tr>>8), byte(tr), 1, id, 0, 0)
	return append(dst, attrs...)
}
