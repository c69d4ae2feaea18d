package mainmode

import (
	"bytes"
	"math"
	"net/netip"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// transform is a phase-1 transform as read from an SA payload.
type transform struct {
	encr    ikecrypto.Encr
	keyBits int
	prf     ikecrypto.PRF
	auth    uint16
	group   dh.ID
	lifeSec uint64 // 0: absent
	lifeKB  uint64 // 0: absent
}

// readTransform decodes the attributes of one KEY_IKE transform. ok is
// false for transforms this package cannot use: unknown or repeated
// attributes, a life duration without type, group definitions, a PRF.
func readTransform(tr *isakmp.TransformReader) (t transform, attrs []isakmp.Attribute, ok bool) {
	if isakmp.ISAKMPTransformID(tr.ID) != isakmp.KeyIKE {
		return t, nil, false
	}
	var seen uint32
	life := isakmp.LifeType(0)
	for tr.Next() {
		a := tr.Attribute()
		attrs = append(attrs, isakmp.Attribute{Type: a.Type, Basic: a.Basic, Value: a.Value,
			Data: append([]byte(nil), a.Data...)})
		v, isUint := a.Uint()
		c := isakmp.AttributeClass(a.Type)
		if !isUint || c > 31 {
			return t, nil, false
		}
		if c == isakmp.ClassLifeType {
			if life != 0 || (v != uint64(isakmp.LifeSeconds) && v != uint64(isakmp.LifeKilobytes)) {
				return t, nil, false
			}
			life = isakmp.LifeType(v)
			continue
		}
		if c == isakmp.ClassLifeDuration {
			switch {
			case life == isakmp.LifeSeconds && t.lifeSec == 0 && v != 0:
				t.lifeSec = v
			case life == isakmp.LifeKilobytes && t.lifeKB == 0 && v != 0:
				t.lifeKB = v
			default:
				return t, nil, false
			}
			life = 0
			continue
		}
		if seen&(1<<c) != 0 || v > math.MaxUint16 {
			return t, nil, false
		}
		seen |= 1 << c
		switch c {
		case isakmp.ClassEncryptionAlgorithm:
			t.encr = ikecrypto.Encr(v)
		case isakmp.ClassKeyLength:
			t.keyBits = int(v)
		case isakmp.ClassHashAlgorithm:
			t.prf = ikecrypto.PRF(v)
		case isakmp.ClassAuthenticationMethod:
			t.auth = uint16(v)
		case isakmp.ClassGroupDescription:
			t.group = dh.ID(v)
		default:
			return t, nil, false
		}
	}
	if tr.Err() != nil || life != 0 {
		return t, nil, false
	}
	return t, attrs, true
}

// matches reports whether t is the transform p (lifetimes aside).
func (t *transform) matches(p *Proposal) bool {
	if t.encr != p.Encr || t.prf != p.PRF || t.auth != AuthPreSharedKey || t.group != p.Group {
		return false
	}
	switch p.Encr {
	case ikecrypto.EncrAESCBC:
		return t.keyBits == 8*p.KeyLen
	case ikecrypto.Encr3DESCBC:
		return t.keyBits == 0 || t.keyBits == 192
	}
	return false
}

// offerTransform encodes p as MM1's single transform, with attributes in
// strongSwan's order.
func offerTransform(p *Proposal) isakmp.Transform {
	attrs := []isakmp.Attribute{isakmp.BasicAttribute(isakmp.ClassEncryptionAlgorithm, uint16(p.Encr))}
	if p.Encr == ikecrypto.EncrAESCBC {
		attrs = append(attrs, isakmp.BasicAttribute(isakmp.ClassKeyLength, uint16(8*p.KeyLen)))
	}
	attrs = append(attrs,
		isakmp.BasicAttribute(isakmp.ClassHashAlgorithm, uint16(p.PRF)),
		isakmp.BasicAttribute(isakmp.ClassGroupDescription, uint16(p.Group)),
		isakmp.BasicAttribute(isakmp.ClassAuthenticationMethod, uint16(AuthPreSharedKey)),
		isakmp.BasicAttribute(isakmp.ClassLifeType, isakmp.LifeSeconds),
		isakmp.UintAttribute(isakmp.ClassLifeDuration, uint64(p.Lifetime.Seconds())))
	return isakmp.Transform{Number: 1, ID: uint8(isakmp.KeyIKE), Attributes: attrs}
}

// natdHash is HASH(CKY-I | CKY-R | IP | Port) of RFC 3947 §3.2 with the
// negotiated hash algorithm.
func natdHash(p ikecrypto.PRF, ckyI, ckyR isakmp.Cookie, ap netip.AddrPort) []byte {
	a := ap.Addr().Unmap().AsSlice()
	port := [2]byte{byte(ap.Port() >> 8), byte(ap.Port())}
	h, _ := p.Digest(nil, ckyI[:], ckyR[:], a, port[:])
	return h
}

// fakeNATDHash is the local NAT-D hash sent under ForceNATT: a digest of
// inputs no address and port produce, so it never matches.
func fakeNATDHash(p ikecrypto.PRF, ckyI, ckyR isakmp.Cookie, ap netip.AddrPort) []byte {
	a := ap.Addr().Unmap().AsSlice()
	h, _ := p.Digest(nil, ckyI[:], ckyR[:], a, []byte("hitless: forced NAT-T"))
	return h
}

// keMsg is what MM3 or MM4 carries.
type keMsg struct {
	ke, nonce []byte
	natd      [][]byte
	vids      [][]byte
}

// scanKE walks the payloads of a checked plaintext MM3 or MM4.
func scanKE(v *isakmp.View) (keMsg, error) {
	var m keMsg
	for v.Next() {
		switch v.Type() {
		case isakmp.PayloadKE:
			if m.ke != nil {
				return m, newErr(ErrUnexpectedPayload, "repeated KE", nil)
			}
			m.ke = v.Body()
		case isakmp.PayloadNONCE:
			if m.nonce != nil {
				return m, newErr(ErrUnexpectedPayload, "repeated nonce", nil)
			}
			m.nonce = v.Body()
		case isakmp.PayloadNATD:
			if len(m.natd) == 16 {
				return m, newErr(ErrInvalidNATD, "more than 16 NAT-D payloads", nil)
			}
			m.natd = append(m.natd, v.Body())
		case isakmp.PayloadVID:
			m.vids = append(m.vids, v.Body())
		case isakmp.PayloadN:
			if err := notifyPayload(v); err != nil {
				return m, err
			}
		default:
			return m, newErr(ErrUnexpectedPayload, v.Type().String()+" in KE message", nil)
		}
	}
	if err := v.Err(); err != nil {
		return m, newErr(ErrMalformed, "", err)
	}
	switch {
	case m.ke == nil:
		return m, newErr(ErrMissingPayload, "KE", nil)
	case m.nonce == nil:
		return m, newErr(ErrMissingPayload, "nonce", nil)
	case len(m.nonce) < ikecrypto.MinNonceLen || len(m.nonce) > ikecrypto.MaxNonceLen:
		return m, newErr(ErrInvalidNonce, "", nil)
	}
	return m, nil
}

// notifyPayload checks a Notification met in a Main Mode message: status
// notifies are ignored, an error notify is the peer refusing.
func notifyPayload(v *isakmp.View) error {
	n, err := v.Notification()
	if err != nil {
		return newErr(ErrMalformed, "", err)
	}
	if n.Notify.IsError() {
		return &Error{Kind: ErrPeerRefused, Notify: n.Notify, Detail: "notify in Main Mode message"}
	}
	return nil
}

// hasVID reports whether vids contains id.
func hasVID(vids [][]byte, id string) bool {
	for _, v := range vids {
		if string(v) == id {
			return true
		}
	}
	return false
}

// detectNAT applies RFC 3947 §3.2 to the peer's NAT-D hashes: the first
// is of this side's address as the peer sees it, the others of the
// peer's own addresses.
func detectNAT(p ikecrypto.PRF, ckyI, ckyR isakmp.Cookie, natd [][]byte, local, peer netip.AddrPort) (natLocal, natPeer bool, err error) {
	if len(natd) < 2 {
		return false, false, newErr(ErrInvalidNATD, "NAT-T negotiated but fewer than two NAT-D payloads", nil)
	}
	for _, h := range natd {
		if len(h) != p.Size() {
			return false, false, newErr(ErrInvalidNATD, "NAT-D hash length", nil)
		}
	}
	natLocal = !bytes.Equal(natd[0], natdHash(p, ckyI, ckyR, local))
	want := natdHash(p, ckyI, ckyR, peer)
	natPeer = true
	for _, h := range natd[1:] {
		if bytes.Equal(h, want) {
			natPeer = false
		}
	}
	return natLocal, natPeer, nil
}

// checkPeerID accepts the protocol/port combinations peers use in a
// phase-1 ID: 0/0 (strongSwan) or UDP with port 0, 500 or 4500.
func checkPeerID(id *isakmp.Identification) error {
	switch {
	case id.Protocol == 0 && id.Port == 0:
	case id.Protocol == 17 && (id.Port == 0 || id.Port == 500 || id.Port == 4500):
	default:
		return newErr(ErrInvalidID, "protocol/port of phase-1 ID", nil)
	}
	return nil
}
