package isakmp

import (
	"encoding/binary"

	"golang.org/x/crypto/cryptobyte"
)

// HeaderLen is the size of the ISAKMP header.
const HeaderLen = 28

// Cookie is an ISAKMP initiator or responder cookie (the IKEv1 SA SPI).
type Cookie [8]byte

// Flags are the ISAKMP header flags (RFC 2408 §3.1).
type Flags uint8

// Header flags.
const (
	FlagEncryption Flags = 0x01 // E: the payloads are encrypted
	FlagCommit     Flags = 0x02 // C: commit bit
	FlagAuthOnly   Flags = 0x04 // A: authentication only
)

const definedFlags = FlagEncryption | FlagCommit | FlagAuthOnly

// Header is the ISAKMP header (RFC 2408 §3.1).
type Header struct {
	InitiatorCookie Cookie
	ResponderCookie Cookie
	// NextPayload is the type of the first payload. Marshal derives it from
	// Message.Payloads unless the message is encrypted.
	NextPayload  PayloadType
	MajorVersion uint8 // 1 for IKEv1
	MinorVersion uint8 // 0 for IKEv1
	Exchange     ExchangeType
	Flags        Flags
	MessageID    uint32
	// Length is the message length from the header; Marshal computes it.
	Length uint32
}

// Message is a parsed ISAKMP message. Byte slices in a parsed Message alias
// one private copy of the input.
type Message struct {
	Header Header
	// Payloads is the payload chain of a plaintext message, nil when the
	// E flag is set.
	Payloads []Payload
	// Ciphertext is the encrypted body when the E flag is set; decrypt it
	// and pass it to ParsePayloads with Header.NextPayload.
	Ciphertext []byte
	// Padding holds bytes between the end of the payload chain and the
	// header length (lenient parsing only).
	Padding []byte
	// Trailing holds bytes after the header length (lenient parsing only);
	// Marshal appends them after the message.
	Trailing []byte
	// Notes lists what a lenient parse tolerated; nil for strict parses.
	Notes []Note
}

// Body is a payload chain parsed from a decrypted message body.
type Body struct {
	Payloads []Payload
	// Padding is everything after the payload whose next payload is NONE:
	// the cipher's padding, normal in decrypted bodies.
	Padding []byte
	// Notes lists what a lenient parse tolerated; nil for strict parses.
	Notes []Note
}

// ParseHeader decodes the ISAKMP header at the start of b without checking
// it or the rest of b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, &Error{Offset: len(b), Path: "Header", Notify: NotifyPayloadMalformed, Err: ErrTruncated}
	}
	// Fixed layout: index directly, one bounds check (hot path of View).
	return Header{
		InitiatorCookie: Cookie(b[0:8]),
		ResponderCookie: Cookie(b[8:16]),
		NextPayload:     PayloadType(b[16]),
		MajorVersion:    b[17] >> 4,
		MinorVersion:    b[17] & 0x0f,
		Exchange:        ExchangeType(b[18]),
		Flags:           Flags(b[19]),
		MessageID:       binary.BigEndian.Uint32(b[20:24]),
		Length:          binary.BigEndian.Uint32(b[24:28]),
	}, nil
}

// Parse strictly parses one ISAKMP message that fills b exactly.
func Parse(b []byte) (*Message, error) { return ParseWith(b, ParseOptions{}) }

// ParseWith parses one ISAKMP message with options o.
func ParseWith(b []byte, o ParseOptions) (*Message, error) {
	p := newParser(o)
	b = clone(b)
	var c chain
	h, err := p.header(b, &c)
	if err != nil {
		return nil, err
	}
	var m *Message
	if h.Flags&FlagEncryption != 0 {
		m = &Message{Header: h, Ciphertext: nz(c.buf)}
	} else {
		k, err := p.validate(c)
		if err != nil {
			return nil, err
		}
		var s slabs
		m, s = newArena[Message](&k)
		m.Header = h
		if m.Payloads, err = s.build(&c); err != nil {
			return nil, err
		}
	}
	m.Padding = nz(c.padding)
	m.Trailing = nz(c.trailing)
	m.Notes = p.notes
	return m, nil
}

// ParsePayloads parses the payload chain of a decrypted body whose first
// payload has type first (the header's NextPayload). The chain ends at the
// first payload with next payload NONE; what follows is returned as Padding
// and is not an error.
func ParsePayloads(first PayloadType, body []byte, o ParseOptions) (*Body, error) {
	p := newParser(o)
	body = clone(body)
	c := chain{buf: body, base: 0, next: first, padOK: true}
	k, err := p.validate(c)
	if err != nil {
		return nil, err
	}
	b, s := newArena[Body](&k)
	if b.Payloads, err = s.build(&c); err != nil {
		return nil, err
	}
	b.Padding, b.Notes = nz(c.padding), p.notes
	return b, nil
}

