package corpusio_test

import (
	"fmt"
	"os"

	"github.com/hitless-ike/hitless/cmd/internal/corpusio"
)

func ExampleImporter() {
	dir, _ := os.MkdirTemp("", "corpus")
	defer os.RemoveAll(dir)
	im := &corpusio.Importer{Dir: dir, Target: corpusio.DefaultTarget}
	res, err := im.ImportFile("../../../corpus/captures/strongswan-5.9.8/fakesa/capture.pcap")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Messages, "messages,", res.Added, "added")
	// Output: 17 messages, 17 added
}
