package capture_test

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hitless-ike/hitless/corpus/capture"
)

func Example() {
	ds, err := capture.ReadFile("../captures/strongswan-5.9.8/fakesa/capture.pcap")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range ds[:3] {
		fmt.Println(d.Frame, d.Src, "->", d.Dst, len(d.Payload), "bytes")
	}
	// Output:
	// 1 10.99.0.1:500 -> 10.99.0.2:500 180 bytes
	// 2 10.99.0.2:500 -> 10.99.0.1:500 160 bytes
	// 3 10.99.0.1:500 -> 10.99.0.2:500 372 bytes
}

// The streaming Reader reports undecodable frames and carries on.
func ExampleReader() {
	f, err := os.Open("../captures/strongswan-5.9.8/libipsec/capture.pcap")
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
	n4500 := 0
	for {
		d, err := r.Next()
		var fe *capture.FrameError
		if errors.As(err, &fe) {
			fmt.Println("skipped:", fe)
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if d.Dst.Port() == capture.PortNATT {
			n4500++
		}
	}
	fmt.Println(n4500, "datagrams to port 4500")
	// Output: 29 datagrams to port 4500
}
