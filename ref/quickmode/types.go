package quickmode

import (
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// Mode is the IPsec encapsulation mode before NAT-T: the wire value of the
// Encapsulation Mode attribute also depends on Phase1.NATT/NATTDraft.
type Mode uint8

// Modes.
const (
	ModeTunnel    Mode = 1
	ModeTransport Mode = 2
)

// String returns "tunnel" or "transport".
func (m Mode) String() string {
	switch m {
	case ModeTunnel:
		return "tunnel"
	case ModeTransport:
		return "transport"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// wire returns the Encapsulation Mode attribute value (RFC 2407 §4.5,
// RFC 3947 §5.1 and the draft values).
func (m Mode) wire(natt, draft bool) isakmp.EncapsulationMode {
	switch {
	case !natt:
		return isakmp.EncapsulationMode(m)
	case draft && m == ModeTunnel:
		return isakmp.EncapUDPTunnelDraft
	case draft:
		return isakmp.EncapUDPTransportDraft
	case m == ModeTunnel:
		return isakmp.EncapUDPTunnel
	}
	return isakmp.EncapUDPTransport
}

// modeOf maps a wire value back, with whether it is UDP-encapsulated and
// whether it is a draft value.
func modeOf(e uint16) (m Mode, udp, draft, ok bool) {
	switch isakmp.EncapsulationMode(e) {
	case isakmp.EncapTunnel:
		return ModeTunnel, false, false, true
	case isakmp.EncapTransport:
		return ModeTransport, false, false, true
	case isakmp.EncapUDPTunnel:
		return ModeTunnel, true, false, true
	case isakmp.EncapUDPTransport:
		return ModeTransport, true, false, true
	case isakmp.EncapUDPTunnelDraft:
		return ModeTunnel, true, true, true
	case isakmp.EncapUDPTransportDraft:
		return ModeTransport, true, true, true
	}
	return 0, false, false, false
}

// Transform is one ESP algorithm set with its mode and lifetimes: an
// initiator's offer, a responder's acceptable set, or the negotiated one.
type Transform struct {
	ESP  ikecrypto.ESPTransform // ID, KeyBits (AES only), Auth (AuthNone for GCM)
	Mode Mode
	// LifeSeconds: 0 sends no attribute, which means 28800 s (RFC 2407
	// §4.5). In a responder policy it is the maximum it accepts.
	LifeSeconds uint32
	// LifeKilobytes: 0 means no volume limit (and no attribute).
	LifeKilobytes uint32
}

// DefaultLifeSeconds is the SA lifetime when none is proposed (RFC 2407 §4.5).
const DefaultLifeSeconds = 28800

// Proposal is one alternative of an offer: an ESP proposal whose
// transforms are alternatives too.
type Proposal struct {
	Transforms []Transform
}

// Selector is a traffic selector: a client ID of Quick Mode (RFC 2407
// §4.6.2) as an address prefix, IP protocol (0 any) and port (0 any).
type Selector struct {
	Prefix   netip.Prefix
	Protocol uint8
	Port     uint16
}

// Request asks Exchanges.Initiate for one Quick Mode.
type Request struct {
	Proposals []Proposal // in order of preference, numbered from 1
	// PFS is the DH group for perfect forward secrecy, 0 for none.
	PFS dh.ID
	// Local and Remote are the client IDs IDci and IDcr; leave both zero
	// to send none (the SA then covers the two phase-1 addresses).
	Local, Remote Selector
}

// Policy is what a responder accepts.
type Policy struct {
	// Transforms lists acceptable algorithm sets and modes with the
	// maximum lifetimes (0: no maximum); the first proposal of the
	// initiator, in its order, matching any of them wins.
	Transforms []Transform
	// PFS lists acceptable PFS groups; include 0 to accept no PFS.
	PFS []dh.ID
}

// Backoff configures the initiator's retransmissions: the first after
// Initial, each next one Factor times later, at most MaxTries
// transmissions in all; the exchange fails one interval after the last.
type Backoff struct {
	Initial  time.Duration
	Factor   int
	MaxTries int
}

// Config configures an Exchanges.
type Config struct {
	Profile Profile
	Policy  Policy    // as responder
	Rand    io.Reader // source of M-IDs, SPIs, nonces and DH keys
	// NonceLen is the length of our nonces, 8..256; 0 means 32.
	NonceLen int
	// MaxHalfOpen bounds open exchanges of both roles; 0 means 16.
	MaxHalfOpen int
	// MaxCompleted bounds the memory of completed exchanges kept for
	// answering retransmissions; 0 means 32.
	MaxCompleted int
	// MaxMessageSize bounds accepted datagrams; 0 means 16384.
	MaxMessageSize int
	// Retransmit: 0 fields mean 500ms, factor 2, 5 tries.
	Retransmit Backoff
	// ResponderTimeout bounds the wait for QM3; 0 means 60s.
	ResponderTimeout time.Duration
	// ResponderRetransmit makes the responder also resend QM2 on the
	// Retransmit schedule while it waits for QM3, as strongSwan does, so
	// that a lost QM3 is recovered through the initiator's answer to a
	// duplicate QM2. Off, QM2 is resent only for a duplicate QM1.
	ResponderRetransmit bool
}

// Role says which side of an exchange this Exchanges plays.
type Role uint8

// Roles.
const (
	Initiator Role = 1
	Responder Role = 2
)

// String returns "initiator" or "responder".
func (r Role) String() string {
	switch r {
	case Initiator:
		return "initiator"
	case Responder:
		return "responder"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Direction is the direction of an SA as seen by its holder.
type Direction uint8

// Directions.
const (
	Inbound  Direction = 1
	Outbound Direction = 2
)

// String returns "inbound" or "outbound".
func (d Direction) String() string {
	if d == Inbound {
		return "inbound"
	}
	if d == Outbound {
		return "outbound"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// SA is one negotiated IPsec SA (one direction) as plain data. Keys are
// owned by the SA (not shared with any buffer of the Exchanges).
type SA struct {
	MessageID uint32
	Direction Direction
	// SPI was chosen by the receiver of this direction: ours for inbound.
	SPI       uint32
	Protocol  isakmp.ProtocolID
	Transform Transform // lifetimes are the effective (lowest) ones
	PFS       dh.ID
	// Encap is the Encapsulation Mode value on the wire; UDPEncap is
	// true for the NAT-T values.
	Encap    isakmp.EncapsulationMode
	UDPEncap bool
	EncKey   []byte
	Salt     []byte // AES-GCM salt
	IntegKey []byte
	// Local and Remote are the traffic selectors seen by the holder.
	Local, Remote Selector
	// NATOAi and NATOAr are the original initiator and responder
	// addresses the peer sent in NAT-OA payloads (transport mode with
	// NAT-T), zero otherwise.
	NATOAi, NATOAr netip.Addr
}

// EventKind is the kind of an Event.
type EventKind uint8

// Event kinds.
const (
	// EventSend: send Datagram (a complete ISAKMP message) to the peer.
	EventSend EventKind = iota + 1
	// EventInstalledInbound: SA may now be accepted on input.
	EventInstalledInbound
	// EventInstalledOutbound: SA is in the database but not used yet.
	EventInstalledOutbound
	// EventActivatedOutbound: SA now protects outbound traffic.
	EventActivatedOutbound
	// EventDeleted: an SA installed by a failed exchange is withdrawn.
	EventDeleted
	// EventCompleted: the exchange finished on this side.
	EventCompleted
	// EventFailed: the exchange was abandoned; Notify and Reason say why.
	EventFailed
)

var eventNames = [...]string{"?", "send", "installed-inbound", "installed-outbound", "activated-outbound", "deleted", "completed", "failed"}

// String returns the kind name, e.g. "installed-inbound".
func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// Event is one output of an Exchanges, plain data. Events are appended in
// the order they happen: an SA event before an EventSend means the SA was
// installed before the datagram was sent. Datagram and the SA's key slices
// may be shared with other events and with retransmissions: read only.
type Event struct {
	Kind      EventKind
	Role      Role
	MessageID uint32
	Datagram  []byte // EventSend
	SA        SA     // EventInstalled*, EventActivatedOutbound, EventDeleted
	Notify    isakmp.NotifyType
	Reason    string // EventFailed
}
