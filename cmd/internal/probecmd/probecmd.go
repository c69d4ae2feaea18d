// Package probecmd implements "hitless probe": it negotiates IKEv1 with a
// live daemon over UDP (Main Mode with a pre-shared key, NAT-T, Quick
// Mode), sends ESP-carried ICMP echo probes through the tunnel, forces or
// waits for rekeys and reports per rekey what was lost each way and which
// install timing the daemon showed. "hitless probe target" stands in for
// a daemon: the reference gateway in a chosen profile behind the same
// shell.
package probecmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"time"

	"github.com/hitless-ike/hitless/ref/peer/adapter"
	"github.com/hitless-ike/hitless/ref/probe"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Exit codes.
const (
	ExitOK    = 0 // the run completed and no probe was lost in a rekey window
	ExitLoss  = 1 // the run completed and probes were lost
	ExitUsage = 2 // bad command line
	ExitRun   = 3 // the run failed: sockets, Main Mode, Quick Mode, timeout
)

// Args is the one-line argument summary.
const Args = "--target ADDR --psk KEY --local-ts PREFIX --remote-ts PREFIX [--rekeys N] [--rate PPS] [--rekey-by probe|daemon [--daemon-rekey 'CMD'] [--hold-qm3 D]] [--json] | target [FLAGS]"

// Short is the one-line description.
const Short = "negotiate with a live IKEv1 daemon and measure what each rekey loses"

// Long is the help text.
const Long = `Negotiates with the IKEv1 daemon at --target over UDP: Main Mode with the
pre-shared key (IDs are the outer addresses), the RFC 3947 vendor ID and
NAT-D with a NAT claimed so that everything floats to UDP 4500 and ESP
travels in UDP (RFC 3948, in userspace: no kernel IPsec), then Quick Mode
(aes128-sha1, PFS modp2048). It sends ICMP echo requests from the address
of --local-ts to that of --remote-ts at --rate through the tunnel, makes
--rekeys rekeys --interval apart and reports for each: probes sent in its
window, those lost on the way to the daemon (unanswered, not dropped by
the probe), those lost from the daemon (ESP the probe could not take for
lack of an SA), the Quick Mode timings, when the daemon first used the
new SA and when its Delete came, and the install timing this shows.

--rekey-by probe (default): the probe initiates each rekey, starts sending
on the new SA as soon as QM2 arrives and holds QM3 back --qm3-delay; a
responder that installs its inbound SA only at QM3 (strongSwan) drops
those probes, and the report says "responder installs its inbound SA at
QM3" (profile install-at-qm3). --rekey-by daemon: the daemon initiates;
--daemon-rekey 'CMD' is run for each rekey (e.g. "swanctl --rekey
--child NAME"), else the probe waits for the daemon's own rekeys. The
probe then answers as the hitless responder and reports whether the
daemon's Delete overtook its QM3; --hold-qm3 D holds each QM3 back D so
that a Delete sent right behind it does.

"hitless probe target" answers as a daemon would, with the reference
gateway in --profile: use it to try the probe, or as a known peer.

Only use addresses you own: the probe binds --local (default: the address
the system routes to --target from) on --port and --natt-port.

Exit status: 0 no probe lost, 1 probes lost, 2 usage error, 3 the run
failed (socket, Main Mode, Quick Mode, timeout).`

// Main runs the command with SIGINT wired to stop it.
func Main(stdout, stderr io.Writer, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return Command(ctx, stdout, stderr, args)
}

type common struct {
	target, local, psk, pskFile, localTS, remoteTS string
	port, nattPort, peerPort, peerNATTPort         int
	profile                                        string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.target, "target", "", "outer address of the daemon (probe) or of the probe (target)")
	fs.StringVar(&c.local, "local", "", "local outer address to bind (default: the route's source address to --target)")
	fs.StringVar(&c.psk, "psk", "", "pre-shared key")
	fs.StringVar(&c.pskFile, "psk-file", "", "read the pre-shared key from `file` (first line)")
	fs.StringVar(&c.localTS, "local-ts", "", "local traffic selector, an IPv4 prefix (probes come from its address)")
	fs.StringVar(&c.remoteTS, "remote-ts", "", "remote traffic selector (probes go to its address)")
	fs.IntVar(&c.port, "port", 500, "local IKE port (0: any)")
	fs.IntVar(&c.nattPort, "natt-port", 4500, "local NAT-T port (0: any)")
	fs.IntVar(&c.peerPort, "peer-port", 500, "the other side's IKE port")
	fs.IntVar(&c.peerNATTPort, "peer-natt-port", 4500, "the other side's NAT-T port")
	fs.StringVar(&c.profile, "profile", "hitless", "install profile of the local gateway")
}

