package adapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// Finding is the outcome of one conformance check.
type Finding struct {
	// Name says what was checked; Class the class of input it sends.
	Name, Class string
	OK          bool
	Detail      string
}

// Conform checks a shim's protocol hygiene before any property runs: the
// handshake, each kind of bad request (not JSON, not an object, unknown
// type, unknown input kind, flow out of range, time going backwards, a
// line over MaxLine, a wrong version, a step before init), a garbage
// datagram, a large packet, a second init, determinism under one seed and
// exit on EOF. cfg is a valid init for the shim, as end A (the initiator
// of the first negotiation). Each check that needs a fresh shim starts
// one; every shim started is killed before Conform returns.
func Conform(argv []string, opts Options, cfg Config) []Finding {
	c := conformer{argv: argv, opts: opts, cfg: cfg}
	c.run("no session", "step before init", c.noSession)
	c.run("handshake", "valid init, next_timer, state", c.handshake)
	c.run("version", "init of protocol version 99", c.version)
	c.run("bad JSON", "a line that is not JSON", c.rawError("{not json", CodeBadRequest))
	c.run("not an object", "a JSON array", c.rawError("[1,2,3]", CodeBadRequest))
	c.run("unknown type", `request type "frobnicate"`, c.rawError(`{"type":"frobnicate","id":%d}`, CodeUnknownType))
	c.run("unknown input kind", `step input kind "explode"`, c.rawError(`{"type":"step","id":%d,"input":{"kind":"explode","at":0}}`, CodeBadRequest))
	c.run("flow out of range", "send on flow 99", c.rawError(`{"type":"step","id":%d,"input":{"kind":"send","at":0,"flow":99,"packet":"RQA="}}`, CodeBadRequest))
	c.run("time backwards", "tick at t, then at t−1 ns", c.timeBackwards)
	c.run("over-long line", fmt.Sprintf("a request line of %d bytes", MaxLine+MaxLine/2), c.overLong)
	c.run("garbage datagram", "receive of 64 random bytes on every transport", c.garbage)
	c.run("large packet", "send of a 512 KiB packet", c.large)
	c.run("second init", "init again after traffic", c.reinit)
	c.run("determinism", "two sessions, one seed, same inputs", c.determinism)
	c.run("exit on EOF", "stdin closed", c.eof)
	for _, p := range c.open {
		p.Close()
	}
	return c.out
}

type conformer struct {
	argv []string
	opts Options
	cfg  Config
	out  []Finding
	open []*Process
	sh   *Process // the shared shim, restarted when a check breaks it
}

func (c *conformer) run(name, class string, f func() error) {
	err := f()
	fd := Finding{Name: name, Class: class, OK: err == nil}
	if err != nil {
		fd.Detail = err.Error()
	}
	c.out = append(c.out, fd)
}

func (c *conformer) fresh() (*Process, error) {
	p, err := Start(c.argv, c.opts)
	if err != nil {
		return nil, err
	}
	c.open = append(c.open, p)
	return p, nil
}

// shared returns an initialised shim, restarting it if an earlier check
// broke it.
func (c *conformer) shared() (*Process, error) {
	if c.sh != nil && c.sh.err == nil {
		return c.sh, nil
	}
	p, err := c.fresh()
	if err != nil {
		return nil, err
	}
	if _, err := p.Init(c.cfg); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	c.sh = p
	return p, nil
}

// raw writes line (with %d replaced by the next request id, if present)
// and reads one reply.
func (p *Process) raw(line string) (*Reply, uint64, error) {
	if p.err != nil {
		return nil, 0, p.err
	}
	p.id++
	id := p.id
	if strings.Contains(line, "%d") {
		line = fmt.Sprintf(line, id)
	}
	b, err := p.exchange([]byte(line + "\n"))
	if err != nil {
		return nil, id, p.fail("raw", err)
	}
	r := &Reply{}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, id, p.fail("raw", fmt.Errorf("%w: %v: %q", ErrMalformed, err, clip(b)))
	}
	return r, id, nil
}

