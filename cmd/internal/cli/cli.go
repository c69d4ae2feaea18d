// Package cli implements the hitless command line: argument parsing,
// usage text and exit codes. The work is done by sibling packages (dump,
// corpusio, synth) so that it can be tested without a process.
package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hitless-ike/hitless/cmd/internal/checkcmd"
	"github.com/hitless-ike/hitless/cmd/internal/dump"
	"github.com/hitless-ike/hitless/cmd/internal/peercmd"
	"github.com/hitless-ike/hitless/cmd/internal/probecmd"
	"github.com/hitless-ike/hitless/cmd/internal/simcmd"
	"github.com/hitless-ike/hitless/cmd/internal/synth"
	"github.com/hitless-ike/hitless/corpus/capture"
)

// Exit codes.
const (
	ExitOK    = 0 // success
	ExitBad   = 1 // the run completed, but bad packets or frames were reported
	ExitUsage = 2 // bad command line
	ExitInput = 3 // an input could not be read (missing, not a capture, damaged)
)

// Env is the process environment a command runs in.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

type command struct {
	name, args, short string
	long              string
	hidden            bool
	run               func(env Env, args []string) int
}

var commands []command

func init() {
	commands = []command{
		{name: "dump", args: "[--json] [--esp] FILE", short: "print every ISAKMP message of a pcap/pcapng capture",
			long: `Reads FILE (pcap or pcapng, optionally gzipped; "-" for stdin) and prints
each ISAKMP message on UDP 500/4500 as an indented tree: frame, time,
addresses, header fields, and every payload with its fields and IANA names.
Encrypted messages show the header and the length of the encrypted part.
Bad datagrams and frames are printed in the dump, reported on stderr as
"frame N: error", and skipped.

--json writes JSON Lines instead: one object per datagram or bad frame, in
file order (stream it with jq -c). Bad entries carry "error", and for ISAKMP
parse errors "offset" (within the ISAKMP message) and "path".`,
			run: runDump},
		{name: "corpus", args: corpusArgs, short: "move fuzz inputs between the corpus and fuzzing engines",
			long: corpusLong, run: runCorpus},
		{name: "check", args: checkcmd.Args, short: checkcmd.Short, long: checkcmd.Long,
			run: func(env Env, args []string) int { return checkcmd.Main(env.Stdout, env.Stderr, args) }},
		{name: "sim", args: simcmd.Usage, short: "simulate gateways rekeying and compare what each install profile loses",
			long: simcmd.Long, run: func(env Env, args []string) int { return simcmd.Main(env.Stdout, env.Stderr, args) }},
		{name: "probe", args: probecmd.Args, short: probecmd.Short, long: probecmd.Long,
			run: func(env Env, args []string) int { return probecmd.Main(env.Stdout, env.Stderr, args) }},
		{name: "peer", args: peercmd.Args, short: peercmd.Short, long: peercmd.Long,
			run: func(env Env, args []string) int { return peercmd.Main(env.Stdin, env.Stdout, env.Stderr, args) }},
		{name: "synth", args: "[-n N] -o OUT SOURCE...", short: "write a large synthetic capture for benchmarks", hidden: true,
			long: `Replicates the IPv4 IKE datagrams of the SOURCE captures, each copy with its
own addresses and ISAKMP cookies, until OUT holds at least N ISAKMP messages.`,
			run: runSynth},
	}
}

const exitText = `Exit status: 0 success; 1 bad packets or frames were reported; 2 usage
error; 3 an input could not be read.`

func usage(w io.Writer) {
	fmt.Fprintf(w, "hitless — tools for testing IKEv1 implementations\n\nUsage:\n  hitless COMMAND [ARGS]\n\nCommands:\n")
	for _, c := range commands {
		if !c.hidden {
			fmt.Fprintf(w, "  %-8s %s\n", c.name, c.short)
		}
	}
	fmt.Fprintf(w, "  %-8s %s\n\n", "help", "show help for a command")
	fmt.Fprintf(w, "Run \"hitless help COMMAND\" or \"hitless COMMAND -h\" for details.\n\n%s\n", exitText)
}

