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

// A crasher or seed in Go's corpus file format, and back.
func ExampleAppendGo() {
	file := corpusio.AppendGo(nil, []byte{0x00, 0x00, 0x00, 0x00, 0xff})
	fmt.Print(string(file))
	in, err := corpusio.ParseGo(file)
	fmt.Printf("%x %v\n", in, err)
	// Output:
	// go test fuzz v1
	// []byte("\x00\x00\x00\x00\xff")
	// 00000000ff <nil>
}
