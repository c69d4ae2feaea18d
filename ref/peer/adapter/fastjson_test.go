package adapter

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// The fast paths of fastjson.go must agree with encoding/json exactly.

func randBytes(r *rand.Rand) []byte {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []byte{}
	}
	b := make([]byte, r.IntN(200))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func randInt(r *rand.Rand) int64 {
	switch r.IntN(5) {
	case 0:
		return 0
	case 1:
		return math.MinInt64
	case 2:
		return math.MaxInt64
	case 3:
		return -r.Int64N(1000)
	}
	return r.Int64()
}

func randString(r *rand.Rand) string {
	const plainChars = "abcdefghijklmnopqrstuvwxyz0123456789-_() ./+ABCXYZ"
	const odd = "\"\\<>&\n\t\x00\x7f\u00e9\u2028\xff"
	n := r.IntN(12)
	var b strings.Builder
	for range n {
		if r.IntN(20) == 0 {
			b.WriteByte(odd[r.IntN(len(odd))])
		} else {
			b.WriteByte(plainChars[r.IntN(len(plainChars))])
		}
	}
	return b.String()
}

func randInput(r *rand.Rand) peer.Input {
	in := peer.Input{Kind: peer.InputKind(r.IntN(8)), At: time.Duration(randInt(r))}
	if r.IntN(2) == 0 {
		in.Datagram = peer.Datagram{Transport: peer.Transport(r.IntN(5)), Bytes: randBytes(r)}
	}
	if r.IntN(2) == 0 {
		in.Flow = int(randInt(r))
	}
	if r.IntN(2) == 0 {
		in.Packet = randBytes(r)
	}
	if r.IntN(2) == 0 {
		in.SPI = r.Uint32()
	}
	return in
}

func TestAppendRequestMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(req *Request, fast bool) {
		t.Helper()
		want, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendRequest([]byte("prefix"), req)
		if ok != fast {
			t.Fatalf("%+v: fast path %v, want %v", req, ok, fast)
		}
		if !ok {
			if string(got) != "prefix" {
				t.Fatalf("dst changed to %q", got)
			}
			return
		}
		if !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("appendRequest:\n %s\njson.Marshal:\n %s", got[len("prefix"):], want)
		}
	}
	for _, typ := range []string{TypeNextTimer, TypeState, TypeStep} {
		check(&Request{Type: typ, ID: 1}, true)
	}
	check(&Request{Type: TypeStep, ID: math.MaxUint64, Input: &peer.Input{}}, true)
	check(&Request{Type: TypeStep, ID: 3, Input: &peer.Input{Datagram: peer.Datagram{Bytes: []byte{}}}}, true)
	check(&Request{Type: TypeInit, ID: 1, Version: Version, Config: &Config{}}, false)
	check(&Request{Type: "st<ep", ID: 1}, false)
	for range 20000 {
		in := randInput(r)
		check(&Request{Type: TypeStep, ID: r.Uint64(), Input: &in}, true)
	}
}

func randSA(r *rand.Rand) peer.SA {
	return peer.SA{SPI: r.Uint32(), Direction: peer.Direction(r.IntN(4)), Flow: int(randInt(r)),
		MessageID: r.Uint32(), Transform: randString(r), KeyID: randString(r), State: randString(r),
		Bytes: r.Uint64(), Packets: r.Uint64N(10), Installed: time.Duration(randInt(r)),
		SoftAt: time.Duration(randInt(r)), HardAt: time.Duration(randInt(r))}
}

