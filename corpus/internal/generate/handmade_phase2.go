package generate

import (
	"bytes"
	"crypto/ecdh"
	"fmt"
	"slices"

	"github.com/hitless-ike/hitless/fuzz"
	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// chainOf parses a framed qm1/qm2 input back into payloads.
func chainOf(framed []byte) ([]isakmp.Payload, error) {
	b, err := isakmp.ParsePayloads(isakmp.PayloadType(framed[0]), framed[1:], isakmp.ParseOptions{})
	if err != nil {
		return nil, err
	}
	return b.Payloads, nil
}

// frame encodes ps as a qm1/qm2 input: first payload type, then the chain.
func frame(ps []isakmp.Payload) ([]byte, error) {
	if len(ps) == 0 {
		return []byte{byte(isakmp.PayloadNone)}, nil
	}
	chain, err := isakmp.AppendPayloads(nil, ps)
	if err != nil {
		return nil, err
	}
	return append([]byte{byte(ps[0].Type())}, chain...), nil
}

// without returns ps without its payloads of type typ.
func without(ps []isakmp.Payload, typ isakmp.PayloadType) []isakmp.Payload {
	return slices.DeleteFunc(slices.Clone(ps), func(p isakmp.Payload) bool { return p.Type() == typ })
}

// replaced returns ps with f applied to a deep copy of each payload of
// type typ (a fresh parse keeps the original untouched).
func replaced(framed []byte, typ isakmp.PayloadType, f func(isakmp.Payload)) ([]isakmp.Payload, error) {
	ps, err := chainOf(framed)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Type() == typ {
			f(p)
		}
	}
	return ps, nil
}

// phase2Classes adds the hand-made inputs of qm1, qm2 and encrypted, each
// a mutation of the first capture's first QM1 or QM2 (strongSwan: SA
// aes128-sha1 with PFS modp2048, Nonce, KE, IDci, IDcr).
func (g *gen) phase2Classes() error {
	var qm1, qm2 *QMMessage
	for i := range g.qms[0] {
		q := &g.qms[0][i]
		if q.N == 1 && qm1 == nil {
			qm1 = q
		} else if q.N == 2 && qm2 == nil && qm1 != nil && q.MessageID == qm1.MessageID {
			qm2 = q
		}
	}
	if qm1 == nil || qm2 == nil {
		return fmt.Errorf("%w: no Quick Mode exchange in the first capture", ErrBaseMessage)
	}
	for _, c := range []struct {
		target string
		base   *QMMessage
		prefix []byte
	}{{targetQM1, qm1, nil}, {targetQM2, qm2, []byte{fuzz.QM2MODP2048}}} {
		if err := g.qmClasses(c.target, c.prefix, append([]byte{byte(c.base.Next)}, c.base.Chain...)); err != nil {
			return err
		}
	}
	return g.encryptedClasses(qm1)
}

// badSPI is the outcome of a zero or reserved SPI: a responder passes
// over a proposal it cannot use (another one may do), an initiator has
// nothing else to fall back on.
var badSPI = map[string]string{targetQM1: "ErrNoProposalChosen", targetQM2: "ErrInvalidSPI"}

// ecp256KE is a valid ECP-256 public value (RFC 5903 §7: x | y) of a
// fixed private key, for accepted inputs without MODP's cost.
func ecp256KE() ([]byte, error) {
	k, err := ecdh.P256().NewPrivateKey(bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		return nil, err
	}
	return k.PublicKey().Bytes()[1:], nil // drop the 0x04 of the uncompressed form
}

// setGroup sets the Group Description attribute of every transform.
func setGroup(p isakmp.Payload, group uint16) {
	for i := range p.(*isakmp.SA).Proposals {
		for j := range p.(*isakmp.SA).Proposals[i].Transforms {
			tr := &p.(*isakmp.SA).Proposals[i].Transforms[j]
			for k := range tr.Attributes {
				if tr.Attributes[k].Type == uint16(isakmp.IPsecAttrGroupDescription) {
					tr.Attributes[k].Value = group
				}
			}
		}
	}
}

