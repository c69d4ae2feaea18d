package isakmp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCaptureDecryptedBodies decrypts the encrypted messages of the first
// IKE SA of each run with the key from Wireshark's key table and IVs
// computed per RFC 2409 Appendix B from the KE payloads this package
// parsed, then parses every plaintext body with ParsePayloads. That
// strongSwan's bodies decrypt to a well-formed chain with padding is the
// check on both the IV derivation inputs (KE data) and the body parser.
func TestCaptureDecryptedBodies(t *testing.T) {
	for _, run := range []string{"libipsec", "fakesa"} {
		t.Run(run, func(t *testing.T) {
			dir := filepath.Join("..", "..", "corpus", "captures", "strongswan-5.9.8", run)
			table, err := os.ReadFile(filepath.Join(dir, "ikev1_decryption_table"))
			if err != nil {
				t.Fatal(err)
			}
			cookieHex, keyHex, ok := strings.Cut(strings.TrimSpace(string(table)), ",")
			if !ok {
				t.Fatalf("unexpected key table %q", table)
			}
			cookie, err1 := hex.DecodeString(cookieHex)
			key, err2 := hex.DecodeString(keyHex)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			block, err := aes.NewCipher(key)
			if err != nil {
				t.Fatal(err)
			}
			decryptRun(t, run, cookie, block)
		})
	}
}

func decryptRun(t *testing.T, run string, cookie []byte, block cipher.Block) {
	var kes [][]byte
	var p1Last []byte              // last ciphertext block of phase 1
	iv := map[uint32][]byte{}      // next IV per message ID
	seen := map[string]int{}       // payload sequences seen, by exchange
	encapModes := map[uint16]int{} // Encapsulation Mode attribute values in QM SAs
	for _, c := range loadCaptures(t) {
		if !strings.HasPrefix(c.name, run+"/") {
			continue
		}
		m, err := Parse(c.msg)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Header.InitiatorCookie[:], cookie) {
			continue // a later IKE SA, whose key is not in the table
		}
		if m.Header.Flags&FlagEncryption == 0 {
			for _, p := range m.Payloads {
				if ke, ok := p.(*KeyExchange); ok {
					kes = append(kes, ke.Data)
				}
			}
			continue
		}
		mid := m.Header.MessageID
		cur := iv[mid]
		switch {
		case cur != nil:
		case mid == 0: // Main Mode 5: hash of both DH public values
			if len(kes) != 2 {
				t.Fatalf("%s: %d KE payloads before the first encrypted message", c.name, len(kes))
			}
			h := sha1.Sum(append(append([]byte(nil), kes[0]...), kes[1]...))
			cur = h[:aes.BlockSize]
		default: // phase 2 and Informational: hash of phase-1 IV and M-ID
			if p1Last == nil {
				t.Fatalf("%s: phase-2 message before the end of phase 1", c.name)
			}
			h := sha1.Sum(binary.BigEndian.AppendUint32(append([]byte(nil), p1Last...), mid))
			cur = h[:aes.BlockSize]
		}
		ct := m.Ciphertext
		if len(ct)%aes.BlockSize != 0 {
			t.Fatalf("%s: ciphertext of %d bytes", c.name, len(ct))
		}
		plain := make([]byte, len(ct))
		cipher.NewCBCDecrypter(block, cur).CryptBlocks(plain, ct)
		last := ct[len(ct)-aes.BlockSize:]
		iv[mid] = last
		if mid == 0 {
			p1Last = last
		}

		body, err := ParsePayloads(m.Header.NextPayload, plain, ParseOptions{})
		if err != nil {
			t.Fatalf("%s: decrypted body: %v\n%x", c.name, err, plain)
		}
		if len(body.Padding) >= aes.BlockSize+1 {
			t.Errorf("%s: %d bytes of padding, more than a block", c.name, len(body.Padding))
		}
		var v View
		v.StartPayloads(m.Header.NextPayload, plain, ParseOptions{})
		n := 0
		for v.Next() {
			n++
		}
		if v.Err() != nil || n != len(body.Payloads) || !bytes.Equal(v.Padding(), body.Padding) {
			t.Fatalf("%s: View disagrees: %v, %d payloads", c.name, v.Err(), n)
		}
		// Re-encoding the chain reproduces the plaintext up to the padding.
		enc, err := AppendPayloads(nil, body.Payloads)
		if err != nil || !bytes.Equal(enc, plain[:len(plain)-len(body.Padding)]) {
			t.Errorf("%s: decrypted chain does not re-encode (%v)", c.name, err)
		}

		seq := m.Header.Exchange.String() + ":"
		for _, p := range body.Payloads {
			seq += " " + p.Type().String()
			switch p := p.(type) {
			case *Identification:
				// Main Mode IDs are the outer addresses (README); Quick
				// Mode IDs the inner /32 hosts.
				a, ok := p.Prefix()
				if !ok {
					t.Errorf("%s: ID %v not an address or subnet", c.name, p.IDType)
				}
				if mid == 0 && a.Addr() != netip.MustParseAddr("10.99.0.1") && a.Addr() != netip.MustParseAddr("10.99.0.2") {
					t.Errorf("%s: Main Mode ID %v", c.name, a)
				}
			case *SA:
				for _, pr := range p.Proposals {
					if pr.Protocol != ProtoIPsecESP {
						continue
					}
					for _, tr := range pr.Transforms {
						for _, a := range tr.Attributes {
							if IPsecAttributeType(a.Type) == IPsecAttrEncapsulationMode {
								encapModes[a.Value]++
							}
						}
					}
				}
			}
		}
		seen[seq]++
	}
	for s, n := range seen {
		t.Logf("%d× %s", n, s)
	}
	// The README: ESP in tunnel mode, UDP-encapsulated in the libipsec run.
	want := EncapTunnel
	if run == "libipsec" {
		want = EncapUDPTunnel
	}
	if len(encapModes) != 1 || encapModes[uint16(want)] == 0 {
		t.Errorf("Quick Mode encapsulation modes %v, want only %v", encapModes, want)
	}
	if seen["Quick Mode: HASH"] == 0 || seen["Identity Protection: ID HASH"]+seen["Identity Protection: ID HASH N"] == 0 {
		t.Errorf("missing QM3 or Main Mode 5/6 among %v", seen)
	}
}
