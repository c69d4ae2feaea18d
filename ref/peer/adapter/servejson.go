package adapter

import (
	"strconv"

	"github.com/hitless-ike/hitless/ref/peer"
)

// The shim's side of the fast path of fastjson.go: decodeRequest and
// appendReply handle the plain subset of JSON that the driver writes and
// that Serve answers with, and give exactly what json.Unmarshal and
// json.Marshal give; on anything outside it they report false and Serve
// uses encoding/json, which keeps its error messages. The differential
// tests in servejson_test.go hold them to that.

// decodeRequest decodes a step, next_timer or state request line as
// json.Unmarshal decodes it into a fresh envelope and then env.Input into
// a fresh peer.Input in. It reports false for anything else, an init
// request included (env and in are then garbage; the caller starts
// again from zero values with encoding/json). On success env.Input is the
// input object's text, a slice of line, or nil when the request has no
// input. The subset is decodeReply's: keys matched exactly, no unknown
// or repeated key, strings without escapes, integers only, and null only
// for a byte slice.
func decodeRequest(line []byte, env *envelope, in *peer.Input) bool {
	d := decoder{b: line}
	if !d.object(func(k []byte) int {
		switch string(k) {
		case "type":
			s, ok := d.raw()
			if !ok {
				return -1
			}
			switch string(s) {
			case TypeStep:
				env.Type = TypeStep
			case TypeNextTimer:
				env.Type = TypeNextTimer
			case TypeState:
				env.Type = TypeState
			default:
				return -1 // init and unknown types: encoding/json
			}
			return 0
		case "id":
			return d.uint(&env.ID, 64, 1)
		case "input":
			d.ws()
			start := d.i
			if d.input(in) < 0 {
				return -1
			}
			env.Input = line[start:d.i]
			return 2
		}
		return -1
	}) {
		return false
	}
	d.ws()
	return d.i == len(d.b) && env.Type != ""
}

func (d *decoder) input(in *peer.Input) int {
	if !d.object(func(k []byte) int {
		switch string(k) {
		case "kind":
			return d.text(&in.Kind, 0)
		case "at":
			return d.duration(&in.At, 1)
		case "datagram":
			return d.datagram(&in.Datagram, 2)
		case "flow":
			return d.int(&in.Flow, 3)
		case "packet":
			return d.bytes(&in.Packet, 4)
		case "spi":
			return d.uint32(&in.SPI, 5)
		}
		return -1
	}) {
		return -1
	}
	return 0
}

// appendReply appends r as json.Marshal encodes it. It reports false,
// with dst unchanged, when a string in r (a name included) would need
// escaping.
func appendReply(dst []byte, r *Reply) ([]byte, bool) {
	e := encoder{b: dst, ok: true}
	e.reply(r)
	if !e.ok {
		return dst, false
	}
	return e.b, true
}

// encoder writes the JSON of a Reply; ok turns false when a string needs
// escaping, and the output is then thrown away.
type encoder struct {
	b  []byte
	ok bool
}

// safe reports whether json.Marshal (which escapes <, > and & for HTML)
// writes s between quotes as it is.
func safe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// lit writes JSON text as it is: punctuation, a key with its colon.
func (e *encoder) lit(s string) { e.b = append(e.b, s...) }

func (e *encoder) str(s string) {
	if !safe(s) {
		e.ok = false
		return
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, s...)
	e.b = append(e.b, '"')
}

func (e *encoder) int(v int64)   { e.b = strconv.AppendInt(e.b, v, 10) }
func (e *encoder) uint(v uint64) { e.b = strconv.AppendUint(e.b, v, 10) }

func (e *encoder) bytes(b []byte) { e.b = appendBytes(e.b, b) }

func (e *encoder) reply(r *Reply) {
	e.lit(`{"type":`)
	e.str(r.Type)
	e.lit(`,"id":`)
	e.uint(r.ID)
	if r.Version != 0 {
		e.lit(`,"version":`)
		e.int(int64(r.Version))
	}
	if r.Implementation != "" {
		e.lit(`,"implementation":`)
		e.str(r.Implementation)
	}
	if l := r.Limits; l != nil {
		e.lit(`,"limits":`)
		sep := byte('{')
		if l.MaxSAsPerFlow != 0 {
			e.b = append(e.b, sep)
			e.lit(`"max_sas_per_flow":`)
			e.int(int64(l.MaxSAsPerFlow))
			sep = ','
		}
		if l.MaxHalfOpen != 0 {
			e.b = append(e.b, sep)
			e.lit(`"max_half_open":`)
			e.int(int64(l.MaxHalfOpen))
			sep = ','
		}
		if l.MaxQueued != 0 {
			e.b = append(e.b, sep)
			e.lit(`"max_queued":`)
			e.int(int64(l.MaxQueued))
			sep = ','
		}
		if sep == '{' {
			e.b = append(e.b, '{')
		}
		e.b = append(e.b, '}')
	}
	if len(r.Outputs) > 0 {
		e.lit(`,"outputs":`)
		for i := range r.Outputs {
			if i == 0 {
				e.b = append(e.b, '[')
			} else {
				e.b = append(e.b, ',')
			}
			e.output(&r.Outputs[i])
		}
		e.b = append(e.b, ']')
	}
	if r.At != nil {
		e.lit(`,"at":`)
		e.int(int64(*r.At))
	}
	if st := r.State; st != nil {
		e.lit(`,"state":`)
		e.state(st)
	}
	if r.Code != "" {
		e.lit(`,"code":`)
		e.str(r.Code)
	}
	if r.Message != "" {
		e.lit(`,"message":`)
		e.str(r.Message)
	}
	e.b = append(e.b, '}')
}