// qmClasses adds the classes shared by qm1 and qm2, mutations of base
// (first payload type and chain), each input prefixed with prefix (the
// PFS selector of qm2).
func (g *gen) qmClasses(t string, prefix, base []byte) error {
	ps, err := chainOf(base)
	if err != nil {
		return err
	}
	type mut struct {
		class, expected string
		ps              []isakmp.Payload
		err             error
	}
	edit := func(typ isakmp.PayloadType, f func(isakmp.Payload)) ([]isakmp.Payload, error) {
		return replaced(base, typ, f)
	}
	var muts []mut
	add := func(class, expected string, ps []isakmp.Payload, err error) {
		muts = append(muts, mut{class, expected, ps, err})
	}
	add("strongswan-unchanged", "ok", ps, nil)
	add("missing-nonce", "ErrMissingPayload", without(ps, isakmp.PayloadNONCE), nil)
	add("missing-sa", "ErrMissingPayload", without(ps, isakmp.PayloadSA), nil)
	p, err := edit(isakmp.PayloadNONCE, func(p isakmp.Payload) { p.(*isakmp.Nonce).Data = p.(*isakmp.Nonce).Data[:7] })
	add("nonce-7-bytes", "ErrNonceLength", p, err)
	p, err = edit(isakmp.PayloadNONCE, func(p isakmp.Payload) { p.(*isakmp.Nonce).Data = bytes.Repeat([]byte{0x5a}, 257) })
	add("nonce-257-bytes", "ErrNonceLength", p, err)
	p, err = edit(isakmp.PayloadNONCE, func(p isakmp.Payload) { p.(*isakmp.Nonce).Data = p.(*isakmp.Nonce).Data[:8] })
	add("nonce-8-bytes", "ok", p, err)
	if i := slices.IndexFunc(ps, func(p isakmp.Payload) bool { return p.Type() == isakmp.PayloadSA }); i >= 0 {
		add("two-sa-payloads", "ErrUnexpectedPayload", slices.Insert(slices.Clone(ps), i+1, ps[i]), nil)
	}
	if i := slices.IndexFunc(ps, func(p isakmp.Payload) bool { return p.Type() == isakmp.PayloadNONCE }); i >= 0 {
		add("two-nonces", "ErrUnexpectedPayload", slices.Insert(slices.Clone(ps), i+1, ps[i]), nil)
	}
	add("missing-ke-with-pfs", "ErrInvalidKE", without(ps, isakmp.PayloadKE), nil)
	// A 32-byte public value: an ECP-256 or Curve25519 size, not MODP-2048.
	p, err = edit(isakmp.PayloadKE, func(p isakmp.Payload) { p.(*isakmp.KeyExchange).Data = bytes.Repeat([]byte{9}, 32) })
	add("ke-wrong-group-size", "ErrInvalidKE", p, err)
	p, err = edit(isakmp.PayloadKE, func(p isakmp.Payload) { p.(*isakmp.KeyExchange).Data = append(make([]byte, 255), 1) })
	add("ke-public-value-1", "ErrInvalidKE", p, err)
	p, err = edit(isakmp.PayloadSA, func(p isakmp.Payload) { p.(*isakmp.SA).Proposals[0].SPI = []byte{0, 0, 0, 0} })
	add("spi-zero", badSPI[t], p, err)
	p, err = edit(isakmp.PayloadSA, func(p isakmp.Payload) { p.(*isakmp.SA).Proposals[0].SPI = []byte{0, 0, 0, 0xff} })
	add("spi-reserved", badSPI[t], p, err)
	p, err = edit(isakmp.PayloadSA, func(p isakmp.Payload) {
		p.(*isakmp.SA).Proposals[0].Transforms[0].ID = uint8(isakmp.ESPTransformID(20)) // AES-GCM-16
	})
	add("transform-aes-gcm", "ErrNoProposalChosen", p, err)
	if ids := slices.IndexFunc(ps, func(p isakmp.Payload) bool { return p.Type() == isakmp.PayloadID }); ids >= 0 {
		add("single-client-id", "ErrInvalidID", slices.Delete(slices.Clone(ps), ids, ids+1), nil)
		add("no-client-ids", map[string]string{targetQM1: "ok", targetQM2: "ErrInvalidID"}[t], without(ps, isakmp.PayloadID), nil)
		add("three-client-ids", "ErrUnexpectedPayload", slices.Insert(slices.Clone(ps), ids, ps[ids]), nil)
	}
	ke, err := ecp256KE()
	if err != nil {
		return err
	}
	p, err = edit(isakmp.PayloadSA, func(p isakmp.Payload) { setGroup(p, uint16(dh.ECP256)) })
	for _, x := range p {
		if k, ok := x.(*isakmp.KeyExchange); ok {
			k.Data = ke
		}
	}
	ecp := p
	if t == targetQM1 {
		add("ecp256-pfs", "ok", ecp, err)
		// Without PFS: no group attribute, no KE. The cheap accepted path.
		p, err = edit(isakmp.PayloadSA, func(p isakmp.Payload) {
			tr := &p.(*isakmp.SA).Proposals[0].Transforms[0]
			tr.Attributes = slices.DeleteFunc(tr.Attributes, func(a isakmp.Attribute) bool { return a.Type == 3 }) // Group Description
		})
		add("no-pfs-with-ke", "ErrInvalidKE", p, err)
		add("no-pfs", "ok", without(p, isakmp.PayloadKE), err)
	} else {
		p, err = edit(isakmp.PayloadSA, func(p isakmp.Payload) {
			p.(*isakmp.SA).Proposals[0].Transforms[0].ID = 3 // 3DES, never offered
		})
		add("transform-not-offered", "ErrNoProposalChosen", p, err)
	}
	for _, m := range muts {
		if m.err != nil {
			return fmt.Errorf("%s/%s: %w", t, m.class, m.err)
		}
		b, err := frame(m.ps)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", t, m.class, err)
		}
		g.class(t, m.class, m.expected, append(bytes.Clone(prefix), b...))
	}
	// Byte-level classes the typed payloads cannot express.
	g.class(t, "empty-chain", "ErrMissingPayload", prefix)
	g.class(t, "chain-cut-in-payload", "ErrMalformed", append(bytes.Clone(prefix), base[:len(base)/2]...))
	g.class(t, "first-type-unassigned", "ErrMalformed", append(append(bytes.Clone(prefix), 77), base[1:]...))
	if t == targetQM2 {
		// The PFS group the initiator offered decides what a reply may carry.
		b, err := frame(ecp)
		if err != nil {
			return err
		}
		g.class(t, "ecp256-pfs", "ok", append([]byte{fuzz.QM2ECP256}, b...))
		g.class(t, "offer-without-pfs-reply-modp", "ErrNoProposalChosen", append([]byte{fuzz.QM2NoPFS}, base...))
		g.class(t, "offer-ecp256-reply-modp", "ErrNoProposalChosen", append([]byte{fuzz.QM2ECP256}, base...))
		g.class(t, "selector-above-2", "ok", append([]byte{3 + fuzz.QM2MODP2048}, base...))
	}
	return nil
}

