package corpus_test

import (
	"fmt"

	"github.com/hitless-ike/hitless/corpus"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// Seeds of a target are loaded through one function, here to check that
// the hand-made "header-only-no-payloads" input parses.
func ExampleLoad() {
	inputs, err := corpus.Load(corpus.TargetParse)
	if err != nil {
		panic(err)
	}
	classes, _ := corpus.Manifest(corpus.TargetParse)
	for _, c := range classes {
		if c.Class != "header-only-no-payloads" {
			continue
		}
		for _, in := range inputs {
			if in.Name == c.Name {
				m, err := isakmp.Parse(in.Data)
				fmt.Println(c.Expected, len(m.Payloads), err)
			}
		}
	}
	// Output: ok 0 <nil>
}

// An attribute list is framed as the only transform of an ESP proposal.
func ExampleWrapAttributes() {
	lifeTypeSeconds := []byte{0x80, 0x01, 0x00, 0x01}
	m, err := isakmp.Parse(corpus.WrapAttributes(nil, lifeTypeSeconds, true))
	if err != nil {
		panic(err)
	}
	p := m.Payloads[0].(*isakmp.SA).Proposals[0]
	fmt.Println(p.Protocol, p.Transforms[0].Attributes[0].Value)
	// Output: PROTO_IPSEC_ESP 1
}
