//go:build hitlessbroken

package gateway

import (
	"fmt"
	"sync"
)

// This file exists only in builds with the hitlessbroken tag: it lets
// tests switch on one deliberately broken variant of every gateway (see
// brokenVariant). Never ship such a build.

var (
	brokenMu  sync.Mutex
	brokenOn  brokenVariant
	brokenMem = map[string][]byte{} // replay-accepted: ESP packet → plaintext (ESP packets are unique: SPI, sequence number, IV)
)

// brokenNames are the variants' names, by brokenVariant.
var brokenNames = []string{"", "delete-old-inbound", "replay-accepted", "activate-before-hash",
	"wrong-keys", "cleartext", "never-delete-old", "bad-icv"}

// SetBroken makes every gateway behave as the broken variant called name
// from now on ("" restores the reference). Test builds only.
func SetBroken(name string) error {
	for v, n := range brokenNames {
		if n == name {
			brokenMu.Lock()
			brokenOn, brokenMem = brokenVariant(v), map[string][]byte{}
			brokenMu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("%w: no broken variant %q", ErrConfig, name)
}

// BrokenVariants lists the names SetBroken accepts (besides "").
func BrokenVariants() []string { return append([]string(nil), brokenNames[1:]...) }

func broken(v brokenVariant) bool {
	brokenMu.Lock()
	defer brokenMu.Unlock()
	return brokenOn == v
}

// brokenAny reports whether any broken variant is on.
func brokenAny() bool {
	brokenMu.Lock()
	defer brokenMu.Unlock()
	return brokenOn != 0
}

// brokenSeen remembers the plaintext of a delivered ESP packet, so that
// the replay-accepted variant can deliver it again when it is replayed.
func brokenSeen(_ *Gateway, esp, plain []byte) {
	if !broken(brokenReplayAccepted) {
		return
	}
	brokenMu.Lock()
	defer brokenMu.Unlock()
	if len(brokenMem) >= 4096 {
		clear(brokenMem)
	}
	brokenMem[string(esp)] = append([]byte(nil), plain...)
}

// brokenReplay returns the plaintext of a replayed ESP packet for the
// replay-accepted variant.
func brokenReplay(_ *Gateway, esp []byte) ([]byte, bool) {
	if !broken(brokenReplayAccepted) {
		return nil, false
	}
	brokenMu.Lock()
	defer brokenMu.Unlock()
	p, ok := brokenMem[string(esp)]
	return p, ok
}
