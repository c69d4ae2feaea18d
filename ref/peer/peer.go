// Package peer is the seam between an IKEv1/IPsec implementation and
// everything that drives it: the rapid properties, the network simulator,
// the fuzzers and, through an out-of-process adapter, implementations
// written in other languages.
//
// A Peer is sans-I/O. It is driven by Inputs (a datagram arrived, the
// application wants to send a packet, the clock moved, an operator command)
// and answers with Outputs (datagrams to transmit, packets delivered or
// dropped with a reason, SA and exchange lifecycle events). It owns no
// goroutine, socket or wall clock: time is virtual and carried by every
// Input, and randomness is injected when the implementation is built.
//
// Every type here is plain data with stable JSON names, so the same
// conversation can be carried as line-delimited JSON to a process written in
// any language.
package peer

import (
	"fmt"
	"time"
)

// Peer is one IPsec gateway under test.
type Peer interface {
	// Step applies one input at virtual time in.At (never earlier than the
	// At of the previous input) and returns what the peer did, in order.
	// The returned slice and the byte slices in it may be reused by the
	// next call to Step: callers copy what they keep. Likewise Step must
	// not keep in.Packet or in.Datagram.Bytes after it returns: callers
	// reuse those buffers.
	Step(in Input) []Output
	// NextTimer is the virtual time of the earliest pending timer
	// (retransmission, lifetime, rekey), if any. A driver calls Step with a
	// Tick input at that time.
	NextTimer() (at time.Duration, ok bool)
	// State is a snapshot of the SAs, flows and bounded resources, for
	// invariants. It shares nothing with the peer.
	State() State
}

// InputKind says what an Input carries.
type InputKind uint8

// Input kinds.
const (
	// Receive: Datagram arrived from the network.
	Receive InputKind = iota + 1
	// Send: the application wants Packet (an inner IP packet) protected
	// and sent on Flow.
	Send
	// Tick: the clock moved to At; due timers fire.
	Tick
	// Rekey: an operator asks for a new SA pair on Flow now (as a soft
	// lifetime expiry would).
	Rekey
	// Delete: an operator deletes the SA pair whose inbound SPI is SPI and
	// tells the peer with an Informational Delete.
	Delete
)

var inputKindNames = [...]string{"", "receive", "send", "tick", "rekey", "delete"}

func (k InputKind) String() string { return name(inputKindNames[:], uint8(k), "input") }

// MarshalText implements encoding.TextMarshaler.
func (k InputKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *InputKind) UnmarshalText(b []byte) error {
	return unname(inputKindNames[:], string(b), (*uint8)(k), "input kind")
}

// Input is one event for a Peer.
type Input struct {
	Kind InputKind     `json:"kind"`
	At   time.Duration `json:"at"` // virtual time since the start of the run
	// Datagram is set for Receive.
	Datagram Datagram `json:"datagram,omitzero"`
	// Flow is set for Send and Rekey: an index into the flows both peers
	// were configured with.
	Flow int `json:"flow,omitempty"`
	// Packet is set for Send: an inner IPv4 or IPv6 packet.
	Packet []byte `json:"packet,omitempty"`
	// SPI is set for Delete.
	SPI uint32 `json:"spi,omitempty"`
}

// Transport is how a datagram travels between the two gateways.
type Transport uint8

// Transports.
const (
	// UDP500: an ISAKMP message on UDP port 500.
	UDP500 Transport = iota + 1
	// UDP4500: a UDP 4500 payload as on the wire (RFC 3948): an ISAKMP
	// message behind the non-ESP marker, ESP in UDP, or a NAT keepalive.
	UDP4500
	// ESP: an ESP packet directly in IP (protocol 50).
	ESP
)

var transportNames = [...]string{"", "udp500", "udp4500", "esp"}

func (t Transport) String() string { return name(transportNames[:], uint8(t), "transport") }

// MarshalText implements encoding.TextMarshaler.
func (t Transport) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Transport) UnmarshalText(b []byte) error {
	return unname(transportNames[:], string(b), (*uint8)(t), "transport")
}

// Datagram is what crosses the network between two peers: exactly the UDP
// payload (UDP500, UDP4500) or IP payload (ESP).
type Datagram struct {
	Transport Transport `json:"transport"`
	Bytes     []byte    `json:"bytes"`
}

// IsIKE reports whether d carries an ISAKMP message (UDP 500, or UDP 4500
// behind the non-ESP marker).
func (d Datagram) IsIKE() bool {
	switch d.Transport {
	case UDP500:
		return true
	case UDP4500:
		return len(d.Bytes) >= 4 && d.Bytes[0] == 0 && d.Bytes[1] == 0 && d.Bytes[2] == 0 && d.Bytes[3] == 0
	}
	return false
}