type resolved struct {
	sockets           probe.Sockets
	local             netip.Addr
	psk               []byte
	localTS, remoteTS netip.Prefix
	profile           quickmode.Profile
	close             func()
}

func (c *common) resolve() (*resolved, string) {
	r := &resolved{}
	target, err := netip.ParseAddr(c.target)
	if err != nil || !target.Is4() {
		return nil, fmt.Sprintf("--target %q: want an IPv4 address", c.target)
	}
	switch {
	case c.psk != "" && c.pskFile != "":
		return nil, "--psk and --psk-file exclude each other"
	case c.pskFile != "":
		b, err := os.ReadFile(c.pskFile)
		if err != nil {
			return nil, fmt.Sprintf("--psk-file: %v", err)
		}
		r.psk = []byte(strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r"))
	default:
		r.psk = []byte(c.psk)
	}
	if len(r.psk) == 0 {
		return nil, "a pre-shared key is required (--psk or --psk-file)"
	}
	if r.localTS, err = netip.ParsePrefix(c.localTS); err != nil || !r.localTS.Addr().Is4() {
		return nil, fmt.Sprintf("--local-ts %q: want an IPv4 prefix", c.localTS)
	}
	if r.remoteTS, err = netip.ParsePrefix(c.remoteTS); err != nil || !r.remoteTS.Addr().Is4() {
		return nil, fmt.Sprintf("--remote-ts %q: want an IPv4 prefix", c.remoteTS)
	}
	if r.profile, err = quickmode.ParseProfile(c.profile); err != nil {
		return nil, fmt.Sprintf("--profile: %v", err)
	}
	for _, p := range []int{c.port, c.nattPort} {
		if p < 0 || p > 65535 {
			return nil, fmt.Sprintf("port %d outside 0..65535", p)
		}
	}
	for _, p := range []int{c.peerPort, c.peerNATTPort} {
		if p <= 0 || p > 65535 {
			return nil, fmt.Sprintf("peer port %d outside 1..65535", p)
		}
	}
	if c.local != "" {
		if r.local, err = netip.ParseAddr(c.local); err != nil || !r.local.Is4() {
			return nil, fmt.Sprintf("--local %q: want an IPv4 address", c.local)
		}
	}
	r.sockets = probe.Sockets{Peer: target, PeerIKE: uint16(c.peerPort), PeerNATT: uint16(c.peerNATTPort)}
	return r, ""
}

// open binds the two sockets.
func (r *resolved) open() error {
	if !r.local.IsValid() {
		// The source address the system would use towards the target.
		c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.sockets.Peer, r.sockets.PeerIKE)))
		if err != nil {
			return err
		}
		r.local = c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		c.Close()
	}
	return nil
}

func (r *resolved) bind(port, nattPort int) error {
	ike, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.local, uint16(port))))
	if err != nil {
		return err
	}
	natt, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.local, uint16(nattPort))))
	if err != nil {
		ike.Close()
		return err
	}
	r.sockets.IKE, r.sockets.NATT = ike, natt
	r.close = func() { ike.Close(); natt.Close() }
	return nil
}

