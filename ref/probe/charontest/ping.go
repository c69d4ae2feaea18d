package charontest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
)

// Ping sends count ICMP echo requests from src to dst inside namespace ns,
// one every interval, over a raw ICMP socket bound to src, and returns how
// many matching echo replies arrived before wait elapsed after the last
// request (it returns as soon as all are answered). It needs no ping binary. The routes decide where the requests
// go: from an inner address they enter charon's ipsec0 via table 220.
func Ping(ns string, src, dst netip.Addr, count int, interval, wait time.Duration) (int, error) {
	if count <= 0 {
		return 0, nil
	}
	var conn net.PacketConn
	if err := InNamespace(ns, func() error {
		var err error
		conn, err = net.ListenPacket("ip4:icmp", src.String())
		return err
	}); err != nil {
		return 0, fmt.Errorf("charontest: ping socket in %s on %s: %w", ns, src, err)
	}
	defer conn.Close()
	id := uint16(os.Getpid()) ^ uint16(seq.Add(1)<<8)
	got := make(map[uint16]bool)
	done := make(chan error, 1)
	go func() { // reader: ends when conn is closed or the deadline passes
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				done <- err
				return
			}
			m := buf[:n]
			if a, ok := from.(*net.IPAddr); !ok || !a.IP.Equal(net.IP(dst.AsSlice())) {
				continue
			}
			if len(m) >= 8 && m[0] == 0 && binary.BigEndian.Uint16(m[4:]) == id {
				got[binary.BigEndian.Uint16(m[6:])] = true
				if len(got) == count { // every request was sent and answered
					done <- nil
					return
				}
			}
		}
	}()
	var sendErr error
	for i := 0; i < count && sendErr == nil; i++ {
		if i > 0 {
			time.Sleep(interval)
		}
		msg := make([]byte, 64)
		msg[0] = 8 // echo request
		binary.BigEndian.PutUint16(msg[4:], id)
		binary.BigEndian.PutUint16(msg[6:], uint16(i))
		for j := 8; j < len(msg); j++ {
			msg[j] = byte(j)
		}
		binary.BigEndian.PutUint16(msg[2:], icmpChecksum(msg))
		_, sendErr = conn.WriteTo(msg, &net.IPAddr{IP: net.IP(dst.AsSlice())})
	}
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	rerr := <-done // got is ours after this receive
	if sendErr != nil {
		return len(got), fmt.Errorf("charontest: ping %s->%s in %s: %w", src, dst, ns, sendErr)
	}
	if rerr != nil && !errors.Is(rerr, os.ErrDeadlineExceeded) {
		return len(got), fmt.Errorf("charontest: ping %s->%s in %s: read: %w", src, dst, ns, rerr)
	}
	return len(got), nil
}

func icmpChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
