package udpencap_test

import (
	"fmt"
	"net/netip"

	"github.com/hitless-ike/hitless/cmd/internal/udpencap"
	"github.com/hitless-ike/hitless/corpus/capture"
)

func ExampleClassify() {
	d := capture.Datagram{
		Src:     netip.MustParseAddrPort("10.99.0.1:4500"),
		Dst:     netip.MustParseAddrPort("10.99.0.2:4500"),
		Payload: []byte{0x18, 0xfa, 0x3a, 0xa6, 0, 0, 0, 1, 0xaa, 0xbb},
	}
	kind, esp, _ := udpencap.Classify(&d)
	spi, seq := udpencap.ESPHeader(esp)
	fmt.Printf("%v spi=%#08x seq=%d\n", kind, spi, seq)
	// Output: esp spi=0x18fa3aa6 seq=1
}
