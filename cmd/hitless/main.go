// Command hitless is the command-line tool of the hitless project: it
// dumps the ISAKMP messages of packet captures, moves fuzz inputs between
// the shareable corpus and fuzzing engines, checks the Quick Mode
// properties on the reference gateway or another implementation,
// simulates rekeying gateways and probes live daemons.
//
// Usage:
//
//	hitless dump [--json] [--esp] FILE           print every ISAKMP message
//	hitless corpus import [FLAGS] SOURCE...      add captures or inputs to the corpus
//	hitless corpus export [FLAGS] --out DIR|FILE write a target's inputs (go, raw,
//	                                             libfuzzer, oss-fuzz-zip)
//	hitless corpus minimize [FLAGS] --out DIR    keep the inputs that add coverage
//	hitless corpus stats [--dir DIR] [TARGET...] count inputs, classes and sources
//	hitless corpus crashers [FLAGS] FILE...      turn crashers into Go regression inputs
//	hitless check [FLAGS]                        run the rapid properties on every profile
//	hitless sim [FLAGS]                          simulate rekeys, compare the profiles' losses
//	hitless peer serve|conform [FLAGS]           the reference behind the adapter; check a shim
//	hitless probe [FLAGS] | target [FLAGS]       measure a live IKEv1 daemon's rekeys over UDP
//	hitless help [COMMAND]                       show help
//
// FILE is a pcap or pcapng capture, optionally gzipped; "-" reads stdin.
// "hitless dump --json" writes JSON Lines: one object per datagram or bad
// frame, in file order. A corpus TARGET is a corpus folder (parse, qm1,
// ...) or a Go fuzz target (FuzzParse, FuzzResponderQM1, ...); run
// "hitless help COMMAND" for the flags of each.
//
// Exit status:
//
//	0  success
//	1  the run completed, but bad packets or frames were reported
//	2  usage error
//	3  an input could not be read (missing, not a capture, damaged)
package main

import (
	"os"

	"github.com/hitless-ike/hitless/cmd/internal/cli"
)

func main() {
	os.Exit(cli.Run(cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, os.Args[1:]))
}
