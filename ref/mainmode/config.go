package mainmode

import (
	"io"
	"math"
	"net/netip"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
)

// VendorIDRFC3947 is the NAT-T vendor ID of RFC 3947 §3.1, MD5("RFC 3947").
const VendorIDRFC3947 = "\x4a\x13\x1c\x81\x07\x03\x58\x45\x5c\x57\x28\xf2\x0e\x95\x45\x2f"

// MaxMessageSize bounds the ISAKMP messages Receive accepts. Main Mode
// messages of strongSwan are below 600 bytes.
const MaxMessageSize = 8192

// Defaults of Proposal.
const (
	DefaultKeyLen   = 16
	DefaultGroup    = dh.MODP2048
	DefaultLifetime = 4 * time.Hour
)

// AuthPreSharedKey is the Authentication Method attribute value for
// pre-shared keys (RFC 2409 Appendix A), the only method spoken here.
const AuthPreSharedKey = 1

// Proposal is the single phase-1 transform this side offers (initiator)
// or accepts (responder). Zero fields take the defaults.
type Proposal struct {
	// Encr is the ISAKMP cipher; zero means AES-CBC.
	Encr ikecrypto.Encr
	// KeyLen is the cipher key length in bytes; zero means 16 for AES
	// and 24 for 3DES. It is sent as the Key Length attribute (in bits)
	// for AES only.
	KeyLen int
	// PRF is the Hash Algorithm attribute; the prf is its HMAC. Zero
	// means SHA1.
	PRF ikecrypto.PRF
	// Group is the DH group; zero means 14 (MODP-2048).
	Group dh.ID
	// Lifetime is the proposed Life Duration in seconds; zero means 4 h.
	// It must be at least one second: strongSwan refuses a Life Duration
	// of 0. As responder any offered lifetime is accepted and echoed.
	Lifetime time.Duration
}

// Config configures one Main Mode exchange.
type Config struct {
	// PSK is the pre-shared key; required.
	PSK []byte
	// Local and Peer are the outer address:port of this side and of the
	// peer as this side sees them (port 500 usually). The NAT-D hashes
	// and this side's ID payload (ID_IPV4_ADDR or ID_IPV6_ADDR of
	// Local's address, protocol 17, port 500) use them.
	Local, Peer netip.AddrPort
	// Proposal is the transform offered or accepted.
	Proposal Proposal
	// NATT sends and accepts the RFC 3947 vendor ID and the NAT-D
	// payloads (type 20).
	NATT bool
	// ForceNATT pretends this side is behind a NAT: its local NAT-D hash
	// cannot match (as strongSwan's libipsec fakes it), so both sides
	// detect a NAT, float to port 4500 and encapsulate ESP. It needs NATT
	// and a peer that speaks RFC 3947.
	ForceNATT bool
	// InitialContact: the initiator sends an INITIAL-CONTACT notify
	// (24578) in MM5, encrypted, after ID and HASH_I.
	InitialContact bool
	// VendorIDs are extra vendor ID payloads sent in MM1 or MM2, before
	// the NAT-T one.
	VendorIDs [][]byte
	// Rand supplies the cookie, the nonce and the DH private value, all
	// drawn by Initiate or Respond; required.
	Rand io.Reader
}

// NonceLen is the length of the nonces this side sends.
const NonceLen = 32

// normalize fills the defaults and checks the configuration.
func (c Config) normalize() (Config, *dh.Group, error) {
	p := &c.Proposal
	if p.Encr == 0 {
		p.Encr = ikecrypto.EncrAESCBC
	}
	if p.KeyLen == 0 {
		p.KeyLen = DefaultKeyLen
		if p.Encr == ikecrypto.Encr3DESCBC {
			p.KeyLen = 24
		}
	}
	if p.PRF == 0 {
		p.PRF = ikecrypto.PRFSHA1
	}
	if p.Group == 0 {
		p.Group = DefaultGroup
	}
	if p.Lifetime == 0 {
		p.Lifetime = DefaultLifetime
	}
	if _, err := ikecrypto.NewCipher(p.Encr, make([]byte, p.KeyLen)); err != nil {
		return c, nil, newErr(ErrBadConfig, "proposal cipher", err)
	}
	if p.PRF.Size() == 0 {
		return c, nil, newErr(ErrBadConfig, "proposal hash: "+p.PRF.String(), nil)
	}
	g, err := dh.Lookup(p.Group)
	if err != nil {
		return c, nil, newErr(ErrBadConfig, "proposal group", err)
	}
	if p.Lifetime < time.Second || p.Lifetime/time.Second > math.MaxUint32 {
		return c, nil, newErr(ErrBadConfig, "lifetime must be 1 s to 2^32-1 s", nil)
	}
	switch {
	case len(c.PSK) == 0:
		return c, nil, newErr(ErrBadConfig, "PSK is empty", nil)
	case c.Rand == nil:
		return c, nil, newErr(ErrBadConfig, "Rand is nil", nil)
	case !c.Local.IsValid() || !c.Peer.IsValid():
		return c, nil, newErr(ErrBadConfig, "Local and Peer must be valid address:port pairs", nil)
	}
	for _, v := range c.VendorIDs {
		if len(v) == 0 || len(v) > 256 {
			return c, nil, newErr(ErrBadConfig, "vendor ID must be 1 to 256 bytes", nil)
		}
	}
	c.PSK = append([]byte(nil), c.PSK...)
	return c, g, nil
}
