package toy_test

import (
	"fmt"

	"github.com/hitless-ike/hitless/props/internal/toy"
	"github.com/hitless-ike/hitless/ref/peer"
)

// Two toy peers negotiate their first pair: A's packet waits in the
// acquire queue until QM2 lets A install and activate the pair.
func ExampleNewPair() {
	a, b := toy.NewPair(toy.Hitless, 1, nil)
	pkt := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 253, 0, 0, 10, 0, 0, 1, 10, 0, 1, 1}
	relay := func(to *toy.Peer, outs []peer.Output) []peer.Output {
		var next []peer.Output
		for _, o := range outs {
			if o.Kind == peer.Transmit {
				next = append(next, to.Step(peer.Input{Kind: peer.Receive, Datagram: o.Datagram})...)
			}
		}
		return next
	}
	show := func(who string, outs []peer.Output) {
		for _, o := range outs {
			switch o.Kind {
			case peer.SAEvent:
				fmt.Println(who, "SA", o.Event, o.SA.Direction)
			case peer.Exchange:
				fmt.Println(who, "exchange", o.ExchangeEvent, o.Role)
			case peer.Transmit:
				fmt.Println(who, "transmit", o.Datagram.Transport)
			default:
				fmt.Println(who, o.Kind)
			}
		}
	}
	outs := a.Step(peer.Input{Kind: peer.Send, Packet: pkt})
	show("A", outs)
	outs = relay(b, outs) // QM1 → B
	show("B", outs)
	outs = relay(a, outs) // QM2 → A
	show("A", outs)
	// Output:
	// A queue
	// A exchange started initiator
	// A transmit udp500
	// B exchange started responder
	// B SA installed inbound
	// B SA installed outbound
	// B transmit udp500
	// A transmit udp500
	// A SA installed inbound
	// A SA installed outbound
	// A SA activated outbound
	// A transmit esp
	// A exchange completed initiator
}
