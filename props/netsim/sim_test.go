package netsim

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hitless-ike/hitless/ref/peer"
)

const ms = time.Millisecond

func mustRun(t *testing.T, cfg Config, newPair func(int) (peer.Peer, peer.Peer)) Result {
	t.Helper()
	r, err := Run(cfg, newPair)
	if err != nil {
		t.Fatal(err)
	}
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	return r
}

func noisyConfig(seed uint64) Config {
	l := LinkConfig{Delay: 10 * ms, Jitter: 5 * ms, ReorderProb: 0.05, ReorderDelay: 3 * ms, LossProb: 0.05, DupProb: 0.05}
	n := l
	n.Dist = Normal
	return Config{
		Seed: seed, Tunnels: 4, Duration: 2 * time.Second,
		AB: Link{IKE: l, ESP: l}, BA: Link{IKE: n, ESP: n},
		Traffic: []Traffic{
			{From: A, Rate: 500, Size: 100},
			{From: B, Rate: 200, Size: 64, On: 100 * ms, Off: 50 * ms},
		},
		Actions: []Action{{At: 300 * ms, Tunnel: AllTunnels, Side: A, Kind: peer.Rekey}},
	}
}

// rekeyingPairs switch both directions to new SPIs at 1s, B's inbound a
// little late, so some packets are dropped.
func rekeyingPairs(int) (peer.Peer, peer.Peer) {
	a := newFake(1, []uint32{2}, step{time.Second, activateOut, 3}, step{time.Second, installIn, 4})
	b := newFake(2, []uint32{1}, step{time.Second, activateOut, 4}, step{1030 * ms, installIn, 3})
	return a, b
}

func TestDeterminism(t *testing.T) {
	r1 := mustRun(t, noisyConfig(7), rekeyingPairs)
	r2 := mustRun(t, noisyConfig(7), rekeyingPairs)
	if d := cmp.Diff(r1, r2); d != "" {
		t.Fatalf("same seed, different results (-first +second):\n%s", d)
	}
	r3 := mustRun(t, noisyConfig(8), rekeyingPairs)
	if cmp.Equal(r1, r3) {
		t.Fatal("seeds 7 and 8 gave identical results")
	}
	if r1.Sent == 0 || r1.Delivered == 0 || r1.Net.ESPLost == 0 || r1.Duplicates == 0 || r1.LackOfActiveSA == 0 {
		t.Fatalf("scenario exercises too little: %+v", r1)
	}
}

// within reports whether got is within k standard deviations of the
// binomial mean n*p.
func within(got, n uint64, p, k float64) bool {
	mean := float64(n) * p
	sd := math.Sqrt(float64(n) * p * (1 - p))
	return math.Abs(float64(got)-mean) <= k*sd
}

