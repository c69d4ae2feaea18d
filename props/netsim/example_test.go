package netsim_test

import (
	"fmt"
	"time"

	"github.com/hitless-ike/hitless/props/netsim"
	"github.com/hitless-ike/hitless/ref/peer"
)

// plainPeer is the smallest Peer: it "protects" a packet by sending it as
// is, and delivers whatever arrives.
type plainPeer struct{ outs [1]peer.Output }

func (p *plainPeer) Step(in peer.Input) []peer.Output {
	switch in.Kind {
	case peer.Send:
		p.outs[0] = peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.ESP, Bytes: in.Packet}}
	case peer.Receive:
		p.outs[0] = peer.Output{Kind: peer.Deliver, Packet: in.Datagram.Bytes}
	default:
		return nil
	}
	return p.outs[:]
}

func (p *plainPeer) NextTimer() (time.Duration, bool) { return 0, false }
func (p *plainPeer) State() peer.State                { return peer.State{} }

func Example() {
	cfg := netsim.Config{
		Seed:     1,
		Tunnels:  10,
		Duration: 10 * time.Second,
		AB: netsim.Link{ESP: netsim.LinkConfig{
			Delay: 20 * time.Millisecond, Jitter: 2 * time.Millisecond, LossProb: 0.01,
		}},
		Traffic: []netsim.Traffic{{From: netsim.A, Rate: 100, Size: 128, Stop: 9 * time.Second}},
	}
	r, err := netsim.Run(cfg, func(int) (a, b peer.Peer) { return &plainPeer{}, &plainPeer{} })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sent", r.Sent, "delivered", r.Delivered, "lost", r.Net.ESPLost,
		"accounted:", r.Delivered+r.Net.ESPLost == r.Sent)
	fmt.Println("latency within [20ms, 22ms]:", r.Latency.P50 >= 20*time.Millisecond && r.Latency.Max <= 22*time.Millisecond)
	// Output:
	// sent 9000 delivered 8905 lost 95 accounted: true
	// latency within [20ms, 22ms]: true
}