func randReply(r *rand.Rand) *Reply {
	rep := &Reply{Type: []string{TypeStep, TypeState, TypeNextTimer, TypeInit, TypeError, ""}[r.IntN(6)], ID: r.Uint64()}
	if r.IntN(4) == 0 {
		rep.Version = int(randInt(r))
		rep.Implementation = randString(r)
	}
	if r.IntN(4) == 0 {
		rep.Limits = &Limits{MaxSAsPerFlow: r.IntN(5), MaxHalfOpen: int(randInt(r)), MaxQueued: r.IntN(3)}
	}
	if r.IntN(2) == 0 {
		n := r.IntN(4)
		rep.Outputs = make([]peer.Output, n)
		for i := range rep.Outputs {
			o := &rep.Outputs[i]
			o.Kind = peer.OutputKind(r.IntN(9))
			if r.IntN(2) == 0 {
				o.Datagram = peer.Datagram{Transport: peer.Transport(r.IntN(4)), Bytes: randBytes(r)}
			}
			o.Packet = randBytes(r)
			o.Flow = r.IntN(3) - 1
			o.SPI = r.Uint32()
			o.Direction = peer.Direction(r.IntN(3))
			o.Reason = randString(r)
			o.Event = peer.SAEventKind(r.IntN(6))
			if r.IntN(2) == 0 {
				o.SA = randSA(r)
			}
			o.ExchangeEvent = peer.ExchangeEventKind(r.IntN(4))
			o.MessageID = r.Uint32()
			o.Role = randString(r)
			o.Notify = randString(r)
		}
	}
	if r.IntN(2) == 0 {
		at := time.Duration(randInt(r))
		rep.At = &at
	}
	if r.IntN(4) == 0 {
		st := &peer.State{At: time.Duration(randInt(r)), HalfOpen: r.IntN(3), Queued: int(randInt(r))}
		if n := r.IntN(4); n > 0 {
			st.SAs = make([]peer.SA, n-1)
			for i := range st.SAs {
				st.SAs[i] = randSA(r)
			}
		}
		if n := r.IntN(4); n > 0 {
			st.Flows = make([]peer.FlowState, n-1)
			for i := range st.Flows {
				st.Flows[i] = peer.FlowState{Flow: r.IntN(3), Established: r.IntN(2) == 0, Active: r.Uint32(), Queued: r.IntN(3)}
			}
		}
		rep.State = st
	}
	if r.IntN(4) == 0 {
		rep.Code, rep.Message = randString(r), randString(r)
	}
	return rep
}

