package fuzz

import (
	"bytes"
	"fmt"

	"github.com/hitless-ike/hitless/corpus"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// The property FuzzParse checks on every accepted input, shown on the
// captured messages of the corpus: Marshal(Parse(b)) == b.
func Example() {
	inputs, _ := corpus.Load(corpus.TargetParse)
	same := 0
	for _, in := range inputs {
		m, err := isakmp.Parse(in.Data)
		if err != nil {
			continue
		}
		if out, err := m.Marshal(); err == nil && bytes.Equal(out, in.Data) {
			same++
		} else {
			fmt.Println("round trip failed:", in.Name)
		}
	}
	fmt.Println(same > 0)
	// Output: true
}
