package adapter

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// Session is what a Factory makes of one init: the peer and what the
// init reply says of it.
type Session struct {
	Peer           peer.Peer
	Implementation string
	Limits         Limits
}

// Factory builds the peer of a new session. An error that is a
// *ShimError is answered with its code; any other with CodeBadConfig.
type Factory func(Config) (Session, error)

// Serve is the shim's side of the protocol for a Go peer.Peer: it reads
// requests from r and writes one reply per request to w until r ends. A
// request it cannot honour gets an error reply and changes nothing; only
// an error reading r or writing w ends it early.
func Serve(r io.Reader, w io.Writer, f Factory) error {
	s := server{rd: bufio.NewReaderSize(r, 64<<10), w: bufio.NewWriterSize(w, 64<<10), f: f}
	for {
		line, tooLong, rerr := s.readLine()
		if errors.Is(rerr, io.EOF) && len(line) == 0 && !tooLong {
			return nil
		}
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return rerr
		}
		var rep *Reply
		if tooLong {
			rep = errorReply(0, CodeBadRequest, fmt.Sprintf("request line over %d bytes", MaxLine))
		} else {
			rep = s.handle(line)
		}
		if err := s.write(rep); err != nil {
			return err
		}
		if rerr != nil {
			return nil // the last line had no newline
		}
	}
}

type server struct {
	rd    *bufio.Reader
	w     *bufio.Writer
	f     Factory
	buf   []byte
	out   []byte // the reply line, reused
	sess  *Session
	flows int
	last  time.Duration
}

// envelope is the first decoding pass: enough to answer with the right
// id even when the rest of the request is bad.
type envelope struct {
	Type    string          `json:"type"`
	ID      uint64          `json:"id"`
	Version int             `json:"version"`
	Config  json.RawMessage `json:"config"`
	Input   json.RawMessage `json:"input"`
}

func errorReply(id uint64, code, msg string) *Reply {
	return &Reply{Type: TypeError, ID: id, Code: code, Message: msg}
}

func (s *server) handle(line []byte) *Reply {
	var env envelope
	var in peer.Input
	fast := decodeRequest(line, &env, &in)
	if !fast {
		env = envelope{}
		if err := json.Unmarshal(line, &env); err != nil {
			return errorReply(0, CodeBadRequest, "not a request object: "+err.Error())
		}
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
	if !fast {
		in = peer.Input{}
		if err := json.Unmarshal(env.Input, &in); err != nil {
			return errorReply(env.ID, CodeBadRequest, "input: "+err.Error())
		}
	}
	if err := s.checkInput(&in); err != nil {
		return err.withID(env.ID)
	}
	s.last = in.At
	outs := p.Step(in)
	return &Reply{Type: TypeStep, ID: env.ID, Outputs: outs, At: timer(p)}
}

type inputError struct{ code, msg string }

func (e *inputError) withID(id uint64) *Reply { return errorReply(id, e.code, e.msg) }

func (s *server) checkInput(in *peer.Input) *inputError {
	if in.At < s.last {
		return &inputError{CodeTimeBackwards, fmt.Sprintf("input at %d before the previous one at %d", in.At, s.last)}
	}
	switch in.Kind {
	case peer.Receive:
		if in.Datagram.Transport < peer.UDP500 || in.Datagram.Transport > peer.ESP {
			return &inputError{CodeBadRequest, "receive without a datagram transport"}
		}
	case peer.Send, peer.Rekey:
		if in.Flow < 0 || in.Flow >= s.flows {
			return &inputError{CodeBadRequest, fmt.Sprintf("flow %d of %d", in.Flow, s.flows)}
		}
	case peer.Tick, peer.Delete:
	default:
		return &inputError{CodeBadRequest, "input without a kind"}
	}
	return nil
}

func (s *server) init(env *envelope) *Reply {
	if env.Version != Version {
		return errorReply(env.ID, CodeVersion, fmt.Sprintf("protocol version %d, this shim speaks %d", env.Version, Version))
	}
	var cfg Config
	if len(env.Config) == 0 {
		return errorReply(env.ID, CodeBadRequest, "init without config")
	}
	if err := json.Unmarshal(env.Config, &cfg); err != nil {
		return errorReply(env.ID, CodeBadRequest, "config: "+err.Error())
	}
	sess, err := s.f(cfg)
	if err != nil {
		var se *ShimError
		if errors.As(err, &se) {
			return errorReply(env.ID, se.Code, se.Message)
		}
		return errorReply(env.ID, CodeBadConfig, err.Error())
	}
	// Only a session that could be built replaces the previous one.
	s.sess, s.flows, s.last = &sess, len(cfg.Flows), cfg.Start
	lim := sess.Limits
	return &Reply{Type: TypeInit, ID: env.ID, Version: Version, Implementation: sess.Implementation, Limits: &lim}
}

func timer(p peer.Peer) *time.Duration {
	if at, ok := p.NextTimer(); ok {
		return &at
	}
	return nil
}

// readLine reads one request line; a line over MaxLine is consumed and
// reported as tooLong.
func (s *server) readLine() (line []byte, tooLong bool, err error) {
	s.buf = s.buf[:0]
	for {
		chunk, err := s.rd.ReadSlice('\n')
		if !tooLong {
			if len(s.buf)+len(chunk) > MaxLine+1 {
				tooLong, s.buf = true, s.buf[:0]
			} else {
				s.buf = append(s.buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if n := len(s.buf); n > 0 && s.buf[n-1] == '\n' {
			s.buf = s.buf[:n-1]
		}
		return s.buf, tooLong, err
	}
}

func (s *server) write(r *Reply) error {
	b, ok := appendReply(s.out[:0], r)
	if ok {
		if cap(b) <= 64<<10 {
			s.out = b // keep a buffer for the usual replies only
		}
	} else {
		var err error
		b, err = json.Marshal(r)
		if err != nil {
			b, _ = json.Marshal(errorReply(r.ID, CodeInternal, err.Error()))
		}
	}
	if len(b) > MaxLine {
		b, _ = json.Marshal(errorReply(r.ID, CodeInternal, fmt.Sprintf("reply of %d bytes over the %d limit", len(b), MaxLine)))
	}
	s.w.Write(b)
	s.w.WriteByte('\n')
	return s.w.Flush()
}
