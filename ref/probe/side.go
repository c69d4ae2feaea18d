package probe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/mainmode"
	"github.com/hitless-ike/hitless/ref/peer"
)

// Errors of a run. Each is wrapped with the details.
var (
	// ErrConfig: the Config cannot run.
	ErrConfig = errors.New("probe: invalid configuration")
	// ErrMainMode: phase 1 did not complete (refused, timed out).
	ErrMainMode = errors.New("probe: main mode failed")
	// ErrQuickMode: a Quick Mode the run needs did not complete.
	ErrQuickMode = errors.New("probe: quick mode failed")
	// ErrTimeout: the run did not finish within its bound.
	ErrTimeout = errors.New("probe: timed out")
)

// side is one end: Main Mode over the link, then the reference gateway
// driven by the wall clock. Virtual time of the gateway is the time since
// start.
type side struct {
	l       *link
	now     func() time.Time
	start   time.Time
	gw      *gateway.Gateway
	res     mainmode.Result
	last    time.Duration
	observe func(at time.Duration, in *peer.Input, outs []peer.Output)
	// holdIKE, if set, says how long to hold back the IKE datagrams a
	// step transmits (the probe delays QM3 with it).
	holdIKE func(in *peer.Input, outs []peer.Output) time.Duration
	held    []held
	// holdIn, if set, says how long to hold back a received datagram
	// before the gateway sees it (the probe reorders QM3 behind the
	// daemon's Delete with it); heldIn are those waiting.
	holdIn func(d datagram) time.Duration
	heldIn []datagram
	// onSend, if set, sees every datagram when it is actually sent.
	onSend func(at time.Duration, d peer.Datagram)
	// after, if set, runs after every step, outside the gateway (it may
	// step again).
	after func()
	// wake, if set, makes the loop call the actor's act at once.
	wake chan struct{}
	// rejects counts IKE messages refused in Main Mode; lastReject says
	// why the last one was.
	rejects    int
	lastReject error
}

type held struct {
	at time.Time
	d  peer.Datagram
}

func (s *side) vt() time.Duration {
	t := s.now().Sub(s.start)
	if t < s.last {
		t = s.last
	}
	return t
}

// sendIKE sends a Main Mode message on port 500, or on 4500 behind the
// non-ESP marker once the exchange floated.
func (s *side) sendIKE(msg []byte, float bool) {
	if float {
		s.l.send(peer.Datagram{Transport: peer.UDP4500, Bytes: isakmp.AppendNonESPMarker(nil, msg)})
		return
	}
	s.l.send(peer.Datagram{Transport: peer.UDP500, Bytes: msg})
}

// ikeOf returns the ISAKMP message of a received datagram, or false for
// ESP and keepalives.
func ikeOf(d datagram) ([]byte, bool) {
	if !d.natt {
		return d.b, true
	}
	k, body, err := isakmp.ClassifyUDP4500(d.b)
	if err != nil || k != isakmp.KindIKE {
		return nil, false
	}
	return body, true
}

// Main Mode retransmission (initiator): 1 s doubling, 6 sends.
const (
	mmRetransmit = time.Second
	mmTries      = 6
)

// phase1 runs Main Mode as initiator or responder until it completes.
func (s *side) phase1(ctx context.Context, cfg mainmode.Config, initiator bool, timeout time.Duration) error {
	var x *mainmode.Exchange
	var err error
	if initiator {
		var first []byte
		if x, first, err = mainmode.Initiate(cfg); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		s.sendIKE(first, false)
	} else if x, err = mainmode.Respond(cfg); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	rt := time.NewTimer(mmRetransmit)
	defer rt.Stop()
	tries, wait := 1, mmRetransmit
	fail := func(why string) error {
		if s.lastReject != nil {
			return fmt.Errorf("%w: %s (last message refused: %v)", ErrMainMode, why, s.lastReject)
		}
		return fmt.Errorf("%w: %s", ErrMainMode, why)
	}
	for !x.Done() {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fail(fmt.Sprintf("no answer within %v", timeout))
			}
			return ctx.Err()
		case <-deadline.C:
			return fail(fmt.Sprintf("no answer within %v", timeout))
		case err := <-s.l.readErr:
			return fmt.Errorf("%w: socket: %w", ErrMainMode, err)
		case <-rt.C:
			if !initiator {
				rt.Reset(time.Hour)
				continue
			}
			if tries >= mmTries {
				return fail(fmt.Sprintf("no answer after %d transmissions", tries))
			}
			s.sendIKE(x.LastSent(), x.Float())
			tries++
			wait *= 2
			rt.Reset(wait)
		case d := <-s.l.rx:
			msg, ok := ikeOf(d)
			if !ok {
				continue
			}
			reply, err := x.Receive(msg)
			if err != nil {
				s.rejects++
				s.lastReject = err
				if errors.Is(err, mainmode.ErrPeerRefused) {
					return fmt.Errorf("%w: %w", ErrMainMode, err)
				}
				continue
			}
			if reply != nil {
				s.sendIKE(reply, x.Float())
			}
			tries, wait = 1, mmRetransmit
			rt.Reset(wait)
		}
	}
	if s.res, err = x.Result(); err != nil {
		return fmt.Errorf("%w: %w", ErrMainMode, err)
	}
	return nil
}

