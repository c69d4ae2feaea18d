// Command hitless is the command-line tool of the hitless project: it
// dumps the ISAKMP messages of packet captures and feeds them to the fuzz
// corpus.
//
// Usage:
//
//	hitless dump [--json] [--esp] FILE        print every ISAKMP message
//	hitless corpus import [flags] FILE...     add messages to the corpus
//	hitless help [COMMAND]                    show help
//
// FILE is a pcap or pcapng capture, optionally gzipped; "-" reads stdin.
// "hitless dump --json" writes JSON Lines: one object per datagram or bad
// frame, in file order.
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