// Command runs "hitless probe" with args and returns the exit status.
func Command(ctx context.Context, stdout, stderr io.Writer, args []string) int {
	if len(args) > 0 && args[0] == "target" {
		return target(ctx, stdout, stderr, args[1:])
	}
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	rekeys := fs.Int("rekeys", 3, "rekeys to measure")
	rate := fs.Float64("rate", 200, "probes per second")
	size := fs.Int("size", 84, "IP size of a probe in bytes")
	interval := fs.Duration("interval", 2*time.Second, "time between rekeys")
	warmup := fs.Duration("warmup", time.Second, "probing before the first rekey")
	qm3 := fs.Duration("qm3-delay", 200*time.Millisecond, "with --rekey-by probe: hold QM3 back this long while sending on the new SA")
	by := fs.String("rekey-by", "probe", "who initiates the rekeys: probe or daemon")
	holdQM3 := fs.Duration("hold-qm3", 0, "with --rekey-by daemon: hold the daemon's QM3 back this long, so that a Delete sent behind it overtakes it")
	daemonRekey := fs.String("daemon-rekey", "", "with --rekey-by daemon: run `CMD` to make the daemon rekey (else wait for its own rekeys)")
	timeout := fs.Duration("timeout", 0, "bound on the whole run (0: from the other flags)")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: hitless probe %s\n\n%s\n\nFlags:\n", Args, Long)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hitless probe: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	r, msg := c.resolve()
	if msg != "" {
		fmt.Fprintf(stderr, "hitless probe: %s\n", msg)
		return ExitUsage
	}
	cfg := probe.Config{Local: r.local, PSK: r.psk, LocalTS: r.localTS, RemoteTS: r.remoteTS, Rekeys: *rekeys, Rate: *rate,
		Size: *size, Interval: *interval, Warmup: *warmup, QM3Delay: *qm3, HoldQM3: *holdQM3, Profile: r.profile, Timeout: *timeout}
	switch *by {
	case "probe":
		if *daemonRekey != "" || *holdQM3 != 0 {
			fmt.Fprintln(stderr, "hitless probe: --daemon-rekey and --hold-qm3 need --rekey-by daemon")
			return ExitUsage
		}
	case "daemon":
		cfg.DaemonInitiates = true
		if *daemonRekey != "" {
			argv, err := adapter.Split(*daemonRekey)
			if err != nil || len(argv) == 0 {
				fmt.Fprintf(stderr, "hitless probe: --daemon-rekey: %v\n", err)
				return ExitUsage
			}
			cfg.TriggerRekey = func() error {
				out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
				if err != nil {
					return fmt.Errorf("%s: %w: %s", *daemonRekey, err, strings.TrimSpace(string(out)))
				}
				return nil
			}
		}
	default:
		fmt.Fprintf(stderr, "hitless probe: --rekey-by %q: want probe or daemon\n", *by)
		return ExitUsage
	}
	if err := r.open(); err != nil {
		fmt.Fprintf(stderr, "hitless probe: %v\n", err)
		return ExitRun
	}
	cfg.Local = r.local
	if err := cfg.Check(); err != nil {
		fmt.Fprintf(stderr, "hitless probe: %v\n", err)
		return ExitUsage
	}
	if err := r.bind(c.port, c.nattPort); err != nil {
		fmt.Fprintf(stderr, "hitless probe: %v\n", err)
		return ExitRun
	}
	defer r.close()
	cfg.Local, cfg.Sockets = r.local, r.sockets
	rep, err := probe.Run(ctx, cfg)
	if rep != nil {
		if *asJSON {
			_ = rep.WriteJSON(stdout)
		} else {
			_ = rep.WriteText(stdout)
		}
	}
	if err != nil {
		if errors.Is(err, probe.ErrConfig) {
			fmt.Fprintf(stderr, "hitless probe: %v\n", err)
			return ExitUsage
		}
		fmt.Fprintf(stderr, "hitless probe: %v\n", err)
		return ExitRun
	}
	if rep.LostToDaemon+rep.LostFromDaemon > 0 {
		return ExitLoss
	}
	return ExitOK
}

func target(ctx context.Context, stdout, stderr io.Writer, args []string) int {
	fs := flag.NewFlagSet("probe target", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	deleteRekeyed := fs.Bool("delete-old-after-rekey", false, "send a Delete for the old pair right after QM3 of the rekeys it initiates")
	rekeyEvery := fs.Duration("rekey-every", 0, "initiate a rekey this often (0: never)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: hitless probe target --target PROBE-ADDR --psk KEY --local-ts PREFIX --remote-ts PREFIX [--profile NAME]\n\nAnswers \"hitless probe\" as a daemon in --profile would, until interrupted.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	r, msg := c.resolve()
	if msg != "" {
		fmt.Fprintf(stderr, "hitless probe target: %s\n", msg)
		return ExitUsage
	}
	if err := r.open(); err != nil {
		fmt.Fprintf(stderr, "hitless probe target: %v\n", err)
		return ExitRun
	}
	if err := r.bind(c.port, c.nattPort); err != nil {
		fmt.Fprintf(stderr, "hitless probe target: %v\n", err)
		return ExitRun
	}
	defer r.close()
	tg, err := probe.NewTarget(probe.TargetConfig{Sockets: r.sockets, Local: r.local, PSK: r.psk, LocalTS: r.localTS,
		RemoteTS: r.remoteTS, Profile: r.profile, DeleteOldAfterRekey: *deleteRekeyed})
	if err != nil {
		fmt.Fprintf(stderr, "hitless probe target: %v\n", err)
		return ExitUsage
	}
	if *rekeyEvery > 0 {
		go func() {
			tk := time.NewTicker(*rekeyEvery)
			defer tk.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tk.C:
					_ = tg.Rekey()
				}
			}
		}()
	}
	fmt.Fprintf(stdout, "hitless probe target: %s profile %s, waiting for Main Mode on %d\n", r.local, r.profile.Name, c.port)
	if err := tg.Serve(ctx); err != nil {
		fmt.Fprintf(stderr, "hitless probe target: %v\n", err)
		return ExitRun
	}
	return ExitOK
}