func TestLinkRates(t *testing.T) {
	esp := LinkConfig{Delay: 5 * ms, Jitter: 2 * ms, LossProb: 0.1, DupProb: 0.05, ReorderProb: 0.2, ReorderDelay: 4 * ms}
	var arrivals []uint64 // probe seqs in arrival order at B
	cfg := Config{
		Seed: 1, Tunnels: 1, Duration: 2 * time.Second,
		AB:      Link{ESP: esp},
		Traffic: []Traffic{{From: A, Rate: 20000, Size: MinPacketSize, Stop: time.Second}},
		Observer: func(o Observation) {
			if o.Kind == ObservedOutput && o.Output.Kind == peer.Deliver {
				p, _ := parsePacket(o.Output.Packet)
				arrivals = append(arrivals, p.seq)
			}
		},
	}
	r := mustRun(t, cfg, staticPairs)
	const n = 20000
	if r.Sent != n || r.Net.ESPSent != n {
		t.Fatalf("sent %d / transmitted %d, want %d", r.Sent, r.Net.ESPSent, n)
	}
	if !within(r.Net.ESPLost, n, 0.1, 5) {
		t.Errorf("lost %d of %d, want about 10%%", r.Net.ESPLost, n)
	}
	kept := n - r.Net.ESPLost
	if !within(r.Net.Duplicated, kept, 0.05, 5) {
		t.Errorf("duplicated %d of %d, want about 5%%", r.Net.Duplicated, kept)
	}
	if !within(r.Net.Reordered, kept+r.Net.Duplicated, 0.2, 5) {
		t.Errorf("reordered %d of %d, want about 20%%", r.Net.Reordered, kept+r.Net.Duplicated)
	}
	// Conservation: every transmitted datagram is lost or delivered (the
	// run ends long after the last one), copies as duplicates.
	if r.Delivered != kept || r.Duplicates != r.Net.Duplicated || r.Net.InFlightESP != 0 {
		t.Errorf("delivered %d dup %d inflight %d; want %d, %d, 0", r.Delivered, r.Duplicates, r.Net.InFlightESP, kept, r.Net.Duplicated)
	}
	inversions := 0
	for i := 1; i < len(arrivals); i++ {
		if arrivals[i] < arrivals[i-1] {
			inversions++
		}
	}
	if inversions < n/20 {
		t.Errorf("only %d arrivals out of order", inversions)
	}
	if min := r.Latency.Count; min == 0 || r.AddedLatency.Max > 2*ms+4*ms {
		t.Errorf("added latency max %v above jitter+reorder bound", r.AddedLatency.Max)
	}
}

func TestLossAndDupExtremes(t *testing.T) {
	// Input class: probabilities at their bounds are exact, not statistical.
	cfg := Config{Seed: 3, Tunnels: 2, Duration: time.Second,
		AB:      Link{ESP: LinkConfig{LossProb: 1}},
		BA:      Link{ESP: LinkConfig{DupProb: 1}},
		Traffic: []Traffic{{From: A, Rate: 100, Size: 80}, {From: B, Rate: 100, Size: 80}}}
	r := mustRun(t, cfg, staticPairs)
	if r.Net.ESPLost != 200 || r.Delivered != 200 || r.Duplicates != 200 {
		t.Fatalf("lost %d delivered %d dups %d, want 200 each", r.Net.ESPLost, r.Delivered, r.Duplicates)
	}
	for i, tr := range r.Tunnels {
		if tr.Sent != 200 || tr.NetLost != 100 || tr.Delivered != 100 || tr.Duplicates != 100 {
			t.Errorf("tunnel %d: %+v", i, tr)
		}
	}
}

func TestLatencyWithoutJitter(t *testing.T) {
	cfg := Config{Seed: 1, Tunnels: 3, Duration: time.Second,
		AB:      Link{ESP: LinkConfig{Delay: 20 * ms}},
		Traffic: []Traffic{{From: A, Rate: 1000, Size: 200, Stop: 900 * ms}}}
	r := mustRun(t, cfg, staticPairs)
	want := Summary{Count: 2700, Mean: 20 * ms, P50: 20 * ms, P90: 20 * ms, P99: 20 * ms, P999: 20 * ms, Max: 20 * ms}
	if d := cmp.Diff(want, r.Latency); d != "" {
		t.Errorf("latency (-want +got):\n%s", d)
	}
	if d := cmp.Diff(Summary{Count: 2700}, r.AddedLatency); d != "" {
		t.Errorf("added latency (-want +got):\n%s", d)
	}
}

