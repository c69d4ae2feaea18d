package probe

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
)

// Sockets are the two UDP sockets of one side, bound to its outer address
// on the IKE port (500) and the NAT-T port (4500), and where the other
// side listens. The caller opens and closes them (so that tests can open
// them inside a network namespace); Run only reads and writes.
type Sockets struct {
	IKE, NATT net.PacketConn
	// Peer is the other side's outer address; PeerIKE and PeerNATT its
	// ports (0: 500 and 4500).
	Peer              netip.Addr
	PeerIKE, PeerNATT uint16
}

func (s *Sockets) ports() (ike, natt uint16) {
	ike, natt = s.PeerIKE, s.PeerNATT
	if ike == 0 {
		ike = 500
	}
	if natt == 0 {
		natt = 4500
	}
	return ike, natt
}

// datagram is one UDP payload received from the peer.
type datagram struct {
	natt bool // arrived on the NAT-T socket
	b    []byte
	at   time.Time
}

// maxQueued bounds datagrams read but not yet processed: past it the
// readers drop (and count) rather than grow without bound.
const maxQueued = 4096

// link reads both sockets into one channel and writes datagrams to the
// peer. Datagrams from any other address are counted and dropped.
type link struct {
	s                 Sockets
	ikeAddr, nattAddr *net.UDPAddr
	rx                chan datagram
	wg                sync.WaitGroup
	stray, overflow   atomic.Uint64
	sendErrs          atomic.Uint64
	lastSendErr       atomic.Value // error
	now               func() time.Time
	stopOnce          sync.Once
	readErr           chan error
}

func newLink(s Sockets, now func() time.Time) (*link, error) {
	if s.IKE == nil || s.NATT == nil {
		return nil, errors.New("probe: both sockets (IKE and NAT-T) are required")
	}
	if !s.Peer.IsValid() {
		return nil, errors.New("probe: no peer address")
	}
	ike, natt := s.ports()
	l := &link{s: s, now: now, rx: make(chan datagram, maxQueued), readErr: make(chan error, 2),
		ikeAddr:  net.UDPAddrFromAddrPort(netip.AddrPortFrom(s.Peer, ike)),
		nattAddr: net.UDPAddrFromAddrPort(netip.AddrPortFrom(s.Peer, natt))}
	for _, c := range []struct {
		conn net.PacketConn
		natt bool
	}{{s.IKE, false}, {s.NATT, true}} {
		_ = c.conn.SetReadDeadline(time.Time{})
		l.wg.Add(1)
		go l.read(c.conn, c.natt)
	}
	return l, nil
}

func (l *link) read(c net.PacketConn, natt bool) {
	defer l.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return // stop() set a deadline in the past
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case l.readErr <- err:
			default:
			}
			return
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok || ua.AddrPort().Addr().Unmap() != l.s.Peer {
			l.stray.Add(1)
			continue
		}
		d := datagram{natt: natt, b: append([]byte(nil), buf[:n]...), at: l.now()}
		select {
		case l.rx <- d:
		default:
			l.overflow.Add(1)
		}
	}
}

// stop ends the readers without closing the caller's sockets.
func (l *link) stop() {
	l.stopOnce.Do(func() {
		past := time.Unix(1, 0)
		_ = l.s.IKE.SetReadDeadline(past)
		_ = l.s.NATT.SetReadDeadline(past)
		l.wg.Wait()
		_ = l.s.IKE.SetReadDeadline(time.Time{})
		_ = l.s.NATT.SetReadDeadline(time.Time{})
	})
}

// send writes one datagram the way its transport says: UDP 500 or UDP
// 4500 (already framed). Raw ESP needs a raw socket the probe does not
// use: Main Mode always floats to 4500 (ForceNATT).
func (l *link) send(d peer.Datagram) {
	var err error
	switch d.Transport {
	case peer.UDP500:
		_, err = l.s.IKE.WriteTo(d.Bytes, l.ikeAddr)
	case peer.UDP4500:
		_, err = l.s.NATT.WriteTo(d.Bytes, l.nattAddr)
	default:
		err = errRawESP
	}
	if err != nil {
		l.sendErrs.Add(1)
		l.lastSendErr.Store(err)
	}
}

var errRawESP = errors.New("probe: raw ESP (protocol 50) is not supported; the probe always uses UDP encapsulation")

// localPort is the port a socket is bound to (500 if it cannot tell).
func localPort(c net.PacketConn) uint16 {
	if ua, ok := c.LocalAddr().(*net.UDPAddr); ok && ua.Port > 0 {
		return uint16(ua.Port)
	}
	return 500
}
