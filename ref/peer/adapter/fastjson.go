package adapter

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// A fast path for the driver's JSON: encoding/json spends most of a step's
// CPU time in reflection (about 10 µs to decode one send reply on the
// benchmark machine, a quarter of the round trip). appendRequest and
// decodeReply handle the plain subset of JSON that Serve and the Python
// shim write and give exactly what json.Marshal and json.Unmarshal give;
// on anything outside that subset they report false and the caller uses
// encoding/json, which also makes the error messages its own. The
// differential tests in fastjson_test.go hold them to that.

// appendRequest appends req as json.Marshal encodes it (without the
// newline). It reports false, with dst unchanged, for an init request
// or a name that would need escaping.
func appendRequest(dst []byte, req *Request) ([]byte, bool) {
	start := len(dst)
	if req.Version != 0 || req.Config != nil || !plain(req.Type) {
		return dst, false
	}
	dst = append(dst, `{"type":"`...)
	dst = append(dst, req.Type...)
	dst = append(dst, `","id":`...)
	dst = strconv.AppendUint(dst, req.ID, 10)
	if in := req.Input; in != nil {
		kind := in.Kind.String()
		if !plain(kind) {
			return dst[:start], false
		}
		dst = append(dst, `,"input":{"kind":"`...)
		dst = append(dst, kind...)
		dst = append(dst, `","at":`...)
		dst = strconv.AppendInt(dst, int64(in.At), 10)
		// omitzero: a Datagram is zero when both fields are (a non-nil
		// empty Bytes is not).
		if in.Datagram.Transport != 0 || in.Datagram.Bytes != nil {
			tr := in.Datagram.Transport.String()
			if !plain(tr) {
				return dst[:start], false
			}
			dst = append(dst, `,"datagram":{"transport":"`...)
			dst = append(dst, tr...)
			dst = append(dst, `","bytes":`...)
			dst = appendBytes(dst, in.Datagram.Bytes)
			dst = append(dst, '}')
		}
		if in.Flow != 0 {
			dst = append(dst, `,"flow":`...)
			dst = strconv.AppendInt(dst, int64(in.Flow), 10)
		}
		if len(in.Packet) > 0 {
			dst = append(dst, `,"packet":`...)
			dst = appendBytes(dst, in.Packet)
		}
		if in.SPI != 0 {
			dst = append(dst, `,"spi":`...)
			dst = strconv.AppendUint(dst, uint64(in.SPI), 10)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}'), true
}

// appendBytes encodes b as encoding/json encodes a []byte.
func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// plain reports whether json.Marshal writes s between quotes as it is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '(' || c == ')') {
			return false
		}
	}
	return true
}

// decodeReply decodes line into r, which must be a zero Reply, as
// json.Unmarshal would. It reports false when line is not in the subset
// it knows; r is then garbage and the caller decodes a fresh Reply with
// encoding/json. Every line it accepts is valid JSON that json.Unmarshal
// decodes without error to the same value: keys are matched exactly (a
// key json would match only by case folding, an unknown key or a
// repeated one sends the line to json), strings have no escapes and no
// bytes outside printable ASCII, numbers are integers, and null is taken
// only where it sets a pointer or slice to nil.
func decodeReply(line []byte, r *Reply) bool {
	d := decoder{b: line}
	if !d.object(func(k []byte) int {
		switch string(k) {
		case "type":
			return d.name(&r.Type, 0)
		case "id":
			return d.uint(&r.ID, 64, 1)
		case "version":
			return d.int(&r.Version, 2)
		case "implementation":
			return d.str(&r.Implementation, 3)
		case "limits":
			if d.null() {
				return 4 // fresh Reply: stays nil
			}
			r.Limits = new(Limits)
			return d.limits(r.Limits, 4)
		case "outputs":
			return d.outputs(&r.Outputs, 5)
		case "at":
			if d.null() {
				return 6
			}
			r.At = new(time.Duration)
			return d.duration(r.At, 6)
		case "state":
			if d.null() {
				return 7
			}
			r.State = new(peer.State)
			return d.state(r.State, 7)
		case "code":
			return d.str(&r.Code, 8)
		case "message":
			return d.str(&r.Message, 9)
		}
		return -1
	}) {
		return false
	}
	d.ws()
	return d.i == len(d.b)
}