func wantError(r *Reply, id uint64, code string) error {
	if r.Type != TypeError {
		return fmt.Errorf("want an error reply of code %q, got a %q reply", code, r.Type)
	}
	if r.Code != code {
		return fmt.Errorf("want error code %q, got %q (%s)", code, r.Code, r.Message)
	}
	if r.ID != id {
		return fmt.Errorf("error reply has id %d, want %d", r.ID, id)
	}
	return nil
}

// alive checks that the shim still answers a state request properly.
func alive(p *Process) error {
	if _, err := p.roundTrip(Request{Type: TypeState}); err != nil {
		return fmt.Errorf("no longer answers a state request: %w", err)
	}
	return nil
}

func (c *conformer) noSession() error {
	p, err := c.fresh()
	if err != nil {
		return err
	}
	r, id, err := p.raw(`{"type":"step","id":%d,"input":{"kind":"tick","at":0}}`)
	if err != nil {
		return err
	}
	return wantError(r, id, CodeNoSession)
}

func (c *conformer) handshake() error {
	p, err := c.shared()
	if err != nil {
		return err
	}
	l := p.Limits()
	if l.MaxSAsPerFlow < 0 || l.MaxHalfOpen < 0 || l.MaxQueued < 0 {
		return fmt.Errorf("negative limits %+v", l)
	}
	r, err := p.roundTrip(Request{Type: TypeState})
	if err != nil {
		return err
	}
	if len(r.State.Flows) != len(c.cfg.Flows) {
		return fmt.Errorf("state has %d flows, the init configured %d", len(r.State.Flows), len(c.cfg.Flows))
	}
	if len(r.State.SAs) != 0 {
		return fmt.Errorf("state holds %d SAs before any traffic", len(r.State.SAs))
	}
	return nil
}

func (c *conformer) version() error {
	p, err := c.fresh()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(Request{Type: TypeInit, ID: 1, Version: 99, Config: &c.cfg})
	r, id, err := p.raw(strings.Replace(string(b), `"id":1`, `"id":%d`, 1))
	if err != nil {
		return err
	}
	if err := wantError(r, id, CodeVersion); err != nil {
		return err
	}
	if _, err := p.Init(c.cfg); err != nil {
		return fmt.Errorf("a valid init after the refused one failed: %w", err)
	}
	return nil
}

func (c *conformer) rawError(line, code string) func() error {
	return func() error {
		p, err := c.shared()
		if err != nil {
			return err
		}
		r, id, err := p.raw(line)
		if err != nil {
			return err
		}
		if !strings.Contains(line, "%d") {
			id = 0 // the shim cannot know the id of a line it cannot read
		}
		if err := wantError(r, id, code); err != nil {
			return err
		}
		return alive(p)
	}
}

// stateJSON is the shim's state as JSON without its time.
func stateJSON(p *Process) ([]byte, error) {
	r, err := p.roundTrip(Request{Type: TypeState})
	if err != nil {
		return nil, err
	}
	st := *r.State
	st.At = 0
	return json.Marshal(st)
}

func (c *conformer) timeBackwards() error {
	p, err := c.shared()
	if err != nil {
		return err
	}
	t := c.cfg.Start + time.Second
	if _, err := p.roundTrip(Request{Type: TypeStep, Input: &peer.Input{Kind: peer.Tick, At: t}}); err != nil {
		return err
	}
	before, err := stateJSON(p)
	if err != nil {
		return err
	}
	r, id, err := p.raw(fmt.Sprintf(`{"type":"step","id":%%d,"input":{"kind":"tick","at":%d}}`, t-1))
	if err != nil {
		return err
	}
	if err := wantError(r, id, CodeTimeBackwards); err != nil {
		return err
	}
	after, err := stateJSON(p)
	if err != nil {
		return err
	}
	if !bytes.Equal(before, after) {
		return fmt.Errorf("the refused input changed the state:\nbefore %s\nafter  %s", before, after)
	}
	return nil
}

func (c *conformer) overLong() error {
	p, err := c.shared()
	if err != nil {
		return err
	}
	line := `{"type":"state","id":0,"pad":"` + strings.Repeat("x", MaxLine+MaxLine/2) + `"}`
	r, _, err := p.raw(line)
	if err != nil {
		return err
	}
	if err := wantError(r, 0, CodeBadRequest); err != nil {
		return err
	}
	return alive(p)
}