// checkDecode: whenever decodeReply takes a line, json.Unmarshal takes it
// too and gives the same Reply.
func checkDecode(t *testing.T, line []byte) (fast bool) {
	t.Helper()
	var got Reply
	if !decodeReply(line, &got) {
		return false
	}
	var want Reply
	if err := json.Unmarshal(line, &want); err != nil {
		t.Fatalf("decodeReply took %q, json.Unmarshal: %v", line, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\ndecodeReply  %+v\njson.Unmarshal %+v", line, got, want)
	}
	return true
}

// mutate returns line with one byte changed, dropped or doubled, or a
// space inserted.
func mutate(r *rand.Rand, line []byte) []byte {
	m := append([]byte(nil), line...)
	if len(m) == 0 {
		return m
	}
	i := r.IntN(len(m))
	switch r.IntN(4) {
	case 0:
		const alphabet = " \t\r\n{}[]\",:-.e0123456789natfulsAZ\\x"
		m[i] = alphabet[r.IntN(len(alphabet))]
	case 1:
		m = append(m[:i], m[i+1:]...)
	case 2:
		m = append(m[:i+1], m[i:]...)
	case 3:
		m = append(m[:i], append([]byte(" "), m[i:]...)...)
	}
	return m
}

func TestDecodeReplyMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fast := 0
	const n = 20000
	for range n {
		line, err := json.Marshal(randReply(r))
		if err != nil {
			t.Fatal(err)
		}
		if checkDecode(t, line) {
			fast++
		}
		// Mutations: a byte changed, dropped or doubled; white space.
		for range 4 {
			checkDecode(t, mutate(r, line))
		}
	}
	if fast < n/4 {
		t.Errorf("fast path took %d of %d marshalled replies", fast, n)
	}
	// Lines a Go or Python shim writes take the fast path.
	for _, line := range []string{
		`{"type":"step","id":11,"outputs":[{"kind":"transmit","datagram":{"transport":"esp","bytes":"1XrfzgAAAAV17aH0NSVVGO5Q+FlqxcdDtaWjpQVVlpcuFCRlhGTIFnKFpAjF/FsMnWWLGCepDQ/Rbl8d1zUVpQHtIzu/OqdycN8tr588zPMpHF0MXROT0bE1pJjyO/un/GzEwdiPSMDZ2+tlDLlZLSDdfJi4xIzDm6Jg9K8lWAebrNZuCBbds59LCqINGI2B/PN4Ag=="},"spi":3581599694,"direction":"outbound"}],"at":15010000000}`,
		`{"type":"step","id":10,"at":15010000000}`,
		`{"type":"step","id":10,"outputs":[],"at":null}`,
		`{"type":"next_timer","id":2}`,
		`{"type":"init","id":1,"version":1,"implementation":"x","limits":{"max_sas_per_flow":4}}`,
		`{"type":"state","id":12,"state":{"at":1000003000,"sas":[{"spi":3581599694,"direction":"outbound","flow":0,"message_id":3859175927,"transform":"aes128-sha1","key_id":"a3e14f8d64180cf4","state":"active","bytes":358,"packets":5,"installed":10000000,"soft_at":15010000000,"hard_at":40010000000}],"flows":[{"flow":0,"established":true,"active":3581599694,"queued":0}],"half_open":0,"queued":0}}`,
		`{"type":"state","id":12,"state":{"at":0,"sas":null,"flows":[],"half_open":0,"queued":0}}`,
		"{ \"type\" : \"error\" , \"id\" : 3, \"code\": \"internal\", \"message\": \"boom\" }\r",
	} {
		if !checkDecode(t, []byte(line)) {
			t.Errorf("fast path refused %s", line)
		}
	}
	// Lines it must leave to encoding/json (which accepts them all).
	for _, line := range []string{
		`{"type":"step","id":1,"Type":"x"}`,         // case folding
		`{"type":"step","id":1,"id":2}`,             // repeated key
		`{"type":"step","id":1,"extra":true}`,       // unknown key
		`{"type":"st\u0065p","id":1}`,               // escape
		`{"type":"step","id":1.0}`,                  // not an integer
		`{"type":"step","id":1e0}`,                  // exponent
		`{"type":"step","id":-1}`,                   // sign on a uint
		`{"type":"step","id":18446744073709551616}`, // overflow
		`{"type":"step","id":1,"outputs":[{"kind":"transmit","spi":4294967296}]}`,
		`{"type":"step","id":1,"outputs":[{"kind":"nope"}]}`,
		`{"type":"step","id":1,"outputs":[{"kind":null}]}`,
		`{"type":"step","id":1,"type":null}`,
		`{"type":"step","id":1,"outputs":[{"kind":"transmit","datagram":{"bytes":"!!"}}]}`,
		`{"type":"step","id":01}`,
		`{"type":"step","id":1} x`,
		`{"type":"step","id":1`,
		``,
	} {
		if checkDecode(t, []byte(line)) {
			t.Errorf("fast path took %s", line)
		}
	}
}

func FuzzDecodeReply(f *testing.F) {
	f.Add([]byte(`{"type":"step","id":10,"outputs":[{"kind":"transmit","datagram":{"transport":"esp","bytes":"AAEC"},"spi":1,"sa":{"spi":2,"direction":"inbound"}}],"at":-5}`))
	f.Add([]byte(`{"type":"state","id":12,"state":{"at":1,"sas":[],"flows":[{"flow":0,"established":false,"active":0,"queued":0}],"half_open":0,"queued":0}}`))
	f.Add([]byte(`{"type":"init","id":1,"version":1,"implementation":"x","limits":{"max_sas_per_flow":4}}`))
	f.Fuzz(func(t *testing.T, line []byte) { checkDecode(t, line) })
}

func FuzzAppendRequest(f *testing.F) {
	f.Add(uint8(2), int64(5), uint8(0), []byte(nil), false, 0, []byte("pkt"), uint32(0), uint64(7))
	f.Fuzz(func(t *testing.T, kind uint8, at int64, tr uint8, dg []byte, dgEmpty bool, flow int, pkt []byte, spi uint32, id uint64) {
		if dgEmpty && dg == nil {
			dg = []byte{}
		}
		in := peer.Input{Kind: peer.InputKind(kind), At: time.Duration(at), Datagram: peer.Datagram{Transport: peer.Transport(tr), Bytes: dg}, Flow: flow, Packet: pkt, SPI: spi}
		req := &Request{Type: TypeStep, ID: id, Input: &in}
		want, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendRequest(nil, req)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("appendRequest %q (%v), json.Marshal %q", got, ok, want)
		}
	})
}
