package sadb_test

import (
	"bytes"
	"fmt"

	"github.com/hitless-ike/hitless/ref/esp"
	"github.com/hitless-ike/hitless/ref/sadb"
)

// A rekey as the hitless responder sees it: the new pair is installed but
// its outbound SA only becomes active once the peer has proven it holds
// the pair; until then the old SA keeps protecting the flow.
func Example() {
	db, _ := sadb.New(sadb.Limits{Flows: 1})
	mk := func(spi uint32, d sadb.Direction, mid uint32) *sadb.SA {
		s, _ := esp.NewSA(esp.Config{SPI: spi, Transform: esp.Transform{Cipher: esp.CipherAESGCM16, KeyBits: 128},
			EncKey: bytes.Repeat([]byte{1}, 20)})
		return &sadb.SA{SPI: spi, Direction: d, MessageID: mid, ESP: s}
	}
	db.Install(mk(0x1001, sadb.Outbound, 1)) // old pair
	db.Install(mk(0x1002, sadb.Inbound, 1))
	db.Activate(0x1001)
	db.Install(mk(0x2001, sadb.Outbound, 2)) // new pair, "next"
	db.Install(mk(0x2002, sadb.Inbound, 2))
	fmt.Printf("active %#x, next %s\n", db.Active(0).SPI, db.Outbound(0x2001).State())

	// The first ESP packet authenticated on the new inbound SA proves it.
	db.MarkSeen(db.Inbound(0x2002))
	prev, _ := db.Activate(0x2001)
	fmt.Printf("active %#x, previous %#x %s\n", db.Active(0).SPI, prev.SPI, prev.State())

	// The peer deletes the old pair; the old inbound SA goes too.
	db.Delete(sadb.Outbound, 0x1001)
	db.Delete(sadb.Inbound, 0x1002)
	fmt.Println("SAs left:", db.Len())
	// Output:
	// active 0x1001, next inactive
	// active 0x2001, previous 0x1001 inactive
	// SAs left: 2
}