// clone copies b for the result to alias. Unlike bytes.Clone it skips
// zeroing the new memory (the compiler fuses make and copy) and leaves no
// spare capacity.
func clone(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// newParser returns the shared strictParser or a parser collecting notes.
func newParser(o ParseOptions) *parser {
	if o.Lenient {
		return &parser{lenient: true}
	}
	return strictParser
}

// UnknownPayloads returns the types of the payloads kept as *Unknown.
func (m *Message) UnknownPayloads() []PayloadType {
	var ts []PayloadType
	for _, p := range m.Payloads {
		if u, ok := p.(*Unknown); ok {
			ts = append(ts, u.PayloadType)
		}
	}
	return ts
}

// Marshal encodes m. It computes Header.Length and, for plaintext
// messages, Header.NextPayload and every generic header from the structs.
// It checks only that m is encodable, not that it is valid, so tests can
// build malformed messages.
func (m *Message) Marshal() ([]byte, error) { return m.AppendMarshal(nil) }

// AppendMarshal appends the encoding of m to dst.
func (m *Message) AppendMarshal(dst []byte) ([]byte, error) {
	h := m.Header
	n := HeaderLen + len(m.Ciphertext) + len(m.Padding)
	if h.Flags&FlagEncryption == 0 {
		if len(m.Ciphertext) > 0 {
			return nil, &Error{Path: "Header", Err: ErrUnencodable}
		}
		s, first, err := chainSize(m.Payloads)
		if err != nil {
			return nil, err
		}
		n += s
		h.NextPayload = first
	} else if len(m.Payloads) > 0 || len(m.Padding) > 0 {
		// Padding of an encrypted message is part of its ciphertext.
		return nil, &Error{Path: "Header", Err: ErrUnencodable}
	}
	if uint64(n) > 0xffffffff || h.MajorVersion > 15 || h.MinorVersion > 15 {
		return nil, &Error{Path: "Header", Err: ErrUnencodable}
	}
	b := cryptobyte.NewBuilder(grow(dst, n+len(m.Trailing)))
	b.AddBytes(h.InitiatorCookie[:])
	b.AddBytes(h.ResponderCookie[:])
	b.AddUint8(uint8(h.NextPayload))
	b.AddUint8(h.MajorVersion<<4 | h.MinorVersion)
	b.AddUint8(uint8(h.Exchange))
	b.AddUint8(uint8(h.Flags))
	b.AddUint32(h.MessageID)
	b.AddUint32(uint32(n))
	b.AddBytes(m.Ciphertext)
	appendChain(b, m.Payloads)
	b.AddBytes(m.Padding)
	b.AddBytes(m.Trailing)
	return b.Bytes()
}

// AppendPayloads appends the payload chain ps (generic headers included,
// no padding) to dst, as the plaintext of an encrypted message. The first
// payload's type goes into the header's NextPayload.
func AppendPayloads(dst []byte, ps []Payload) ([]byte, error) {
	n, _, err := chainSize(ps)
	if err != nil {
		return nil, err
	}
	b := cryptobyte.NewBuilder(grow(dst, n))
	appendChain(b, ps)
	return b.Bytes()
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		return nb
	}
	return b
}

// chainSize returns the encoded size of ps and the type of its first payload.
func chainSize(ps []Payload) (int, PayloadType, error) {
	n := 0
	for i, p := range ps {
		if p == nil {
			return 0, 0, &Error{Path: loc{idx: int32(i)}.String(), Err: ErrUnencodable}
		}
		s, err := p.bodySize()
		if err != nil {
			return 0, 0, err
		}
		if s+4 > 0xffff {
			return 0, 0, &Error{Path: loc{pt: p.Type(), idx: int32(i)}.String(), Err: ErrUnencodable}
		}
		n += s + 4
	}
	if len(ps) == 0 {
		return 0, PayloadNone, nil
	}
	return n, ps[0].Type(), nil
}

// appendChain encodes ps; sizes were checked by chainSize.
func appendChain(b *cryptobyte.Builder, ps []Payload) {
	for i, p := range ps {
		next := PayloadNone
		if i+1 < len(ps) {
			next = ps[i+1].Type()
		}
		s, _ := p.bodySize()
		b.AddUint8(uint8(next))
		b.AddUint8(0)
		b.AddUint16(uint16(s + 4))
		p.appendBody(b)
	}
}

// nz returns nil for empty slices so parsed and constructed values compare
// equal.
func nz(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