// decoder reads the subset of JSON decodeReply accepts. Its value
// methods take the field's number and return it, or -1 when the value is
// not in the subset.
type decoder struct {
	b []byte
	i int
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// eat skips white space and then c, if c is next.
func (d *decoder) eat(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// lit skips white space and then the literal s, if it is next.
func (d *decoder) lit(s string) bool {
	d.ws()
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

func (d *decoder) null() bool { return d.lit("null") }

// object reads an object whose members field decodes: field returns the
// member's number (below 64), or -1 to give up. A repeated member gives
// up too.
func (d *decoder) object(field func(key []byte) int) bool {
	if !d.eat('{') {
		return false
	}
	if d.eat('}') {
		return true
	}
	var seen uint64
	for {
		k, ok := d.raw()
		if !ok || !d.eat(':') {
			return false
		}
		n := field(k)
		if n < 0 || seen&(1<<n) != 0 {
			return false
		}
		seen |= 1 << n
		if d.eat(',') {
			continue
		}
		return d.eat('}')
	}
}

// array reads an array, elem decoding each element; it reports the
// number of elements, or -1.
func (d *decoder) array(elem func() bool) int {
	if !d.eat('[') {
		return -1
	}
	if d.eat(']') {
		return 0
	}
	for n := 1; ; n++ {
		if !elem() {
			return -1
		}
		if d.eat(',') {
			continue
		}
		if d.eat(']') {
			return n
		}
		return -1
	}
}

// raw reads a string without escapes, of printable ASCII only, and
// returns its bytes (a slice of the line).
func (d *decoder) raw() ([]byte, bool) {
	if !d.eat('"') {
		return nil, false
	}
	for j := d.i; j < len(d.b); j++ {
		c := d.b[j]
		if c == '"' {
			s := d.b[d.i:j]
			d.i = j + 1
			return s, true
		}
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return nil, false
		}
	}
	return nil, false
}

func (d *decoder) str(v *string, n int) int {
	s, ok := d.raw()
	if !ok {
		return -1
	}
	*v = string(s)
	return n
}

// name is str for Reply.Type, without allocating for the usual types.
func (d *decoder) name(v *string, n int) int {
	s, ok := d.raw()
	if !ok {
		return -1
	}
	switch string(s) {
	case TypeStep:
		*v = TypeStep
	case TypeNextTimer:
		*v = TypeNextTimer
	case TypeState:
		*v = TypeState
	case TypeInit:
		*v = TypeInit
	case TypeError:
		*v = TypeError
	default:
		*v = string(s)
	}
	return n
}

// bytes decodes base64 as encoding/json does for a []byte (null: nil).
func (d *decoder) bytes(v *[]byte, n int) int {
	if d.null() {
		*v = nil
		return n
	}
	s, ok := d.raw()
	if !ok {
		return -1
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	m, err := base64.StdEncoding.Decode(b, s)
	if err != nil {
		return -1
	}
	*v = b[:m]
	return n
}

// text decodes a string with an encoding.TextUnmarshaler, as
// encoding/json does.
func (d *decoder) text(v interface{ UnmarshalText([]byte) error }, n int) int {
	s, ok := d.raw()
	if !ok || v.UnmarshalText(s) != nil {
		return -1
	}
	return n
}

// digits reads an integer as JSON writes it, -?(0|[1-9][0-9]*), and
// returns its magnitude; ok is false on overflow of a uint64 or when
// what follows would make it a fraction or exponent (the caller's next
// eat fails on those).
func (d *decoder) digits() (mag uint64, neg, ok bool) {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '-' {
		neg = true
		d.i++
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c < '0' || c > '9' {
			break
		}
		if d.i > start && d.b[start] == '0' {
			return 0, false, false // leading zero: not JSON
		}
		x := uint64(c - '0')
		if mag > (1<<64-1-x)/10 {
			return 0, false, false
		}
		mag = mag*10 + x
		d.i++
	}
	return mag, neg, d.i > start
}

// sint reads an integer that fits in bits (signed).
func (d *decoder) sint(bits uint) (int64, bool) {
	mag, neg, ok := d.digits()
	if !ok {
		return 0, false
	}
	limit := uint64(1) << (bits - 1)
	if neg {
		if mag > limit {
			return 0, false
		}
		return int64(-mag), true // -(1<<63) wraps to itself
	}
	if mag >= limit {
		return 0, false
	}
	return int64(mag), true
}

func (d *decoder) uint(v *uint64, bits uint, n int) int {
	mag, neg, ok := d.digits()
	if !ok || neg || bits < 64 && mag >= 1<<bits {
		return -1
	}
	*v = mag
	return n
}

func (d *decoder) uint32(v *uint32, n int) int {
	var x uint64
	if d.uint(&x, 32, n) < 0 {
		return -1
	}
	*v = uint32(x)
	return n
}

func (d *decoder) int(v *int, n int) int {
	x, ok := d.sint(strconv.IntSize)
	if !ok {
		return -1
	}
	*v = int(x)
	return n
}

func (d *decoder) duration(v *time.Duration, n int) int {
	x, ok := d.sint(64)
	if !ok {
		return -1
	}
	*v = time.Duration(x)
	return n
}

func (d *decoder) bool(v *bool, n int) int {
	switch {
	case d.lit("true"):
		*v = true
	case d.lit("false"):
		*v = false
	default:
		return -1
	}
	return n
}

func (d *decoder) limits(l *Limits, n int) int {
	if !d.object(func(k []byte) int {
		switch string(k) {
		case "max_sas_per_flow":
			return d.int(&l.MaxSAsPerFlow, 0)
		case "max_half_open":
			return d.int(&l.MaxHalfOpen, 1)
		case "max_queued":
			return d.int(&l.MaxQueued, 2)
		}
		return -1
	}) {
		return -1
	}
	return n
}

func (d *decoder) outputs(v *[]peer.Output, n int) int {
	if d.null() {
		*v = nil
		return n
	}
	var outs []peer.Output
	m := d.array(func() bool {
		outs = append(outs, peer.Output{})
		return d.output(&outs[len(outs)-1])
	})
	switch {
	case m < 0:
		return -1
	case m == 0:
		outs = []peer.Output{} // as encoding/json: empty, not nil
	}
	*v = outs
	return n
}

func (d *decoder) output(o *peer.Output) bool {
	return d.object(func(k []byte) int {
		switch string(k) {
		case "kind":
			return d.text(&o.Kind, 0)
		case "datagram":
			return d.datagram(&o.Datagram, 1)
		case "packet":
			return d.bytes(&o.Packet, 2)
		case "flow":
			return d.int(&o.Flow, 3)
		case "spi":
			return d.uint32(&o.SPI, 4)
		case "direction":
			return d.text(&o.Direction, 5)
		case "reason":
			return d.str(&o.Reason, 6)
		case "event":
			return d.text(&o.Event, 7)
		case "sa":
			return d.sa(&o.SA, 8)
		case "exchange_event":
			return d.text(&o.ExchangeEvent, 9)
		case "message_id":
			return d.uint32(&o.MessageID, 10)
		case "role":
			return d.str(&o.Role, 11)
		case "notify":
			return d.str(&o.Notify, 12)
		}
		return -1
	})
}

func (d *decoder) datagram(g *peer.Datagram, n int) int {
	if !d.object(func(k []byte) int {
		switch string(k) {
		case "transport":
			return d.text(&g.Transport, 0)
		case "bytes":
			return d.bytes(&g.Bytes, 1)
		}
		return -1
	}) {
		return -1
	}
	return n
}

func (d *decoder) sa(sa *peer.SA, n int) int {
	if !d.object(func(k []byte) int {
		switch string(k) {
		case "spi":
			return d.uint32(&sa.SPI, 0)
		case "direction":
			return d.text(&sa.Direction, 1)
		case "flow":
			return d.int(&sa.Flow, 2)
		case "message_id":
			return d.uint32(&sa.MessageID, 3)
		case "transform":
			return d.str(&sa.Transform, 4)
		case "key_id":
			return d.str(&sa.KeyID, 5)
		case "state":
			return d.str(&sa.State, 6)
		case "bytes":
			return d.uint(&sa.Bytes, 64, 7)
		case "packets":
			return d.uint(&sa.Packets, 64, 8)
		case "installed":
			return d.duration(&sa.Installed, 9)
		case "soft_at":
			return d.duration(&sa.SoftAt, 10)
		case "hard_at":
			return d.duration(&sa.HardAt, 11)
		}
		return -1
	}) {
		return -1
	}
	return n
}

func (d *decoder) state(s *peer.State, n int) int {
	if !d.object(func(k []byte) int {
		switch string(k) {
		case "at":
			return d.duration(&s.At, 0)
		case "sas":
			if d.null() {
				s.SAs = nil
				return 1
			}
			var sas []peer.SA
			m := d.array(func() bool {
				sas = append(sas, peer.SA{})
				return d.sa(&sas[len(sas)-1], 0) == 0
			})
			if m < 0 {
				return -1
			}
			if m == 0 {
				sas = []peer.SA{}
			}
			s.SAs = sas
			return 1
		case "flows":
			if d.null() {
				s.Flows = nil
				return 2
			}
			var flows []peer.FlowState
			m := d.array(func() bool {
				flows = append(flows, peer.FlowState{})
				return d.flow(&flows[len(flows)-1])
			})
			if m < 0 {
				return -1
			}
			if m == 0 {
				flows = []peer.FlowState{}
			}
			s.Flows = flows
			return 2
		case "half_open":
			return d.int(&s.HalfOpen, 3)
		case "queued":
			return d.int(&s.Queued, 4)
		}
		return -1
	}) {
		return -1
	}
	return n
}

func (d *decoder) flow(f *peer.FlowState) bool {
	return d.object(func(k []byte) int {
		switch string(k) {
		case "flow":
			return d.int(&f.Flow, 0)
		case "established":
			return d.bool(&f.Established, 1)
		case "active":
			return d.uint32(&f.Active, 2)
		case "queued":
			return d.int(&f.Queued, 3)
		}
		return -1
	})
}
