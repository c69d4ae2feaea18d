// Package peercmd implements "hitless peer": the reference gateway behind
// the out-of-process adapter protocol (serve), and the protocol
// conformance check of a shim (conform).
package peercmd

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hitless-ike/hitless/props/extpair"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/peer/adapter"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Exit codes of "hitless peer".
const (
	ExitOK      = 0
	ExitFail    = 1 // conform: a check failed; serve: stdin or stdout broke
	ExitUsage   = 2
	ExitNoStart = 4 // conform: the shim could not be started
)

// Args, Short and Long describe the command to the front end.
const (
	Args  = "serve [--profile NAME] [--delete-rekeyed] [--delete-old-after-rekey] | conform [--timeout D] 'CMD ARGS'"
	Short = "serve the reference gateway over the adapter protocol, or check a shim's protocol hygiene"
	Long  = `hitless peer serve runs the reference gateway behind the out-of-process
adapter protocol (ref/peer/adapter/PROTOCOL.md) on stdin and stdout, in
the profile --profile (default hitless): the shim that
"hitless check --peer 'hitless peer serve --profile NAME'" gives exactly
the verdicts of the in-process profile. --delete-rekeyed and
--delete-old-after-rekey are strongSwan's retirement options
(gateway.Config). It ends at EOF on stdin.

hitless peer conform 'CMD ARGS' starts the shim CMD (several times) and
checks its protocol hygiene before any property runs: the handshake, an
error reply of the right code for each kind of bad request (not JSON, not
an object, unknown type, unknown input kind, flow out of range, time going
backwards, an over-long line, a wrong version, a step before init), no
state change from a garbage datagram or a refused input, a large packet,
a second init, determinism under one seed and exit on EOF. It prints one
line per check (ok or FAIL, the input class, why).

Exit status: 0 ok; 1 a conformance check failed (serve: stdin or stdout
failed); 2 usage error; 4 the shim could not be started.`
)

// Main runs "hitless peer" with args (without "peer").
func Main(stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "Usage: hitless peer %s\n", Args)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprintf(stdout, "Usage: hitless peer %s\n\n%s\n", Args, Long)
		return ExitOK
	case "serve":
		return serve(stdin, stdout, stderr, args[1:])
	case "conform":
		return conform(stdout, stderr, args[1:])
	}
	fmt.Fprintf(stderr, "hitless peer: unknown subcommand %q (serve, conform)\n", args[0])
	return ExitUsage
}

func serve(stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	fs := flag.NewFlagSet("peer serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("profile", quickmode.Hitless.Name, "Quick Mode profile of the gateway")
	var o gateway.ServeOptions
	fs.BoolVar(&o.DeleteRekeyed, "delete-rekeyed", false, "delete the old inbound SAs as soon as QM3 is sent (charon.delete_rekeyed)")
	fs.BoolVar(&o.DeleteOldAfterRekey, "delete-old-after-rekey", false, "delete the old pair with a Delete right behind QM3")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	p, err := quickmode.ParseProfile(*name)
	if err != nil {
		fmt.Fprintf(stderr, "hitless peer serve: %v\n", err)
		return ExitUsage
	}
	o.Profile = p
	if err := adapter.Serve(stdin, stdout, gateway.Serve(o)); err != nil {
		fmt.Fprintf(stderr, "hitless peer serve: %v\n", err)
		return ExitFail
	}
	return ExitOK
}

func conform(stdout, stderr io.Writer, args []string) int {
	fs := flag.NewFlagSet("peer conform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 5*time.Second, "bound on each reply")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "hitless peer conform: want one argument, the shim's command line in quotes")
		return ExitUsage
	}
	argv, err := adapter.Split(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "hitless peer conform: %v\n", err)
		return ExitUsage
	}
	cfg, err := extpair.ConformConfig()
	if err != nil {
		fmt.Fprintf(stderr, "hitless peer conform: %v\n", err)
		return ExitFail
	}
	probe, err := adapter.Start(argv, adapter.Options{Timeout: *timeout})
	if err != nil {
		fmt.Fprintf(stderr, "hitless peer conform: %v\n", err)
		return ExitNoStart
	}
	probe.Close()
	code := ExitOK
	for _, f := range adapter.Conform(argv, adapter.Options{Timeout: *timeout}, cfg) {
		st := "ok  "
		if !f.OK {
			st, code = "FAIL", ExitFail
		}
		fmt.Fprintf(stdout, "%s %-20s %s\n", st, f.Name, f.Class)
		if f.Detail != "" {
			fmt.Fprintf(stdout, "     %s\n", f.Detail)
		}
	}
	return code
}
