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

// Steady traffic between rekeys is coasted: simulated in bulk through the
// gateways' sequence numbers, replay windows and byte counters instead of
// being encrypted and decrypted packet by packet. Exact steps every packet
// and gets the same outcome, many times slower.
func ExampleScenario_exact() {
	s := effect.Scenario{
		Tunnels: 4, Duration: effect.Duration(2 * time.Minute), Seed: 1,
		AB:    effect.Traffic{Rate: 50, Size: 200},
		BA:    effect.Traffic{Rate: 50, Size: 200},
		Delay: effect.Duration(10 * time.Millisecond), Jitter: effect.Duration(time.Millisecond), ESPLoss: 0.001,
		Soft: effect.Duration(20 * time.Second), Hard: effect.Duration(40 * time.Second), RekeyFuzz: effect.Duration(2 * time.Second),
		Transform: "aes128gcm16",
	}
	coasted, err := s.Run(quickmode.InstallAtQM3)
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Exact = true
	exact, err := s.Run(quickmode.InstallAtQM3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("coasted %.0f%% of %d packets\n", 100*float64(coasted.Result.Coasted)/float64(coasted.Result.Sent), coasted.Result.Sent)
	fmt.Println("same deliveries and drops:", coasted.Result.Delivered == exact.Result.Delivered &&
		coasted.Result.Dropped == exact.Result.Dropped && coasted.Rekeys == exact.Rekeys)
	// Output:
	// coasted 99% of 48000 packets
	// same deliveries and drops: true
}
