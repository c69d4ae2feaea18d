package simcmd

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/hitless-ike/hitless/props/effect"
	"github.com/hitless-ike/hitless/props/extpair"
	"github.com/hitless-ike/hitless/ref/peer/adapter"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Exit codes, in line with the rest of the hitless command.
const (
	ExitOK          = 0   // success
	ExitUsage       = 2   // bad flags or scenario
	ExitInput       = 3   // the config file or chart file could not be read or written
	ExitPeer        = 4   // with --peer: the shim broke the adapter protocol or exited
	ExitInterrupted = 130 // SIGINT: partial results were printed
)

// Usage is the one-line argument summary.
const Usage = "[--config FILE] [flags] [--peer 'CMD ARGS' [--side initiator|responder|self] [--peer-timeout D]] [--csv|--json] [--plot FILE.png|FILE.svg]"

// Long is the help text.
var Long = `Simulates pairs of reference gateways (A initiates, B responds) rekeying
under load over a lossy, delaying, reordering network, once per install
profile, and reports per profile: packets sent, delivered, lost by the
network and dropped by reason, drops for lack of an active SA per rekey,
added latency percentiles (above the base delay), rekeys completed and
exchanges that collided. Virtual time: 10,000 tunnels × 1 hour × 10
packets/s each way, rekeying every 5 minutes, compares all six profiles
in about 2 minutes on 2 cores, and the same flags and seed give
byte-identical output (whatever --workers and --shard-tunnels).

Between rekeys nothing happens to a packet but sequence numbers, replay
windows and byte counters, so those stretches are simulated in bulk
through the gateways' bookkeeping; every packet near a rekey, a loss of
an SA or a Delete is stepped through the gateways. --exact steps every
packet, for checking: the output is the same.

Profiles: ` + profileNames() + `.

B rekeys only as a fallback (its soft lifetime is halfway between A's soft
and hard ones). --config reads a JSON object with the same fields as the
"scenario" of --json output; flags given on the command line override it.

--plot writes one image with three panels: delivered packets/s over time
and drops for lack of an active SA over time (summed over tunnels, one
line per profile, rekey starts of the first profile as dashed grey lines),
and a bar chart of drops per completed rekey by profile.

--peer 'CMD ARGS' puts another implementation at one end of every tunnel:
CMD is started as a shim of the out-of-process adapter protocol
(ref/peer/adapter/PROTOCOL.md), one process per tunnel end, and --side
says which end it takes: responder (B, the default), initiator (A) or
self (both ends). The other end is the reference gateway in each
--profiles profile (default hitless only); rows are labelled with the
pairing, e.g. "ref/hitless(A)+peer(B)". --delete-rekeyed,
--delete-old-after-rekey and the profile apply to the reference ends only.
Every packet is a round trip to a shim, so nothing coasts: --tunnels is
at most ` + fmt.Sprint(maxPeerTunnels) + ` and defaults to ` + fmt.Sprint(defaultPeerTunnels) + `. A shim that exits, or sends a reply that is
malformed, too large or later than --peer-timeout, ends the run with
exit status 4 and the tail of its stderr.

A progress bar is shown on stderr when it is a terminal (or with
--progress) for runs over a second. Ctrl-C stops the run and prints what
was measured so far (exit status 130).`

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

type cmdFlags struct {
	config, plot    string
	csv, json, prog bool
	workers         int
	peer, side      string
	peerTimeout     time.Duration
}

// With --peer, every tunnel end the shim takes is a process of its own.
const (
	maxPeerTunnels     = 64
	defaultPeerTunnels = 4
)

type profilesFlag struct{ s *effect.Scenario }

// String implements flag.Value.
func (p profilesFlag) String() string {
	if p.s == nil || len(p.s.Profiles) == 0 {
		return "all"
	}
	return strings.Join(p.s.Profiles, ",")
}

