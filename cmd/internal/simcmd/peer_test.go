package simcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/props/effect"
	"github.com/hitless-ike/hitless/props/extpair"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/peer/adapter"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// TestMain lets the test binary be the shim: with HITLESS_SERVE_PROFILE
// set it serves the reference gateway in that profile over stdin/stdout,
// as `hitless peer serve` does.
func TestMain(m *testing.M) {
	gateway.ServeFromEnv()
	os.Exit(m.Run())
}

func self(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// peerScenario is small (every packet is a round trip to a shim) but
// holds rekeys, IKE and ESP loss, jitter and reordering.
func peerScenario() effect.Scenario {
	s := effect.Default()
	s.Tunnels, s.Duration = 3, effect.Duration(40*time.Second)
	s.Soft, s.Hard = effect.Duration(8*time.Second), effect.Duration(30*time.Second)
	s.AB.Rate, s.BA.Rate = 40, 40
	s.Delay, s.Jitter = effect.Duration(15*time.Millisecond), effect.Duration(5*time.Millisecond)
	s.Reorder, s.ReorderDelay = 0.02, effect.Duration(10*time.Millisecond)
	s.IKELoss, s.ESPLoss = 0.1, 0.01
	s.Transform = "null-sha1"
	return s
}

// TestPeerMatchesInProcess is the proof that `sim --peer` carries the
// simulation faithfully: the reference behind the adapter, at A, at B or
// at both ends, gives byte for byte the report of the same run with
// in-process gateways (same masked seeds, the served profile at the
// shim's ends) — though the in-process run coasts and the adapter run
// steps every packet.
func TestPeerMatchesInProcess(t *testing.T) {
	cases := []struct {
		ends   extpair.Ends
		ref    []string // profiles of the reference ends
		served quickmode.Profile
	}{
		{extpair.EndB, []string{"hitless", "install-at-qm3"}, quickmode.InstallAtQM3},
		{extpair.EndA, []string{"hitless"}, quickmode.ActivateAtQM1},
		{extpair.EndBoth, []string{"hitless"}, quickmode.Hitless},
	}
	for _, c := range cases {
		t.Run(c.ends.String()+"/"+c.served.Name, func(t *testing.T) {
			sc := peerScenario()
			sc.Profiles = c.ref
			st := &extpair.Starter{Command: []string{self(t)}, Ends: c.ends,
				Process: adapter.Options{Env: []string{gateway.ServeEnv + "=" + c.served.Name}}}
			got, err := Run(context.Background(), Options{Scenario: sc, Peer: st})
			if err != nil {
				t.Fatalf("--peer: %v (stderr %q)", err, st.Stderr())
			}
			if st.Implementation() == "" {
				t.Error("no implementation name from the shim")
			}
			in := sc
			in.NewPair = func(seed uint64, a, b gateway.Config) (peer.Peer, peer.Peer, error) {
				if c.ends&extpair.EndA != 0 {
					a.Profile = c.served
				}
				if c.ends&extpair.EndB != 0 {
					b.Profile = c.served
				}
				ga, gb, err := gateway.NewPair(seed&extpair.MaxSeed, a, b)
				return ga, gb, err
			}
			want, err := Run(context.Background(), Options{Scenario: in})
			if err != nil {
				t.Fatal(err)
			}
			for i := range got.Outcomes {
				if l := st.Label(c.ref[i]); got.Outcomes[i].Profile != l {
					t.Errorf("row %d labelled %q, want %q", i, got.Outcomes[i].Profile, l)
				}
				got.Outcomes[i].Profile = want.Outcomes[i].Profile
			}
			if g, w := jsonOf(t, &got), jsonOf(t, &want); g != w {
				t.Errorf("adapter run differs from the in-process run:\n%s\nin-process:\n%s", g, w)
			}
			if want.Outcomes[0].Rekeys == 0 {
				t.Error("the scenario rekeys nothing: the comparison is weak")
			}
		})
	}
}

func jsonOf(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPeerSeesTheShimsTiming: the served install-at-qm3 responder loses
// traffic at rekeys where the served hitless one loses none, in the
// command's own output — the shim's timing, not the reference end's
// profile, decides.
func TestPeerSeesTheShimsTiming(t *testing.T) {
	args := []string{"--tunnels", "2", "--duration", "60s", "--soft", "10s", "--hard", "50s", "--rate", "200",
		"--delay", "20ms", "--transform", "null-sha1", "--json", "--peer", self(t)}
	lack := map[string]uint64{}
	for _, p := range []string{"hitless", "install-at-qm3"} {
		t.Setenv("HITLESS_SERVE_PROFILE", p)
		out, errs, code := run(t, args...)
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", p, code, errs)
		}
		var doc struct {
			Peer     *PeerInfo `json:"peer"`
			Profiles []Row     `json:"profiles"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Peer == nil || doc.Peer.Side != "responder" || doc.Peer.Implementation == "" || len(doc.Profiles) != 1 ||
			doc.Profiles[0].Profile != "ref/hitless(A)+peer(B)" || doc.Profiles[0].Rekeys == 0 {
			t.Fatalf("%s: report %s", p, out)
		}
		lack[p] = doc.Profiles[0].LackOfActiveSA - doc.Profiles[0].FirstNegotiation
	}
	if lack["hitless"] != 0 || lack["install-at-qm3"] == 0 {
		t.Errorf("rekey drops for lack of an active SA by served responder profile: %v", lack)
	}
}

// TestPeerFailures: a broken shim ends the run with ExitPeer, the reason
// and its stderr; bad --peer flags are usage errors.
func TestPeerFailures(t *testing.T) {
	short := []string{"--duration", "20s", "--soft", "5s", "--hard", "15s", "--rate", "20", "--transform", "null-sha1"}
	cases := []struct {
		class string
		args  []string
		code  int
		want  string
	}{
		{"shim exits at once", []string{"--peer", "sh -c 'echo shim-is-broken >&2; exit 3'"}, ExitPeer, "shim-is-broken"},
		{"shim not found", []string{"--peer", "/nonexistent/shim"}, ExitPeer, "nonexistent"},
		{"shim never answers", []string{"--peer", "sleep 30", "--peer-timeout", "200ms"}, ExitPeer, "the shim failed"},
		{"shim answers garbage", []string{"--peer", "sh -c 'read x; echo not-json'"}, ExitPeer, "the shim failed"},
		{"too many tunnels", []string{"--peer", "true", "--tunnels", "65"}, ExitUsage, "at most 64"},
		{"bad side", []string{"--peer", "true", "--side", "middle"}, ExitUsage, "--side"},
		{"unbalanced quote", []string{"--peer", "sh -c 'x"}, ExitUsage, "--peer"},
		{"side without peer", []string{"--side", "initiator"}, ExitUsage, "need --peer"},
	}
	for _, c := range cases {
		start := time.Now()
		_, errs, code := run(t, append(append([]string{}, short...), c.args...)...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d containing %q", c.class, code, errs, c.code, c.want)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%s: took %v", c.class, d)
		}
	}
}
