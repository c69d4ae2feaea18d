package props_test

import (
	"fmt"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/internal/toy"
)

// Check a pair programmatically, as `hitless check` does: the toy whose
// responder installs at QM3 loses the initiator's first packet on the new
// SA, and rapid shrinks the schedule to a few actions.
func ExampleCheck() {
	for _, p := range []toy.Profile{toy.Hitless, toy.InstallAtQM3} {
		r := props.Check(toyPair(p), props.CheckOptions{Checks: 200, Seed: 1})
		fmt.Printf("%s: holds=%v P1 violated=%v short counterexample=%v\n",
			p.Name, r.Holds(), r.Violated(props.NoDrop), r.Counterexample != nil && r.Actions <= 12)
	}
	// Output:
	// hitless: holds=true P1 violated=false short counterexample=false
	// install-at-qm3: holds=false P1 violated=true short counterexample=true
}
