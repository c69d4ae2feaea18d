package adapter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// The fast paths of servejson.go must agree with encoding/json exactly,
// and Serve with them must answer every line as it did with
// encoding/json alone.

// checkDecodeRequest: whenever decodeRequest takes a line, json.Unmarshal
// takes it too and gives the same envelope, and the same Input from
// env.Input.
func checkDecodeRequest(t *testing.T, line []byte) (fast bool) {
	t.Helper()
	var env envelope
	var in peer.Input
	if !decodeRequest(line, &env, &in) {
		return false
	}
	var want envelope
	if err := json.Unmarshal(line, &want); err != nil {
		t.Fatalf("decodeRequest took %q, json.Unmarshal: %v", line, err)
	}
	if env.Type != want.Type || env.ID != want.ID || want.Version != 0 || want.Config != nil ||
		!bytes.Equal(env.Input, want.Input) || (env.Input == nil) != (want.Input == nil) {
		t.Fatalf("%q:\ndecodeRequest  %+v\njson.Unmarshal %+v", line, env, want)
	}
	switch env.Type {
	case TypeStep, TypeNextTimer, TypeState:
	default:
		t.Fatalf("%q: decodeRequest took type %q", line, env.Type)
	}
	if want.Input == nil {
		if !reflect.DeepEqual(in, peer.Input{}) {
			t.Fatalf("%q: no input, decodeRequest gave %+v", line, in)
		}
		return true
	}
	var wantIn peer.Input
	if err := json.Unmarshal(want.Input, &wantIn); err != nil {
		t.Fatalf("decodeRequest took %q, json.Unmarshal of the input: %v", line, err)
	}
	if !reflect.DeepEqual(in, wantIn) {
		t.Fatalf("%q:\ndecodeRequest  %+v\njson.Unmarshal %+v", line, in, wantIn)
	}
	return true
}

// mutate changes, drops, doubles a byte of line or inserts white space.

func randRequest(r *rand.Rand) *Request {
	req := &Request{Type: []string{TypeStep, TypeStep, TypeNextTimer, TypeState, TypeInit, "", "stepx"}[r.IntN(7)], ID: r.Uint64()}
	if r.IntN(8) > 0 {
		in := randInput(r)
		req.Input = &in
	}
	if r.IntN(8) == 0 {
		req.Version = r.IntN(3)
	}
	if r.IntN(8) == 0 {
		req.Config = &Config{Side: "A"}
	}
	return req
}

func TestDecodeRequestMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	fast := 0
	const n = 20000
	for range n {
		line, err := json.Marshal(randRequest(r))
		if err != nil {
			t.Fatal(err)
		}
		if checkDecodeRequest(t, line) {
			fast++
		}
		for range 4 {
			checkDecodeRequest(t, mutate(r, line))
		}
	}
	if fast < n/4 {
		t.Errorf("fast path took %d of %d marshalled requests", fast, n)
	}
	// Lines the driver writes take the fast path.
	for _, line := range []string{
		`{"type":"step","id":11,"input":{"kind":"receive","at":15010000000,"datagram":{"transport":"esp","bytes":"1XrfzgAAAAV17aH0NSVVGO5Q+Flq"}}}`,
		`{"type":"step","id":12,"input":{"kind":"send","at":1000,"flow":1,"packet":"RQAAHQ=="}}`,
		`{"type":"step","id":13,"input":{"kind":"delete","at":-5,"spi":4294967295}}`,
		`{"type":"step","id":14,"input":{"kind":"tick","at":0,"datagram":{"transport":"udp500","bytes":null},"packet":null}}`,
		`{"type":"step","id":15}`,
		`{"type":"next_timer","id":2}`,
		`{"type":"state","id":3}`,
		"{ \"id\" : 3 , \"type\" : \"state\" }\r",
	} {
		if !checkDecodeRequest(t, []byte(line)) {
			t.Errorf("fast path refused %s", line)
		}
	}
	// Lines it must leave to encoding/json (which reads them or fails).
	for _, line := range []string{
		`{"type":"init","id":1,"version":1,"config":{}}`,
		`{"type":"step","id":1,"version":1}`,
		`{"type":"step","id":1,"config":null}`,
		`{"type":"step","id":1,"Type":"x"}`,
		`{"type":"step","id":1,"id":2}`,
		`{"type":"step","id":1,"extra":true}`,
		`{"type":"st\u0065p","id":1}`,
		`{"type":"nope","id":1}`,
		`{"id":1}`,
		`{"type":"step","id":1.0}`,
		`{"type":"step","id":-1}`,
		`{"type":"step","id":18446744073709551616}`,
		`{"type":"step","id":1,"input":null}`,
		`{"type":"step","id":1,"input":{"kind":"nope","at":0}}`,
		`{"type":"step","id":1,"input":{"kind":null,"at":0}}`,
		`{"type":"step","id":1,"input":{"kind":"tick","at":1.5}}`,
		`{"type":"step","id":1,"input":{"kind":"tick","spi":4294967296}}`,
		`{"type":"step","id":1,"input":{"kind":"tick","datagram":null}}`,
		`{"type":"step","id":1,"input":{"kind":"tick","packet":"!!"}}`,
		`{"type":"step","id":1,"input":{"kind":"tick","Flow":1}}`,
		`{"type":"step","id":1,"input":[]}`,
		`{"type":"step","id":1} x`,
		`{"type":"step","id":1`,
		`null`,
		``,
	} {
		if checkDecodeRequest(t, []byte(line)) {
			t.Errorf("fast path took %s", line)
		}
	}
}

