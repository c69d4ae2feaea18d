package synth

import (
	"bytes"
	"errors"
	"testing"

	"github.com/hitless-ike/hitless/cmd/internal/udpencap"
	"github.com/hitless-ike/hitless/corpus/capture"
)

func shipped(t testing.TB) [][]capture.Datagram {
	var srcs [][]capture.Datagram
	for _, p := range []string{
		"../../../corpus/captures/strongswan-5.9.8/libipsec/capture.pcap",
		"../../../corpus/captures/strongswan-5.9.8/fakesa/capture.pcap",
	} {
		ds, err := capture.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, ds)
	}
	return srcs
}

func TestGenerate(t *testing.T) {
	srcs := shipped(t)
	var buf bytes.Buffer
	st, err := Generate(&buf, srcs, 100)
	if err != nil {
		t.Fatal(err)
	}
	if st.ISAKMP < 100 || st.Frames != 3*(len(srcs[0])+len(srcs[1])) {
		t.Fatalf("stats %+v", st)
	}
	ds, err := capture.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != st.Frames {
		t.Fatalf("read back %d datagrams, wrote %d", len(ds), st.Frames)
	}
	n := 0
	cookieCopies := map[string]int{} // initiator cookie -> copy index
	per := len(srcs[0]) + len(srcs[1])
	for i, d := range ds {
		var orig capture.Datagram
		if i%per < len(srcs[0]) {
			orig = srcs[0][i%per]
		} else {
			orig = srcs[1][i%per-len(srcs[0])]
		}
		if d.Src.Port() != orig.Src.Port() || d.Dst.Port() != orig.Dst.Port() || len(d.Payload) != len(orig.Payload) {
			t.Fatalf("datagram %d differs from its source in ports or size", i)
		}
		k, msg, _ := udpencap.Classify(&d)
		if k != udpencap.ISAKMP {
			if !bytes.Equal(d.Payload, orig.Payload) {
				t.Fatalf("datagram %d: non-ISAKMP payload changed", i)
			}
			continue
		}
		n++
		copyIdx := i / per
		ic := string(msg[:8])
		if c, ok := cookieCopies[ic]; ok && c != copyIdx {
			t.Fatalf("datagram %d: copy %d reuses the initiator cookie of copy %d", i, copyIdx, c)
		}
		cookieCopies[ic] = copyIdx
		_, om, _ := udpencap.Classify(&orig)
		if !bytes.Equal(msg[16:], om[16:]) {
			t.Fatalf("datagram %d: bytes after the cookies changed", i)
		}
		if bytes.Equal(om[8:16], make([]byte, 8)) != bytes.Equal(msg[8:16], make([]byte, 8)) {
			t.Fatalf("datagram %d: zero responder cookie not preserved", i)
		}
	}
	if n != st.ISAKMP {
		t.Errorf("counted %d ISAKMP, stats say %d", n, st.ISAKMP)
	}
}

func TestGenerateNoISAKMP(t *testing.T) {
	if _, err := Generate(&bytes.Buffer{}, nil, 10); !errors.Is(err, ErrNoISAKMP) {
		t.Fatalf("empty sources: %v", err)
	}
}
