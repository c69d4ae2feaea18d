package generate_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/corpus/internal/generate"
)

const root = "../../.."

func ExampleFiles() {
	files, err := generate.Files(root)
	if err != nil {
		panic(err)
	}
	manifest := string(files["parse/CLASSES.tsv"])
	fmt.Println(strings.Contains(manifest, "\ttrailing-garbage\tErrTrailingData\n"))
	fmt.Println(strings.Contains(string(files["isakmp.dict"]), `non_esp_marker="\x00\x00\x00\x00"`))
	// Output:
	// true
	// true
}

// TestMissingCaptures covers the bad-input class "module root without the
// shipped captures": an error, nothing written.
func TestMissingCaptures(t *testing.T) {
	dir := t.TempDir()
	err := generate.Write(dir, filepath.Join(dir, "corpus"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "corpus")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("corpus directory created despite the error")
	}
}

// TestKeepsImports checks that a rerun keeps inputs and provenance lines
// added by `hitless corpus import`.
func TestKeepsImports(t *testing.T) {
	dir := t.TempDir()
	if err := generate.Write(root, dir); err != nil {
		t.Fatal(err)
	}
	pv := filepath.Join(dir, "parse", "PROVENANCE.md")
	imported := "- `other.pcap` sha256:" + strings.Repeat("ab", 32) + " isakmp-messages:1 imported by `hitless corpus import`"
	input := filepath.Join(dir, "parse", strings.Repeat("cd", 32))
	old, err := os.ReadFile(pv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pv, append(old, imported+"\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(input, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := generate.Write(root, dir); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(pv)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(old)+imported+"\n" {
		t.Errorf("provenance after rerun:\n%s", got)
	}
	if _, err := os.Stat(input); err != nil {
		t.Errorf("imported input removed: %v", err)
	}
}