// Set implements flag.Value.
func (p profilesFlag) Set(v string) error {
	names, err := effect.ParseProfiles(v)
	if err != nil {
		return err
	}
	p.s.Profiles = names
	return nil
}

// bothFlag sets one value in both traffic directions.
type bothFlag struct{ set func(string) error }

// String implements flag.Value; the two directions may differ, so there
// is no single current value.

func (b bothFlag) String() string { return "" }

// Set implements flag.Value.
func (b bothFlag) Set(v string) error { return b.set(v) }

func newFlagSet(out io.Writer, s *effect.Scenario, c *cmdFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.config, "config", "", "read the scenario from a JSON `file` (flags override it)")
	fs.IntVar(&s.Tunnels, "tunnels", s.Tunnels, "number of tunnels (gateway pairs)")
	fs.Var(&s.Duration, "duration", "virtual time simulated")
	fs.Uint64Var(&s.Seed, "seed", s.Seed, "seed of every random choice")
	fs.Var(profilesFlag{s}, "profiles", "comma-separated profiles to compare, or all")
	fs.Float64Var(&s.AB.Rate, "rate-ab", s.AB.Rate, "packets/s per tunnel from A to B")
	fs.Float64Var(&s.BA.Rate, "rate-ba", s.BA.Rate, "packets/s per tunnel from B to A")
	fs.Var(bothFlag{func(v string) error {
		_, err := fmt.Sscan(v, &s.AB.Rate)
		s.BA.Rate = s.AB.Rate
		return err
	}}, "rate", "packets/s per tunnel in each direction (sets --rate-ab and --rate-ba)")
	fs.Var(bothFlag{func(v string) error {
		_, err := fmt.Sscan(v, &s.AB.Size)
		s.BA.Size = s.AB.Size
		return err
	}}, "size", fmt.Sprintf("inner packet size in bytes, both directions (default %d)", s.AB.Size))
	fs.Var(bothFlag{func(v string) error {
		err := s.AB.On.Set(v)
		s.BA.On = s.AB.On
		return err
	}}, "burst-on", "with --burst-off: send for this long, then pause (both directions)")
	fs.Var(bothFlag{func(v string) error {
		err := s.AB.Off.Set(v)
		s.BA.Off = s.AB.Off
		return err
	}}, "burst-off", "pause between bursts")
	fs.Var(&s.Delay, "delay", "one-way delay")
	fs.Var(&s.Jitter, "jitter", "extra one-way delay, uniform in [0, jitter]")
	fs.Float64Var(&s.Reorder, "reorder", s.Reorder, "probability that a datagram is held back by --reorder-delay")
	fs.Var(&s.ReorderDelay, "reorder-delay", "how long a reordered datagram is held back")
	fs.Float64Var(&s.IKELoss, "ike-loss", s.IKELoss, "probability that the network loses an IKE datagram")
	fs.Var(&s.IKEProcessing, "ike-processing", "extra delay of IKE datagrams only: time to process a Quick Mode message")
	fs.Float64Var(&s.ESPLoss, "esp-loss", s.ESPLoss, "probability that the network loses an ESP datagram")
	fs.Var(&s.Soft, "soft", "soft lifetime of A: when it rekeys (0: never, by time)")
	fs.Var(&s.Hard, "hard", "hard lifetime (0: 8 h)")
	fs.Func("soft-kb", "soft lifetime in kilobytes (0: none)", func(v string) error {
		_, err := fmt.Sscan(v, &s.SoftKilobytes)
		return err
	})
	fs.Func("hard-kb", "hard lifetime in kilobytes (0: none)", func(v string) error {
		_, err := fmt.Sscan(v, &s.HardKilobytes)
		return err
	})
	fs.Var(&s.RekeyFuzz, "rekey-fuzz", "rekey randomisation: soft lifetimes shortened by up to this (strongSwan rand_time)")
	fs.BoolVar(&s.DeleteRekeyed, "delete-rekeyed", s.DeleteRekeyed, "initiator deletes its old inbound SA as soon as it sends QM3 (charon.delete_rekeyed)")
	fs.BoolVar(&s.DeleteOldAfterRekey, "delete-old-after-rekey", s.DeleteOldAfterRekey, "initiator sends a Delete for the old pair right after QM3")
	fs.Var(&s.Linger, "linger", "otherwise, how long old pairs stay after a rekey (0: until hard expiry)")
	fs.StringVar(&s.Transform, "transform", s.Transform, "ESP transform: "+strings.Join(effect.Transforms, ", "))
	fs.Var(&s.Bucket, "bucket", "time-series bucket for --plot (0: duration/400)")
	fs.IntVar(&s.ShardTunnels, "shard-tunnels", s.ShardTunnels, fmt.Sprintf("tunnels per shard (0: %d); changes speed and memory, not the output", effect.DefaultShardTunnels))
	fs.BoolVar(&s.Exact, "exact", s.Exact, "step every packet through the gateways instead of coasting steady traffic (same output, slower)")
	fs.BoolVar(&c.csv, "csv", false, "write CSV")
	fs.BoolVar(&c.json, "json", false, "write JSON")
	fs.StringVar(&c.plot, "plot", "", "write a chart to `file` (.png or .svg)")
	fs.BoolVar(&c.prog, "progress", false, "show a progress bar even when stderr is not a terminal")
	fs.IntVar(&c.workers, "workers", 0, "shards run at once (0: GOMAXPROCS); does not change the output")
	fs.StringVar(&c.peer, "peer", "", "simulate the shim started by `CMD ARGS` (adapter protocol) at one end of every tunnel")
	fs.StringVar(&c.side, "side", "responder", "with --peer: the shim's end, initiator (A), responder (B) or self (both)")
	fs.DurationVar(&c.peerTimeout, "peer-timeout", 5*time.Second, "with --peer: bound on each reply of the shim")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: hitless sim %s\n\n%s\n\nFlags:\n", Usage, Long)
		fs.PrintDefaults()
	}
	return fs
}

