// Package extpair puts an implementation in another process, spoken to
// through package adapter, into the property harness: a props.Pair whose
// A end, B end or both ends are that implementation, the others the
// reference gateway in a chosen profile.
//
// The pair draws exactly what refpair.Pair draws (refpair.Draw), in the
// same order, and hands each external end the init that
// gateway.AdapterConfig makes of the configuration refpair would give the
// reference gateway there. So one rapid seed gives the same schedule
// whichever implementation sits at either end, and the reference behind
// the adapter (`hitless peer serve`) gets the in-process verdicts
// exactly.
//
// The shim processes are started once and re-initialised for every
// schedule. A shim that breaks the protocol (a malformed, late or
// oversized reply, an exit) fails the schedule and every later one at
// once; Err says why, and Close kills the processes.
package extpair

import (
	"errors"
	"fmt"
	"strings"

	"pgregory.net/rapid"

	"github.com/hitless-ike/hitless/props"
	"github.com/hitless-ike/hitless/props/refpair"
	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/peer/adapter"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Ends says which ends of the pair are the external implementation.
type Ends uint8

// Ends.
const (
	EndA    Ends          = 1 << iota // A: starts the first negotiation (acquire), the phase-1 initiator
	EndB                              // B: responds to the first negotiation
	EndBoth = EndA | EndB             // two copies of the external implementation
)

// String names the placement, e.g. "A", "B" or "A+B".
func (e Ends) String() string {
	switch e {
	case EndA:
		return "A"
	case EndB:
		return "B"
	case EndBoth:
		return "A+B"
	}
	return fmt.Sprintf("ends(%d)", uint8(e))
}

// Spec describes a pair.
type Spec struct {
	// Command starts the shim (argv).
	Command []string
	// Process options (timeout, environment); OnError is set by the pair.
	Process adapter.Options
	// Ends the shim takes.
	Ends Ends
	// Against is the profile of the reference gateway at the other end;
	// it also names the pair. Unused when Ends is EndBoth.
	Against quickmode.Profile
	// Options are refpair's (flows, tuning of the reference ends).
	Options refpair.Options
}

// Pair is a props.Pair source over running shims. Not safe for
// concurrent use (rapid runs one schedule at a time).
type Pair struct {
	spec  Spec
	procs [2]*adapter.Process
	t     *rapid.T
	err   error
	impl  string
}

// New returns a Pair for spec; it starts no process until the first
// schedule.
func New(spec Spec) *Pair { return &Pair{spec: spec} }

// Name names the pair in tables and traces, e.g. "peer(A)+ref/hitless(B)".
func (p *Pair) Name() string { return label(p.spec.Ends, p.spec.Against.Name) }

// label names the pairing of the shim at ends with the reference in
// profile name.
func label(e Ends, name string) string {
	switch e {
	case EndA:
		return "peer(A)+ref/" + name + "(B)"
	case EndB:
		return "ref/" + name + "(A)+peer(B)"
	case EndBoth:
		return "peer(A)+peer(B)"
	}
	return fmt.Sprintf("ref/%s(%v)", name, e)
}

// Err is the error that stopped the shim, nil while it works.
func (p *Pair) Err() error { return p.err }

// Implementation is the name the shim gave in its init reply.
func (p *Pair) Implementation() string { return p.impl }

// Stderr is the tail of the shims' stderr (both ends, labelled, when
// both run).
func (p *Pair) Stderr() string {
	var b strings.Builder
	for i, pr := range p.procs {
		if pr == nil || pr.Stderr() == "" {
			continue
		}
		if p.spec.Ends == EndBoth {
			fmt.Fprintf(&b, "[%c]\n", 'A'+i)
		}
		b.WriteString(pr.Stderr())
	}
	return b.String()
}

// Close kills the shims.
func (p *Pair) Close() {
	for i, pr := range p.procs {
		if pr != nil {
			pr.Close()
			p.procs[i] = nil
		}
	}
}

func (p *Pair) fatal(err error) {
	if p.err == nil {
		p.err = err
	}
	if p.t != nil {
		p.t.Fatalf("extpair: the shim failed: %v", err)
	}
}

// process returns the running shim of end i, starting it if need be.
func (p *Pair) process(i int) (*adapter.Process, error) {
	if p.procs[i] != nil {
		return p.procs[i], nil
	}
	o := p.spec.Process
	o.OnError = p.fatal
	pr, err := adapter.Start(p.spec.Command, o)
	if err != nil {
		return nil, err
	}
	p.procs[i] = pr
	return pr, nil
}

// Props is the props.Pair.
func (p *Pair) Props() props.Pair {
	return func(t *rapid.T) (peer.Peer, peer.Peer, props.PairInfo) {
		p.t = t
		if p.err != nil {
			t.Fatalf("extpair: the shim failed earlier: %v", p.err)
		}
		d := refpair.Draw(t, p.spec.Options)
		ca, cb := d.Configs(p.spec.Against, p.spec.Options)
		var err error
		if ca.Phase1, cb.Phase1, err = gateway.SeedPhase1(d.Seed, d.NATT); err != nil {
			t.Fatalf("extpair: %v", err)
		}
		cfgs := [2]*gateway.Config{&ca, &cb}
		var ends [2]peer.Peer
		info := refpair.Info(p.spec.Against, d.Flows)
		info.Name = p.Name()
		for i, c := range cfgs {
			side := byte('A' + i)
			var pr *adapter.Process
			if p.spec.Ends&(1<<i) != 0 {
				if pr, err = p.process(i); err != nil {
					p.fatal(err)
				}
			}
			e, err := end(c, side, d.Seed, pr)
			if err != nil {
				if pr == nil {
					t.Fatalf("extpair: %v", err)
				}
				p.fatal(err)
			}
			if pr != nil {
				p.impl = pr.Implementation()
				info.Limits = widest(info.Limits, pr.Limits())
			}
			ends[i] = e
		}
		return ends[0], ends[1], info
	}
}

// end builds end side of the pair of seed, configured as c: the
// reference gateway when pr is nil, else pr initialised with the adapter
// init of c.
func end(c *gateway.Config, side byte, seed uint64, pr *adapter.Process) (peer.Peer, error) {
	if pr == nil {
		c.Rand = gateway.SeedRand(seed, side)
		g, err := gateway.New(*c)
		if err != nil {
			return nil, fmt.Errorf("reference end %c: %w", side, err)
		}
		return g, nil
	}
	ac, err := gateway.AdapterConfig(c, side, seed)
	if err != nil {
		return nil, err
	}
	if _, err := pr.Init(ac); err != nil {
		var se *adapter.ShimError
		if errors.As(err, &se) {
			err = fmt.Errorf("end %c refused the init: %w", side, err)
		}
		return nil, err
	}
	return pr, nil
}

// widest combines the reference's limits with a shim's: the larger bound
// of each, unbounded (0) if either is.
func widest(l props.Limits, s adapter.Limits) props.Limits {
	w := func(a, b int) int {
		if a == 0 || b == 0 {
			return 0
		}
		return max(a, b)
	}
	return props.Limits{MaxSAsPerFlow: w(l.MaxSAsPerFlow, s.MaxSAsPerFlow), MaxHalfOpen: w(l.MaxHalfOpen, s.MaxHalfOpen),
		MaxQueued: w(l.MaxQueued, s.MaxQueued)}
}

// ConformConfig is the init adapter.Conform hands a shim: end A of the
// pair of seed 1 with one flow, as a check's first schedule could draw it.
func ConformConfig() (adapter.Config, error) {
	d := refpair.Draws{Seed: 1, Flows: 1, SoftA: refpair.MinSoft, SoftB: refpair.MaxSoft}
	ca, _ := d.Configs(quickmode.Hitless, refpair.Options{})
	var err error
	if ca.Phase1, _, err = gateway.SeedPhase1(d.Seed, false); err != nil {
		return adapter.Config{}, err
	}
	return gateway.AdapterConfig(&ca, 'A', d.Seed)
}
