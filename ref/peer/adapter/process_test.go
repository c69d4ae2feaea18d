package adapter_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/peer/adapter"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// TestMain makes the test binary a shim when HITLESS_SHIM is set: "serve"
// is the reference gateway behind Serve; the other modes answer init
// properly and then break the protocol in one way each (fakeShim).
func TestMain(m *testing.M) {
	switch mode := os.Getenv("HITLESS_SHIM"); mode {
	case "":
		os.Exit(m.Run())
	case "serve":
		if err := adapter.Serve(os.Stdin, os.Stdout, gateway.Serve(gateway.ServeOptions{Profile: quickmode.Hitless})); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	default:
		fakeShim(mode)
		os.Exit(0)
	}
}

// fakeShim answers init and next_timer, then misbehaves on the first
// step as mode says.
func fakeShim(mode string) {
	if mode == "no-read" {
		time.Sleep(time.Minute) // never reads stdin
		return
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 4<<20), 4<<20)
	w := bufio.NewWriter(os.Stdout)
	reply := func(s string) { w.WriteString(s + "\n"); w.Flush() }
	if mode == "yes-man" {
		yesMan(sc, reply)
		return
	}
	for sc.Scan() {
		req := header(sc.Bytes())
		switch req.Type {
		case adapter.TypeInit:
			reply(fmt.Sprintf(`{"type":"init","id":%d,"version":1,"implementation":"fake %s"}`, req.ID, mode))
			continue
		case adapter.TypeNextTimer:
			reply(fmt.Sprintf(`{"type":"next_timer","id":%d}`, req.ID))
			continue
		}
		switch mode {
		case "garbage":
			reply("hello, I am not JSON")
		case "hang":
			time.Sleep(time.Minute)
		case "huge":
			w.WriteString(`{"type":"step","id":` + strconv.FormatUint(req.ID, 10) + `,"pad":"`)
			w.WriteString(strings.Repeat("x", 2<<20))
			reply(`"}`)
		case "many":
			outs := strings.TrimSuffix(strings.Repeat(`{"kind":"reject","reason":"x"},`, adapter.MaxOutputs+1), ",")
			reply(fmt.Sprintf(`{"type":"step","id":%d,"outputs":[%s]}`, req.ID, outs))
		case "wrong-id":
			reply(fmt.Sprintf(`{"type":"step","id":%d}`, req.ID+1))
		case "wrong-type":
			reply(fmt.Sprintf(`{"type":"state","id":%d,"state":{"at":0}}`, req.ID))
		case "bad-kind":
			reply(fmt.Sprintf(`{"type":"step","id":%d,"outputs":[{"kind":"explode"}]}`, req.ID))
		case "no-transport":
			reply(fmt.Sprintf(`{"type":"step","id":%d,"outputs":[{"kind":"transmit","datagram":{"bytes":"AA=="}}]}`, req.ID))
		case "negative-timer":
			reply(fmt.Sprintf(`{"type":"step","id":%d,"at":-5}`, req.ID))
		case "exit":
			fmt.Fprintln(os.Stderr, "boom: the implementation crashed")
			os.Exit(7)
		case "internal":
			reply(fmt.Sprintf(`{"type":"error","id":%d,"code":"internal","message":"assertion failed"}`, req.ID))
		case "spawn":
			// A child of the shim that outlives it unless its group is killed.
			c := exec.Command("sleep", "600")
			_ = c.Start()
			os.WriteFile(os.Getenv("HITLESS_PIDFILE"), []byte(strconv.Itoa(c.Process.Pid)), 0o600)
			time.Sleep(time.Minute)
		}
	}
}

