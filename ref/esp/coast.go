package esp

import (
	"fmt"
	"io"
	"strconv"
)

// This file is bookkeeping for simulators that fast-forward quiet traffic:
// it applies what Seal and Open would do to an SA's state without building,
// encrypting or authenticating packets. It protects nothing and must never
// stand in for Seal or Open on real traffic.

// SealBudget returns how many more packets Seal can seal before the
// sequence number space is exhausted and Seal returns Expired.
func (sa *SA) SealBudget() uint64 { return sa.maxSeq() - sa.seq }

// CoastSealed applies to sa what n calls of Seal with well-formed inner
// packets of innerLen bytes would: the sequence number advances by n and
// the counters by n packets and n*innerLen bytes. It is simulation
// bookkeeping that skips the cryptography: no packet is built, and it must
// never be used for real traffic. With AES-CBC it still reads the n IVs
// from the SA's IV source, so that a source shared with other consumers
// (a simulated gateway's single random stream) stays where Seal would have
// left it.
//
// If n exceeds SealBudget it returns the Expired drop error Seal gives and
// changes nothing; an innerLen no inner IP packet can have (below 20 or
// above 65535 bytes) is Malformed, also changing nothing. If the IV source
// fails, the packets before the failing read are applied, as Seal would
// have sealed them, and the error wraps ErrRandom. n == 0 does nothing.
func (sa *SA) CoastSealed(n uint64, innerLen int) error {
	if n == 0 {
		return nil
	}
	if innerLen < ipv4MinLen || innerLen > maxInnerLen {
		return drop(Malformed, sa.spi, 0, "inner packet length "+strconv.Itoa(innerLen)+" out of range")
	}
	if left := sa.SealBudget(); n > left {
		return drop(Expired, sa.spi, sa.seq, strconv.FormatUint(n, 10)+" packets exceed the "+
			strconv.FormatUint(left, 10)+" sequence numbers left; rekey (RFC 4303 §3.3.3)")
	}
	if sa.t.Cipher == CipherAESCBC {
		iv := sa.sum[:sa.ivLen]
		for i := range n {
			if _, err := io.ReadFull(sa.rand, iv); err != nil {
				sa.coastSealed(i, innerLen)
				return fmt.Errorf("%w: %v", ErrRandom, err)
			}
		}
	}
	sa.coastSealed(n, innerLen)
	return nil
}

func (sa *SA) coastSealed(n uint64, innerLen int) {
	sa.seq += n
	sa.stats.Packets += n
	sa.stats.Bytes += n * uint64(innerLen) // wraps exactly as n additions would
}

// CoastOpened applies to sa what Open would do with an authentic packet
// that the peer's SA sealed with the 64-bit sequence number seq, carrying a
// well-formed inner packet of innerLen bytes. Like CoastSealed it is
// simulation bookkeeping that skips the cryptography and must never be
// used for real traffic.
//
// As in Open, the receiver sees only the low 32 bits of seq: the
// anti-replay check runs on the number it infers from them and, failing,
// returns Open's Replay drop error. A seq the receiver would expand
// differently (with ESN, beyond the window's reach; without ESN, above
// 2^32-1) is AuthFailed, as the ICV over the true high half would make it;
// an impossible innerLen is Malformed. On any error the SA is unchanged;
// otherwise the window and counters move as Open would move them. It does
// not allocate.
func (sa *SA) CoastOpened(seq uint64, innerLen int) error {
	got := sa.win.infer(uint32(seq), sa.esn)
	if why := sa.win.check(got); why != "" {
		return drop(Replay, sa.spi, got, why)
	}
	if got != seq {
		return drop(AuthFailed, sa.spi, got, "sequence number's high half is not the one the receiver infers")
	}
	if innerLen < ipv4MinLen || innerLen > maxInnerLen {
		return drop(Malformed, sa.spi, seq, "inner packet length out of range")
	}
	sa.win.update(seq)
	sa.stats.Packets++
	sa.stats.Bytes += uint64(innerLen)
	return nil
}
