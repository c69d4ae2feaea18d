package mainmode_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/mainmode"
)

// An initiator and a responder run Main Mode in process. The initiator
// pretends to be behind a NAT (as strongSwan's libipsec does), so both
// float to UDP 4500 after MM3/MM4; the caller carries every message and
// frames it with the non-ESP marker once Float reports true.
func Example() {
	psk := []byte("interop-test-psk-0123456789")
	i, mm1, err := mainmode.Initiate(mainmode.Config{
		PSK: psk, NATT: true, ForceNATT: true, InitialContact: true,
		Local: netip.MustParseAddrPort("10.99.0.1:500"), Peer: netip.MustParseAddrPort("10.99.0.2:500"),
		Rand: rand.NewChaCha8([32]byte{1}), // crypto/rand.Reader on the network
	})
	if err != nil {
		panic(err)
	}
	r, err := mainmode.Respond(mainmode.Config{
		PSK: psk, NATT: true,
		Local: netip.MustParseAddrPort("10.99.0.2:500"), Peer: netip.MustParseAddrPort("10.99.0.1:500"),
		Rand: rand.NewChaCha8([32]byte{2}),
	})
	if err != nil {
		panic(err)
	}
	msg, from, to := mm1, i, r
	port := func(x *mainmode.Exchange, n int) int {
		if x.Float() && n >= 5 {
			return 4500
		}
		return 500
	}
	for n := 1; msg != nil; n++ {
		wire := msg
		if port(from, n) == 4500 {
			wire = isakmp.AppendNonESPMarker(nil, msg) // what goes into the UDP datagram
		}
		fmt.Printf("MM%d to port %d, %d bytes\n", n, port(from, n), len(wire))
		if msg, err = to.Receive(msg); err != nil {
			panic(err)
		}
		from, to = to, from
	}
	res, _ := i.Result()
	peer, _ := r.Result()
	fmt.Println("done:", i.Done() && r.Done(), "NAT-T:", res.Phase1.NATT,
		"behind NAT (initiator's view):", res.NATLocal, "INITIAL-CONTACT at responder:", peer.InitialContact)
	// Output:
	// MM1 to port 500, 104 bytes
	// MM2 to port 500, 104 bytes
	// MM3 to port 500, 372 bytes
	// MM4 to port 500, 372 bytes
	// MM5 to port 4500, 112 bytes
	// MM6 to port 4500, 80 bytes
	// done: true NAT-T: true behind NAT (initiator's view): true INITIAL-CONTACT at responder: true
}
