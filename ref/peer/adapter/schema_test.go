package adapter_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hitless-ike/hitless/props/refpair"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/peer/adapter"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// The JSON Schemas of the protocol live in schema/, one per message plus
// defs.json; each is registered under its $id, so the relative $refs
// between them resolve without a network.
const schemaBase = "https://hitless-ike.github.io/schema/adapter/v1/"

var schemaNames = []string{
	"init-request", "init-reply", "step-request", "step-reply",
	"next_timer-request", "next_timer-reply", "state-request", "state-reply", "error-reply",
}

// schemaCompile loads every file of schema/ under its $id and compiles
// the per-message schemas, asserting formats and contentEncoding.
func schemaCompile(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.AssertContent()
	files, err := filepath.Glob(filepath.Join("schema", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas in schema/: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		m, _ := doc.(map[string]any)
		id, _ := m["$id"].(string)
		if want := schemaBase + strings.TrimSuffix(filepath.Base(f), ".json") + ".json"; id != want {
			t.Fatalf("%s: $id %q, want %q", f, id, want)
		}
		if m["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema %v is not draft 2020-12", f, m["$schema"])
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, n := range schemaNames {
		s, err := c.Compile(schemaBase + n + ".json")
		if err != nil {
			t.Fatalf("compile %s: %v", n, err)
		}
		out[n] = s
	}
	return out
}

// schemaExchange is one request line and the reply line it got.
type schemaExchange struct {
	side       string
	req, rep   string
	reqInvalid bool   // the request is deliberately not a valid message
	wantCode   string // the reply must be an error of this code
}

// schemaShim is one gateway behind adapter.Serve, driven in process over
// two pipes, recording every line.
type schemaShim struct {
	t    testing.TB
	side string
	w    *io.PipeWriter
	sc   *bufio.Scanner
	done chan error
	id   uint64
	last time.Duration // input.at of the last step that succeeded
	log  *[]schemaExchange
}

func schemaStart(t testing.TB, side string, log *[]schemaExchange) *schemaShim {
	reqR, reqW := io.Pipe()
	repR, repW := io.Pipe()
	s := &schemaShim{t: t, side: side, w: reqW, sc: bufio.NewScanner(repR), done: make(chan error, 1), log: log}
	s.sc.Buffer(make([]byte, 64<<10), adapter.MaxLine+1)
	go func() {
		err := adapter.Serve(reqR, repW, gateway.Serve(gateway.ServeOptions{Profile: quickmode.Hitless}))
		repW.CloseWithError(io.EOF)
		s.done <- err
	}()
	t.Cleanup(func() {
		reqW.Close()
		if err := <-s.done; err != nil {
			t.Errorf("Serve %s: %v", side, err)
		}
	})
	return s
}

// raw sends one line as is and returns the reply line.
func (s *schemaShim) raw(line string, invalid bool, wantCode string) string {
	s.t.Helper()
	if _, err := io.WriteString(s.w, line+"\n"); err != nil {
		s.t.Fatalf("%s: write: %v", s.side, err)
	}
	if !s.sc.Scan() {
		s.t.Fatalf("%s: no reply to %s: %v", s.side, line, s.sc.Err())
	}
	rep := s.sc.Text()
	*s.log = append(*s.log, schemaExchange{side: s.side, req: line, rep: rep, reqInvalid: invalid, wantCode: wantCode})
	return rep
}

// call sends r (numbered by the shim) as a Go driver encodes it and decodes
// the reply.
func (s *schemaShim) call(r adapter.Request, wantCode string) adapter.Reply {
	s.t.Helper()
	s.id++
	r.ID = s.id
	b, err := json.Marshal(r)
	if err != nil {
		s.t.Fatal(err)
	}
	invalid := r.Type == adapter.TypeInit && r.Version != adapter.Version
	var rep adapter.Reply
	if err := json.Unmarshal([]byte(s.raw(string(b), invalid, wantCode)), &rep); err != nil {
		s.t.Fatalf("%s: reply: %v", s.side, err)
	}
	if wantCode == "" && rep.Type == adapter.TypeError {
		s.t.Fatalf("%s: %s: error %s: %s", s.side, r.Type, rep.Code, rep.Message)
	}
	return rep
}

func (s *schemaShim) step(in peer.Input) adapter.Reply {
	rep := s.call(adapter.Request{Type: adapter.TypeStep, Input: &in}, "")
	s.last = in.At
	return rep
}

// schemaPacket is an IPv4/UDP packet from 10.f.src.1 to 10.f.dst.1 carrying i.
func schemaPacket(f, src, dst, i int) []byte {
	return []byte{0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 10, byte(f), byte(src), 1, 10, byte(f), byte(dst), 1,
		0, 1, 0, 2, 0, 9, 0, 0, byte(i)}
}

// schemaPair drives two served gateways through Quick Mode, traffic,
// timers, rekeys, a Delete and the bad requests, and returns every line.
func schemaPair(t *testing.T, seed uint64, natt bool) []schemaExchange {
	var log []schemaExchange
	d := refpair.Draws{Seed: seed, Flows: 2, SoftA: 14 * time.Second, SoftB: 17 * time.Second,
		Fuzz: 500 * time.Millisecond, NATT: natt, SoftKB: 1}
	ca, cb := d.Configs(quickmode.Hitless, refpair.Options{})
	var err error
	if ca.Phase1, cb.Phase1, err = gateway.SeedPhase1(seed, natt); err != nil {
		t.Fatal(err)
	}
	cfgA, err := gateway.AdapterConfig(&ca, 'A', seed)
	if err != nil {
		t.Fatal(err)
	}
	cfgB, err := gateway.AdapterConfig(&cb, 'B', seed)
	if err != nil {
		t.Fatal(err)
	}
	a, b := schemaStart(t, "A", &log), schemaStart(t, "B", &log)
	other := map[*schemaShim]*schemaShim{a: b, b: a}

	// Bad requests before init.
	a.raw("this is not json", true, adapter.CodeBadRequest)
	a.raw(`{"type":"frobnicate","id":1}`, true, adapter.CodeUnknownType)
	a.id = 1
	a.call(adapter.Request{Type: adapter.TypeStep, Input: &peer.Input{Kind: peer.Tick}}, adapter.CodeNoSession)
	a.call(adapter.Request{Type: adapter.TypeNextTimer}, adapter.CodeNoSession)
	a.call(adapter.Request{Type: adapter.TypeState}, adapter.CodeNoSession)
	a.call(adapter.Request{Type: adapter.TypeInit, Version: 99, Config: &cfgA}, adapter.CodeVersion)

	for _, sc := range []struct {
		s *schemaShim
		c *adapter.Config
	}{{a, &cfgA}, {b, &cfgB}} {
		s, c := sc.s, sc.c
		rep := s.call(adapter.Request{Type: adapter.TypeInit, Version: adapter.Version, Config: c}, "")
		if rep.Type != adapter.TypeInit || rep.Limits == nil {
			t.Fatalf("%s: init reply %+v", s.side, rep)
		}
		s.call(adapter.Request{Type: adapter.TypeState}, "")
		s.call(adapter.Request{Type: adapter.TypeNextTimer}, "")
	}

	now := time.Duration(0)
	type dgram struct {
		to *schemaShim
		d  peer.Datagram
	}
	var wire []dgram
	kinds := map[string]bool{}
	var ikeAB, espAB peer.Datagram // the first IKE message and ESP packet A sent
	collect := func(from *schemaShim, rep adapter.Reply) {
		for _, o := range rep.Outputs {
			if o.Kind == peer.Transmit && from == a {
				if o.Datagram.IsIKE() && ikeAB.Bytes == nil {
					ikeAB = o.Datagram
				} else if !o.Datagram.IsIKE() && espAB.Bytes == nil {
					espAB = o.Datagram
				}
			}
			kinds[o.Kind.String()] = true
			switch o.Kind {
			case peer.Transmit:
				kinds["transmit/"+o.Datagram.Transport.String()] = true
			case peer.SAEvent:
				kinds["sa/"+o.Event.String()] = true
			case peer.Exchange:
				kinds["exchange/"+o.ExchangeEvent.String()] = true
			case peer.Drop:
				kinds["drop/"+o.Reason] = true
			}
			if o.Kind == peer.Transmit {
				wire = append(wire, dgram{other[from], o.Datagram})
			}
		}
	}
	stepAt := func(s *schemaShim, in peer.Input) {
		now += time.Millisecond
		in.At = now
		collect(s, s.step(in))
	}
	shuttle := func() {
		for n := 0; len(wire) > 0; n++ {
			if n > 200 {
				t.Fatal("datagrams keep coming")
			}
			x := wire[0]
			wire = wire[1:]
			stepAt(x.to, peer.Input{Kind: peer.Receive, Datagram: x.d})
		}
	}
	// tickAll moves the clock to the earliest timer of either side and
	// ticks that side, n times.
	tickAll := func(n int) {
		for range n {
			var first *schemaShim
			var at time.Duration
			for _, s := range []*schemaShim{a, b} {
				rep := s.call(adapter.Request{Type: adapter.TypeNextTimer}, "")
				if rep.At != nil && (first == nil || *rep.At < at) {
					first, at = s, *rep.At
				}
			}
			if first == nil {
				return
			}
			if at > now {
				now = at
			}
			collect(first, first.step(peer.Input{Kind: peer.Tick, At: now}))
			shuttle()
		}
	}

	// Acquire: A sends on both flows, Quick Mode runs, queued packets go out.
	stepAt(a, peer.Input{Kind: peer.Send, Flow: 0, Packet: schemaPacket(0, 0, 1, 1)})
	stepAt(a, peer.Input{Kind: peer.Send, Flow: 1, Packet: schemaPacket(1, 0, 1, 2)})
	shuttle()
	// Traffic both ways on established SAs.
	stepAt(a, peer.Input{Kind: peer.Send, Flow: 0, Packet: schemaPacket(0, 0, 1, 3)})
	stepAt(b, peer.Input{Kind: peer.Send, Flow: 0, Packet: schemaPacket(0, 1, 0, 4)})
	stepAt(b, peer.Input{Kind: peer.Send, Flow: 1, Packet: schemaPacket(1, 1, 0, 5)})
	shuttle()
	stepAt(a, peer.Input{Kind: peer.Tick})
	// An operator rekey on B, then traffic on the new pair.
	stepAt(b, peer.Input{Kind: peer.Rekey, Flow: 1})
	shuttle()
	stepAt(a, peer.Input{Kind: peer.Send, Flow: 1, Packet: schemaPacket(1, 0, 1, 6)})
	shuttle()
	// Timers: retransmissions, lingering pairs, soft expiries and rekeys.
	tickAll(12)
	// An operator Delete on A of an inbound SA.
	st := a.call(adapter.Request{Type: adapter.TypeState}, "").State
	var spi uint32
	for _, sa := range st.SAs {
		if sa.Direction == peer.Inbound {
			spi = sa.SPI
		}
	}
	if spi == 0 {
		t.Fatalf("A has no inbound SA: %+v", st)
	}
	stepAt(a, peer.Input{Kind: peer.Delete, SPI: spi})
	shuttle()
	// A packet for no SA: an inbound ESP datagram of an unknown SPI.
	stepAt(b, peer.Input{Kind: peer.Receive, Datagram: peer.Datagram{Transport: schemaESPTransport(natt),
		Bytes: schemaUnknownESP()}})
	// A corrupted IKE message (rejected) and a corrupted ESP packet
	// (dropped) from A.
	if ikeAB.Bytes == nil || espAB.Bytes == nil {
		t.Fatal("A sent no IKE message or no ESP packet")
	}
	for _, dg := range []peer.Datagram{ikeAB, espAB} {
		dg.Bytes = slices.Clone(dg.Bytes)
		dg.Bytes[len(dg.Bytes)-1] ^= 0xff
		stepAt(b, peer.Input{Kind: peer.Receive, Datagram: dg})
	}
	tickAll(4)
	for _, s := range []*schemaShim{a, b} {
		s.call(adapter.Request{Type: adapter.TypeState}, "")
		s.call(adapter.Request{Type: adapter.TypeNextTimer}, "")
	}
	// Time going backwards, after a session exists.
	if a.last < time.Millisecond {
		t.Fatalf("A's clock is at %v", a.last)
	}
	a.call(adapter.Request{Type: adapter.TypeStep, Input: &peer.Input{Kind: peer.Tick, At: a.last - time.Millisecond}},
		adapter.CodeTimeBackwards)
	// Bad requests after init: non-JSON, unknown type, version 99.
	b.raw("{not json", true, adapter.CodeBadRequest)
	b.id++
	b.raw(fmt.Sprintf(`{"type":"reboot","id":%d}`, b.id), true, adapter.CodeUnknownType)
	b.call(adapter.Request{Type: adapter.TypeInit, Version: 99, Config: &cfgB}, adapter.CodeVersion)
	// The session survived them.
	b.call(adapter.Request{Type: adapter.TypeState}, "")

	t.Logf("outputs seen: %v", slices.Sorted(maps.Keys(kinds)))
	for _, k := range []string{"transmit", "deliver", "drop", "queue", "sa", "exchange", "reject",
		"sa/soft-expired", "sa/deleted", "sa/activated"} {
		if !kinds[k] {
			t.Errorf("no %s output in the traffic (have %v)", k, kinds)
		}
	}
	return log
}

func schemaESPTransport(natt bool) peer.Transport {
	if natt {
		return peer.UDP4500
	}
	return peer.ESP
}

// schemaUnknownESP is an ESP packet of SPI 0x01020304 (an SPI the gateways
// never pick in these runs); in UDP 4500 as is, its SPI is the marker.
func schemaUnknownESP() []byte {
	return append([]byte{1, 2, 3, 4, 0, 0, 0, 1}, make([]byte, 40)...)
}

// schemaDecode reads a line as the validator wants it (numbers as json.Number).
func schemaDecode(line string) (any, error) {
	return jsonschema.UnmarshalJSON(strings.NewReader(line))
}

func schemaOf(kind, typ string) string {
	if kind == "reply" && typ == adapter.TypeError {
		return "error-reply"
	}
	return typ + "-" + kind
}

// TestSchemasValidateRealTraffic: every request a Go driver writes and
// every reply Serve gives, with and without NAT-T, validates against the
// schema of its type; the deliberately bad requests do not.
func TestSchemasValidateRealTraffic(t *testing.T) {
	schemas := schemaCompile(t)
	for _, natt := range []bool{false, true} {
		t.Run(fmt.Sprintf("natt=%v", natt), func(t *testing.T) {
			log := schemaPair(t, 7, natt)
			seen := map[string]int{}
			for i, x := range log {
				where := fmt.Sprintf("#%d %s", i, x.side)
				// The request.
				doc, err := schemaDecode(x.req)
				var typ string
				if m, ok := doc.(map[string]any); ok {
					typ, _ = m["type"].(string)
				}
				switch s := schemas[schemaOf("request", typ)]; {
				case err != nil || s == nil:
					if !x.reqInvalid {
						t.Errorf("%s: request %s has no schema (%v)", where, x.req, err)
					}
					// Not JSON or an unknown type: no request schema accepts it.
					for _, n := range schemaNames {
						if strings.HasSuffix(n, "-request") && err == nil && schemas[n].Validate(doc) == nil {
							t.Errorf("%s: bad request %s validates against %s", where, x.req, n)
						}
					}
				default:
					seen[schemaOf("request", typ)]++
					verr := s.Validate(doc)
					if x.reqInvalid && verr == nil {
						t.Errorf("%s: bad request %s validates", where, x.req)
					}
					if !x.reqInvalid && verr != nil {
						t.Errorf("%s: request %s:\n%v", where, x.req, verr)
					}
				}
				// The reply.
				rdoc, err := schemaDecode(x.rep)
				if err != nil {
					t.Errorf("%s: reply %s: %v", where, x.rep, err)
					continue
				}
				rm, _ := rdoc.(map[string]any)
				rtyp, _ := rm["type"].(string)
				if x.wantCode != "" && (rtyp != adapter.TypeError || rm["code"] != x.wantCode) {
					t.Errorf("%s: reply %s to %s, want error %s", where, x.rep, x.req, x.wantCode)
				}
				if x.wantCode == "" && rtyp != typ {
					t.Errorf("%s: reply %s to %s", where, x.rep, x.req)
				}
				s := schemas[schemaOf("reply", rtyp)]
				if s == nil {
					t.Errorf("%s: reply %s has no schema", where, x.rep)
					continue
				}
				seen[schemaOf("reply", rtyp)]++
				if err := s.Validate(rdoc); err != nil {
					t.Errorf("%s: reply %s:\n%v", where, x.rep, err)
				}
			}
			for _, n := range schemaNames {
				if seen[n] == 0 {
					t.Errorf("no message validated against %s", n)
				}
			}
			t.Logf("%d exchanges; validated %v", len(log), seen)
		})
	}
}

// TestSchemasHaveTeeth: real messages made wrong in one way each fail
// validation, and an unknown property (forward compatibility) does not.
func TestSchemasHaveTeeth(t *testing.T) {
	schemas := schemaCompile(t)
	log := schemaPair(t, 11, false)
	// A step reply with a transmit output, a step request with a
	// datagram, an init request.
	var stepRep, stepReq, initReq, stateRep string
	for _, x := range log {
		switch {
		case stepRep == "" && strings.Contains(x.rep, `"kind":"transmit"`) && strings.Contains(x.rep, `"at":`):
			stepRep = x.rep
		case stepReq == "" && strings.Contains(x.req, `"kind":"receive"`):
			stepReq = x.req
		case initReq == "" && strings.Contains(x.req, `"version":1,`):
			initReq = x.req
		}
		if stateRep == "" && strings.Contains(x.rep, `"spi"`) && strings.HasPrefix(x.rep, `{"type":"state"`) {
			stateRep = x.rep
		}
	}
	if stepRep == "" || stepReq == "" || initReq == "" || stateRep == "" {
		t.Fatal("traffic lacks the messages to mutate")
	}
	type mutation struct {
		name   string
		schema string
		line   string
		edit   func(m map[string]any)
		valid  bool
	}
	outputs := func(m map[string]any) []any { return m["outputs"].([]any) }
	firstTransmit := func(m map[string]any) map[string]any {
		for _, o := range outputs(m) {
			if o := o.(map[string]any); o["kind"] == "transmit" {
				return o
			}
		}
		panic("no transmit")
	}
	cases := []mutation{
		{"unmodified step reply", "step-reply", stepRep, func(map[string]any) {}, true},
		{"unknown property in a reply", "step-reply", stepRep, func(m map[string]any) {
			m["x_future"] = map[string]any{"anything": true}
			firstTransmit(m)["x_future"] = 1
		}, true},
		{"unknown property in a request", "init-request", initReq, func(m map[string]any) {
			m["x_future"] = "yes"
			m["config"].(map[string]any)["x_future"] = 1
		}, true},
		{"unknown output kind", "step-reply", stepRep, func(m map[string]any) { outputs(m)[0].(map[string]any)["kind"] = "teleport" }, false},
		{"output kind as a number", "step-reply", stepRep, func(m map[string]any) { outputs(m)[0].(map[string]any)["kind"] = json.Number("1") }, false},
		{"missing id in a reply", "step-reply", stepRep, func(m map[string]any) { delete(m, "id") }, false},
		{"missing id in a request", "step-request", stepReq, func(m map[string]any) { delete(m, "id") }, false},
		{"missing type", "step-reply", stepRep, func(m map[string]any) { delete(m, "type") }, false},
		{"wrong type", "step-reply", stepRep, func(m map[string]any) { m["type"] = "state" }, false},
		{"bad base64 in an output", "step-reply", stepRep, func(m map[string]any) {
			firstTransmit(m)["datagram"].(map[string]any)["bytes"] = "not base64!"
		}, false},
		{"unpadded base64 in an input", "step-request", stepReq, func(m map[string]any) {
			m["input"].(map[string]any)["datagram"].(map[string]any)["bytes"] = "AAAAAA"
		}, false},
		{"bad base64 cookie", "init-request", initReq, func(m map[string]any) {
			m["config"].(map[string]any)["phase1"].(map[string]any)["cookie_i"] = "AAAA"
		}, false},
		{"negative timer", "step-reply", stepRep, func(m map[string]any) { m["at"] = json.Number("-1") }, false},
		{"negative input time", "step-request", stepReq, func(m map[string]any) { m["input"].(map[string]any)["at"] = json.Number("-5") }, false},
		{"negative linger", "init-request", initReq, func(m map[string]any) { m["config"].(map[string]any)["linger"] = json.Number("-1000000") }, false},
		{"fractional duration", "init-request", initReq, func(m map[string]any) { m["config"].(map[string]any)["start"] = json.Number("1.5") }, false},
		{"duration as a string", "step-reply", stepRep, func(m map[string]any) { m["at"] = "1s" }, false},
		{"unknown transport", "step-request", stepReq, func(m map[string]any) {
			m["input"].(map[string]any)["datagram"].(map[string]any)["transport"] = "sctp"
		}, false},
		{"version 2", "init-request", initReq, func(m map[string]any) { m["version"] = json.Number("2") }, false},
		{"seed 2^53", "init-request", initReq, func(m map[string]any) { m["config"].(map[string]any)["seed"] = json.Number("9007199254740992") }, false},
		{"side C", "init-request", initReq, func(m map[string]any) { m["config"].(map[string]any)["side"] = "C" }, false},
		{"unknown prf", "init-request", initReq, func(m map[string]any) {
			m["config"].(map[string]any)["phase1"].(map[string]any)["prf"] = "sha3-256"
		}, false},
		{"missing phase1", "init-request", initReq, func(m map[string]any) { delete(m["config"].(map[string]any), "phase1") }, false},
		{"id zero in a request", "step-request", stepReq, func(m map[string]any) { m["id"] = json.Number("0") }, false},
		{"SPI over 32 bits", "state-reply", stateRep, func(m map[string]any) {
			m["state"].(map[string]any)["sas"].([]any)[0].(map[string]any)["spi"] = json.Number("4294967296")
		}, false},
		{"unknown SA state", "state-reply", stateRep, func(m map[string]any) {
			m["state"].(map[string]any)["sas"].([]any)[0].(map[string]any)["state"] = "zombie"
		}, false},
		{"transmit without datagram", "step-reply", stepRep, func(m map[string]any) { delete(firstTransmit(m), "datagram") }, false},
		{"unknown error code", "error-reply", `{"type":"error","id":3,"code":"oops","message":"x"}`, func(map[string]any) {}, false},
		{"error without code", "error-reply", `{"type":"error","id":3,"message":"x"}`, func(map[string]any) {}, false},
		{"error of id 0", "error-reply", `{"type":"error","id":0,"code":"bad-request","message":"x"}`, func(map[string]any) {}, true},
	}
	for _, c := range cases {
		doc, err := schemaDecode(c.line)
		if err != nil {
			t.Fatal(err)
		}
		c.edit(doc.(map[string]any))
		err = schemas[c.schema].Validate(doc)
		switch {
		case c.valid && err != nil:
			t.Errorf("%s: rejected by %s:\n%v", c.name, c.schema, err)
		case !c.valid && err == nil:
			t.Errorf("%s: accepted by %s", c.name, c.schema)
		}
	}
	// Every per-message schema says it is forward compatible.
	for _, n := range append(slices.Clone(schemaNames), "defs") {
		b, err := os.ReadFile(filepath.Join("schema", n+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if c, _ := m["$comment"].(string); !strings.Contains(c, "additionalProperties") {
			t.Errorf("%s.json: $comment does not explain additionalProperties", n)
		}
	}
}
