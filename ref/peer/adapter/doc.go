// Package adapter carries the peer.Peer seam over a pipe to another
// process, so that the properties, the simulator and the fuzzers drive an
// IKEv1 implementation written in any language as they drive the
// reference gateway.
//
// The protocol is line-delimited JSON over the child's stdin and stdout:
// one request per line from the driver (init, step, next_timer, state),
// exactly one reply per line from the shim, in order. PROTOCOL.md beside
// this file specifies it for a third party, and schema/ holds a JSON
// Schema for every message.
//
// Process is the driver's side: it starts the shim, speaks the protocol
// with a deadline on every reply, keeps the tail of the shim's stderr for
// reports, and implements peer.Peer once initialised. Anything wrong with
// the shim's replies (malformed, too large, late, out of order, the shim
// gone) is a typed error, sticky on the Process; a Peer method that hits
// one returns nothing and reports it through Options.OnError. Serve is the
// shim's side for a Go implementation.
package adapter
