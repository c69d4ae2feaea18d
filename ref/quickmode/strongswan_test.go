package quickmode

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/hitless-ike/hitless/corpus/charonlog"
	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// Interoperability with strongSwan 5.9.8 (corpus/captures): every
// expectation is computed by this package and compared with what strongSwan
// sent or derived. Log values are used only as inputs (the phase-1 and PFS
// DH secrets, which are not on the wire).

const captures = "../../corpus/captures/strongswan-5.9.8"

type ikeMsg struct {
	fromInitiator bool
	b             []byte
	h             isakmp.Header
}

// readIKE returns the ISAKMP messages of a capture in order.
func readIKE(t *testing.T, path string) []ikeMsg {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("capture not available: %v", err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	var out []ikeMsg
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pkt := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		udp, _ := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if ip == nil || udp == nil {
			continue
		}
		b := udp.Payload
		if udp.SrcPort == 4500 || udp.DstPort == 4500 {
			k, ike, err := isakmp.ClassifyUDP4500(b)
			if err != nil || k != isakmp.KindIKE {
				continue
			}
			b = ike
		}
		h, err := isakmp.ParseHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ikeMsg{fromInitiator: ip.SrcIP.String() == "10.99.0.1", b: bytes.Clone(b), h: h})
	}
	return out
}

// logSecret returns the nth (from 0) value charon logged as name.
func logSecret(t *testing.T, path, name string, nth int) []byte {
	t.Helper()
	l, err := charonlog.Read(path)
	if err != nil {
		t.Skipf("log not available: %v", err)
	}
	v := l.Nth(name, nth)
	if v == nil {
		t.Fatalf("%s #%d not found in %s", name, nth, path)
	}
	return v
}

