package quickmode_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// A complete hitless Quick Mode between two in-memory peers. The
// responder installs both SAs at QM1 and activates its outbound SA at QM3.
func Example() {
	p1, err := quickmode.NewPhase1PSK(quickmode.PSKParams{
		PRF: ikecrypto.PRFSHA256, Encr: ikecrypto.EncrAESCBC, KeyLen: 32,
		PSK: []byte("example psk"), Ni: []byte("phase-1 Ni 012345"), Nr: []byte("phase-1 Nr 678901"),
		GXY:     []byte("phase-1 g^xy"),
		CookieI: isakmp.Cookie{1}, CookieR: isakmp.Cookie{2}, LastBlock: make([]byte, 16),
		Local: netip.MustParseAddr("192.0.2.1"), Peer: netip.MustParseAddr("198.51.100.2"),
	})
	if err != nil {
		panic(err)
	}
	esp := quickmode.Transform{
		ESP:  ikecrypto.ESPTransform{ID: ikecrypto.ESPAESGCM16, KeyBits: 256},
		Mode: quickmode.ModeTunnel,
	}
	cfg := func(seed byte) quickmode.Config {
		return quickmode.Config{
			Profile: quickmode.Hitless,
			Policy:  quickmode.Policy{Transforms: []quickmode.Transform{esp}, PFS: []dh.ID{dh.Curve25519}},
			Rand:    rand.NewChaCha8([32]byte{seed}),
		}
	}
	ini, _ := quickmode.New(p1, cfg(1))
	resp, _ := quickmode.New(p1.Reverse(), cfg(2))

	now := time.Unix(0, 0)
	sas := map[string]quickmode.SA{}
	show := func(who string, evs []quickmode.Event) []byte {
		var out []byte
		for _, e := range evs {
			switch e.Kind {
			case quickmode.EventSend:
				out = e.Datagram
				fmt.Printf("%s send %d bytes\n", who, len(e.Datagram))
			case quickmode.EventInstalledInbound, quickmode.EventInstalledOutbound, quickmode.EventActivatedOutbound:
				sas[who+" "+e.SA.Direction.String()] = e.SA
				fmt.Printf("%s %v SPI owned by the %s\n", who, e.Kind, map[quickmode.Direction]string{quickmode.Inbound: "holder", quickmode.Outbound: "peer"}[e.SA.Direction])
			default:
				fmt.Printf("%s %v\n", who, e.Kind)
			}
		}
		return out
	}
	evs, _, _ := ini.Initiate(nil, now, quickmode.Request{
		Proposals: []quickmode.Proposal{{Transforms: []quickmode.Transform{esp}}},
		PFS:       dh.Curve25519,
	})
	qm1 := show("I", evs)
	evs, _ = resp.HandleDatagram(nil, now, qm1)
	qm2 := show("R", evs)
	evs, _ = ini.HandleDatagram(nil, now, qm2)
	qm3 := show("I", evs)
	evs, _ = resp.HandleDatagram(nil, now, qm3)
	show("R", evs)
	// Each direction is keyed by the SPI its receiver chose.
	iOut, rIn := sas["I outbound"], sas["R inbound"]
	fmt.Println("keys agree:", iOut.SPI == rIn.SPI && string(iOut.EncKey) == string(rIn.EncKey) && string(iOut.Salt) == string(rIn.Salt))
	// Output:
	// I send 188 bytes
	// R installed-inbound SPI owned by the holder
	// R installed-outbound SPI owned by the peer
	// R send 188 bytes
	// I installed-inbound SPI owned by the holder
	// I installed-outbound SPI owned by the peer
	// I activated-outbound SPI owned by the peer
	// I send 76 bytes
	// I completed
	// R activated-outbound SPI owned by the peer
	// R completed
	// keys agree: true
}
