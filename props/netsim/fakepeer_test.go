package netsim

import (
	"encoding/binary"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// fakePeer is a "cleartext tunnel": ESP is a 4-byte SPI in front of the
// inner packet. Its SA changes follow a fixed script run from its timers,
// so a test knows exactly when each side switches and can compute the
// loss in between by hand. On Rekey it sends one IKE datagram (UDP 500)
// carrying a counter, and reports an exchange.
type fakePeer struct {
	out     uint32   // active outbound SPI, 0 none
	in      []uint32 // installed inbound SPIs
	script  []step   // pending, in time order
	stuck   bool     // NextTimer always returns the last input time
	last    time.Duration
	ikeN    uint32
	msgID   uint32
	outs    []peer.Output
	bufs    [][]byte
	ticks   []time.Duration // when Tick inputs arrived
	ikeSeen []uint32        // counters of received IKE datagrams, in order
}

type stepKind uint8

const (
	activateOut stepKind = iota + 1 // out = spi, emit Activated
	installIn                       // add inbound spi, emit Installed
	removeIn                        // remove inbound spi, emit Deleted
)

type step struct {
	at   time.Duration
	kind stepKind
	spi  uint32
}

func newFake(out uint32, in []uint32, script ...step) *fakePeer {
	return &fakePeer{out: out, in: in, script: script}
}

func (p *fakePeer) buf(n int) []byte {
	// One buffer per output of a Step; reused by the next Step.
	i := len(p.outs)
	for len(p.bufs) <= i {
		p.bufs = append(p.bufs, nil)
	}
	if cap(p.bufs[i]) < n {
		p.bufs[i] = make([]byte, n)
	}
	return p.bufs[i][:n]
}

func (p *fakePeer) installed(spi uint32) bool {
	for _, s := range p.in {
		if s == spi {
			return true
		}
	}
	return false
}

func (p *fakePeer) Step(in peer.Input) []peer.Output {
	p.outs = p.outs[:0]
	p.last = in.At
	switch in.Kind {
	case peer.Send:
		if p.out == 0 {
			p.outs = append(p.outs, peer.Output{Kind: peer.Drop, Direction: peer.Outbound, Flow: in.Flow,
				Reason: peer.ReasonNoActiveSA, Packet: in.Packet})
			break
		}
		b := p.buf(4 + len(in.Packet))
		binary.BigEndian.PutUint32(b, p.out)
		copy(b[4:], in.Packet)
		p.outs = append(p.outs, peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.ESP, Bytes: b}})
	case peer.Receive:
		d := in.Datagram
		if d.IsIKE() {
			if len(d.Bytes) >= 4 {
				p.ikeSeen = append(p.ikeSeen, binary.BigEndian.Uint32(d.Bytes))
			}
			p.outs = append(p.outs, peer.Output{Kind: peer.Exchange, ExchangeEvent: peer.Started, Role: "responder", Flow: 0, MessageID: 1000 + p.msgID})
			p.msgID++
			break
		}
		if len(d.Bytes) < 4 {
			p.outs = append(p.outs, peer.Output{Kind: peer.Drop, Direction: peer.Inbound, Reason: peer.ReasonMalformed})
			break
		}
		spi := binary.BigEndian.Uint32(d.Bytes)
		if !p.installed(spi) {
			p.outs = append(p.outs, peer.Output{Kind: peer.Drop, Direction: peer.Inbound, SPI: spi, Reason: peer.ReasonUnknownSPI})
			break
		}
		p.outs = append(p.outs, peer.Output{Kind: peer.Deliver, SPI: spi, Packet: d.Bytes[4:]})
	case peer.Tick:
		p.ticks = append(p.ticks, in.At)
		for len(p.script) > 0 && p.script[0].at <= in.At {
			s := p.script[0]
			p.script = p.script[1:]
			switch s.kind {
			case activateOut:
				p.out = s.spi
				p.outs = append(p.outs, peer.Output{Kind: peer.SAEvent, Event: peer.Activated, SPI: s.spi})
			case installIn:
				p.in = append(p.in, s.spi)
				p.outs = append(p.outs, peer.Output{Kind: peer.SAEvent, Event: peer.Installed, SPI: s.spi})
			case removeIn:
				for i, x := range p.in {
					if x == s.spi {
						p.in = append(p.in[:i], p.in[i+1:]...)
						break
					}
				}
				p.outs = append(p.outs, peer.Output{Kind: peer.SAEvent, Event: peer.Deleted, SPI: s.spi})
			}
		}
	case peer.Rekey:
		p.ikeN++
		b := p.buf(8)
		binary.BigEndian.PutUint32(b, p.ikeN)
		binary.BigEndian.PutUint32(b[4:], 0xdeadbeef)
		p.outs = append(p.outs,
			peer.Output{Kind: peer.Exchange, ExchangeEvent: peer.Started, Role: "initiator", Flow: in.Flow, MessageID: p.ikeN},
			peer.Output{Kind: peer.Transmit, Datagram: peer.Datagram{Transport: peer.UDP500, Bytes: b}})
	}
	return p.outs
}

func (p *fakePeer) NextTimer() (time.Duration, bool) {
	if p.stuck {
		return p.last, true
	}
	if len(p.script) == 0 {
		return 0, false
	}
	return p.script[0].at, true
}

func (p *fakePeer) State() peer.State {
	st := peer.State{At: p.last}
	for _, s := range p.in {
		st.SAs = append(st.SAs, peer.SA{SPI: s, Direction: peer.Inbound, State: "installed"})
	}
	if p.out != 0 {
		st.SAs = append(st.SAs, peer.SA{SPI: p.out, Direction: peer.Outbound, State: "active"})
	}
	return st
}

// staticPairs is a newPair that gives every tunnel static SAs (SPI 1 from
// A to B, SPI 2 from B to A) and no script.
func staticPairs(tunnel int) (a, b peer.Peer) {
	return newFake(1, []uint32{2}), newFake(2, []uint32{1})
}
