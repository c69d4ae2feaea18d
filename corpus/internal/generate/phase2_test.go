package generate_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitless-ike/hitless/corpus/internal/generate"
)

// TestPhase2StrongSwan decrypts the Quick Modes of both shipped runs. The
// generator verifies every HASH itself; here its cipher key is compared
// with the one strongSwan gave Wireshark (ikev1_decryption_table), which
// the generator never reads, and each run must hold complete exchanges.
func TestPhase2StrongSwan(t *testing.T) {
	for _, c := range generate.Captures {
		qms, p1, err := generate.Phase2(root, c)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		table, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path.Join(path.Dir(c), "ikev1_decryption_table"))))
		if err != nil {
			t.Fatal(err)
		}
		row := hex.EncodeToString(p1.CookieI[:]) + "," + hex.EncodeToString(p1.Key)
		if !strings.Contains(string(table), row) {
			t.Errorf("%s: derived Ka row %s not in the decryption table %q", c, row, table)
		}
		n := map[int]int{}
		for _, q := range qms {
			n[q.N]++
			if len(q.Plain)%16 != 0 || len(q.Chain) == 0 && q.N < 3 {
				t.Errorf("%s: M-ID %#x QM%d: %d-byte body, %d-byte chain", c, q.MessageID, q.N, len(q.Plain), len(q.Chain))
			}
		}
		if n[1] < 2 || n[2] != n[1] || n[3] < 2 {
			t.Errorf("%s: %v Quick Mode messages by number", c, n)
		}
	}
}

// TestPhase2BadLogs covers the bad-input classes of the log reader and
// the decryption: each run over a copy of the first capture with a
// replaced log.
func TestPhase2BadLogs(t *testing.T) {
	c := generate.Captures[0]
	raw, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(c)))
	if err != nil {
		t.Fatal(err)
	}
	dump := func(n int, b byte) string {
		var s strings.Builder
		fmt.Fprintf(&s, "13:06:05 06[IKE] <1> shared Diffie Hellman secret => %d bytes @ 0x1\n", n)
		for off := 0; off < n; off += 16 {
			fmt.Fprintf(&s, "13:06:05 06[IKE] <1> %4d:%s  ................\n", off, strings.Repeat(fmt.Sprintf(" %02X", b), min(16, n-off)))
		}
		return s.String()
	}
	for _, tc := range []struct {
		class, log string
		want       error // nil: any error
	}{
		{"secret not logged", "13:06:05 06[IKE] <1> nothing here\n", nil},
		{"secret cut short", strings.Join(strings.SplitAfter(dump(256, 1), "\n")[:5], ""), nil},
		{"dump offsets out of order", strings.Replace(dump(256, 1), "  16:", "  32:", 1), nil},
		{"another run's secret: HASH does not verify", dump(256, 1), generate.ErrPhase2},
	} {
		dir := t.TempDir()
		capFile := filepath.Join(dir, filepath.FromSlash(c))
		if err := os.MkdirAll(filepath.Dir(capFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(capFile, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(generate.LogOf(c))), []byte(tc.log), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := generate.Phase2(dir, c)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.class, err, tc.want)
		}
	}
}
