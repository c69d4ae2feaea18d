package esp_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/hitless-ike/hitless/ref/esp"
)

func Example() {
	cfg := esp.Config{
		SPI:       0xc0ffee01,
		Transform: esp.Transform{Cipher: esp.CipherAESGCM16, KeyBits: 128},
		EncKey:    bytes.Repeat([]byte{0x42}, 16+4), // AES key | salt
		// Rand is only read for AES-CBC IVs; nil means crypto/rand.
	}
	out, _ := esp.NewSA(cfg) // the sender's SA
	in, _ := esp.NewSA(cfg)  // the receiver's copy

	inner := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 59, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	pkt, _ := out.Seal(nil, inner)
	spi, _ := esp.PeekSPI(pkt) // route to the SA
	got, err := in.Open(nil, pkt)
	fmt.Printf("spi=%#x len=%d delivered=%v err=%v\n", spi, len(pkt), bytes.Equal(got, inner), err)

	_, err = in.Open(nil, pkt) // the network duplicated it
	r, _ := esp.ReasonOf(err)
	fmt.Println(r, errors.Is(err, esp.Replay))
	// Output:
	// spi=0xc0ffee01 len=56 delivered=true err=<nil>
	// replay true
}

func ExampleClassifyUDP() {
	for _, payload := range [][]byte{
		{0xff}, // NAT-keepalive
		esp.AppendNonESPMarker(nil, []byte("ike")), // IKE on port 4500
		{0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 1},       // ESP header
	} {
		kind, body, _ := esp.ClassifyUDP(payload)
		fmt.Println(kind, len(body))
	}
	// Output:
	// keepalive 0
	// ike 3
	// esp 8
}

// A simulator that knows the next 1000 packets between two gateways would
// only move counters fast-forwards both SAs instead of sealing and opening
// them; the next real packet then carries, and passes with, the sequence
// number it would have had.
func ExampleSA_CoastSealed() {
	cfg := esp.Config{
		SPI:       0xc0ffee01,
		Transform: esp.Transform{Cipher: esp.CipherAESGCM16, KeyBits: 128},
		EncKey:    bytes.Repeat([]byte{0x42}, 16+4),
	}
	out, _ := esp.NewSA(cfg)
	in, _ := esp.NewSA(cfg)
	const n, size = 1000, 20
	_ = out.CoastSealed(n, size)
	for seq := uint64(1); seq <= n; seq++ {
		_ = in.CoastOpened(seq, size)
	}
	inner := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 59, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	pkt, _ := out.Seal(nil, inner)
	_, err := in.Open(nil, pkt)
	fmt.Println(out.LastSeq(), in.HighestSeq(), in.Stats().Packets, err)
	fmt.Println(in.CoastOpened(999, size)) // a replay is refused as Open would
	// Output:
	// 1001 1001 1001 <nil>
	// esp: drop replay spi=0xc0ffee01 seq=999: duplicate sequence number
}
