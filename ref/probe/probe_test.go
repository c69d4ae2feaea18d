package probe

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/ref/quickmode"
)

var (
	probeInner  = netip.MustParsePrefix("10.76.1.1/32")
	daemonInner = netip.MustParsePrefix("10.76.2.1/32")
	psk         = []byte("loopback-psk-0123456789")
)

// loopPair opens the sockets of a probe at 127.0.0.1 and a target at
// 127.0.0.2, on ephemeral ports.
func loopPair(t *testing.T) (probe, target Sockets) {
	t.Helper()
	listen := func(a string) net.PacketConn {
		c, err := net.ListenPacket("udp4", a+":0")
		if err != nil {
			t.Skipf("loopback UDP: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	pi, pn := listen("127.0.0.1"), listen("127.0.0.1")
	ti, tn := listen("127.0.0.2"), listen("127.0.0.2")
	port := func(c net.PacketConn) uint16 { return uint16(c.LocalAddr().(*net.UDPAddr).Port) }
	probe = Sockets{IKE: pi, NATT: pn, Peer: netip.MustParseAddr("127.0.0.2"), PeerIKE: port(ti), PeerNATT: port(tn)}
	target = Sockets{IKE: ti, NATT: tn, Peer: netip.MustParseAddr("127.0.0.1"), PeerIKE: port(pi), PeerNATT: port(pn)}
	return probe, target
}

// seeded is a deterministic source of randomness for one side.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

type loopRun struct {
	// noise, if set, runs during the probe with its sockets.
	noise           func(ctx context.Context, probe Sockets)
	daemon          quickmode.Profile
	daemonInitiates bool
	deleteRekeyed   bool
	linger          time.Duration
}

func runLoop(t *testing.T, c loopRun) *Report {
	t.Helper()
	ps, ts := loopPair(t)
	tg, err := NewTarget(TargetConfig{Sockets: ts, Local: netip.MustParseAddr("127.0.0.2"), PSK: psk,
		LocalTS: daemonInner, RemoteTS: probeInner, Profile: c.daemon, Rand: seeded(2),
		DeleteOldAfterRekey: c.deleteRekeyed, Linger: c.linger})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- tg.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("target: %v", err)
		}
	}()
	cfg := Config{Sockets: ps, Local: netip.MustParseAddr("127.0.0.1"), PSK: psk, LocalTS: probeInner, RemoteTS: daemonInner,
		Rekeys: 3, Rate: 500, Interval: 600 * time.Millisecond, Warmup: 300 * time.Millisecond, QM3Delay: 100 * time.Millisecond,
		DaemonInitiates: c.daemonInitiates, Rand: seeded(1), Timeout: 20 * time.Second}
	if c.daemonInitiates {
		cfg.TriggerRekey = tg.Rekey
	}
	if c.noise != nil {
		go c.noise(ctx, ps)
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	t.Logf("daemon %s, daemon initiates %v:\n%s", c.daemon.Name, c.daemonInitiates, b.String())
	if len(rep.Rekeys) != 3 {
		t.Fatalf("%d rekeys measured, want 3", len(rep.Rekeys))
	}
	for _, rk := range rep.Rekeys {
		if !rk.Completed || rk.Sent == 0 {
			t.Errorf("rekey %d: completed %v, %d probes", rk.Index, rk.Completed, rk.Sent)
		}
	}
	return rep
}

// The probe against the reference in a known profile must infer that
// profile and count its losses: install-at-qm3 drops what the probe sends
// on the new SA before QM3; hitless drops nothing.
func TestProbeInfersResponderTiming(t *testing.T) {
	for _, c := range []struct {
		daemon  quickmode.Profile
		lossy   bool
		profile string
	}{
		{quickmode.InstallAtQM3, true, "install-at-qm3"},
		{quickmode.Hitless, false, "hitless"},
		{quickmode.InboundQM1OutboundQM3, false, "inbound-qm1-outbound-qm3"},
	} {
		t.Run(c.daemon.Name, func(t *testing.T) {
			rep := runLoop(t, loopRun{daemon: c.daemon})
			if lossy := rep.LostToDaemon > 0; lossy != c.lossy {
				t.Errorf("lost to daemon %d, want loss %v", rep.LostToDaemon, c.lossy)
			}
			if rep.LostFromDaemon != 0 {
				t.Errorf("lost from daemon %d", rep.LostFromDaemon)
			}
			if rep.Profile != c.profile {
				t.Errorf("inferred %q (%s), want %s", rep.Profile, rep.Behaviour, c.profile)
			}
		})
	}
}

// When the daemon initiates, the hitless probe as responder loses
// nothing, and the daemon's Delete of the old pair is seen after QM3.
func TestProbeAsResponder(t *testing.T) {
	rep := runLoop(t, loopRun{daemon: quickmode.InstallAtQM3, daemonInitiates: true, linger: 100 * time.Millisecond})
	if rep.LostToDaemon+rep.LostFromDaemon != 0 {
		t.Errorf("lost %d to, %d from the daemon with the hitless responder", rep.LostToDaemon, rep.LostFromDaemon)
	}
	for _, rk := range rep.Rekeys {
		// The target deletes a superseded pair Linger plus its Delete
		// grace (1 s) after the rekey: the last one's after the run.
		gone := rk.DeleteAt > 0 || rk.Index == len(rep.Rekeys)
		if rk.By != "daemon" || !gone || rk.DeleteBeforeQM3 || rk.QM2 == 0 {
			t.Errorf("rekey %d by %s, QM2 at %v, Delete at %v (before QM3: %v)", rk.Index, rk.By, rk.QM2, rk.DeleteAt, rk.DeleteBeforeQM3)
		}
	}
	if rep.Behaviour != InitiatorBeforeQM3 && rep.Behaviour != InitiatorAfterQM3 {
		t.Errorf("behaviour %q", rep.Behaviour)
	}
	var b strings.Builder
	_ = rep.WriteText(&b)
	if !strings.Contains(b.String(), "QM3") {
		t.Errorf("no ladder:\n%s", b.String())
	}
}

// TestHostileDatagrams: while the probe measures a hitless target,
// garbage arrives from the target's address (input classes: random
// bytes on 500; on 4500 a truncated datagram, a keepalive, an ISAKMP
// header behind the marker with unknown cookies, ESP for an unknown SPI)
// and from an address that is not the target's. Nothing is lost, each
// class is counted where it belongs, and the run is unchanged.
func TestHostileDatagrams(t *testing.T) {
	noise := func(ctx context.Context, p Sockets) {
		from, err := net.ListenPacket("udp4", "127.0.0.2:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer from.Close()
		other, err := net.ListenPacket("udp4", "127.0.0.3:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer other.Close()
		ike, natt := p.IKE.LocalAddr(), p.NATT.LocalAddr()
		r := seeded(9)
		junk := func(n int) []byte {
			b := make([]byte, n)
			_, _ = r.Read(b)
			return b
		}
		header := append(make([]byte, 4), junk(28)...)
		header[4+16], header[4+17], header[4+18] = 0x08, 0x10, 0x20 // next payload, version 1.0, Quick Mode
		for i := 0; ctx.Err() == nil; i++ {
			switch i % 6 {
			case 0:
				_, _ = from.WriteTo(junk(60), ike)
			case 1:
				_, _ = from.WriteTo([]byte{0, 0}, natt)
			case 2:
				_, _ = from.WriteTo([]byte{0xff}, natt)
			case 3:
				_, _ = from.WriteTo(header, natt)
			case 4:
				_, _ = from.WriteTo(append([]byte{0xde, 0xad, 0xbe, 0xef}, junk(80)...), natt)
			case 5:
				_, _ = other.WriteTo(junk(40), natt)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	rep := runLoop(t, loopRun{daemon: quickmode.Hitless, noise: noise})
	if rep.LostToDaemon+rep.LostFromDaemon != 0 || rep.Profile != "hitless" {
		t.Errorf("lost %d/%d, profile %q", rep.LostToDaemon, rep.LostFromDaemon, rep.Profile)
	}
	if rep.Rejected == 0 || rep.Bogus == 0 || rep.Stray == 0 {
		t.Errorf("rejected %d, bogus %d, stray %d: a class was not counted", rep.Rejected, rep.Bogus, rep.Stray)
	}
}