// checkAppendReply: appendReply gives json.Marshal's bytes, and refuses
// only a reply whose JSON has an escape or a byte outside printable ASCII.
func checkAppendReply(t *testing.T, rep *Reply) (fast bool) {
	t.Helper()
	want, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := appendReply([]byte("prefix"), rep)
	if !ok {
		if string(got) != "prefix" {
			t.Fatalf("dst changed to %q", got)
		}
		if plainJSON(want) {
			t.Fatalf("appendReply refused %s", want)
		}
		return false
	}
	if !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("appendReply:\n %s\njson.Marshal:\n %s", got[len("prefix"):], want)
	}
	return true
}

func plainJSON(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

func TestAppendReplyMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	kinds := map[peer.OutputKind]int{}
	fast := 0
	const n = 20000
	for range n {
		rep := randReply(r)
		if checkAppendReply(t, rep) {
			fast++
			for _, o := range rep.Outputs {
				kinds[o.Kind]++
			}
		}
	}
	if fast < n/4 {
		t.Errorf("fast path took %d of %d replies", fast, n)
	}
	for k := peer.OutputKind(0); k <= peer.Reject+1; k++ {
		if kinds[k] == 0 {
			t.Errorf("no fast reply with a %v output", k)
		}
	}
	at := time.Duration(math.MinInt64)
	for _, rep := range []*Reply{
		{},
		{Type: TypeStep, ID: 1, Outputs: []peer.Output{}},
		{Type: TypeStep, ID: 1, Outputs: []peer.Output{{}}, At: &at},
		{Type: TypeStep, ID: 1, Outputs: []peer.Output{{Kind: peer.Transmit, Datagram: peer.Datagram{Bytes: []byte{}}, Packet: []byte{}}}},
		{Type: TypeStep, ID: 1, Outputs: []peer.Output{{Kind: peer.SAEvent, SA: peer.SA{Direction: peer.Inbound}}}},
		{Type: TypeStep, ID: 1, Outputs: []peer.Output{{Kind: peer.Reject, Reason: "bad/x (y)", Notify: "INVALID-HASH-INFORMATION", Role: "responder"}}},
		{Type: TypeInit, ID: 1, Version: Version, Implementation: "ref 1.0", Limits: &Limits{}},
		{Type: TypeState, ID: 1, State: &peer.State{SAs: []peer.SA{}, Flows: []peer.FlowState{}}},
		{Type: TypeState, ID: 1, State: &peer.State{}},
		{Type: TypeError, ID: 1, Code: CodeBadRequest, Message: `input: json: cannot unmarshal string into Go struct field Input.at of type time.Duration`},
	} {
		if !checkAppendReply(t, rep) {
			t.Errorf("fast path refused %+v", rep)
		}
	}
	for _, rep := range []*Reply{
		{Type: TypeError, Message: `unknown request type "x"`},
		{Type: TypeError, Message: "a<b"},
		{Type: TypeError, Message: "caf\u00e9"},
		{Type: TypeError, Message: "\x7f"},
		{Type: "st&p"},
		{Type: TypeStep, Outputs: []peer.Output{{Reason: "\n"}}},
		{Type: TypeState, State: &peer.State{SAs: []peer.SA{{KeyID: ">"}}}},
	} {
		if checkAppendReply(t, rep) {
			t.Errorf("fast path took %+v", rep)
		}
	}
}

// echoPeer answers each Step with what it was given, so that the input
// Serve decoded shows in the reply.
type echoPeer struct{ at time.Duration }