// OutputKind says what an Output reports.
type OutputKind uint8

// Output kinds.
const (
	// Transmit: send Datagram to the other peer.
	Transmit OutputKind = iota + 1
	// Deliver: Packet arrived on inbound SA SPI and goes to the application.
	Deliver
	// Drop: a packet was dropped for Reason. Direction says whether it was
	// an inbound ESP packet or an outbound application packet; SPI is the
	// SA concerned when there is one.
	Drop
	// Queue: an outbound packet for a flow that was never established was
	// queued while the first negotiation runs (acquire).
	Queue
	// SAEvent: SA changed state (Event says how).
	SAEvent
	// Exchange: an IKE exchange started, completed or failed.
	Exchange
	// Reject: an IKE message was rejected (Reason, Notify say why) and
	// changed nothing.
	Reject
)

var outputKindNames = [...]string{"", "transmit", "deliver", "drop", "queue", "sa", "exchange", "reject"}

func (k OutputKind) String() string { return name(outputKindNames[:], uint8(k), "output") }

// MarshalText implements encoding.TextMarshaler.
func (k OutputKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *OutputKind) UnmarshalText(b []byte) error {
	return unname(outputKindNames[:], string(b), (*uint8)(k), "output kind")
}

// Direction is the direction of a packet or SA as seen by the peer.
type Direction uint8

// Directions.
const (
	Inbound Direction = iota + 1
	Outbound
)

var directionNames = [...]string{"", "inbound", "outbound"}

func (d Direction) String() string { return name(directionNames[:], uint8(d), "direction") }

// MarshalText implements encoding.TextMarshaler.
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Direction) UnmarshalText(b []byte) error {
	return unname(directionNames[:], string(b), (*uint8)(d), "direction")
}

// Drop reasons. The names are shared with package esp for the ESP ones.
// ReasonNoActiveSA and ReasonUnknownSPI are the drops "for lack of an active
// SA" that the project's central property forbids; the others are counted
// separately and never confused with them.
const (
	ReasonUnknownSPI  = "unknown-spi"   // inbound ESP for an SPI not installed (or already deleted)
	ReasonNoActiveSA  = "no-active-sa"  // outbound packet on an established flow with no active SA
	ReasonReplay      = "replay"        // anti-replay window rejected it
	ReasonAuthFailed  = "auth-failed"   // ICV/AEAD check failed
	ReasonExpired     = "expired"       // SA past its hard lifetime or sequence space
	ReasonMalformed   = "malformed"     // not a well-formed ESP packet
	ReasonDummy       = "dummy"         // RFC 4303 dummy packet (next header 59)
	ReasonQueueFull   = "acquire-queue" // acquire queue full before the first SA
	ReasonNoFlow      = "no-flow"       // no configured flow covers the packet
	ReasonNegotiation = "negotiation"   // the first negotiation failed; queued packets dropped
	ReasonUnencrypted = "cleartext"     // a packet that should be protected arrived in clear
)

// LackOfActiveSA reports whether reason is a drop for lack of an active SA.
func LackOfActiveSA(reason string) bool {
	return reason == ReasonUnknownSPI || reason == ReasonNoActiveSA
}

// SAEventKind says how an SA changed.
type SAEventKind uint8

// SA events.
const (
	// Installed: the SA is in the database; an inbound SA accepts ESP, an
	// outbound one is ready but does not protect traffic yet.
	Installed SAEventKind = iota + 1
	// Activated: the outbound SA now protects its flow (at most one active
	// outbound SA per flow).
	Activated
	// Deactivated: the outbound SA no longer protects its flow (a newer one
	// was activated); it stays installed until deleted.
	Deactivated
	// Deleted: the SA is gone (Delete received or sent, hard expiry, or a
	// failed exchange withdrawn).
	Deleted
	// SoftExpired: the soft lifetime passed; a rekey starts.
	SoftExpired
)

var saEventNames = [...]string{"", "installed", "activated", "deactivated", "deleted", "soft-expired"}

func (k SAEventKind) String() string { return name(saEventNames[:], uint8(k), "sa-event") }

// MarshalText implements encoding.TextMarshaler.
func (k SAEventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *SAEventKind) UnmarshalText(b []byte) error {
	return unname(saEventNames[:], string(b), (*uint8)(k), "sa event")
}

// ExchangeEventKind says what happened to an IKE exchange.
type ExchangeEventKind uint8

