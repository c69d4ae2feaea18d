package cli_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/hitless-ike/hitless/cmd/internal/cli"
)

func ExampleRun() {
	var out strings.Builder
	code := cli.Run(cli.Env{Stdin: os.Stdin, Stdout: &out, Stderr: os.Stderr},
		[]string{"dump", "--json", "../../../corpus/captures/strongswan-5.9.8/fakesa/capture.pcap"})
	fmt.Println(code, strings.Count(out.String(), "\n"), "JSON lines")
	// Output: 0 17 JSON lines
}