// Main runs the command with SIGINT wired to stop the run.
func Main(stdout, stderr io.Writer, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return Command(ctx, stdout, stderr, args)
}

// Command runs "hitless sim" with args (without the command name) and
// returns the exit status. Cancelling ctx interrupts the run.
func Command(ctx context.Context, stdout, stderr io.Writer, args []string) int {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			s := effect.Default()
			fs := newFlagSet(stdout, &s, &cmdFlags{})
			fs.Usage()
			return ExitOK
		}
	}
	s := effect.Default()
	var c cmdFlags
	if err := newFlagSet(stderr, &s, &c).Parse(args); err != nil {
		return ExitUsage
	}
	if c.config != "" {
		data, err := readLimited(c.config)
		if err != nil {
			fmt.Fprintf(stderr, "hitless sim: %v\n", err)
			return ExitInput
		}
		base, err := effect.ParseJSON(data, effect.Default())
		if err != nil {
			fmt.Fprintf(stderr, "hitless sim: %s: %v\n", c.config, err)
			return ExitUsage
		}
		// Parse again over the file's values so that flags win.
		s, c = base, cmdFlags{}
		if err := newFlagSet(stderr, &s, &c).Parse(args); err != nil {
			return ExitUsage
		}
	}
	fs := newFlagSet(io.Discard, &effect.Scenario{}, &cmdFlags{})
	_ = fs.Parse(args)
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hitless sim: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	if c.csv && c.json {
		fmt.Fprintln(stderr, "hitless sim: --csv and --json exclude each other")
		return ExitUsage
	}
	format := ""
	if c.plot != "" {
		f, err := plotFormat(c.plot)
		if err != nil {
			fmt.Fprintf(stderr, "hitless sim: --plot %s: %v\n", c.plot, err)
			return ExitUsage
		}
		format = f
	}
	var peer *extpair.Starter
	var info *PeerInfo
	if c.peer != "" {
		var msg string
		if peer, info, msg = peerOptions(&s, &c, explicit(fs)); msg != "" {
			fmt.Fprintf(stderr, "hitless sim: %s\n", msg)
			return ExitUsage
		}
	} else if explicit(fs)["side"] || explicit(fs)["peer-timeout"] {
		fmt.Fprintln(stderr, "hitless sim: --side and --peer-timeout need --peer")
		return ExitUsage
	}
	if err := s.Validate(); err != nil {
		fmt.Fprintf(stderr, "hitless sim: %v\n", err)
		return ExitUsage
	}
	o := Options{Scenario: s, Workers: c.workers, Peer: peer, PeerInfo: info}
	if c.prog || isTerminal(stderr) {
		o.Progress = progressBar(stderr)
	}
	rep, err := Run(ctx, o)
	if o.Progress != nil {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if pe := (*PeerError)(nil); errors.As(err, &pe) {
		fmt.Fprintf(stderr, "hitless sim: %v\n", pe)
		if pe.Stderr != "" {
			fmt.Fprintf(stderr, "shim stderr (last lines):\n%s\n", strings.TrimRight(pe.Stderr, "\n"))
		}
		return ExitPeer
	}
	if err != nil {
		fmt.Fprintf(stderr, "hitless sim: %v\n", err)
		return ExitUsage
	}
	switch {
	case c.csv:
		err = rep.WriteCSV(stdout)
	case c.json:
		err = rep.WriteJSON(stdout)
	default:
		err = rep.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "hitless sim: %v\n", err)
		return ExitInput
	}
	if c.plot != "" {
		var buf bytes.Buffer
		err := rep.WritePlot(&buf, format)
		if err == nil {
			err = os.WriteFile(c.plot, buf.Bytes(), 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "hitless sim: --plot: %v\n", err)
			return ExitInput
		}
	}
	for _, o := range rep.Outcomes {
		if o.Result.Err != nil {
			fmt.Fprintf(stderr, "hitless sim: %s: run stopped early: %v\n", o.Profile, o.Result.Err)
		}
	}
	if rep.Interrupted {
		return ExitInterrupted
	}
	return ExitOK
}

