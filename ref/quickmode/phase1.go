package quickmode

import (
	"net/netip"

	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// Phase1 is the established phase-1 (ISAKMP) SA a Quick Mode runs over:
// its cookies, key material, cipher, the IV base for phase 2, the two
// addresses and the NAT-T state. Both peers hold the same Phase1 except
// that Local and Peer are swapped (see Reverse).
type Phase1 struct {
	CookieI, CookieR isakmp.Cookie
	PRF              ikecrypto.PRF
	SKEYIDd, SKEYIDa []byte
	// SKEYIDe is not used here (Key is derived from it); it is kept so
	// that the phase-1 SA can be handed whole to another implementation.
	SKEYIDe []byte
	Encr    ikecrypto.Encr
	Key     []byte // ISAKMP SA encryption key
	// LastBlock is the last CBC block of phase 1 (the last ciphertext
	// block of Main Mode), from which every phase-2 IV is derived.
	LastBlock []byte
	// Local and Peer are the addresses each side knows itself and the
	// other by; with NAT-T they go into NAT-OA payloads.
	Local, Peer netip.Addr
	// NATT: phase 1 detected a NAT, so SAs use UDP encapsulation.
	// NATTDraft: the peer speaks the pre-RFC 3947 drafts (encapsulation
	// modes 61443/61444, NAT-OA payload type 131).
	NATT, NATTDraft bool
}

// Reverse returns the peer's view of p: Local and Peer swapped.
func (p Phase1) Reverse() Phase1 {
	p.Local, p.Peer = p.Peer, p.Local
	return p
}

// PSKParams are the inputs of a pre-shared-key Main Mode that
// NewPhase1PSK derives a Phase1 from.
type PSKParams struct {
	PRF              ikecrypto.PRF
	Encr             ikecrypto.Encr
	KeyLen           int    // ISAKMP cipher key length in bytes
	PSK              []byte // pre-shared key
	Ni, Nr           []byte // phase-1 nonce bodies
	GXY              []byte // phase-1 DH shared secret
	CookieI, CookieR isakmp.Cookie
	LastBlock        []byte
	Local, Peer      netip.Addr
	NATT, NATTDraft  bool
}

// NewPhase1PSK derives the phase-1 keys of RFC 2409 §5 for pre-shared key
// authentication and returns the Phase1 seen from the Local side. Run it
// once and Reverse the result to get the other side's view.
func NewPhase1PSK(p PSKParams) (Phase1, error) {
	skeyid, err := ikecrypto.SKEYIDPreSharedKey(p.PRF, p.PSK, p.Ni, p.Nr)
	if err != nil {
		return Phase1{}, newErr(ErrBadConfig, 0, "SKEYID", err)
	}
	k, err := ikecrypto.DeriveKeys(p.PRF, skeyid, p.GXY, p.CookieI[:], p.CookieR[:])
	if err != nil {
		return Phase1{}, newErr(ErrBadConfig, 0, "SKEYID_*", err)
	}
	key, err := ikecrypto.CipherKey(p.PRF, k.SKEYIDe, p.KeyLen)
	if err != nil {
		return Phase1{}, newErr(ErrBadConfig, 0, "cipher key", err)
	}
	ph := Phase1{
		CookieI: p.CookieI, CookieR: p.CookieR, PRF: p.PRF,
		SKEYIDd: k.SKEYIDd, SKEYIDa: k.SKEYIDa, SKEYIDe: k.SKEYIDe, Encr: p.Encr, Key: key,
		LastBlock: append([]byte(nil), p.LastBlock...),
		Local:     p.Local, Peer: p.Peer, NATT: p.NATT, NATTDraft: p.NATTDraft,
	}
	return ph, ph.check()
}

func (p *Phase1) check() error {
	if p.PRF.Size() == 0 || len(p.SKEYIDd) == 0 || len(p.SKEYIDa) == 0 {
		return newErr(ErrBadConfig, 0, "phase 1: prf or SKEYID_d/SKEYID_a missing", nil)
	}
	if p.NATT && (!p.Local.IsValid() || !p.Peer.IsValid()) {
		return newErr(ErrBadConfig, 0, "phase 1: NAT-T needs both addresses", nil)
	}
	return nil
}
