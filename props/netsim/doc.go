// Package netsim is a deterministic discrete-event network simulator that
// drives pairs of [peer.Peer] implementations (tunnels) over lossy,
// delaying, reordering and duplicating links, feeds them application
// traffic, fires their timers and operator actions, and measures what
// happens to every packet: delivered (with one-way latency), dropped by a
// peer (by reason), lost by the network, delivered twice — and, around
// every SA activation, how many packets were dropped for lack of an active
// SA.
//
// Everything is driven by a virtual clock and one seed: every datagram
// draws its fate (loss, duplication, delay) from its own PCG stream keyed
// by the seed, its tunnel's number (Config.TunnelBase onwards), its side,
// IKE or ESP and its count, so the same Config gives the same Result on
// every machine, and a run split into shards gives the same draws as the
// whole. The simulator owns no goroutine, reads no wall clock and never
// orders anything by map iteration. Events with equal timestamps run in
// the order they were scheduled.
//
// With Config.Coast, quiet stretches of a tunnel's traffic are simulated in
// bulk through [peer.Coaster] instead of event by event (coast.go), with
// the same Result.
//
// Memory is bounded per tunnel: a packet in flight lives only in the event
// queue, and a delivered packet leaves nothing behind but histogram counts.
//
// Peers must not keep the byte slices of an Input after Step returns: the
// simulator reuses datagram and packet buffers.
package netsim
