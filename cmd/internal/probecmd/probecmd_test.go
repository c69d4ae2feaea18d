package probecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func run(ctx context.Context, args ...string) (string, string, int) {
	var o, e bytes.Buffer
	code := Command(ctx, &o, &e, args)
	return o.String(), e.String(), code
}

// TestUsage: bad command lines are usage errors with a message, before
// any socket is opened (input class: each flag's bad values).
func TestUsage(t *testing.T) {
	ok := []string{"--target", "127.0.0.2", "--psk", "k", "--local-ts", "10.76.1.1/32", "--remote-ts", "10.76.2.1/32"}
	with := func(kv ...string) []string {
		a := append([]string{}, ok...)
		for i := 0; i < len(kv); i += 2 {
			replaced := false
			for j := 0; j < len(a); j += 2 {
				if a[j] == kv[i] {
					a[j+1], replaced = kv[i+1], true
				}
			}
			if !replaced {
				a = append(a, kv[i], kv[i+1])
			}
		}
		return a
	}
	for _, c := range []struct {
		class string
		args  []string
		want  string
	}{
		{"no target", []string{"--psk", "k"}, "--target"},
		{"IPv6 target", with("--target", "::1"), "IPv4"},
		{"no key", with("--psk", ""), "pre-shared key"},
		{"key twice", with("--psk-file", "/dev/null"), "exclude"},
		{"bad selector", with("--local-ts", "10.76.1.1"), "--local-ts"},
		{"unknown profile", with("--profile", "nope"), "--profile"},
		{"bad port", with("--port", "70000"), "port"},
		{"bad side", with("--rekey-by", "both"), "--rekey-by"},
		{"trigger without daemon", with("--daemon-rekey", "true"), "--rekey-by daemon"},
		{"stray argument", append(with(), "extra"), "unexpected"},
		{"rate too high", with("--rate", "1e6"), "rate"},
		{"qm3 delay too long", with("--qm3-delay", "5s"), "QM3 delay"},
	} {
		_, errs, code := run(context.Background(), c.args...)
		if code != ExitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d with %q", c.class, code, errs, ExitUsage, c.want)
		}
	}
	if _, _, code := run(context.Background(), "--help"); code != ExitOK {
		t.Errorf("--help: exit %d", code)
	}
}

// TestProbeAgainstTarget runs both commands on loopback: "probe target"
// in install-at-qm3 as the daemon, the probe against it with --json.
// The probe must exit 1 (probes lost) and name the profile; against a
// hitless target it exits 0.
func TestProbeAgainstTarget(t *testing.T) {
	for i, c := range []struct {
		profile string
		code    int
	}{{"install-at-qm3", ExitLoss}, {"hitless", ExitOK}} {
		tport, pport := 25500+10*i, 25600+10*i
		port := strconv.Itoa
		common := []string{"--psk", "cmd-test-psk"}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var tout, terr string
		var tcode int
		wg.Go(func() {
			tout, terr, tcode = run(ctx, append([]string{"target", "--target", "127.0.0.1", "--local", "127.0.0.2",
				"--port", port(tport), "--natt-port", port(tport + 1), "--peer-port", port(pport), "--peer-natt-port", port(pport + 1),
				"--local-ts", "10.76.2.1/32", "--remote-ts", "10.76.1.1/32", "--profile", c.profile}, common...)...)
		})
		time.Sleep(100 * time.Millisecond)
		out, errs, code := run(context.Background(), append([]string{"--target", "127.0.0.2", "--local", "127.0.0.1",
			"--port", port(pport), "--natt-port", port(pport + 1), "--peer-port", port(tport), "--peer-natt-port", port(tport + 1),
			"--local-ts", "10.76.1.1/32", "--remote-ts", "10.76.2.1/32", "--rekeys", "2", "--rate", "300",
			"--interval", "600ms", "--warmup", "300ms", "--qm3-delay", "100ms", "--json"}, common...)...)
		cancel()
		wg.Wait()
		if tcode != ExitOK || !strings.Contains(tout, "waiting for Main Mode") {
			t.Errorf("%s target: exit %d, %q, %q", c.profile, tcode, tout, terr)
		}
		var rep struct {
			Profile string
			Rekeys  []struct {
				LostToDaemon int `json:"lost_to_daemon"`
			}
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%s: %v\n%s\n%s", c.profile, err, out, errs)
		}
		if code != c.code || rep.Profile != c.profile || len(rep.Rekeys) != 2 {
			t.Errorf("%s: exit %d (want %d), profile %q, %d rekeys\n%s%s", c.profile, code, c.code, rep.Profile, len(rep.Rekeys), out, errs)
		}
	}
}

// TestNoDaemon: nothing answers Main Mode; the run fails (exit 3) with
// a message within its bound.
func TestNoDaemon(t *testing.T) {
	start := time.Now()
	_, errs, code := run(context.Background(), "--target", "127.0.0.3", "--local", "127.0.0.1", "--port", "25700", "--natt-port", "25701",
		"--psk", "k", "--local-ts", "10.76.1.1/32", "--remote-ts", "10.76.2.1/32", "--timeout", "1500ms")
	if code != ExitRun || !strings.Contains(errs, "main mode") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}