// encryptedClasses adds the hand-made inputs of the encrypted target.
func (g *gen) encryptedClasses(qm1 *QMMessage) error {
	const T = targetEncrypted
	seal := func(sel byte, first isakmp.PayloadType, mid uint32, plain []byte) []byte {
		b, err := fuzz.SealEncrypted(sel, first, mid, plain)
		if err != nil {
			panic(err) // fixed keys and non-zero M-IDs: cannot fail
		}
		return b
	}
	good := seal(fuzz.Encrypted3DES, qm1.First, qm1.MessageID, qm1.Plain)
	g.class(T, "short-framing", "ErrShortInput", good[:5])
	g.class(T, "message-id-zero", "ErrMessageID", append([]byte{0, byte(isakmp.PayloadHASH), 0, 0, 0, 0}, good[6:]...))
	g.class(T, "ciphertext-empty", "ErrEmpty", good[:6])
	g.class(T, "ciphertext-not-whole-blocks", "ErrNotBlockMultiple", good[:len(good)-3])
	g.class(T, "3des-strongswan-qm1", "ok", good)
	g.class(T, "selector-above-3", "ok", seal(3+fuzz.EncryptedAES256, qm1.First, qm1.MessageID, qm1.Plain))
	g.class(T, "all-padding-first-none", "ok", seal(fuzz.EncryptedAES128, isakmp.PayloadNone, 1, make([]byte, 32)))
	g.class(T, "hash-length-overruns-body", "ErrUnequalPayloadLengths", seal(fuzz.EncryptedAES128, isakmp.PayloadHASH, 1,
		append([]byte{0, 0, 0x01, 0x00}, make([]byte, 28)...)))
	g.class(T, "first-type-unassigned", "ErrInvalidPayloadType", seal(fuzz.EncryptedAES128, 77, 1,
		append([]byte{0, 0, 0, 8}, make([]byte, 28)...)))
	g.class(T, "chain-cut-in-payload", "ErrUnequalPayloadLengths", seal(fuzz.EncryptedAES128, isakmp.PayloadHASH, qm1.MessageID,
		qm1.Plain[:len(qm1.Plain)/2/16*16]))
	return nil
}