func (p *echoPeer) Step(in peer.Input) []peer.Output {
	p.at = in.At
	return []peer.Output{
		{Kind: peer.Transmit, Datagram: in.Datagram, Flow: in.Flow, SPI: in.SPI},
		{Kind: peer.Deliver, Packet: in.Packet, Reason: in.Kind.String()},
	}
}

func (p *echoPeer) NextTimer() (time.Duration, bool) { return p.at + 1, p.at%2 == 0 }

func (p *echoPeer) State() peer.State {
	return peer.State{At: p.at, SAs: []peer.SA{{SPI: 1, Transform: "aes<"}}, Flows: []peer.FlowState{}}
}

func echoFactory(cfg Config) (Session, error) {
	switch cfg.Side {
	case "A", "B":
		return Session{Peer: &echoPeer{}, Implementation: "echo", Limits: Limits{MaxQueued: 1}}, nil
	case "S":
		return Session{}, &ShimError{Code: CodeBadConfig, Message: "side S"}
	}
	return Session{}, errors.New("no side")
}

// jsonHandle is handle as it was before the fast path: encoding/json only.
func (s *server) jsonHandle(line []byte) *Reply {
	var env envelope
	if err := json.Unmarshal(line, &env); err != nil {
		return errorReply(0, CodeBadRequest, "not a request object: "+err.Error())
	}
	switch env.Type {
	case TypeInit:
		return s.init(&env)
	case TypeStep, TypeNextTimer, TypeState:
	default:
		return errorReply(env.ID, CodeUnknownType, fmt.Sprintf("unknown request type %q", env.Type))
	}
	if s.sess == nil {
		return errorReply(env.ID, CodeNoSession, env.Type+" before init")
	}
	p := s.sess.Peer
	switch env.Type {
	case TypeNextTimer:
		return &Reply{Type: TypeNextTimer, ID: env.ID, At: timer(p)}
	case TypeState:
		st := p.State()
		return &Reply{Type: TypeState, ID: env.ID, State: &st}
	}
	if len(env.Input) == 0 {
		return errorReply(env.ID, CodeBadRequest, "step without input")
	}
	var in peer.Input
	if err := json.Unmarshal(env.Input, &in); err != nil {
		return errorReply(env.ID, CodeBadRequest, "input: "+err.Error())
	}
	if err := s.checkInput(&in); err != nil {
		return err.withID(env.ID)
	}
	s.last = in.At
	outs := p.Step(in)
	return &Reply{Type: TypeStep, ID: env.ID, Outputs: outs, At: timer(p)}
}

// jsonWrite is write as it was before the fast path.
func jsonWrite(r *Reply) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(errorReply(r.ID, CodeInternal, err.Error()))
	}
	if len(b) > MaxLine {
		b, _ = json.Marshal(errorReply(r.ID, CodeInternal, fmt.Sprintf("reply of %d bytes over the %d limit", len(b), MaxLine)))
	}
	return append(b, '\n')
}

// servePair is a server and the reference it is compared with, both
// driving their own echoPeer.
type servePair struct {
	fast, ref server
	out       bytes.Buffer
}

func newServePair() *servePair {
	sp := &servePair{fast: server{f: echoFactory}, ref: server{f: echoFactory}}
	sp.fast.w = bufio.NewWriter(&sp.out)
	return sp
}

func (sp *servePair) check(t *testing.T, line []byte) {
	t.Helper()
	sp.out.Reset()
	if err := sp.fast.write(sp.fast.handle(line)); err != nil {
		t.Fatal(err)
	}
	want := jsonWrite(sp.ref.jsonHandle(line))
	if !bytes.Equal(sp.out.Bytes(), want) {
		t.Fatalf("%q:\nServe          %s\nencoding/json  %s", line, sp.out.Bytes(), want)
	}
	if sp.fast.flows != sp.ref.flows || sp.fast.last != sp.ref.last || (sp.fast.sess == nil) != (sp.ref.sess == nil) {
		t.Fatalf("%q: server state differs", line)
	}
}

func TestServeMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	sp := newServePair()
	sp.check(t, []byte(`{"type":"step","id":1,"input":{"kind":"tick","at":0}}`)) // before init
	inits := []string{
		`{"type":"init","id":1,"version":1,"config":{"side":"A","start":0,"flows":[{"local":"10.0.0.0/24","remote":"10.0.1.0/24"},{"local":"::/0","remote":"::/0"}]}}`,
		`{"type":"init","id":1,"version":1,"config":{"side":"S"}}`,
		`{"type":"init","id":1,"version":1,"config":{"side":"Q"}}`,
		`{"type":"init","id":1,"version":2,"config":{"side":"A"}}`,
		`{"type":"init","id":1,"version":1}`,
	}
	for _, l := range inits {
		sp.check(t, []byte(l))
	}
	for i := range 20000 {
		if i%1000 == 0 {
			sp.check(t, []byte(inits[0])) // time starts again from 0
		}
		req := randRequest(r)
		if req.Input != nil && r.IntN(2) == 0 {
			req.Input.At = time.Duration(i) * time.Millisecond // mostly forward in time
			req.Input.Flow = r.IntN(3)
		}
		line, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		sp.check(t, line)
		sp.check(t, mutate(r, line))
	}
	for _, l := range []string{`{"type":"step","id":1,"input":null}`, `{"type":"step","id":1,"input":{}}`, `{"type":"step","id":2}`, `nul`, ``} {
		sp.check(t, []byte(l))
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"type":"step","id":11,"input":{"kind":"receive","at":15010000000,"datagram":{"transport":"esp","bytes":"1Xrf"},"flow":1,"packet":"RQAAHQ==","spi":3}}`))
	f.Add([]byte(`{"type":"next_timer","id":2}`))
	f.Add([]byte(`{"type":"init","id":1,"version":1,"config":{"side":"A"}}`))
	f.Fuzz(func(t *testing.T, line []byte) { checkDecodeRequest(t, line) })
}

// FuzzServe feeds Serve's handle and write, fast path and reference, the
// same line after a successful init.
func FuzzServe(f *testing.F) {
	f.Add([]byte(`{"type":"step","id":11,"input":{"kind":"receive","at":15010000000,"datagram":{"transport":"esp","bytes":"1Xrf"},"flow":1,"packet":"RQAAHQ==","spi":3}}`))
	f.Add([]byte(`{"type":"step","id":12,"input":{"kind":"send","at":1,"flow":1,"packet":"RQAAHQ=="}}`))
	f.Add([]byte(`{"type":"state","id":3}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		sp := newServePair()
		sp.check(t, []byte(`{"type":"init","id":1,"version":1,"config":{"side":"A","start":0,"flows":[{"local":"10.0.0.0/24","remote":"10.0.1.0/24"},{"local":"::/0","remote":"::/0"}]}}`))
		sp.check(t, line)
		sp.check(t, []byte(`{"type":"next_timer","id":4}`))
	})
}

func FuzzAppendReply(f *testing.F) {
	f.Add("step", uint64(3), "x", uint8(1), uint8(3), []byte("dg"), []byte("pkt"), 1, uint32(5), uint8(2), "no-active-sa", uint8(1), uint32(7), "aes", int64(9), true)
	f.Fuzz(func(t *testing.T, typ string, id uint64, s string, kind, tr uint8, dg, pkt []byte, flow int, spi uint32, dir uint8, reason string, ev uint8, msg uint32, transform string, at int64, state bool) {
		o := peer.Output{Kind: peer.OutputKind(kind), Datagram: peer.Datagram{Transport: peer.Transport(tr), Bytes: dg},
			Packet: pkt, Flow: flow, SPI: spi, Direction: peer.Direction(dir), Reason: reason, Event: peer.SAEventKind(ev),
			ExchangeEvent: peer.ExchangeEventKind(ev >> 4), MessageID: msg, Role: s, Notify: strings.ToUpper(s)}
		sa := peer.SA{SPI: msg, Direction: peer.Direction(dir >> 4), Flow: flow, Transform: transform, KeyID: s,
			Bytes: id, Installed: time.Duration(at), SoftAt: time.Duration(-at), HardAt: time.Duration(at >> 1)}
		if kind&0x80 != 0 {
			o.SA = sa
		}
		d := time.Duration(at)
		rep := &Reply{Type: typ, ID: id, Version: int(at >> 32), Implementation: transform, Outputs: []peer.Output{o}, At: &d, Code: reason, Message: s}
		if state {
			rep.State = &peer.State{At: d, SAs: []peer.SA{sa, {}}, Flows: []peer.FlowState{{Flow: flow, Established: true, Active: spi, Queued: -1}}}
			rep.Limits = &Limits{MaxSAsPerFlow: flow, MaxQueued: int(spi)}
		}
		if dir&1 != 0 {
			rep.Outputs = nil
		}
		checkAppendReply(t, rep)
	})
}
