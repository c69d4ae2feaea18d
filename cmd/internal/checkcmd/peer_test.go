package checkcmd

import (
	"bytes"
	"strings"
	"testing"
)

// TestPeerExitCodes: a shim that dies ends the run with ExitPeer and its
// stderr (input class: a broken shim); --side and --expect are usage
// errors without --peer or with a bad value (input class: bad flags).
func TestPeerExitCodes(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
		says string
	}{
		{[]string{"--peer", "sh -c 'echo shim-is-broken >&2; exit 3'", "--checks", "2", "--side", "responder"}, ExitPeer, "shim-is-broken"},
		{[]string{"--side", "responder"}, ExitUsage, "need --peer"},
		{[]string{"--peer", "x", "--side", "sideways"}, ExitUsage, "--side"},
		{[]string{"--peer", "x", "--expect", "nonesuch"}, ExitUsage, "--expect"},
		{[]string{"--peer", "'unterminated"}, ExitUsage, "unterminated"},
	} {
		var out, errb bytes.Buffer
		if got := Main(&out, &errb, c.args); got != c.want || !strings.Contains(errb.String(), c.says) {
			t.Errorf("check %q: exit %d, stderr %q; want exit %d mentioning %q", c.args, got, errb.String(), c.want, c.says)
		}
	}
}
