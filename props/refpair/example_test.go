package refpair_test

import (
	"fmt"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/refpair"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Check the reference gateway's no-drop property in two profiles: the
// hitless responder loses nothing, while the responder that installs only
// at QM3 drops the initiator's first packet on the new SA.
func ExamplePair() {
	for _, p := range []quickmode.Profile{quickmode.Hitless, quickmode.InstallAtQM3} {
		o := props.CheckOptions{Checks: 50, Seed: 1}
		o.Properties = []props.PropertyID{props.NoDrop}
		r := props.Check(refpair.Pair(p, refpair.Options{}), o)
		fmt.Printf("%s: P1 violated=%v\n", p.Name, r.Violated(props.NoDrop))
	}
	// Output:
	// hitless: P1 violated=false
	// install-at-qm3: P1 violated=true
}
