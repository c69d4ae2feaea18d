//go:build !hitlessbroken

package gateway

// broken reports whether variant v is on: never, in the default build.
func broken(brokenVariant) bool { return false }

// brokenSeen and brokenReplay are the replay-accepted variant's memory of
// delivered packets: nothing, in the default build.
func brokenSeen(*Gateway, []byte, []byte) {}

func brokenReplay(*Gateway, []byte) ([]byte, bool) { return nil, false }

// brokenAny reports whether any broken variant is on: never, in the
// default build.
func brokenAny() bool { return false }