func self(t testing.TB) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// initConfig is end A of the pair of seed 1, as refpair configures it.
func initConfig(t testing.TB) adapter.Config {
	ca := gateway.Config{Profile: quickmode.Hitless, Initiator: true, Flows: []gateway.Flow{flow()},
		Lifetime: gateway.Lifetimes{Soft: 15 * time.Second, Hard: 40 * time.Second}}
	var err error
	if ca.Phase1, _, err = gateway.SeedPhase1(1, false); err != nil {
		t.Fatal(err)
	}
	c, err := gateway.AdapterConfig(&ca, 'A', 1)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func start(t testing.TB, mode string, o adapter.Options, env ...string) *adapter.Process {
	t.Helper()
	o.Env = append(env, "HITLESS_SHIM="+mode)
	p, err := adapter.Start([]string{self(t)}, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestBadReplies: each way a shim can break the protocol on a step gives
// its typed error, within the timeout, sticky on the Process, reported
// once through OnError; the Peer methods then do nothing.
func TestBadReplies(t *testing.T) {
	for _, c := range []struct {
		mode, class string
		want        error
	}{
		{"garbage", "a reply that is not JSON", adapter.ErrMalformed},
		{"hang", "no reply (a hung shim)", adapter.ErrTimeout},
		{"huge", "a reply line over MaxLine", adapter.ErrReplyTooLarge},
		{"many", "more than MaxOutputs outputs", adapter.ErrReplyTooLarge},
		{"wrong-id", "a reply to another request id", adapter.ErrOutOfOrder},
		{"wrong-type", "a reply of another type", adapter.ErrOutOfOrder},
		{"bad-kind", "an unknown output kind", adapter.ErrMalformed},
		{"no-transport", "a transmit without a transport", adapter.ErrMalformed},
		{"negative-timer", "a negative timer", adapter.ErrMalformed},
		{"exit", "the shim exits", adapter.ErrExited},
		{"internal", "an internal error reply", adapter.ErrRefused},
		{"no-read", "a shim that never reads its stdin", adapter.ErrTimeout},
	} {
		t.Run(c.mode, func(t *testing.T) {
			var reported []error
			o := adapter.Options{Timeout: 300 * time.Millisecond, OnError: func(err error) { reported = append(reported, err) }}
			p := start(t, c.mode, o)
			in := peer.Input{Kind: peer.Tick, At: time.Second}
			if c.mode == "no-read" {
				if _, err := p.Init(initConfig(t)); !errors.Is(err, c.want) {
					t.Fatalf("init: %v, want %v", err, c.want)
				}
				return
			}
			if _, err := p.Init(initConfig(t)); err != nil {
				t.Fatalf("init: %v", err)
			}
			began := time.Now()
			if outs := p.Step(in); outs != nil {
				t.Errorf("Step returned %d outputs from a broken reply", len(outs))
			}
			if took := time.Since(began); took > 3*time.Second {
				t.Errorf("the broken step took %v", took)
			}
			if !errors.Is(p.Err(), c.want) {
				t.Fatalf("%s: Err = %v, want %v", c.class, p.Err(), c.want)
			}
			var e *adapter.Error
			if !errors.As(p.Err(), &e) || e.Op != adapter.TypeStep {
				t.Errorf("Err %v is not an *adapter.Error of the step", p.Err())
			}
			if c.mode == "exit" && !strings.Contains(p.Err().Error(), "boom: the implementation crashed") {
				t.Errorf("the error does not carry the shim's stderr: %v", p.Err())
			}
			// Sticky: nothing more is sent, nothing more reported.
			p.Step(in)
			if st := p.State(); len(st.SAs) != 0 || st.Flows != nil {
				t.Errorf("State after the failure = %+v", st)
			}
			if len(reported) != 1 {
				t.Errorf("OnError called %d times, want once", len(reported))
			}
		})
	}
}

// TestCloseKillsTheGroup: Close ends the shim and whatever it started.
func TestCloseKillsTheGroup(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pid")
	p := start(t, "spawn", adapter.Options{Timeout: 300 * time.Millisecond}, "HITLESS_PIDFILE="+pidfile)
	if _, err := p.Init(initConfig(t)); err != nil {
		t.Fatal(err)
	}
	p.Step(peer.Input{Kind: peer.Tick, At: time.Second}) // times out; the shim is killed
	if !errors.Is(p.Err(), adapter.ErrTimeout) {
		t.Fatalf("Err = %v", p.Err())
	}
	p.Close()
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(b))
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the shim's child %d outlived Close", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServedGateway: through the protocol the reference negotiates its
// first SA pair with an in-process reference and delivers ESP; a refused
// init leaves the shim usable.
func TestServedGateway(t *testing.T) {
	p := start(t, "serve", adapter.Options{})
	bad := initConfig(t)
	bad.Proposal.ESP = "rot13"
	if _, err := p.Init(bad); !errors.Is(err, adapter.ErrRefused) {
		t.Fatalf("init with an unknown cipher: %v, want ErrRefused", err)
	}
	cfg := initConfig(t)
	r, err := p.Init(cfg)
	if err != nil {
		t.Fatalf("init after a refused one: %v", err)
	}
	if r.Limits == nil || r.Limits.MaxSAsPerFlow != 8 || !strings.Contains(r.Implementation, "hitless") {
		t.Errorf("init reply %+v", r)
	}
	b := refB(t, gateway.Lifetimes{Soft: 15 * time.Second, Hard: 40 * time.Second})
	delivered := shuttle(t, p, b, 5)
	if delivered[1] == 0 {
		t.Fatalf("nothing delivered at B through the served A: %v", delivered)
	}
	st := p.State()
	if len(st.SAs) != 2 || st.Flows[0].Active == 0 {
		t.Errorf("served A after the first negotiation: %+v", st)
	}
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
}

// shuttle sends n packets from a to b, carrying every transmitted
// datagram across at once, and counts deliveries at each end.
func shuttle(t testing.TB, a, b peer.Peer, n int) [2]int {
	var delivered [2]int
	peers := [2]peer.Peer{a, b}
	at := time.Duration(0)
	var queue []struct {
		to int
		d  peer.Datagram
	}
	take := func(from int, outs []peer.Output) {
		for _, o := range outs {
			switch o.Kind {
			case peer.Transmit:
				queue = append(queue, struct {
					to int
					d  peer.Datagram
				}{1 - from, peer.Datagram{Transport: o.Datagram.Transport, Bytes: append([]byte(nil), o.Datagram.Bytes...)}})
			case peer.Deliver:
				delivered[from]++
			}
		}
	}
	for i := range n {
		at += 10 * time.Millisecond
		take(0, a.Step(peer.Input{Kind: peer.Send, At: at, Flow: 0, Packet: probe(i)}))
		for len(queue) > 0 {
			q := queue[0]
			queue = queue[1:]
			take(q.to, peers[q.to].Step(peer.Input{Kind: peer.Receive, At: at, Datagram: q.d}))
		}
	}
	return delivered
}

func flow() gateway.Flow {
	l, r := quickmode.Selector{}, quickmode.Selector{}
	l.Prefix, r.Prefix = mustPrefix("10.0.0.0/24"), mustPrefix("10.0.1.0/24")
	return gateway.Flow{Local: l, Remote: r}
}

// yesMan is a sloppy shim: it answers every line with a success of the
// type asked for (a step for anything it cannot read) and checks nothing.
func yesMan(sc *bufio.Scanner, reply func(string)) {
	for sc.Scan() {
		req := header(sc.Bytes())
		switch req.Type {
		case adapter.TypeInit:
			reply(fmt.Sprintf(`{"type":"init","id":%d,"version":1}`, req.ID))
		case adapter.TypeState:
			reply(fmt.Sprintf(`{"type":"state","id":%d,"state":{"at":0,"sas":[],"flows":[{"flow":0}]}}`, req.ID))
		case adapter.TypeNextTimer:
			reply(fmt.Sprintf(`{"type":"next_timer","id":%d}`, req.ID))
		default:
			reply(fmt.Sprintf(`{"type":"step","id":%d}`, req.ID))
		}
	}
}

type reqHeader struct {
	Type string
	ID   uint64
}

// header reads a request's type and id, whatever else the line holds.
func header(line []byte) reqHeader {
	var h reqHeader
	_ = json.Unmarshal(line, &h)
	return h
}

// refB is the in-process reference end B of the pair of seed 1.
func refB(t testing.TB, life gateway.Lifetimes) *gateway.Gateway {
	t.Helper()
	cb := gateway.Config{Profile: quickmode.Hitless, Flows: gateway.Mirror([]gateway.Flow{flow()}),
		Lifetime: life, Rand: gateway.SeedRand(1, 'B')}
	_, cb.Phase1, _ = gateway.SeedPhase1(1, false)
	b, err := gateway.New(cb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
