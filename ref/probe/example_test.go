package probe_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/hitless-ike/hitless/ref/probe"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// The probe against a stand-in daemon with strongSwan's responder timing,
// both on loopback: every probe sent on the new SA before QM3 is lost.
func Example() {
	listen := func(a string) net.PacketConn {
		c, err := net.ListenPacket("udp4", a+":0")
		if err != nil {
			panic(err)
		}
		return c
	}
	port := func(c net.PacketConn) uint16 { return uint16(c.LocalAddr().(*net.UDPAddr).Port) }
	pi, pn, ti, tn := listen("127.0.0.1"), listen("127.0.0.1"), listen("127.0.0.2"), listen("127.0.0.2")
	defer func() { pi.Close(); pn.Close(); ti.Close(); tn.Close() }()
	probeAddr, daemonAddr := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	probeTS, daemonTS := netip.MustParsePrefix("10.76.1.1/32"), netip.MustParsePrefix("10.76.2.1/32")
	psk := []byte("example-psk")

	target, err := probe.NewTarget(probe.TargetConfig{
		Sockets: probe.Sockets{IKE: ti, NATT: tn, Peer: probeAddr, PeerIKE: port(pi), PeerNATT: port(pn)},
		Local:   daemonAddr, PSK: psk, LocalTS: daemonTS, RemoteTS: probeTS,
		Profile: quickmode.InstallAtQM3, Rand: rand.NewChaCha8([32]byte{2})})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go target.Serve(ctx)

	rep, err := probe.Run(ctx, probe.Config{
		Sockets: probe.Sockets{IKE: pi, NATT: pn, Peer: daemonAddr, PeerIKE: port(ti), PeerNATT: port(tn)},
		Local:   probeAddr, PSK: psk, LocalTS: probeTS, RemoteTS: daemonTS,
		Rekeys: 2, Rate: 200, Interval: 500 * time.Millisecond, Warmup: 200 * time.Millisecond,
		QM3Delay: 100 * time.Millisecond, Rand: rand.NewChaCha8([32]byte{1})})
	if err != nil {
		panic(err)
	}
	for _, rk := range rep.Rekeys {
		fmt.Printf("rekey %d: the probes sent on the new SA before QM3 were all lost: %v\n", rk.Index, rk.EarlySent > 0 && rk.EarlyLost == rk.EarlySent)
	}
	fmt.Println("profile:", rep.Profile)
	// Output:
	// rekey 1: the probes sent on the new SA before QM3 were all lost: true
	// rekey 2: the probes sent on the new SA before QM3 were all lost: true
	// profile: install-at-qm3
}