func TestJitterBoundsAndPercentiles(t *testing.T) {
	for _, dist := range []Distribution{Uniform, Normal} {
		var exact []time.Duration
		cfg := Config{Seed: 9, Tunnels: 1, Duration: 2 * time.Second,
			BA:      Link{ESP: LinkConfig{Delay: 30 * ms, Jitter: 10 * ms, Dist: dist}},
			Traffic: []Traffic{{From: B, Rate: 5000, Size: 60, Stop: time.Second}},
			Observer: func(o Observation) {
				if o.Kind == ObservedOutput && o.Output.Kind == peer.Deliver {
					p, _ := parsePacket(o.Output.Packet)
					exact = append(exact, o.At-p.sent)
				}
			}}
		r := mustRun(t, cfg, staticPairs)
		slices.Sort(exact)
		if len(exact) != 5000 || exact[0] < 30*ms || exact[len(exact)-1] > 40*ms {
			t.Fatalf("%v: %d samples in [%v, %v], want 5000 in [30ms, 40ms]", dist, len(exact), exact[0], exact[len(exact)-1])
		}
		for _, q := range []struct {
			q   float64
			got time.Duration
		}{{0.5, r.Latency.P50}, {0.9, r.Latency.P90}, {0.99, r.Latency.P99}, {0.999, r.Latency.P999}} {
			want := exact[int(math.Ceil(q.q*float64(len(exact))))-1]
			if diff := math.Abs(float64(q.got - want)); diff > float64(want)/histSub {
				t.Errorf("%v: p%v = %v, exact %v", dist, q.q*100, q.got, want)
			}
		}
		if r.Latency.Max != exact[len(exact)-1] {
			t.Errorf("%v: max %v, exact %v", dist, r.Latency.Max, exact[len(exact)-1])
		}
	}
}

// TestRekeyLossAttribution: A sends 1 packet/ms to B over a 10 ms link.
// Each line of the script is a hand-computed loss window.
func TestRekeyLossAttribution(t *testing.T) {
	pairs := func(int) (peer.Peer, peer.Peer) {
		a := newFake(1, nil,
			// A activates SPI 2 at 500 ms; B installs it at 600 ms. Packets
			// sent 500..589 ms arrive 510..599 ms: 90 drops. The one sent
			// at 590 arrives at 600 ms, after B's timer (scheduled first).
			step{500 * ms, activateOut, 2},
			// Again at 3 s, B installs at 3.05 s: 40 drops (3.01..3.049 s).
			step{3000 * ms, activateOut, 3})
		b := newFake(0, []uint32{1},
			step{600 * ms, installIn, 2},
			step{3050 * ms, installIn, 3},
			// B activates its own outbound 150 ms after the 40 drops: they
			// fall in its window too.
			step{3200 * ms, activateOut, 9},
			// A drop burst far from any activation: arrivals 6.000..6.005 s.
			// The one at 6.005 s was sent at 5.995 s, before B's timer for
			// 6.005 s was set (at 6.0 s), so it runs first and is dropped.
			step{6000 * ms, removeIn, 3},
			step{6005 * ms, installIn, 3})
		return a, b
	}
	cfg := Config{Seed: 1, Tunnels: 1, Duration: 7 * time.Second,
		AB:      Link{ESP: LinkConfig{Delay: 10 * ms}},
		Traffic: []Traffic{{From: A, Rate: 1000, Size: 64}}}
	r := mustRun(t, cfg, pairs)
	if r.LackOfActiveSA != 136 {
		t.Fatalf("lack-of-SA drops %d, want 90+40+6", r.LackOfActiveSA)
	}
	want := RekeyStats{Activations: 3, Loss: 90 + 40 + 40, MaxLoss: 90}
	if d := cmp.Diff(want, r.Rekeys); d != "" {
		t.Errorf("rekeys (-want +got):\n%s", d)
	}
	if got := r.Rekeys.MeanLoss(); got != 170.0/3 {
		t.Errorf("mean loss %v", got)
	}
	if d := cmp.Diff([]ReasonCount{{peer.ReasonUnknownSPI, 136}}, r.Drops); d != "" {
		t.Errorf("drops (-want +got):\n%s", d)
	}
	// A narrow window keeps only the drops within 20 ms of an activation:
	// arrivals 510..520 ms and 3.010..3.020 s, nothing near 3.2 s.
	cfg.RekeyWindow = 20 * ms
	r = mustRun(t, cfg, pairs)
	if want := (RekeyStats{Activations: 3, Loss: 22, MaxLoss: 11}); r.Rekeys != want {
		t.Errorf("20ms window: %+v, want %+v", r.Rekeys, want)
	}
	if tr := r.Tunnels[0]; tr.Activations != 3 || tr.RekeyLoss != 22 || tr.MaxRekeyLoss != 11 || tr.LackOfActiveSA != 136 {
		t.Errorf("tunnel result %+v", tr)
	}
}

