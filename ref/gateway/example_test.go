package gateway_test

import (
	"fmt"
	"net/netip"

	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Two gateways on one phase-1 SA exchange a packet: the first one queues
// it, negotiates the SA pair with Quick Mode, and sends it through ESP.
// The test carries every datagram by hand.
func Example() {
	flows := []gateway.Flow{{
		Local:  quickmode.Selector{Prefix: netip.MustParsePrefix("10.1.0.0/16")},
		Remote: quickmode.Selector{Prefix: netip.MustParsePrefix("10.2.0.0/16")},
	}}
	a, b, err := gateway.NewPair(1,
		gateway.Config{Profile: quickmode.Hitless, Flows: flows, Initiator: true},
		gateway.Config{Profile: quickmode.Hitless, Flows: gateway.Mirror(flows)})
	if err != nil {
		panic(err)
	}
	// A 20-byte IPv4 header, protocol 59 (no next header).
	pkt := []byte{0x45, 0, 0, 20, 0, 1, 0, 0, 64, 59, 0, 0, 10, 1, 0, 1, 10, 2, 0, 1}

	type hop struct {
		to *gateway.Gateway
		d  peer.Datagram
	}
	var wire []hop
	step := func(who string, g, other *gateway.Gateway, in peer.Input) {
		for _, o := range g.Step(in) {
			switch o.Kind {
			case peer.Transmit:
				// Step may reuse the bytes: keep a copy.
				wire = append(wire, hop{other, peer.Datagram{Transport: o.Datagram.Transport, Bytes: append([]byte(nil), o.Datagram.Bytes...)}})
				kind := "ESP"
				if o.Datagram.IsIKE() {
					kind = "IKE"
				}
				fmt.Printf("%s transmit %s\n", who, kind)
			case peer.SAEvent:
				fmt.Printf("%s %v %v SA\n", who, o.Event, o.Direction)
			case peer.Deliver:
				fmt.Printf("%s deliver %d bytes\n", who, len(o.Packet))
			default:
				fmt.Printf("%s %v\n", who, o.Kind)
			}
		}
	}
	step("A", a, b, peer.Input{Kind: peer.Send, Packet: pkt})
	for len(wire) > 0 {
		h := wire[0]
		wire = wire[1:]
		if h.to == a {
			step("A", a, b, peer.Input{Kind: peer.Receive, Datagram: h.d})
		} else {
			step("B", b, a, peer.Input{Kind: peer.Receive, Datagram: h.d})
		}
	}
	// Output:
	// A queue
	// A exchange
	// A transmit IKE
	// B exchange
	// B installed inbound SA
	// B installed outbound SA
	// B transmit IKE
	// A installed inbound SA
	// A installed outbound SA
	// A activated outbound SA
	// A transmit ESP
	// A transmit IKE
	// A exchange
	// B deliver 20 bytes
	// B activated outbound SA
	// B exchange
}