// Exchange events.
const (
	Started ExchangeEventKind = iota + 1
	Completed
	Failed
)

var exchangeEventNames = [...]string{"", "started", "completed", "failed"}

func (k ExchangeEventKind) String() string {
	return name(exchangeEventNames[:], uint8(k), "exchange-event")
}

// MarshalText implements encoding.TextMarshaler.
func (k ExchangeEventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *ExchangeEventKind) UnmarshalText(b []byte) error {
	return unname(exchangeEventNames[:], string(b), (*uint8)(k), "exchange event")
}

// SA describes one IPsec SA (one direction) as plain data.
type SA struct {
	SPI       uint32    `json:"spi"`
	Direction Direction `json:"direction"`
	Flow      int       `json:"flow"`
	// MessageID is the Quick Mode that negotiated it.
	MessageID uint32 `json:"message_id"`
	// Transform names the algorithms, e.g. "aes128-cbc/hmac-sha1-96".
	Transform string `json:"transform"`
	// KeyID identifies the key material without revealing it (a hash of
	// the keys), so two peers' views of one SA can be compared.
	KeyID string `json:"key_id"`
	// State is "installed", "active" (outbound protecting its flow) or
	// "inactive" (outbound, superseded or not yet activated).
	State string `json:"state"`
	// Bytes and Packets processed so far.
	Bytes   uint64 `json:"bytes"`
	Packets uint64 `json:"packets"`
	// Installed is when it was installed; SoftAt/HardAt when its lifetimes
	// expire (0: no time limit).
	Installed time.Duration `json:"installed"`
	SoftAt    time.Duration `json:"soft_at,omitempty"`
	HardAt    time.Duration `json:"hard_at,omitempty"`
}

// Output is one thing a Peer did.
type Output struct {
	Kind OutputKind `json:"kind"`
	// Datagram is set for Transmit.
	Datagram Datagram `json:"datagram,omitzero"`
	// Packet is the inner packet for Deliver, Queue and outbound Drop (and
	// for inbound Drop when it could be decrypted).
	Packet []byte `json:"packet,omitempty"`
	// Flow is set for Deliver, Drop (outbound), Queue, SAEvent and
	// Exchange outputs.
	Flow      int       `json:"flow,omitempty"`
	SPI       uint32    `json:"spi,omitempty"`
	Direction Direction `json:"direction,omitempty"`
	// Reason is set for Drop, Reject and failed exchanges.
	Reason string `json:"reason,omitempty"`
	// Event and SA are set for SAEvent.
	Event SAEventKind `json:"event,omitempty"`
	SA    SA          `json:"sa,omitzero"`
	// Exchange fields are set for Exchange (and Reject when known).
	ExchangeEvent ExchangeEventKind `json:"exchange_event,omitempty"`
	MessageID     uint32            `json:"message_id,omitempty"`
	// Role is "initiator" or "responder".
	Role string `json:"role,omitempty"`
	// Notify is the ISAKMP notify type name an error maps to, e.g.
	// "INVALID-HASH-INFORMATION".
	Notify string `json:"notify,omitempty"`
}

// FlowState is one protected flow as the peer sees it.
type FlowState struct {
	Flow int `json:"flow"`
	// Established is true once an outbound SA has been active on the flow:
	// from then on an outbound packet that finds no active SA is a drop for
	// lack of an active SA; before, it is queued (acquire).
	Established bool `json:"established"`
	// Active is the SPI of the active outbound SA, 0 if none.
	Active uint32 `json:"active"`
	// Queued is the number of packets waiting for the first SA.
	Queued int `json:"queued"`
}

// State is a snapshot of a peer for invariants.
type State struct {
	At    time.Duration `json:"at"`
	SAs   []SA          `json:"sas"` // inbound and outbound, by SPI
	Flows []FlowState   `json:"flows"`
	// HalfOpen counts IKE exchanges in progress.
	HalfOpen int `json:"half_open"`
	// Queued counts packets queued for acquire, over all flows.
	Queued int `json:"queued"`
}

// Lookup returns the SA with spi and direction d in s.
func (s *State) Lookup(spi uint32, d Direction) (SA, bool) {
	for _, sa := range s.SAs {
		if sa.SPI == spi && sa.Direction == d {
			return sa, true
		}
	}
	return SA{}, false
}

func name(names []string, v uint8, what string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", what, v)
}

func unname(names []string, s string, v *uint8, what string) error {
	for i, n := range names {
		if n != "" && n == s {
			*v = uint8(i)
			return nil
		}
	}
	return fmt.Errorf("peer: unknown %s %q", what, s)
}
