package synth_test

import (
	"fmt"
	"io"

	"github.com/hitless-ike/hitless/cmd/internal/synth"
	"github.com/hitless-ike/hitless/corpus/capture"
)

func ExampleGenerate() {
	ds, err := capture.ReadFile("../../../corpus/captures/strongswan-5.9.8/fakesa/capture.pcap")
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := synth.Generate(io.Discard, [][]capture.Datagram{ds}, 1000)
	fmt.Println(st.ISAKMP, st.Frames, err)
	// Output: 1003 1003 <nil>
}
