package effect

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hitless-ike/hitless/props/netsim"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Coasting (netsim.Config.Coast through the gateway's peer.Coaster) must
// not change an outcome: every profile, over the network and lifetime
// classes that decide where a stretch ends, against Exact.
func TestCoastIsExact(t *testing.T) {
	base := small(50, 10*time.Millisecond)
	// COAST_SEED=n explores other random streams; the default is fixed.
	if v := os.Getenv("COAST_SEED"); v != "" {
		base.Seed, _ = strconv.ParseUint(v, 10, 64)
	}
	base.Tunnels, base.Duration = 2, Duration(31*time.Second)
	scenarios := map[string]func(*Scenario){
		// Network class: clean link, steady traffic.
		"clean": func(*Scenario) {},
		// Network class: jitter and reordering within the replay window,
		// ESP and IKE loss, IKE processing time, rekey fuzz.
		"noisy": func(s *Scenario) {
			s.Jitter, s.Reorder, s.ReorderDelay = Duration(5*time.Millisecond), 0.05, Duration(8*time.Millisecond)
			s.ESPLoss, s.IKELoss, s.IKEProcessing, s.RekeyFuzz = 0.02, 0.1, Duration(3*time.Millisecond), Duration(time.Second)
		},
		// Lifetime class: byte lifetimes end stretches mid-traffic.
		"kilobytes": func(s *Scenario) {
			s.Soft, s.SoftKilobytes, s.HardKilobytes = 0, 300, 900
			s.AB.Rate, s.BA.Rate, s.AB.Size, s.BA.Size = 200, 100, 300, 200
		},
		// Traffic class: many packets in flight at every instant, so
		// stretches start with ESP on the wire.
		"high-rate": func(s *Scenario) {
			s.AB.Rate, s.BA.Rate, s.Jitter, s.Duration = 2000, 1500, Duration(2*time.Millisecond), Duration(11*time.Second)
		},
		// Traffic class: bursts, one direction quiet, AES-GCM.
		"bursty": func(s *Scenario) {
			s.AB.On, s.AB.Off, s.BA.Rate, s.Transform = Duration(700*time.Millisecond), Duration(1300*time.Millisecond), 0, "aes128gcm16"
		},
		// Retirement class: Deletes right after QM3 and at QM3.
		"delete-rekeyed": func(s *Scenario) { s.DeleteRekeyed, s.DeleteOldAfterRekey = true, true },
		"linger":         func(s *Scenario) { s.Linger = Duration(2 * time.Second) },
	}
	for name, tweak := range scenarios {
		for _, p := range quickmode.Profiles {
			s := base
			tweak(&s)
			exact := s
			exact.Exact = true
			want, err := exact.Run(p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Run(p)
			if err != nil {
				t.Fatal(err)
			}
			if want.Result.Coasted != 0 {
				t.Fatalf("%s/%s: Exact coasted %d packets", name, p.Name, want.Result.Coasted)
			}
			if got.Result.Coasted < got.Result.Sent/2 {
				t.Errorf("%s/%s: coasted only %d of %d packets", name, p.Name, got.Result.Coasted, got.Result.Sent)
			}
			got.Result.Coasted = 0
			if d := cmp.Diff(want, got, cmpopts.EquateComparable(netsim.Histogram{})); d != "" {
				t.Errorf("%s/%s: outcome differs (-exact +coasted):\n%s", name, p.Name, d)
			}
		}
	}
}