func TestPartialResultHasOpenWindows(t *testing.T) {
	cfg := Config{Seed: 1, Tunnels: 1, Duration: 2 * time.Second,
		AB:      Link{ESP: LinkConfig{Delay: 10 * ms}},
		Traffic: []Traffic{{From: A, Rate: 1000, Size: 64}}}
	s, err := New(cfg, func(int) (peer.Peer, peer.Peer) {
		return newFake(1, nil, step{500 * ms, activateOut, 2}), newFake(0, []uint32{1}, step{600 * ms, installIn, 2})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.RunUntil(700 * ms)
	r := s.Result()
	if r.Now != 700*ms || r.Rekeys != (RekeyStats{Activations: 1, Loss: 90, MaxLoss: 90, Open: 1}) {
		t.Fatalf("at %v: %+v", r.Now, r.Rekeys)
	}
	if again := s.Result(); !cmp.Equal(r, again) {
		t.Fatal("Result changed the simulation")
	}
	s.RunUntil(time.Hour) // clamped to Duration
	if r := s.Result(); r.Now != 2*time.Second || r.Rekeys.Open != 0 || r.Rekeys.Activations != 1 {
		t.Fatalf("at end: now %v %+v", r.Now, r.Rekeys)
	}
}

func TestTimersFireAtNextTimer(t *testing.T) {
	var a *fakePeer
	cfg := Config{Seed: 1, Tunnels: 1, Duration: 2 * time.Second,
		AB:      Link{ESP: LinkConfig{Delay: ms}},
		Traffic: []Traffic{{From: A, Rate: 1000, Size: 64}, {From: B, Rate: 333, Size: 64}}}
	mustRun(t, cfg, func(int) (peer.Peer, peer.Peer) {
		a = newFake(1, []uint32{2}, step{300 * ms, installIn, 7}, step{700*ms + 1, installIn, 8}, step{1100 * ms, installIn, 9})
		return a, newFake(2, []uint32{1})
	})
	// Exactly one Tick per timer, though the peer was stepped thousands of
	// times in between (each time answering the same NextTimer).
	if want := []time.Duration{300 * ms, 700*ms + 1, 1100 * ms}; !slices.Equal(a.ticks, want) {
		t.Fatalf("ticks at %v, want %v", a.ticks, want)
	}
}

func TestStuckTimer(t *testing.T) {
	// Input class: a peer whose timer never advances.
	cfg := Config{Seed: 1, Tunnels: 2, Duration: time.Second}
	r, err := Run(cfg, func(i int) (peer.Peer, peer.Peer) {
		b := newFake(0, nil)
		b.stuck = i == 1
		return newFake(0, nil), b
	})
	if err != nil {
		t.Fatal(err)
	}
	var ste *StuckTimerError
	if !errors.Is(r.Err, ErrStuckTimer) || !errors.As(r.Err, &ste) || ste.Tunnel != 1 || ste.Side != B {
		t.Fatalf("err %v", r.Err)
	}
	if r.Events != maxTicksAtOnce {
		t.Errorf("%d events before giving up, want %d", r.Events, maxTicksAtOnce)
	}
}

func TestEqualTimeEventsRunInScheduleOrder(t *testing.T) {
	// Five rekeys at the same instant each send one IKE datagram over a
	// jitter-free link: they must arrive, at the same instant, in order.
	var acts []Action
	for range 5 {
		acts = append(acts, Action{At: 100 * ms, Side: A, Kind: peer.Rekey})
	}
	var b *fakePeer
	var at []time.Duration
	cfg := Config{Seed: 1, Tunnels: 1, Duration: time.Second, Actions: acts,
		AB: Link{IKE: LinkConfig{Delay: 5 * ms}},
		Observer: func(o Observation) {
			if o.Kind == ObservedInput && o.Side == B {
				at = append(at, o.At)
			}
		}}
	mustRun(t, cfg, func(int) (peer.Peer, peer.Peer) { b = newFake(0, nil); return newFake(0, nil), b })
	if want := []uint32{1, 2, 3, 4, 5}; !slices.Equal(b.ikeSeen, want) {
		t.Fatalf("B saw IKE %v, want %v", b.ikeSeen, want)
	}
	for _, x := range at {
		if x != 105*ms {
			t.Fatalf("arrivals at %v", at)
		}
	}
}

func TestIKEAndESPLinksAreSeparate(t *testing.T) {
	var ikeAt, espAt []time.Duration
	cfg := Config{Seed: 1, Tunnels: 1, Duration: time.Second,
		AB:      Link{IKE: LinkConfig{Delay: 50 * ms, LossProb: 0.5}, ESP: LinkConfig{Delay: 5 * ms}},
		BA:      Link{IKE: LinkConfig{LossProb: 1}},
		Traffic: []Traffic{{From: A, Rate: 100, Size: 64, Start: 100 * ms, Stop: 200 * ms}},
		Actions: []Action{{At: 10 * ms, Side: A, Kind: peer.Rekey}, {At: 20 * ms, Side: A, Kind: peer.Rekey},
			{At: 30 * ms, Side: A, Kind: peer.Rekey}, {At: 40 * ms, Side: A, Kind: peer.Rekey},
			{At: 10 * ms, Side: B, Kind: peer.Rekey}},
		Observer: func(o Observation) {
			if o.Kind == ObservedInput && o.Input.Kind == peer.Receive {
				if o.Input.Datagram.IsIKE() {
					ikeAt = append(ikeAt, o.At)
				} else {
					espAt = append(espAt, o.At)
				}
			}
		}}
	r := mustRun(t, cfg, staticPairs)
	if r.Net.ESPLost != 0 || r.Net.IKESent != 5 || r.Net.IKELost+uint64(len(ikeAt)) != 5 || r.Net.IKELost < 1 {
		t.Fatalf("net %+v, IKE arrivals %v", r.Net, ikeAt)
	}
	for _, x := range ikeAt {
		if x%(10*ms) != 0 || x < 60*ms || x > 90*ms {
			t.Errorf("IKE arrived at %v, want 50 ms after a 10..40 ms send", x)
		}
	}
	if len(espAt) != 10 || espAt[0] != 105*ms {
		t.Errorf("ESP arrivals %v", espAt)
	}
}

func TestFilterDropsNthIKEMessage(t *testing.T) {
	var seen []FilterInfo
	var b *fakePeer
	cfg := Config{Seed: 1, Tunnels: 1, Duration: time.Second,
		AB: Link{IKE: LinkConfig{Delay: ms, Filter: func(f FilterInfo) bool {
			seen = append(seen, FilterInfo{At: f.At, Tunnel: f.Tunnel, From: f.From, N: f.N})
			return DropNth(3)(f)
		}}},
		Traffic: []Traffic{{From: A, Rate: 100, Size: 64}}, // ESP does not count
	}
	for i := range 4 {
		cfg.Actions = append(cfg.Actions, Action{At: time.Duration(i+1) * 100 * ms, Side: A, Kind: peer.Rekey})
	}
	r := mustRun(t, cfg, func(int) (peer.Peer, peer.Peer) { b = newFake(2, []uint32{1}); return newFake(1, []uint32{2}), b })
	if want := []uint32{1, 2, 4}; !slices.Equal(b.ikeSeen, want) {
		t.Fatalf("B saw IKE %v, want %v", b.ikeSeen, want)
	}
	if r.Net.Filtered != 1 || len(seen) != 4 || !cmp.Equal(seen[3], FilterInfo{At: 400 * ms, N: 4}) {
		t.Fatalf("filtered %d, filter saw %+v", r.Net.Filtered, seen)
	}
}

func TestObserverSeesEveryEvent(t *testing.T) {
	var inputs, dropped, delivered, transmitted, lost, dup, filtered uint64
	cfg := noisyConfig(3)
	cfg.AB.IKE.Filter = func(f FilterInfo) bool { return f.N == 1 }
	cfg.Observer = func(o Observation) {
		switch o.Kind {
		case ObservedInput:
			inputs++
		case ObservedOutput:
			switch o.Output.Kind {
			case peer.Drop:
				dropped++
			case peer.Deliver:
				delivered++
			case peer.Transmit:
				transmitted++
			}
		case ObservedNetwork:
			switch o.Reason {
			case "lost":
				lost++
			case "duplicated":
				dup++
			case "filtered":
				filtered++
			}
		}
	}
	r := mustRun(t, cfg, rekeyingPairs)
	if inputs != r.Events || dropped != r.Dropped || delivered != r.Delivered+r.Duplicates+r.Foreign ||
		transmitted != r.Net.IKESent+r.Net.ESPSent || lost != r.Net.IKELost+r.Net.ESPLost ||
		dup != r.Net.Duplicated || filtered != r.Net.Filtered || filtered == 0 {
		t.Fatalf("observer saw inputs %d drops %d deliveries %d transmits %d lost %d dup %d filtered %d; result %+v",
			inputs, dropped, delivered, transmitted, lost, dup, filtered, r)
	}
	// Watching changes nothing.
	cfg.Observer = nil
	if d := cmp.Diff(r, mustRun(t, cfg, rekeyingPairs)); d != "" {
		t.Fatalf("observer changed the run:\n%s", d)
	}
}

func TestExchangeCollisions(t *testing.T) {
	// A starts two exchanges for flow 0 before either completes (the fake
	// never completes one): the second collides. B answers each IKE
	// datagram with a responder exchange, colliding from the second on.
	cfg := Config{Seed: 1, Tunnels: 1, Duration: time.Second,
		AB:      Link{IKE: LinkConfig{Delay: ms}},
		Actions: []Action{{At: 10 * ms, Side: A, Kind: peer.Rekey}, {At: 20 * ms, Side: A, Kind: peer.Rekey}}}
	r := mustRun(t, cfg, staticPairs)
	if want := (ExchangeStats{Started: 4, Collided: 2}); r.Exchanges != want {
		t.Fatalf("exchanges %+v, want %+v", r.Exchanges, want)
	}
}

func TestDeleteActionResolvesActivePair(t *testing.T) {
	var got []peer.Input
	cfg := Config{Seed: 1, Tunnels: 1, Duration: time.Second,
		Actions: []Action{{At: 10 * ms, Side: A, Kind: peer.Delete}, {At: 20 * ms, Side: B, Kind: peer.Delete, SPI: 77}},
		Observer: func(o Observation) {
			if o.Kind == ObservedInput && o.Input.Kind == peer.Delete {
				got = append(got, o.Input)
			}
		}}
	// The fake's State has no MessageIDs, so inbound 2 pairs with the
	// active outbound 1 (both MessageID 0) on A.
	r := mustRun(t, cfg, func(int) (peer.Peer, peer.Peer) { return newFake(1, []uint32{2}), newFake(0, []uint32{1}) })
	want := []peer.Input{{Kind: peer.Delete, At: 10 * ms, SPI: 2}, {Kind: peer.Delete, At: 20 * ms, SPI: 77}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("delete inputs (-want +got):\n%s", d)
	}
	// Input class: no active pair to resolve -> skipped, counted.
	cfg.Actions = []Action{{At: 10 * ms, Side: B, Kind: peer.Delete}}
	got = nil
	r = mustRun(t, cfg, func(int) (peer.Peer, peer.Peer) { return newFake(1, []uint32{2}), newFake(0, []uint32{1}) })
	if r.ActionsSkipped != 1 || len(got) != 0 {
		t.Fatalf("skipped %d, inputs %v", r.ActionsSkipped, got)
	}
}

func TestBurstsAndWindows(t *testing.T) {
	var at []time.Duration
	cfg := Config{Seed: 1, Tunnels: 1, Duration: time.Second,
		Traffic: []Traffic{{From: A, Rate: 100, Size: 64, Start: 100 * ms, Stop: 400 * ms, On: 30 * ms, Off: 70 * ms}},
		Observer: func(o Observation) {
			if o.Kind == ObservedInput && o.Input.Kind == peer.Send {
				at = append(at, o.At)
			}
		}}
	mustRun(t, cfg, staticPairs)
	want := []time.Duration{100 * ms, 110 * ms, 120 * ms, 200 * ms, 210 * ms, 220 * ms, 300 * ms, 310 * ms, 320 * ms}
	if !slices.Equal(at, want) {
		t.Fatalf("sends at %v, want %v", at, want)
	}
}

func TestConfigErrors(t *testing.T) {
	ok := func() Config {
		return Config{Tunnels: 1, Duration: time.Second, Traffic: []Traffic{{From: A, Rate: 1, Size: 100}}}
	}
	cases := []struct {
		class, field string
		mod          func(*Config)
	}{
		{"no tunnels", "Tunnels", func(c *Config) { c.Tunnels = 0 }},
		{"too many tunnels", "Tunnels", func(c *Config) { c.Tunnels = maxTunnels + 1 }},
		{"too many generator instances", "Traffic", func(c *Config) {
			c.Tunnels = maxTunnels
			c.Traffic = slices.Repeat(c.Traffic, 5)
		}},
		{"too many scheduled actions", "Actions", func(c *Config) {
			c.Tunnels = maxTunnels
			c.Traffic = nil
			c.Actions = slices.Repeat([]Action{{Tunnel: AllTunnels, Kind: peer.Rekey}}, 5)
		}},
		{"negative duration", "Duration", func(c *Config) { c.Duration = -1 }},
		{"negative delay", "BA.ESP.Delay", func(c *Config) { c.BA.ESP.Delay = -ms }},
		{"overflowing delay", "AB.IKE", func(c *Config) { c.AB.IKE.Jitter = math.MaxInt64 }},
		{"NaN probability", "AB.ESP.LossProb", func(c *Config) { c.AB.ESP.LossProb = math.NaN() }},
		{"probability above 1", "BA.IKE.DupProb", func(c *Config) { c.BA.IKE.DupProb = 1.5 }},
		{"reorder without delay", "AB.ESP.ReorderDelay", func(c *Config) { c.AB.ESP.ReorderProb = 0.1 }},
		{"unknown distribution", "AB.ESP.Dist", func(c *Config) { c.AB.ESP.Dist = 9 }},
		{"zero rate", "Traffic[0].Rate", func(c *Config) { c.Traffic[0].Rate = 0 }},
		{"NaN rate", "Traffic[0].Rate", func(c *Config) { c.Traffic[0].Rate = math.NaN() }},
		{"packet too small for probe", "Traffic[0].Size", func(c *Config) { c.Traffic[0].Size = MinPacketSize - 1 }},
		{"packet too big for IPv4", "Traffic[0].Size", func(c *Config) { c.Traffic[0].Size = MaxPacketSize + 1 }},
		{"stop before start", "Traffic[0].Stop", func(c *Config) { c.Traffic[0].Start, c.Traffic[0].Stop = 2, 1 }},
		{"unknown side", "Traffic[0].From", func(c *Config) { c.Traffic[0].From = 2 }},
		{"IPv6 inner address", "Traffic[0].Src", func(c *Config) { c.Traffic[0].Src = netip.MustParseAddr("2001:db8::1") }},
		{"action tunnel out of range", "Actions[0].Tunnel", func(c *Config) { c.Actions = []Action{{Tunnel: 1, Kind: peer.Rekey}} }},
		{"action of wrong kind", "Actions[0].Kind", func(c *Config) { c.Actions = []Action{{Kind: peer.Send}} }},
	}
	for _, tc := range cases {
		cfg := ok()
		tc.mod(&cfg)
		_, err := Run(cfg, staticPairs)
		var ce *ConfigError
		if !errors.Is(err, ErrConfig) || !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("%s: err %v, want ConfigError on %s", tc.class, err, tc.field)
		}
	}
	if _, err := Run(ok(), staticPairs); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	// Input class: a nil peer from newPair.
	if _, err := Run(ok(), func(int) (peer.Peer, peer.Peer) { return newFake(0, nil), nil }); !errors.Is(err, ErrNilPeer) {
		t.Fatalf("nil peer: %v", err)
	}
}

func TestTunnelLinks(t *testing.T) {
	cfg := Config{Seed: 1, Tunnels: 3, Duration: time.Second,
		AB: Link{ESP: LinkConfig{Delay: 99 * ms}}, // overridden
		TunnelLinks: func(i int) (ab, ba Link) {
			ab.ESP.Delay = time.Duration(i+1) * 10 * ms
			ab.ESP.LossProb = float64(i) / 2 // tunnel 2 loses everything
			return ab, ba
		},
		Traffic: []Traffic{{From: A, Rate: 100, Size: 64, Stop: 500 * ms}}}
	r := mustRun(t, cfg, staticPairs)
	if tr := r.Tunnels[2]; tr.NetLost != 50 || tr.Delivered != 0 {
		t.Errorf("tunnel 2: %+v", tr)
	}
	if r.Tunnels[0].MaxLatency != 10*ms || r.Latency.Max != 20*ms || r.AddedLatency.Max != 0 {
		t.Errorf("latency per tunnel %v, overall %+v, added %+v", r.Tunnels[0].MaxLatency, r.Latency, r.AddedLatency)
	}
	// Input class: an invalid link for one tunnel.
	cfg.TunnelLinks = func(i int) (ab, ba Link) {
		ba.IKE.DupProb = float64(i) // 2 is out of range
		return ab, ba
	}
	var ce *ConfigError
	if _, err := Run(cfg, staticPairs); !errors.As(err, &ce) || ce.Field != "TunnelLinks(2).BA.IKE.DupProb" {
		t.Fatalf("err %v", err)
	}
}

// reasonPeer drops every packet it is asked to send, each time for a new
// reason.
type reasonPeer struct {
	n    int
	outs [1]peer.Output
}

func (p *reasonPeer) Step(in peer.Input) []peer.Output {
	if in.Kind != peer.Send {
		return nil
	}
	p.n++
	p.outs[0] = peer.Output{Kind: peer.Drop, Reason: fmt.Sprintf("reason-%04d", p.n)}
	return p.outs[:]
}
func (p *reasonPeer) NextTimer() (time.Duration, bool) { return 0, false }
func (p *reasonPeer) State() peer.State                { return peer.State{} }

func TestDropReasonsBounded(t *testing.T) {
	// Input class: a peer inventing unboundedly many drop reasons.
	cfg := Config{Seed: 1, Tunnels: 1, Duration: time.Second, Traffic: []Traffic{{From: A, Rate: 1000, Size: 64}}}
	r := mustRun(t, cfg, func(int) (peer.Peer, peer.Peer) { return &reasonPeer{}, &reasonPeer{} })
	if len(r.Drops) != maxReasons+1 || r.Dropped != 1000 {
		t.Fatalf("%d reasons, %d dropped", len(r.Drops), r.Dropped)
	}
	if !slices.IsSortedFunc(r.Drops, func(a, b ReasonCount) int { return strings.Compare(a.Reason, b.Reason) }) {
		t.Error("reasons not sorted")
	}
	if r.Drops[0] != (ReasonCount{OtherReasons, 1000 - maxReasons}) || r.Drops[1] != (ReasonCount{"reason-0001", 1}) {
		t.Errorf("drops start %v", r.Drops[:2])
	}
}

func TestExtremeRates(t *testing.T) {
	// Input class: the slowest rate sends only its first packet; the
	// fastest is bounded by Duration.
	cfg := Config{Seed: 1, Tunnels: 1, Duration: time.Microsecond,
		Traffic: []Traffic{{From: A, Rate: minRate, Size: 64}, {From: B, Rate: maxRate, Size: 64}}}
	r := mustRun(t, cfg, staticPairs)
	if r.Sent != 1+1000 {
		t.Fatalf("sent %d, want 1 + 1000", r.Sent)
	}
}
