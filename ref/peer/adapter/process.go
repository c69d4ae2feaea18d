package adapter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// Errors of the driver's side. Every error a Process returns is an
// *Error wrapping one of these (errors.Is works through it).
var (
	// ErrStart: the shim could not be started.
	ErrStart = errors.New("adapter: cannot start the shim")
	// ErrTimeout: no complete reply (or the request could not be written)
	// within Options.Timeout.
	ErrTimeout = errors.New("adapter: no reply within the timeout")
	// ErrMalformed: a reply that is not one JSON object of the protocol.
	ErrMalformed = errors.New("adapter: malformed reply")
	// ErrReplyTooLarge: a reply line over MaxLine bytes, or a step reply
	// with more than MaxOutputs outputs.
	ErrReplyTooLarge = errors.New("adapter: reply too large")
	// ErrOutOfOrder: a reply whose id or type does not answer the request.
	ErrOutOfOrder = errors.New("adapter: reply does not answer the request")
	// ErrExited: the shim closed its stdout or exited.
	ErrExited = errors.New("adapter: the shim exited")
	// ErrRefused: the shim answered with an error reply (see ShimError).
	ErrRefused = errors.New("adapter: the shim refused the request")
	// ErrNotInitialised: a Peer method before a successful Init.
	ErrNotInitialised = errors.New("adapter: no session (Init first)")
	// ErrClosed: the Process was closed.
	ErrClosed = errors.New("adapter: process closed")
)

