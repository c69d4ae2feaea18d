package dump_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/hitless-ike/hitless/cmd/internal/dump"
	"github.com/hitless-ike/hitless/corpus/capture"
)

func Example() {
	f, err := os.Open("../../../corpus/captures/strongswan-5.9.8/fakesa/capture.pcap")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	r, err := capture.NewReader(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	var out strings.Builder
	st, err := dump.New(&out, os.Stderr, dump.Options{}).Run(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Print the header of the first message.
	lines := strings.Split(out.String(), "\n")
	fmt.Println(strings.Join(lines[:15], "\n"))
	fmt.Println(st.ISAKMP, "messages")
	// Output:
	// Frame 1: isakmp
	//   Time: 2026-11-27T13:06:05.625300878Z
	//   Source: 10.99.0.1:500
	//   Destination: 10.99.0.2:500
	//   ISAKMP
	//     Initiator cookie: e1219ab8863e2fdc
	//     Responder cookie: 0000000000000000
	//     Next payload: SA (1)
	//     Major version: 1
	//     Minor version: 0
	//     Exchange type: Identity Protection (2)
	//     Flags: none (0)
	//     Message ID: 0x00000000
	//     Length: 180
	//     Payload 1: SA (1)
	// 17 messages
}