// payloadOf returns the first payload of type T in a (decrypted) body.
func payloadOf[T isakmp.Payload](t *testing.T, first isakmp.PayloadType, body []byte) T {
	t.Helper()
	bd, err := isakmp.ParsePayloads(first, body, isakmp.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range bd.Payloads {
		if v, ok := p.(T); ok {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T", zero)
	return zero
}

func TestStrongSwanInterop(t *testing.T) {
	for _, run := range []struct {
		dir  string
		natt bool
	}{{"fakesa", false}, {"libipsec", true}} {
		t.Run(run.dir, func(t *testing.T) { strongSwanRun(t, filepath.Join(captures, run.dir), run.natt) })
	}
}

func strongSwanRun(t *testing.T, dir string, natt bool) {
	msgs := readIKE(t, filepath.Join(dir, "capture.pcap"))
	var ni, nr, lastMM []byte
	var qm []ikeMsg
	for _, m := range msgs {
		switch m.h.Exchange {
		case isakmp.ExchangeMainMode:
			if m.h.Flags&isakmp.FlagEncryption == 0 {
				pm, err := isakmp.Parse(m.b)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range pm.Payloads {
					if n, ok := p.(*isakmp.Nonce); ok {
						if m.fromInitiator {
							ni = n.Data
						} else {
							nr = n.Data
						}
					}
				}
			}
			if qm == nil {
				lastMM = m.b
			}
		case isakmp.ExchangeQuickMode:
			if len(qm) == 0 || qm[0].h.MessageID == m.h.MessageID {
				qm = append(qm, m)
			}
		}
	}
	if ni == nil || nr == nil || len(qm) != 3 {
		t.Fatalf("capture: ni %d nr %d, %d Quick Mode messages", len(ni), len(nr), len(qm))
	}
	h0 := qm[0].h
	p1, err := NewPhase1PSK(PSKParams{
		PRF: ikecrypto.PRFSHA1, Encr: ikecrypto.EncrAESCBC, KeyLen: 16,
		PSK: []byte("interop-test-psk-0123456789"), Ni: ni, Nr: nr,
		GXY:     logSecret(t, filepath.Join(dir, "charon-responder.log"), "shared Diffie Hellman secret", 0),
		CookieI: h0.InitiatorCookie, CookieR: h0.ResponderCookie,
		// Phase-2 IVs hang off the last CBC block of Main Mode.
		LastBlock: lastMM[len(lastMM)-16:],
		Local:     netip.MustParseAddr("10.99.0.2"), Peer: netip.MustParseAddr("10.99.0.1"), NATT: natt,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Our Ka against the one in Wireshark's table, written by strongSwan.
	table, _ := os.ReadFile(filepath.Join(dir, "ikev1_decryption_table"))
	if !strings.Contains(string(table), hex.EncodeToString(p1.Key)) {
		t.Fatalf("derived Ka %x not in %q", p1.Key, table)
	}

	// 1. Our responder accepts strongSwan's QM1: IV derivation, HASH(1),
	// proposal with PFS group 14 and client IDs.
	esp := Transform{ESP: ikecrypto.ESPTransform{ID: ikecrypto.ESPAESCBC, KeyBits: 128, Auth: ikecrypto.AuthHMACSHA1}, Mode: ModeTunnel}
	r, _ := New(p1, Config{Profile: Hitless, Policy: Policy{Transforms: []Transform{esp}, PFS: []dh.ID{dh.MODP2048}}, Rand: seeded(7)})
	evs, err := r.HandleDatagram(nil, t0, qm[0].b)
	if err != nil {
		t.Fatalf("strongSwan QM1 refused: %v", err)
	}
	in, ok := find(evs, EventInstalledInbound)
	if !ok || in.Remote.Prefix.String() != "10.98.1.1/32" || in.Local.Prefix.String() != "10.98.2.1/32" ||
		in.PFS != dh.MODP2048 || in.Transform.ESP != esp.ESP || in.UDPEncap != natt {
		t.Errorf("negotiated %+v", in)
	}

	// 2. Replay strongSwan's own responder side: decrypt QM1 and QM2 for
	// the nonces and SPIs, key the SAs with the logged PFS secret and
	// compare with the ESP keys strongSwan gave Wireshark; then strongSwan's
	// QM3 must verify.
	c, _ := ikecrypto.NewCipher(p1.Encr, p1.Key)
	last, _ := ikecrypto.NewIV(p1.LastBlock)
	mid := h0.MessageID
	iv, _ := ikecrypto.Phase2IV(p1.PRF, last, mid)
	b1, iv, _ := c.Decrypt(nil, iv, qm[0].b[isakmp.HeaderLen:])
	b2, iv, _ := c.Decrypt(nil, iv, qm[1].b[isakmp.HeaderLen:])
	sa1 := payloadOf[*isakmp.SA](t, qm[0].h.NextPayload, b1)
	sa2 := payloadOf[*isakmp.SA](t, qm[1].h.NextPayload, b2)
	x, _ := New(p1, Config{Profile: InstallAtQM3, Policy: Policy{Transforms: []Transform{esp}, PFS: []dh.ID{dh.MODP2048}}, Rand: seeded(8)})
	e := &exchange{role: Responder, st: waitQM3, mid: mid, iv: iv,
		ni:   payloadOf[*isakmp.Nonce](t, qm[0].h.NextPayload, b1).Data,
		nr:   payloadOf[*isakmp.Nonce](t, qm[1].h.NextPayload, b2).Data,
		spiI: be32(sa1.Proposals[0].SPI), recv: qm[0].b, sent: qm[1].b, timer: t0.Add(1e12), deadline: t0.Add(1e12)}
	encap := isakmp.EncapTunnel
	if natt {
		encap = isakmp.EncapUDPTunnel
	}
	o := offer{t: esp, group: dh.MODP2048, encap: uint16(encap), udp: natt}
	gqm := logSecret(t, filepath.Join(dir, "charon-responder.log"), "DH secret", 0)
	if err := x.keys(e, &o, be32(sa2.Proposals[0].SPI), gqm, Selector{}, Selector{}, netip.Addr{}, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	espTable, _ := os.ReadFile(filepath.Join(dir, "esp_sa"))
	for _, sa := range []SA{e.in, e.out} {
		row := strings.Join([]string{
			fmt.Sprintf(`"0x%08x"`, sa.SPI), `"AES-CBC [RFC3602]"`,
			`"0x` + hex.EncodeToString(sa.EncKey) + `"`, `"HMAC-SHA-1-96 [RFC2404]"`,
			`"0x` + hex.EncodeToString(sa.IntegKey) + `"`}, ",")
		if !strings.Contains(string(espTable), row) {
			t.Errorf("%v SA %x: our keys are not strongSwan's:\n%s", sa.Direction, sa.SPI, row)
		}
	}
	x.open = append(x.open, e)
	evs, err = x.HandleDatagram(nil, t0, qm[2].b)
	if err != nil {
		t.Fatalf("strongSwan QM3: %v", err)
	}
	if got := kinds("R", evs); len(got) != 4 || got[3] != "R completed" {
		t.Errorf("QM3 events %v", got)
	}
}

func be32(b []byte) uint32 {
	var v uint32
	for _, c := range b {
		v = v<<8 | uint32(c)
	}
	return v
}