// Error is an error of one request to the shim.
type Error struct {
	Op  string // request type
	ID  uint64 // request id
	Err error  // one of the Err* values, or a *ShimError
	// Stderr is the tail of what the shim wrote to its stderr so far.
	Stderr string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s (request %d): %v", e.Op, e.ID, e.Err)
	if e.Stderr != "" {
		s += "\nshim stderr (last lines):\n" + indent(e.Stderr)
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ShimError is an error reply of the shim. errors.Is(err, ErrRefused)
// holds for it.
type ShimError struct {
	Code, Message string
}

func (e *ShimError) Error() string {
	return fmt.Sprintf("adapter: the shim refused the request: %s: %s", e.Code, e.Message)
}

// Is makes a ShimError match ErrRefused.
func (e *ShimError) Is(target error) bool { return target == ErrRefused }

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// Options configure a Process.
type Options struct {
	// Timeout bounds each reply (and each request's write); 0 means 5 s.
	Timeout time.Duration
	// StderrTail is how many bytes of the shim's stderr are kept; 0 means
	// 16 KiB.
	StderrTail int
	// OnError, if set, is called once with the first error a Peer method
	// (Step, NextTimer, State) meets; those methods cannot return it.
	OnError func(error)
	// Env is added to the shim's environment.
	Env []string
}

// Process is a running shim. Its Init starts a session; then it is a
// peer.Peer. Not safe for concurrent use.
type Process struct {
	argv []string
	opts Options
	cmd  *exec.Cmd

	stdin  *os.File
	stdout *os.File
	rd     *bufio.Reader
	stderr *tail
	exited chan struct{} // closed when the shim has exited

	id   uint64
	wbuf []byte
	line []byte

	watch *time.Timer
	fired atomic.Bool

	init   bool
	limits Limits
	impl   string
	timer  *time.Duration
	err    error
	closed bool
}

// Start starts argv[0] with arguments argv[1:] as a shim. The shim runs in
// a process group of its own, which Close kills.
func Start(argv []string, opts Options) (*Process, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.StderrTail <= 0 {
		opts.StderrTail = 16 << 10
	}
	p := &Process{argv: argv, opts: opts, stderr: &tail{max: opts.StderrTail}, exited: make(chan struct{})}
	fail := func(err error) (*Process, error) {
		return nil, &Error{Op: "start", Err: fmt.Errorf("%w: %s: %w", ErrStart, strings.Join(argv, " "), err)}
	}
	if len(argv) == 0 || argv[0] == "" {
		return fail(errors.New("empty command"))
	}
	inR, inW, err := blockingPipe()
	if err != nil {
		return fail(err)
	}
	outR, outW, err := blockingPipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return fail(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, p.stderr
	cmd.Env = append(os.Environ(), opts.Env...)
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		for _, f := range []*os.File{inR, inW, outR, outW} {
			f.Close()
		}
		return fail(err)
	}
	inR.Close()
	outW.Close()
	p.cmd, p.stdin, p.stdout = cmd, inW, outR
	p.rd = bufio.NewReaderSize(outR, 64<<10)
	// The deadline of each request is a watchdog that kills the shim:
	// the pipes stay blocking, which wakes the reader sooner than the
	// runtime's poller would (about half the round trip), and a killed
	// shim ends a blocked read or write at once.
	p.watch = time.AfterFunc(time.Hour, func() {
		p.fired.Store(true)
		killGroup(cmd)
	})
	p.watch.Stop()
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Split splits a command line into words as a POSIX shell would for the
// simple cases a --peer flag holds: blanks separate words, single and
// double quotes group them, a backslash escapes the next character
// outside single quotes. No expansion of any kind.
func Split(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\\' && i+1 < len(s) && quote != '\'':
			i++
			cur.WriteByte(s[i])
			inWord = true
		case quote == '"':
			if c == '"' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("adapter: unterminated %c quote in %q", quote, s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("adapter: empty command")
	}
	return words, nil
}

// Stderr is the tail of what the shim wrote to stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Err is the first error the Process met (nil while it works).
func (p *Process) Err() error { return p.err }

// Implementation is the name the shim gave in its init reply.
func (p *Process) Implementation() string { return p.impl }

// Limits are the bounds the shim reported in its init reply.
func (p *Process) Limits() Limits { return p.limits }

// Close ends the shim: it closes its stdin, gives it a moment to exit,
// then kills its process group. It is safe to call more than once.
func (p *Process) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(500 * time.Millisecond):
	}
	killGroup(p.cmd) // also any process the shim started
	<-p.exited
	p.stdout.Close()
	if p.err == nil {
		p.err = &Error{Op: "close", Err: ErrClosed}
	}
	return nil
}

// Init starts a new session with cfg: the shim drops all earlier state.
// It returns the shim's init reply.
func (p *Process) Init(cfg Config) (Reply, error) {
	if p.closed {
		return Reply{}, &Error{Op: TypeInit, Err: ErrClosed}
	}
	if errors.Is(p.err, ErrNotInitialised) || isRefusedInit(p.err) {
		p.err = nil // a failed init leaves the shim usable
	}
	if p.err != nil {
		return Reply{}, p.err
	}
	p.init = false
	r, err := p.roundTrip(Request{Type: TypeInit, Version: Version, Config: &cfg})
	if err != nil {
		if isRefusedInit(err) {
			p.err = err
		}
		return Reply{}, err
	}
	if r.Version != Version {
		return Reply{}, p.fail(TypeInit, fmt.Errorf("%w: init reply of version %d, want %d", ErrMalformed, r.Version, Version))
	}
	p.impl = r.Implementation
	p.limits = Limits{}
	if r.Limits != nil {
		p.limits = *r.Limits
	}
	// The timer after init: asked once, then carried by every step reply.
	t, err := p.roundTrip(Request{Type: TypeNextTimer})
	if err != nil {
		return Reply{}, err
	}
	p.timer = t.At
	p.init = true
	return *r, nil
}

func isRefusedInit(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Op == TypeInit && errors.Is(err, ErrRefused)
}

// Step implements peer.Peer.
func (p *Process) Step(in peer.Input) []peer.Output {
	if !p.ready(TypeStep) {
		return nil
	}
	r, err := p.roundTrip(Request{Type: TypeStep, Input: &in})
	if err != nil {
		p.report(err)
		return nil
	}
	p.timer = r.At
	return r.Outputs
}

// NextTimer implements peer.Peer.
func (p *Process) NextTimer() (time.Duration, bool) {
	if !p.ready(TypeNextTimer) || p.timer == nil {
		return 0, false
	}
	return *p.timer, true
}

// State implements peer.Peer.
func (p *Process) State() peer.State {
	if !p.ready(TypeState) {
		return peer.State{}
	}
	r, err := p.roundTrip(Request{Type: TypeState})
	if err != nil {
		p.report(err)
		return peer.State{}
	}
	return *r.State
}

// ready reports whether a Peer method may talk to the shim.
func (p *Process) ready(op string) bool {
	if p.err != nil {
		return false
	}
	if !p.init {
		p.report(&Error{Op: op, Err: ErrNotInitialised})
		return false
	}
	return true
}

func (p *Process) report(err error) {
	if p.err == nil {
		p.err = err
	}
	if p.opts.OnError != nil {
		p.opts.OnError(err)
		p.opts.OnError = nil
	}
}

// fail makes err sticky: after a broken reply the pipe's framing cannot be
// trusted, so the shim is killed.
func (p *Process) fail(op string, err error) error {
	e := &Error{Op: op, ID: p.id, Err: err}
	if p.err == nil {
		killGroup(p.cmd)
		select {
		case <-p.exited:
		case <-time.After(time.Second):
		}
		e.Stderr = p.stderr.String()
		p.err = e
	}
	return e
}

// roundTrip sends one request and reads its reply.
func (p *Process) roundTrip(req Request) (*Reply, error) {
	if p.err != nil {
		return nil, p.err
	}
	p.id++
	req.ID = p.id
	b, err := marshalLine(p.wbuf[:0], &req)
	if err != nil {
		// Only an Input too big to frame gets here.
		return nil, &Error{Op: req.Type, ID: req.ID, Err: err}
	}
	p.wbuf = b
	line, err := p.exchange(b)
	if err != nil {
		return nil, p.fail(req.Type, err)
	}
	// A fresh Reply: decoding into a used one would keep fields that
	// this line lacks.
	r := &Reply{}
	if !decodeReply(line, r) {
		// Outside the fast path's subset: encoding/json decides, and
		// words the error.
		r = &Reply{}
		if err := json.Unmarshal(line, r); err != nil {
			return nil, p.fail(req.Type, fmt.Errorf("%w: %v: %q", ErrMalformed, err, clip(line)))
		}
	}
	if r.ID != req.ID {
		return nil, p.fail(req.Type, fmt.Errorf("%w: reply id %d to request %d", ErrOutOfOrder, r.ID, req.ID))
	}
	if r.Type == TypeError {
		e := &Error{Op: req.Type, ID: req.ID, Err: &ShimError{Code: r.Code, Message: r.Message}}
		if req.Type == TypeInit && r.Code != CodeInternal {
			return nil, e // the shim may take another init
		}
		return nil, p.fail(req.Type, e.Err)
	}
	if err := p.checkReply(req.Type, r); err != nil {
		return nil, err
	}
	return r, nil
}

func (p *Process) checkReply(typ string, r *Reply) error {
	if r.Type != typ {
		return p.fail(typ, fmt.Errorf("%w: reply of type %q to a %s request", ErrOutOfOrder, r.Type, typ))
	}
	if err := check(typ, r); err != nil {
		return p.fail(typ, err)
	}
	return nil
}

// check validates the parts of a reply its type requires.
func check(typ string, r *Reply) error {
	switch typ {
	case TypeStep:
		if len(r.Outputs) > MaxOutputs {
			return fmt.Errorf("%w: %d outputs (at most %d)", ErrReplyTooLarge, len(r.Outputs), MaxOutputs)
		}
		for i, o := range r.Outputs {
			if o.Kind < peer.Transmit || o.Kind > peer.Reject {
				return fmt.Errorf("%w: output %d has no kind", ErrMalformed, i)
			}
			if o.Kind == peer.Transmit && (o.Datagram.Transport < peer.UDP500 || o.Datagram.Transport > peer.ESP) {
				return fmt.Errorf("%w: output %d: transmit without a transport", ErrMalformed, i)
			}
			if o.Flow < 0 {
				return fmt.Errorf("%w: output %d: negative flow", ErrMalformed, i)
			}
		}
		fallthrough
	case TypeNextTimer:
		if r.At != nil && *r.At < 0 {
			return fmt.Errorf("%w: negative timer %d", ErrMalformed, *r.At)
		}
	case TypeState:
		if r.State == nil {
			return fmt.Errorf("%w: state reply without a state", ErrMalformed)
		}
	}
	return nil
}

// exchange writes one request line and reads the reply line, both within
// the timeout.
func (p *Process) exchange(b []byte) ([]byte, error) {
	p.watch.Reset(p.opts.Timeout)
	_, werr := p.stdin.Write(b)
	var line []byte
	var rerr error
	if werr == nil {
		line, rerr = p.readLine()
	}
	p.watch.Stop()
	switch {
	case p.fired.Load():
		if werr != nil {
			return nil, fmt.Errorf("%w (%v): the shim does not read its stdin", ErrTimeout, p.opts.Timeout)
		}
		return nil, fmt.Errorf("%w (%v)", ErrTimeout, p.opts.Timeout)
	case werr != nil:
		return nil, fmt.Errorf("%w: writing the request: %v%s", ErrExited, werr, p.exitStatus())
	}
	return line, rerr
}

// readLine reads one reply line of at most MaxLine bytes (without the
// newline).
func (p *Process) readLine() ([]byte, error) {
	p.line = p.line[:0]
	for {
		chunk, err := p.rd.ReadSlice('\n')
		if len(p.line)+len(chunk) > MaxLine+1 {
			return nil, fmt.Errorf("%w: a reply line over %d bytes", ErrReplyTooLarge, MaxLine)
		}
		switch {
		case err == nil:
			if len(p.line) == 0 {
				return bytes.TrimSuffix(chunk, []byte("\n")), nil
			}
			p.line = append(p.line, chunk[:len(chunk)-1]...)
			return p.line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			p.line = append(p.line, chunk...)
		default:
			return nil, fmt.Errorf("%w: stdout closed (%v)%s", ErrExited, err, p.exitStatus())
		}
	}
}

func (p *Process) exitStatus() string {
	select {
	case <-p.exited:
		return ", " + p.cmd.ProcessState.String()
	case <-time.After(200 * time.Millisecond):
		return ""
	}
}

func marshalLine(dst []byte, req *Request) ([]byte, error) {
	if b, ok := appendRequest(dst, req); ok {
		if n := len(b) - len(dst); n > MaxLine {
			return dst, fmt.Errorf("adapter: request of %d bytes exceeds %d", n, MaxLine)
		}
		return append(b, '\n'), nil
	}
	b, err := json.Marshal(req)
	if err != nil {
		return dst, err
	}
	if len(b) > MaxLine {
		return dst, fmt.Errorf("adapter: request of %d bytes exceeds %d", len(b), MaxLine)
	}
	dst = append(dst, b...)
	return append(dst, '\n'), nil
}

func clip(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu   sync.Mutex
	max  int
	buf  []byte
	lost bool
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.lost = true
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lost {
		return "…" + string(t.buf)
	}
	return string(t.buf)
}

var _ peer.Peer = (*Process)(nil)
