package mainmode

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

var (
	addrI = netip.MustParseAddrPort("192.0.2.1:500")
	addrR = netip.MustParseAddrPort("198.51.100.2:500")
)

func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return rand.NewChaCha8(s)
}

// configs returns an initiator and a responder configuration that agree.
func configs(seed uint64, natt bool) (ci, cr Config) {
	ci = Config{PSK: []byte("test-psk-0123456789"), Local: addrI, Peer: addrR, NATT: natt,
		InitialContact: true, Rand: seeded(seed)}
	cr = Config{PSK: []byte("test-psk-0123456789"), Local: addrR, Peer: addrI, NATT: natt,
		Rand: seeded(seed + 1000)}
	return ci, cr
}

// run is a genuine exchange: the six messages and a snapshot of each side
// before each message it receives (snapR[0] waits for MM1, snapR[3] is
// done; snapI[0] waits for MM2, snapI[3] is done).
type run struct {
	msgs         [6][]byte
	snapI, snapR [4]Exchange
	i, r         *Exchange
}

func runExchange(t testing.TB, ci, cr Config) *run {
	t.Helper()
	i, mm1, err := Initiate(ci)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Respond(cr)
	if err != nil {
		t.Fatal(err)
	}
	ru := &run{i: i, r: r}
	ru.msgs[0] = mm1
	for k := range 3 {
		ru.snapR[k] = *r
		out, err := r.Receive(ru.msgs[2*k])
		if err != nil {
			t.Fatalf("responder MM%d: %v", 2*k+1, err)
		}
		ru.msgs[2*k+1] = out
		ru.snapI[k] = *i
		out, err = i.Receive(ru.msgs[2*k+1])
		if err != nil {
			t.Fatalf("initiator MM%d: %v", 2*k+2, err)
		}
		if k < 2 {
			if out == nil {
				t.Fatalf("initiator sent nothing after MM%d", 2*k+2)
			}
			ru.msgs[2*k+2] = out
		} else if out != nil {
			t.Fatalf("initiator answers MM6")
		}
	}
	ru.snapI[3], ru.snapR[3] = *i, *r
	return ru
}

// digest covers every field of the exchange's state.
func (x *Exchange) digest() [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%v|%d|%x|%x|%x|%d|%d|%+v|%+v|%v|%x|", x.initiator, x.st, x.ckyI, x.ckyR, x.sai,
		x.propNum, x.trNum, x.chosenAttrs, x.chosen, x.natt, x.peerVIDs)
	fmt.Fprintf(h, "%x|%x|%x|%x|%v|%v|%x|%x|%x|", x.ni, x.nr, x.gxi, x.gxr, x.natLocal, x.natPeer,
		x.gxy, x.skeyid, x.key)
	if x.keys != nil {
		fmt.Fprintf(h, "%x|%x|%x|", x.keys.SKEYIDd, x.keys.SKEYIDa, x.keys.SKEYIDe)
	}
	fmt.Fprintf(h, "%x|%x|%v|%x|%x|%x|%x|%d|%x|%+v|%x", x.iv.Bytes(), x.peerID, x.peerIC, x.hashI, x.hashR,
		x.lastBlock, x.recv, x.nrecv, x.sent, x.res, x.gxyFixed)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// wantErr checks that err is an *Error of kind with notify.
func wantErr(t *testing.T, err error, kind error, notify isakmp.NotifyType) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %v is not %v", err, kind)
	}
	if got := NotifyFor(err); got != notify {
		t.Fatalf("error %v: notify %v, want %v", err, got, notify)
	}
}

// reparse parses a plaintext message, lets f change it, and encodes it.
func reparse(t testing.TB, msg []byte, f func(m *isakmp.Message)) []byte {
	t.Helper()
	m, err := isakmp.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func equalPayload[T isakmp.Payload](ps []isakmp.Payload) (T, int) {
	for i, p := range ps {
		if v, ok := p.(T); ok {
			return v, i
		}
	}
	var zero T
	return zero, -1
}

var _ = bytes.Equal
