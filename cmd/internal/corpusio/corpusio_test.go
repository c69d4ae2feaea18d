package corpusio

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/corpus/capture"
)

var shipped = []string{
	"../../../corpus/captures/strongswan-5.9.8/libipsec/capture.pcap",
	"../../../corpus/captures/strongswan-5.9.8/fakesa/capture.pcap",
}

func TestImportShipped(t *testing.T) {
	root := t.TempDir()
	im := &Importer{Dir: root, Target: "parse", Date: "2026-11-27"}
	// The expected set is computed here without udpencap: every datagram
	// whose payload starts with an ISAKMP header (the 4-byte length field
	// at offset 24 equals the remaining size), after removing a non-ESP
	// marker on 4500<->4500.
	want := map[string]bool{}
	for _, path := range shipped {
		ds, err := capture.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			p := d.Payload
			if d.Src.Port() == 4500 && d.Dst.Port() == 4500 {
				if !bytes.HasPrefix(p, []byte{0, 0, 0, 0}) {
					continue // ESP
				}
				p = p[4:]
			}
			if len(p) < 28 || int(p[24])<<24|int(p[25])<<16|int(p[26])<<8|int(p[27]) != len(p) {
				t.Fatalf("frame %d: not an ISAKMP message", d.Frame)
			}
			sum := sha256.Sum256(p)
			want[hex.EncodeToString(sum[:])] = true
		}
		res, err := im.ImportFile(path)
		if err != nil {
			t.Fatal(err)
		}
		src, _ := os.ReadFile(path)
		srcSum := sha256.Sum256(src)
		if res.SHA256 != hex.EncodeToString(srcSum[:]) || res.Messages == 0 || res.Added+res.Duplicates != res.Messages {
			t.Errorf("%s: %+v", path, res)
		}
	}
	dir := filepath.Join(root, "parse")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range entries {
		if e.Name() == ProvenanceFile {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if Name(b) != e.Name() {
			t.Errorf("%s: content hashes to %s", e.Name(), Name(b))
		}
		got[e.Name()] = true
	}
	if len(got) != len(want) {
		t.Fatalf("corpus has %d files, want %d", len(got), len(want))
	}
	for n := range want {
		if !got[n] {
			t.Errorf("missing %s", n)
		}
	}
	prov, _ := os.ReadFile(filepath.Join(dir, ProvenanceFile))
	if n := strings.Count(string(prov), "\n- "); n != 2 || !strings.Contains(string(prov), "date:2026-11-27") {
		t.Errorf("provenance:\n%s", prov)
	}

	// A second import changes nothing: same files, same provenance.
	for _, path := range shipped {
		res, err := im.ImportFile(path)
		if err != nil || res.Added != 0 {
			t.Fatalf("re-import: %+v %v", res, err)
		}
	}
	prov2, _ := os.ReadFile(filepath.Join(dir, ProvenanceFile))
	if !bytes.Equal(prov, prov2) {
		t.Errorf("provenance changed on re-import:\n%s", prov2)
	}
}

func TestImportBadInput(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		class  string
		target string
		data   string
		want   error
	}{
		{"garbage file", "parse", "not a capture", capture.ErrUnknownFormat},
		{"target with slash", "a/b", "", ErrTarget},
		{"target dot-dot", "..", "", ErrTarget},
		{"empty target", "", "", ErrTarget},
	} {
		im := &Importer{Dir: root, Target: c.target}
		_, err := im.Import("x", strings.NewReader(c.data))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.class, err, c.want)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "parse")); len(entries) != 0 {
		t.Errorf("bad input left %d files", len(entries))
	}
}