// startGateway builds the gateway on the phase-1 SA.
func (s *side) startGateway(gc gateway.Config) error {
	gc.Phase1 = s.res.Phase1
	gc.Start = s.vt()
	s.last = gc.Start
	gw, err := gateway.New(gc)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s.gw = gw
	return nil
}

// step applies one input now and sends what the gateway transmits.
func (s *side) step(in peer.Input) []peer.Output {
	in.At = s.vt()
	s.last = in.At
	outs := s.gw.Step(in)
	if s.observe != nil {
		s.observe(in.At, &in, outs)
	}
	var hold time.Duration
	if s.holdIKE != nil {
		hold = s.holdIKE(&in, outs)
	}
	for _, o := range outs {
		if o.Kind != peer.Transmit {
			continue
		}
		if hold > 0 && o.Datagram.IsIKE() {
			d := peer.Datagram{Transport: o.Datagram.Transport, Bytes: append([]byte(nil), o.Datagram.Bytes...)}
			s.held = append(s.held, held{at: s.now().Add(hold), d: d})
			continue
		}
		s.transmit(o.Datagram)
	}
	if s.after != nil {
		s.after()
	}
	return outs
}

func (s *side) transmit(d peer.Datagram) {
	if s.onSend != nil {
		s.onSend(s.vt(), d)
	}
	s.l.send(d)
}

// receive steps a datagram from the peer (keepalives are skipped).
func (s *side) receive(d datagram) {
	t := peer.UDP500
	if d.natt {
		if len(d.b) == 1 && d.b[0] == 0xff {
			return
		}
		t = peer.UDP4500
	}
	s.step(peer.Input{Kind: peer.Receive, Datagram: peer.Datagram{Transport: t, Bytes: d.b}})
}

// actor is what a loop runs besides the network and the gateway's timers.
type actor interface {
	// next is when act wants to run next (ok false: not until something
	// arrives).
	next() (at time.Time, ok bool)
	act(now time.Time)
	done() bool
}

// loop drives the gateway until the actor is done, ctx ends or the
// deadline passes.
func (s *side) loop(ctx context.Context, a actor, deadline time.Time) error {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for !a.done() {
		now := s.now()
		if !now.Before(deadline) {
			return ErrTimeout
		}
		wake := deadline
		if at, ok := s.gw.NextTimer(); ok {
			wake = minTime(wake, s.start.Add(at))
		}
		for _, h := range s.held {
			wake = minTime(wake, h.at)
		}
		for _, d := range s.heldIn {
			wake = minTime(wake, d.at)
		}
		if at, ok := a.next(); ok {
			wake = minTime(wake, at)
		}
		if d := wake.Sub(now); d > 0 {
			t.Reset(d)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case err := <-s.l.readErr:
				return fmt.Errorf("probe: socket: %w", err)
			case d := <-s.l.rx:
				t.Stop()
				if s.holdIn != nil {
					if h := s.holdIn(d); h > 0 {
						d.at = s.now().Add(h)
						s.heldIn = append(s.heldIn, d)
						continue
					}
				}
				s.receive(d)
				continue
			case <-s.wake:
				t.Stop()
				a.act(s.now())
				continue
			case <-t.C:
			}
			now = s.now()
		}
		if at, ok := s.gw.NextTimer(); ok && !s.start.Add(at).After(now) {
			s.step(peer.Input{Kind: peer.Tick})
		}
		if len(s.held) > 0 {
			keep := s.held[:0]
			for _, h := range s.held {
				if h.at.After(now) {
					keep = append(keep, h)
					continue
				}
				s.transmit(h.d)
			}
			s.held = keep
		}
		if len(s.heldIn) > 0 {
			var due []datagram
			keep := s.heldIn[:0]
			for _, d := range s.heldIn {
				if d.at.After(now) {
					keep = append(keep, d)
				} else {
					due = append(due, d)
				}
			}
			s.heldIn = keep
			for _, d := range due {
				s.receive(d)
			}
		}
		if at, ok := a.next(); ok && !at.After(now) {
			a.act(now)
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