func (c *conformer) garbage() error {
	p, err := c.shared()
	if err != nil {
		return err
	}
	before, err := stateJSON(p)
	if err != nil {
		return err
	}
	junk := make([]byte, 64)
	for i := range junk {
		junk[i] = byte(i*37 + 11)
	}
	at := c.cfg.Start + 2*time.Second
	for _, tr := range []peer.Transport{peer.UDP500, peer.UDP4500, peer.ESP} {
		r, err := p.roundTrip(Request{Type: TypeStep, Input: &peer.Input{Kind: peer.Receive, At: at, Datagram: peer.Datagram{Transport: tr, Bytes: junk}}})
		if err != nil {
			return err
		}
		for _, o := range r.Outputs {
			if o.Kind == peer.SAEvent || o.Kind == peer.Deliver || o.Kind == peer.Exchange {
				return fmt.Errorf("garbage on %v produced a %v output", tr, o.Kind)
			}
		}
	}
	after, err := stateJSON(p)
	if err != nil {
		return err
	}
	if !bytes.Equal(before, after) {
		return fmt.Errorf("garbage changed the state:\nbefore %s\nafter  %s", before, after)
	}
	return nil
}

func (c *conformer) large() error {
	p, err := c.shared()
	if err != nil {
		return err
	}
	pkt := make([]byte, 512<<10)
	pkt[0] = 0x45
	_, err = p.roundTrip(Request{Type: TypeStep, Input: &peer.Input{Kind: peer.Send, At: c.cfg.Start + 3*time.Second, Packet: pkt}})
	var se *ShimError
	if errors.As(err, &se) && se.Code == CodeBadRequest {
		return nil // refusing it is fine
	}
	return err
}

func (c *conformer) reinit() error {
	p, err := c.shared()
	if err != nil {
		return err
	}
	if _, err := p.Init(c.cfg); err != nil {
		return err
	}
	r, err := p.roundTrip(Request{Type: TypeState})
	if err != nil {
		return err
	}
	if len(r.State.SAs) != 0 || r.State.Queued != 0 || r.State.HalfOpen != 0 {
		return fmt.Errorf("after a second init the state still holds %d SAs, %d queued, %d half-open", len(r.State.SAs), r.State.Queued, r.State.HalfOpen)
	}
	return nil
}

func (c *conformer) determinism() error {
	var runs [2][]byte
	for i := range runs {
		p, err := c.fresh()
		if err != nil {
			return err
		}
		if _, err := p.Init(c.cfg); err != nil {
			return err
		}
		var all []peer.Output
		for k, in := range []peer.Input{
			{Kind: peer.Send, At: c.cfg.Start, Packet: probePacket()},
			{Kind: peer.Tick, At: c.cfg.Start + time.Second},
			{Kind: peer.Rekey, At: c.cfg.Start + 2*time.Second},
		} {
			r, err := p.roundTrip(Request{Type: TypeStep, Input: &in})
			if err != nil {
				return fmt.Errorf("input %d: %w", k, err)
			}
			all = append(all, r.Outputs...)
		}
		runs[i], _ = json.Marshal(all)
		p.Close()
	}
	if !bytes.Equal(runs[0], runs[1]) {
		return fmt.Errorf("one seed, same inputs, different outputs:\n%s\n%s", clip(runs[0]), clip(runs[1]))
	}
	return nil
}

func (c *conformer) eof() error {
	p, err := c.fresh()
	if err != nil {
		return err
	}
	p.stdin.Close()
	select {
	case <-p.exited:
		return nil
	case <-time.After(2 * time.Second):
		return errors.New("still running 2 s after its stdin closed")
	}
}

// probePacket is a minimal IPv4 header from 10.0.0.1 to 10.0.1.1 (flow 0
// of the usual configuration) with 8 bytes of payload.
func probePacket() []byte {
	return []byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 1, 1, 0, 1, 0, 2, 0, 8, 0, 0}
}
