package fuzz_test

import (
	"errors"
	"fmt"

	"github.com/hitless-ike/hitless/fuzz"
	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// A FuzzResponderQM1 input is the first payload type and the chain after
// HASH(1); the harness adds the HASH and the encryption. Here a QM1 with
// an SA and a 16-byte nonce, no PFS, which the responder accepts.
func ExampleRespondQM1() {
	qm1 := func(nonceLen int) []byte {
		chain, _ := isakmp.AppendPayloads(nil, []isakmp.Payload{
			&isakmp.SA{DOI: 1, Situation: 1, Proposals: []isakmp.Proposal{{
				Number: 1, Protocol: isakmp.ProtoIPsecESP, SPI: []byte{0xc0, 0, 0, 1},
				Transforms: []isakmp.Transform{{Number: 1, ID: 12, Attributes: []isakmp.Attribute{ // ESP_AES
					isakmp.BasicAttribute(isakmp.IPsecAttrEncapsulationMode, uint16(1)),       // tunnel
					isakmp.BasicAttribute(isakmp.IPsecAttrAuthenticationAlgorithm, uint16(2)), // HMAC-SHA1
					isakmp.BasicAttribute(isakmp.IPsecAttrKeyLength, uint16(128)),
				}}},
			}}},
			&isakmp.Nonce{Data: make([]byte, nonceLen)},
		})
		return append([]byte{byte(isakmp.PayloadSA)}, chain...)
	}
	events, err := fuzz.RespondQM1(qm1(16))
	fmt.Println(err)
	for _, e := range events {
		fmt.Println(e.Kind)
	}
	// A nonce of 7 bytes is refused, with nothing installed.
	events, err = fuzz.RespondQM1(qm1(7))
	fmt.Println(len(events), errors.Is(err, quickmode.ErrNonceLength))
	// Output:
	// <nil>
	// installed-inbound
	// installed-outbound
	// send
	// 0 true
}

// A FuzzDecryptParse input: cipher selector, first payload type, message
// ID, ciphertext under the target's fixed key.
func ExampleSealEncrypted() {
	plain, _ := isakmp.AppendPayloads(nil, []isakmp.Payload{&isakmp.Nonce{Data: []byte("hitless!")}})
	in, _ := fuzz.SealEncrypted(fuzz.Encrypted3DES, isakmp.PayloadNONCE, 0x1234, plain)
	body, err := fuzz.OpenEncrypted(in)
	fmt.Println(len(in), err, string(body.Payloads[0].(*isakmp.Nonce).Data), len(body.Padding))
	// Output: 22 <nil> hitless! 4
}
