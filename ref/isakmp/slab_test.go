package isakmp

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSlabWindowsIsolated: Parse carves proposals, transforms, attributes
// and payload structs out of shared slabs; appending to any parsed slice
// must copy rather than overwrite its neighbour. Input classes: a message
// that fits the arena, and one that overflows every slab (the
// constructed all-payloads message), parsed with Parse and ParsePayloads.
func TestSlabWindowsIsolated(t *testing.T) {
	small := build(t, testSA(), &Nonce{Data: []byte{1, 2, 3, 4}})
	large := build(t, allPayloads()...)
	for _, c := range []struct {
		class string
		parse func() ([]Payload, error)
	}{
		{"arena Parse", func() ([]Payload, error) { m, err := Parse(small); return payloadsOf(m, err) }},
		{"overflow Parse", func() ([]Payload, error) { m, err := Parse(large); return payloadsOf(m, err) }},
		{"overflow ParsePayloads", func() ([]Payload, error) {
			b, err := ParsePayloads(PayloadSA, large[HeaderLen:], ParseOptions{})
			if err != nil {
				return nil, err
			}
			return b.Payloads, nil
		}},
	} {
		ps, err := c.parse()
		if err != nil {
			t.Fatalf("%s: %v", c.class, err)
		}
		want, _ := c.parse()
		_ = append(ps[:len(ps):len(ps)], &Nonce{})
		_ = append(ps, &Nonce{})
		for _, p := range ps {
			sa, ok := p.(*SA)
			if !ok {
				continue
			}
			_ = append(sa.Proposals, Proposal{Number: 99})
			for i := range sa.Proposals {
				pr := &sa.Proposals[i]
				_ = append(pr.Transforms, Transform{Number: 99})
				for j := range pr.Transforms {
					_ = append(pr.Transforms[j].Attributes, BasicAttribute(IPsecAttrKeyRounds, uint16(99)))
				}
			}
		}
		if diff := cmp.Diff(want, ps, cmpOpts); diff != "" {
			t.Errorf("%s: appends changed the parsed message (-want +got):\n%s", c.class, diff)
		}
	}
}

func payloadsOf(m *Message, err error) ([]Payload, error) {
	if err != nil {
		return nil, err
	}
	return m.Payloads, nil
}
