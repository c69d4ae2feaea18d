package extpair

import (
	"errors"
	"sync"

	"github.com/hitless-ike/hitless/ref/gateway"
	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/peer/adapter"
)

// MaxSeed bounds the seeds the adapter protocol carries (a JSON number is
// exact below 2^53); Starter masks a pair's seed with it.
const MaxSeed = 1<<53 - 1

// Starter builds pairs for simulations (effect.Scenario.NewPair): every
// pair starts a fresh shim for each end in Ends, the reference gateway at
// the other. Unlike Pair, each tunnel of a simulation is live at once, so
// each needs its own process; the caller closes them (the pair's ends are
// io.Closers). Safe for concurrent use.
type Starter struct {
	Command []string
	// Process options; OnError is set by the Starter.
	Process adapter.Options
	Ends    Ends

	mu     sync.Mutex
	err    error
	failed *adapter.Process
	impl   string
}

// NewPair implements effect.Scenario.NewPair. The seed is masked with
// MaxSeed for both ends, so a run is the in-process run of the masked
// seeds (gateway.NewPair(seed&MaxSeed, a, b)) when the shim is the
// reference.
func (s *Starter) NewPair(seed uint64, a, b gateway.Config) (peer.Peer, peer.Peer, error) {
	seed &= MaxSeed
	var err error
	if a.Phase1, b.Phase1, err = gateway.SeedPhase1(seed, a.Phase1.NATT); err != nil {
		return nil, nil, err
	}
	cfgs := [2]*gateway.Config{&a, &b}
	var ends [2]peer.Peer
	closeAll := func() {
		for _, e := range ends {
			if pr, ok := e.(*adapter.Process); ok {
				pr.Close()
			}
		}
	}
	for i, c := range cfgs {
		side := byte('A' + i)
		var pr *adapter.Process
		if s.Ends&(1<<i) != 0 {
			o := s.Process
			o.OnError = func(err error) { s.fail(pr, err) }
			if pr, err = adapter.Start(s.Command, o); err != nil {
				closeAll()
				return nil, nil, s.fail(nil, err)
			}
		}
		e, err := end(c, side, seed, pr)
		if err != nil {
			if pr != nil {
				s.fail(pr, err)
				pr.Close()
			}
			closeAll()
			return nil, nil, err
		}
		if pr != nil {
			s.mu.Lock()
			s.impl = pr.Implementation()
			s.mu.Unlock()
		}
		ends[i] = e
	}
	return ends[0], ends[1], nil
}

// fail records the first failure of any shim and returns err.
func (s *Starter) fail(pr *adapter.Process, err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err, s.failed = err, pr
	}
	return err
}

// Err is the first error any shim met, nil while all work.
func (s *Starter) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Stderr is the tail of the stderr of the shim that failed first.
func (s *Starter) Stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		return ""
	}
	return s.failed.Stderr()
}

// Implementation is the name the shims gave in their init replies.
func (s *Starter) Implementation() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.impl
}

// Label names a pairing of the reference in profile name with the shim,
// e.g. "ref/hitless(A)+peer(B)", as Pair.Name does.
func (s *Starter) Label(name string) string { return label(s.Ends, name) }

var errNoEnds = errors.New("extpair: the Starter has no external end")

// Check reports a Starter that cannot run.
func (s *Starter) Check() error {
	if s.Ends&EndBoth == 0 || s.Ends&^EndBoth != 0 {
		return errNoEnds
	}
	if len(s.Command) == 0 {
		return errors.New("extpair: the Starter has no command")
	}
	return nil
}