func find(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// Run runs the command line args (without the program name) and returns
// the exit code.
func Run(env Env, args []string) int {
	if len(args) == 0 {
		usage(env.Stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(env.Stdout)
		return ExitOK
	case "help":
		if len(args) == 1 {
			usage(env.Stdout)
			return ExitOK
		}
		c := find(args[1])
		if c == nil {
			fmt.Fprintf(env.Stderr, "hitless help: unknown command %q\n", args[1])
			return ExitUsage
		}
		return c.run(env, []string{"-h"})
	}
	c := find(args[0])
	if c == nil {
		fmt.Fprintf(env.Stderr, "hitless: unknown command %q\n\n", args[0])
		usage(env.Stderr)
		return ExitUsage
	}
	return c.run(env, args[1:])
}

// newFlags returns a FlagSet for c whose -h prints the command's help.
func newFlags(env Env, c *command, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: hitless %s %s\n\n%s\n", c.name, c.args, c.long)
		var buf strings.Builder
		fs.SetOutput(&buf)
		fs.PrintDefaults()
		fs.SetOutput(w)
		if buf.Len() > 0 {
			fmt.Fprintf(w, "\nFlags:\n%s", buf.String())
		}
		fmt.Fprintf(w, "\n%s\n", exitText)
	}
	return fs
}

// parse parses args; it returns an exit code and false when the command
// should stop (help was asked for: printed to stdout, success).
func parse(env Env, fs *flag.FlagSet, args []string) (int, bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(env.Stdout)
			fs.Usage()
			return ExitOK, false
		}
	}
	if err := fs.Parse(args); err != nil {
		return ExitUsage, false
	}
	return 0, true
}

// open returns the named input; "-" is stdin.
func open(env Env, name string) (io.Reader, func(), error) {
	if name == "-" {
		return env.Stdin, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

func runDump(env Env, args []string) int {
	c := find("dump")
	fs := newFlags(env, c, "dump")
	var o dump.Options
	fs.BoolVar(&o.JSON, "json", false, "write JSON Lines (one object per datagram) instead of the text tree")
	fs.BoolVar(&o.ESP, "esp", false, "also list ESP packets (SPI, sequence number) and NAT-keepalives")
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(env.Stderr, "hitless dump: exactly one FILE (or -) is required")
		fs.Usage()
		return ExitUsage
	}
	in, done, err := open(env, fs.Arg(0))
	if err != nil {
		fmt.Fprintf(env.Stderr, "hitless dump: %v\n", err)
		return ExitInput
	}
	defer done()
	r, err := capture.NewReader(in)
	if err != nil {
		fmt.Fprintf(env.Stderr, "hitless dump: %s: %v\n", fs.Arg(0), err)
		return ExitInput
	}
	st, err := dump.New(env.Stdout, env.Stderr, o).Run(r)
	if err != nil {
		fmt.Fprintf(env.Stderr, "hitless dump: %s: %v\n", fs.Arg(0), err)
		return ExitInput
	}
	if st.Bad > 0 {
		return ExitBad
	}
	return ExitOK
}

func runSynth(env Env, args []string) int {
	c := find("synth")
	fs := newFlags(env, c, "synth")
	n := fs.Int("n", 100000, "minimum number of ISAKMP messages")
	out := fs.String("o", "", "output pcap file (required)")
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	if *out == "" || fs.NArg() == 0 || *n < 1 {
		fmt.Fprintln(env.Stderr, "hitless synth: -o OUT, N >= 1 and at least one SOURCE are required")
		return ExitUsage
	}
	var srcs [][]capture.Datagram
	for _, name := range fs.Args() {
		ds, err := capture.ReadFile(name)
		if err != nil {
			fmt.Fprintf(env.Stderr, "hitless synth: %s: %v\n", name, err)
			return ExitInput
		}
		srcs = append(srcs, ds)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintf(env.Stderr, "hitless synth: %v\n", err)
		return ExitInput
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	st, err := synth.Generate(bw, srcs, *n)
	err = errors.Join(err, bw.Flush(), f.Close())
	if err != nil {
		fmt.Fprintf(env.Stderr, "hitless synth: %v\n", err)
		return ExitInput
	}
	fmt.Fprintf(env.Stdout, "%s: %d frames, %d ISAKMP messages\n", *out, st.Frames, st.ISAKMP)
	return ExitOK
}
