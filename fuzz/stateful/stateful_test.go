package stateful_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/refpair"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// FuzzReferenceProperties is the rapid state machine over the reference
// gateway pair (hitless profile, all properties) as a native fuzz target:
// the fuzzer's bytes are rapid's choices (gateway seed, lifetimes, which
// action, which datagram, how long to wait), so coverage of the gateway
// steers the schedules.
//
//	go test ./fuzz/stateful -run '^$' -fuzz FuzzReferenceProperties -fuzztime 60s
func FuzzReferenceProperties(f *testing.F) {
	// rapid's fail files hold the same choices rapid.MakeFuzz reads: the
	// committed counterexamples of the lossy profiles are schedules that
	// reach deep into a rekey, a good start for the hitless one.
	files, _ := filepath.Glob(filepath.Join("..", "..", "props", "testdata", "rapid", "ref", "*.fail"))
	for _, name := range files {
		b, err := failFileInput(name)
		if err != nil {
			f.Fatal(err)
		}
		// Zero choices after a schedule that failed early end it cleanly
		// where the hitless profile goes on drawing.
		f.Add(append(b, make([]byte, 8*64)...))
	}
	f.Fuzz(rapid.MakeFuzz(props.Property(refpair.Pair(quickmode.Hitless, refpair.Options{}), props.Options{})))
}

// failFileInput turns a rapid fail file (comment lines, "version#seed",
// then one hexadecimal choice per line) into rapid.MakeFuzz's input: each
// choice as 8 little-endian bytes.
func failFileInput(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []byte
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if header {
			header = false // version#seed
			continue
		}
		u, err := strconv.ParseUint(strings.TrimPrefix(line, "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = binary.LittleEndian.AppendUint64(out, u)
	}
	return out, sc.Err()
}
