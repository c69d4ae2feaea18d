package effect_test

import (
	"fmt"
	"time"

	"github.com/hitless-ike/hitless/props/effect"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// One tunnel, 500 packets/s each way over a 20 ms path, rekeying every
// 5 s, with 4 ms to process a Quick Mode message: strongSwan's responder
// (install-at-qm3) drops the initiator's packets that overtake QM3; the
// hitless responder drops none.
func Example() {
	s := effect.Scenario{
		Tunnels: 1, Duration: effect.Duration(31 * time.Second), Seed: 1,
		AB:    effect.Traffic{Rate: 500, Size: 100},
		BA:    effect.Traffic{Rate: 500, Size: 100},
		Delay: effect.Duration(20 * time.Millisecond), IKEProcessing: effect.Duration(4 * time.Millisecond),
		Soft: effect.Duration(5 * time.Second), Hard: effect.Duration(15 * time.Second),
		Transform: "aes128-sha1",
	}
	for _, p := range []quickmode.Profile{quickmode.Hitless, quickmode.InstallAtQM3} {
		o, err := s.Run(p)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %d rekeys, %.1f packets lost per rekey\n", o.Profile, o.Rekeys, o.LossPerRekey())
	}
	// Output:
	// hitless: 6 rekeys, 0.0 packets lost per rekey
	// install-at-qm3: 6 rekeys, 2.0 packets lost per rekey
}