func (e *encoder) output(o *peer.Output) {
	e.lit(`{"kind":`)
	e.str(o.Kind.String())
	// omitzero: a Datagram is zero when both fields are (a non-nil empty
	// Bytes is not).
	if o.Datagram.Transport != 0 || o.Datagram.Bytes != nil {
		e.lit(`,"datagram":{"transport":`)
		e.str(o.Datagram.Transport.String())
		e.lit(`,"bytes":`)
		e.bytes(o.Datagram.Bytes)
		e.b = append(e.b, '}')
	}
	if len(o.Packet) > 0 {
		e.lit(`,"packet":`)
		e.bytes(o.Packet)
	}
	if o.Flow != 0 {
		e.lit(`,"flow":`)
		e.int(int64(o.Flow))
	}
	if o.SPI != 0 {
		e.lit(`,"spi":`)
		e.uint(uint64(o.SPI))
	}
	if o.Direction != 0 {
		e.lit(`,"direction":`)
		e.str(o.Direction.String())
	}
	if o.Reason != "" {
		e.lit(`,"reason":`)
		e.str(o.Reason)
	}
	if o.Event != 0 {
		e.lit(`,"event":`)
		e.str(o.Event.String())
	}
	if o.SA != (peer.SA{}) { // omitzero
		e.lit(`,"sa":`)
		e.sa(&o.SA)
	}
	if o.ExchangeEvent != 0 {
		e.lit(`,"exchange_event":`)
		e.str(o.ExchangeEvent.String())
	}
	if o.MessageID != 0 {
		e.lit(`,"message_id":`)
		e.uint(uint64(o.MessageID))
	}
	if o.Role != "" {
		e.lit(`,"role":`)
		e.str(o.Role)
	}
	if o.Notify != "" {
		e.lit(`,"notify":`)
		e.str(o.Notify)
	}
	e.b = append(e.b, '}')
}

func (e *encoder) sa(sa *peer.SA) {
	e.lit(`{"spi":`)
	e.uint(uint64(sa.SPI))
	e.lit(`,"direction":`)
	e.str(sa.Direction.String())
	e.lit(`,"flow":`)
	e.int(int64(sa.Flow))
	e.lit(`,"message_id":`)
	e.uint(uint64(sa.MessageID))
	e.lit(`,"transform":`)
	e.str(sa.Transform)
	e.lit(`,"key_id":`)
	e.str(sa.KeyID)
	e.lit(`,"state":`)
	e.str(sa.State)
	e.lit(`,"bytes":`)
	e.uint(sa.Bytes)
	e.lit(`,"packets":`)
	e.uint(sa.Packets)
	e.lit(`,"installed":`)
	e.int(int64(sa.Installed))
	if sa.SoftAt != 0 {
		e.lit(`,"soft_at":`)
		e.int(int64(sa.SoftAt))
	}
	if sa.HardAt != 0 {
		e.lit(`,"hard_at":`)
		e.int(int64(sa.HardAt))
	}
	e.b = append(e.b, '}')
}

func (e *encoder) state(st *peer.State) {
	e.lit(`{"at":`)
	e.int(int64(st.At))
	e.lit(`,"sas":`)
	switch {
	case st.SAs == nil:
		e.lit("null")
	case len(st.SAs) == 0:
		e.lit("[]")
	default:
		for i := range st.SAs {
			if i == 0 {
				e.b = append(e.b, '[')
			} else {
				e.b = append(e.b, ',')
			}
			e.sa(&st.SAs[i])
		}
		e.b = append(e.b, ']')
	}
	e.lit(`,"flows":`)
	switch {
	case st.Flows == nil:
		e.lit("null")
	case len(st.Flows) == 0:
		e.lit("[]")
	default:
		for i := range st.Flows {
			if i == 0 {
				e.b = append(e.b, '[')
			} else {
				e.b = append(e.b, ',')
			}
			f := &st.Flows[i]
			e.lit(`{"flow":`)
			e.int(int64(f.Flow))
			e.lit(`,"established":`)
			e.b = strconv.AppendBool(e.b, f.Established)
			e.lit(`,"active":`)
			e.uint(uint64(f.Active))
			e.lit(`,"queued":`)
			e.int(int64(f.Queued))
			e.b = append(e.b, '}')
		}
		e.b = append(e.b, ']')
	}
	e.lit(`,"half_open":`)
	e.int(int64(st.HalfOpen))
	e.lit(`,"queued":`)
	e.int(int64(st.Queued))
	e.b = append(e.b, '}')
}