// explicit is the set of flags given on the command line.
func explicit(fs *flag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}

// peerOptions checks the --peer flags and adjusts s for them; msg is a
// usage error.
func peerOptions(s *effect.Scenario, c *cmdFlags, set map[string]bool) (st *extpair.Starter, info *PeerInfo, msg string) {
	argv, err := adapter.Split(c.peer)
	if err != nil {
		return nil, nil, fmt.Sprintf("--peer: %v", err)
	}
	var ends extpair.Ends
	switch c.side {
	case "initiator":
		ends = extpair.EndA
	case "responder":
		ends = extpair.EndB
	case "self":
		ends = extpair.EndBoth
	default:
		return nil, nil, fmt.Sprintf("--side %q: want initiator, responder or self", c.side)
	}
	if !set["tunnels"] && c.config == "" {
		s.Tunnels = defaultPeerTunnels
	}
	if s.Tunnels > maxPeerTunnels {
		return nil, nil, fmt.Sprintf("--peer: --tunnels %d: at most %d (one shim process per tunnel end)", s.Tunnels, maxPeerTunnels)
	}
	if !set["profiles"] && len(s.Profiles) == 0 {
		s.Profiles = []string{quickmode.Hitless.Name}
	}
	st = &extpair.Starter{Command: argv, Ends: ends, Process: adapter.Options{Timeout: c.peerTimeout}}
	return st, &PeerInfo{Command: c.peer, Side: c.side}, ""
}

// maxConfig bounds the config file read.
const maxConfig = 1 << 20

var errTooLarge = errors.New("config file larger than 1 MiB")

func readLimited(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfig+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfig {
		return nil, fmt.Errorf("%s: %w", name, errTooLarge)
	}
	return data, nil
}
