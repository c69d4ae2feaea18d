package checkcmd_test

import (
	"fmt"
	"io"
	"time"

	"github.com/hitless-ike/hitless/cmd/internal/checkcmd"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Check one profile programmatically and read its verdicts.
func ExampleCheck() {
	s := checkcmd.Check(checkcmd.Options{Profiles: []quickmode.Profile{quickmode.ActivateAtQM1}, Checks: 20, Shrink: time.Second}, io.Discard)
	for _, v := range s.Verdicts[:1] {
		fmt.Printf("%s %s holds=%v expected=%v\n", v.Profile, v.Property, v.Holds, v.Expected)
	}
	// Output:
	// activate-at-qm1 P1 no-drop holds=false expected=true
}
