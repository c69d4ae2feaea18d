// Package simcmd implements "hitless sim": it runs an effect.Scenario for
// every profile compared, on all cores, and prints what each profile cost
// as a table, CSV or JSON, optionally with a chart.
//
// Work is split into jobs of one shard of one profile; workers take jobs
// in a fixed order and results are merged by (profile, shard) index, so
// the output does not depend on the number of cores or on scheduling.
package simcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hitless-ike/hitless/props/effect"
	"github.com/hitless-ike/hitless/props/extpair"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Options is one invocation of the command.
type Options struct {
	Scenario effect.Scenario
	// Workers is how many shards run at once; 0 means GOMAXPROCS.
	Workers int
	// Progress, when set, is called about every Interval with the
	// fraction of the work done (0..1) and the wall time elapsed.
	Progress func(done float64, elapsed time.Duration)
	Interval time.Duration
	// Peer, when set, puts another implementation behind the adapter at
	// one end or both of every tunnel (one shim process per end); the
	// profiles are those of the reference ends. The first failure of a
	// shim stops the run with a *PeerError.
	Peer *extpair.Starter
	// PeerInfo describes Peer in the report.
	PeerInfo *PeerInfo
}

// PeerInfo says which implementation took which end, for the report.
type PeerInfo struct {
	Command        string `json:"command"`
	Side           string `json:"side"`
	Implementation string `json:"implementation,omitempty"`
}

// PeerError is a run stopped by a shim that broke the adapter protocol,
// with the tail of its stderr.
type PeerError struct {
	Err    error
	Stderr string
}

func (e *PeerError) Error() string { return "the shim failed: " + e.Err.Error() }

func (e *PeerError) Unwrap() error { return e.Err }

// Report is the outcome of a run: one merged Outcome per profile, in the
// order of the scenario's profiles.
type Report struct {
	Scenario effect.Scenario
	Outcomes []effect.Outcome
	// Interrupted is set when the context was cancelled before the end;
	// the outcomes then hold what was measured until then, and Shards
	// says how many shards of each profile had started.
	Interrupted bool
	Shards      []int
	// Peer is Options.PeerInfo, with the shim's name filled in.
	Peer *PeerInfo
}

// slice is the virtual time a worker simulates between two looks at the
// context and the progress counter.
func slice(d time.Duration) time.Duration { return max(d/200, 100*time.Millisecond) }

// Run simulates the scenario. Cancelling ctx stops every shard at its next
// slice and returns the partial report (Interrupted set, no error).
func Run(ctx context.Context, o Options) (Report, error) {
	sc := o.Scenario
	if err := sc.Validate(); err != nil {
		return Report{}, err
	}
	profiles, err := sc.ProfileList()
	if err != nil {
		return Report{}, err
	}
	if o.Peer != nil {
		if err := o.Peer.Check(); err != nil {
			return Report{}, err
		}
		sc.NewPair = o.Peer.NewPair
	}
	peerFailed := func() bool { return o.Peer != nil && o.Peer.Err() != nil }
	shards := sc.Shards()
	jobs := len(profiles) * shards
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, jobs)

	// Each profile's shards are merged as soon as all earlier ones are,
	// so only about one outcome per worker waits in memory, whatever the
	// number of shards.
	merged := make([]merger, len(profiles))
	for i := range merged {
		merged[i].pending = make(map[int]effect.Outcome)
	}
	var mu sync.Mutex
	end := time.Duration(sc.Duration)
	total := float64(end) * float64(sc.Tunnels) * float64(len(profiles))
	var done atomic.Int64 // virtual ns × tunnels simulated
	var next atomic.Int64
	errs := make([]error, jobs)

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				j := int(next.Add(1) - 1)
				if j >= jobs || ctx.Err() != nil || peerFailed() {
					return
				}
				p, k := j/shards, j%shards
				sh, err := sc.NewShard(profiles[p], k)
				if err != nil {
					errs[j] = err
					return
				}
				n := int64(sh.Tunnels())
				for t := time.Duration(0); t < end && ctx.Err() == nil && sh.Err() == nil && !peerFailed(); {
					t = min(t+slice(end), end)
					before := sh.Now()
					sh.RunUntil(t)
					done.Add(int64(sh.Now()-before) * n)
				}
				out := sh.Outcome()
				sh.Close()
				mu.Lock()
				merged[p].add(k, out)
				mu.Unlock()
			}
		})
	}
	stop := make(chan struct{})
	var pwg sync.WaitGroup
	if o.Progress != nil {
		iv := o.Interval
		if iv <= 0 {
			iv = 200 * time.Millisecond
		}
		start := time.Now()
		pwg.Go(func() {
			tk := time.NewTicker(iv)
			defer tk.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tk.C:
					o.Progress(float64(done.Load())/total, time.Since(start))
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	pwg.Wait()
	if peerFailed() {
		return Report{}, &PeerError{Err: o.Peer.Err(), Stderr: o.Peer.Stderr()}
	}
	if err := errors.Join(errs...); err != nil {
		return Report{}, err
	}
	rep := Report{Scenario: sc, Interrupted: ctx.Err() != nil, Shards: make([]int, len(profiles))}
	if o.PeerInfo != nil {
		pi := *o.PeerInfo
		pi.Implementation = o.Peer.Implementation()
		rep.Peer = &pi
	}
	for p := range profiles {
		out := merged[p].flush()
		out.Profile = profiles[p].Name
		if o.Peer != nil {
			out.Profile = o.Peer.Label(out.Profile)
		}
		rep.Outcomes = append(rep.Outcomes, out)
		rep.Shards[p] = merged[p].n
	}
	return rep, nil
}

// merger folds one profile's shard outcomes in shard order.
type merger struct {
	acc     effect.Outcome
	next, n int // next shard to fold; shards folded
	pending map[int]effect.Outcome
}

func (m *merger) fold(o effect.Outcome) {
	if m.n == 0 {
		m.acc = effect.Merge([]effect.Outcome{o})
	} else {
		m.acc = effect.Merge([]effect.Outcome{m.acc, o})
	}
	m.n++
}

// add records shard k and folds every shard now in order.
func (m *merger) add(k int, o effect.Outcome) {
	m.pending[k] = o
	for {
		o, ok := m.pending[m.next]
		if !ok {
			return
		}
		delete(m.pending, m.next)
		m.fold(o)
		m.next++
	}
}

// flush folds what an interrupted run left waiting, in shard order.
func (m *merger) flush() effect.Outcome {
	ks := make([]int, 0, len(m.pending))
	for k := range m.pending {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		m.fold(m.pending[k])
	}
	clear(m.pending)
	return m.acc
}

// profileNames lists names for a usage message.
func profileNames() string {
	s := ""
	for i, p := range quickmode.Profiles {
		if i > 0 {
			s += ", "
		}
		s += p.Name
	}
	return s
}

// progressBar writes a one-line bar with carriage returns.
func progressBar(w io.Writer) func(float64, time.Duration) {
	return func(done float64, elapsed time.Duration) {
		if elapsed < time.Second {
			return
		}
		done = min(max(done, 0), 1)
		const width = 30
		n := int(done * width)
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = '.'
			if i < n {
				bar[i] = '#'
			}
		}
		eta := ""
		if done > 0.01 {
			eta = fmt.Sprintf(", about %v left", (time.Duration(float64(elapsed)/done) - elapsed).Round(time.Second))
		}
		fmt.Fprintf(w, "\r[%s] %3.0f%% %v%s   ", bar, 100*done, elapsed.Round(time.Second), eta)
	}
}
