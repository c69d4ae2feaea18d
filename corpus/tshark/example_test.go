package tshark_test

import (
	"fmt"
	"strings"

	"github.com/hitless-ike/hitless/corpus/tshark"
)

func ExampleDecode() {
	// What tshark -T pdml prints, trimmed: in a test, tshark.Run returns
	// the packets of a capture directly.
	const pdml = `<pdml>
<packet>
  <proto name="geninfo"><field name="num" show="3"/></proto>
  <proto name="isakmp">
    <field name="isakmp.exchangetype" show="32" value="20"/>
    <field name="isakmp.messageid" show="0x0c9f71b3" value="0c9f71b3"/>
  </proto>
</packet>
</pdml>`
	packets, err := tshark.Decode(strings.NewReader(pdml))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range packets {
		for _, pr := range p.Protos {
			if pr.Name != "isakmp" {
				continue
			}
			et, _ := tshark.Lookup(pr.Fields, "isakmp.exchangetype")
			mid, _ := tshark.Lookup(pr.Fields, "messageid")
			fmt.Printf("frame %d: exchange %s, M-ID %s\n", p.Frame(), et.Show, mid.Value)
		}
	}
	// Output: frame 3: exchange 32, M-ID 0c9f71b3
}
