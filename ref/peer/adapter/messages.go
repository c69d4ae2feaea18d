package adapter

import (
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// Version is the protocol version this package speaks. A shim answers an
// init of another version with an error of code CodeVersion.
const Version = 1

// Request types (Request.Type). A reply carries the type of its request,
// or "error".
const (
	TypeInit      = "init"
	TypeStep      = "step"
	TypeNextTimer = "next_timer"
	TypeState     = "state"
	TypeError     = "error"
)

// Error codes a shim puts in an error reply (Reply.Code).
const (
	CodeBadRequest    = "bad-request"    // not a JSON object, or a field has the wrong type or value
	CodeUnknownType   = "unknown-type"   // Request.Type is not one of the four
	CodeVersion       = "version"        // init of a version the shim does not speak
	CodeNoSession     = "no-session"     // step, next_timer or state before a successful init
	CodeBadConfig     = "bad-config"     // init the shim cannot run (unsupported algorithm, ...)
	CodeTimeBackwards = "time-backwards" // step whose input.at is before the previous one
	CodeInternal      = "internal"       // anything else; the driver ends the run
)

// Limits on what crosses the pipe. A reply longer than MaxLine, or a
// step reply with more than MaxOutputs outputs, ends the run with
// ErrReplyTooLarge; a request longer than MaxLine is never sent.
const (
	MaxLine    = 1 << 20
	MaxOutputs = 4096
)

// Request is one line from the driver to the shim.
type Request struct {
	Type string `json:"type"`
	// ID numbers requests from 1, increasing by one; the reply repeats it.
	ID uint64 `json:"id"`
	// Version and Config are set for init.
	Version int     `json:"version,omitempty"`
	Config  *Config `json:"config,omitempty"`
	// Input is set for step.
	Input *peer.Input `json:"input,omitempty"`
}

// Reply is one line from the shim to the driver, answering the request of
// the same ID (0 when the request could not be read far enough to know it).
type Reply struct {
	Type string `json:"type"`
	ID   uint64 `json:"id"`

	// init: the protocol version, a free-form name of the implementation
	// and the bounds it keeps (property P6).
	Version        int     `json:"version,omitempty"`
	Implementation string  `json:"implementation,omitempty"`
	Limits         *Limits `json:"limits,omitempty"`

	// step: the outputs of the input, in order, and the earliest pending
	// timer after it (as next_timer's At).
	Outputs []peer.Output `json:"outputs,omitempty"`
	// next_timer and step: virtual time of the earliest pending timer, nil
	// (JSON null or absent) when there is none.
	At *time.Duration `json:"at,omitempty"`

	// state: the snapshot.
	State *peer.State `json:"state,omitempty"`

	// error: what went wrong.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// Limits are the bounds a shim keeps, reported in its init reply. Zero
// means unbounded (property P6 then checks nothing for that measure).
type Limits struct {
	MaxSAsPerFlow int `json:"max_sas_per_flow,omitempty"` // inbound plus outbound, per flow
	MaxHalfOpen   int `json:"max_half_open,omitempty"`    // open IKE exchanges
	MaxQueued     int `json:"max_queued,omitempty"`       // packets queued for acquire, all flows
}

// Config is what an init hands the shim: everything a gateway needs that
// the two ends agreed outside Quick Mode. With it a shim needs no Main
// Mode: the phase-1 SA is given, keys and all.
type Config struct {
	// Side is "A" or "B": which end of the pair this is. A was the Main
	// Mode initiator.
	Side string `json:"side"`
	// Initiator: this end starts the first negotiation of a flow when the
	// application sends on it (acquire); the other end only queues. Either
	// end may rekey.
	Initiator bool `json:"initiator"`
	// Seed is the only source of the shim's randomness (SPIs, message IDs,
	// nonces, IVs, lifetime fuzz): the same seed and the same inputs must
	// give the same outputs. At most 2^53 − 1, so that every JSON parser
	// reads it exactly.
	Seed uint64 `json:"seed"`
	// Start is the virtual time of the session's first input.
	Start time.Duration `json:"start"`

	Phase1 Phase1 `json:"phase1"`
	// Flows, as this end sees them; input.flow and output.flow index them.
	Flows []Flow `json:"flows"`
	// Proposal is the one transform both ends offer and accept.
	Proposal Proposal `json:"proposal"`
	// Lifetime of every SA this end negotiates.
	Lifetime Lifetime `json:"lifetime"`
	// Retransmit paces Quick Mode retransmission.
	Retransmit Retransmit `json:"retransmit"`
	// Linger is how long the initiator of a rekey keeps the old SA pair
	// before it deletes it with an Informational Delete (0: until its hard
	// lifetime or the peer's Delete).
	Linger time.Duration `json:"linger"`
}

// Phase1 is the established ISAKMP SA, as RFC 2409 §5 leaves it after Main
// Mode. Byte strings are base64 (RFC 4648 §4, with padding).
type Phase1 struct {
	CookieI []byte `json:"cookie_i"` // 8 bytes, the Main Mode initiator's (side A)
	CookieR []byte `json:"cookie_r"` // 8 bytes
	// PRF is the negotiated hash as a prf: "md5", "sha1", "sha2-256",
	// "sha2-384" or "sha2-512" (HMAC of that hash, RFC 2409 §4).
	PRF     string `json:"prf"`
	SKEYIDd []byte `json:"skeyid_d"`
	SKEYIDa []byte `json:"skeyid_a"`
	SKEYIDe []byte `json:"skeyid_e"`
	// Encr is the ISAKMP SA cipher, "aes-cbc" or "3des-cbc"; Key its key
	// (derived from SKEYID_e, RFC 2409 Appendix B).
	Encr string `json:"encr"`
	Key  []byte `json:"key"`
	// IV is the last CBC block of Main Mode, from which every phase-2 IV
	// is derived (RFC 2409 Appendix B).
	IV []byte `json:"iv"`
	// Local and Peer are this end's and the other end's addresses; with
	// NAT-T they go into NAT-OA payloads.
	Local string `json:"local"`
	Peer  string `json:"peer"`
	// NATT: Main Mode detected a NAT (RFC 3947): IKE and ESP travel in UDP
	// 4500 (RFC 3948) and Quick Mode proposes the UDP-encapsulated modes.
	NATT bool `json:"natt"`
}

// Flow is one pair of traffic selectors as this end sees them.
type Flow struct {
	Local    string `json:"local"`  // prefix, e.g. "10.0.0.0/24"
	Remote   string `json:"remote"` // prefix
	Protocol uint8  `json:"protocol,omitempty"`
	Port     uint16 `json:"port,omitempty"`
}

// Proposal is one ESP transform.
type Proposal struct {
	// ESP is "aes-cbc", "aes-gcm-16" or "null"; KeyBits its key length.
	ESP     string `json:"esp"`
	KeyBits int    `json:"key_bits,omitempty"`
	// Auth is "hmac-sha1-96", "hmac-sha2-256-128" or "none".
	Auth string `json:"auth"`
	// Mode is "tunnel" or "transport".
	Mode string `json:"mode"`
	// PFS is the Quick Mode Diffie-Hellman group number, 0 for none.
	PFS int `json:"pfs,omitempty"`
}

// Lifetime is the SA lifetime this end proposes and enforces; the hard
// values go into proposals, the soft ones start a rekey. Zero Hard means
// 28800 s; zero Soft no rekey on that measure.
type Lifetime struct {
	Soft          time.Duration `json:"soft"`
	Hard          time.Duration `json:"hard"`
	SoftKilobytes uint32        `json:"soft_kilobytes,omitempty"`
	HardKilobytes uint32        `json:"hard_kilobytes,omitempty"`
	// RekeyFuzz shortens each soft lifetime by a random amount below it.
	RekeyFuzz time.Duration `json:"rekey_fuzz,omitempty"`
}

// Retransmit is the Quick Mode retransmission schedule: the first resend
// after Initial, each next one Factor times later, MaxTries sends in all.
type Retransmit struct {
	Initial  time.Duration `json:"initial"`
	Factor   int           `json:"factor,omitempty"`
	MaxTries int           `json:"max_tries,omitempty"`
	// Responder: the responder also resends QM2 until QM3 arrives.
	Responder bool `json:"responder,omitempty"`
}
