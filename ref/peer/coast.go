package peer

// Coaster is an optional interface of a Peer for simulators that
// fast-forward quiet stretches of traffic. A stretch is quiet when no
// timer is due, no IKE message is in flight and every packet is sealed on
// the flow's active outbound SA and opened on an inbound SA that already
// saw traffic: then Step would do nothing but move sequence numbers,
// anti-replay windows and byte counters, and a simulator may apply those
// moves without building, sealing or opening the packets. Results must be
// the same as stepping every packet; the simulator's tests check that.
//
// The methods never start exchanges, fire timers, activate or retire SAs,
// or produce Outputs. They are not part of the JSON seam: an
// implementation in another process simply does not coast.
type Coaster interface {
	// CoastOut reports whether a Send of an inner packet of size bytes on
	// flow would now be sealed on the flow's active outbound SA with no
	// effect but that SA's sequence number and counters, and for how many
	// consecutive such packets that stays true (n ≥ 1 when ok: byte
	// lifetimes and the sequence-number space bound it). spi is the SA's
	// SPI and next the sequence number the first packet would carry.
	CoastOut(flow, size int) (spi uint32, next, n uint64, ok bool)
	// CoastIn reports whether ESP on inbound SA spi carrying inner packets
	// of size bytes, with sequence numbers above every one the SA has
	// accepted, would each be delivered with no effect but the SA's
	// anti-replay window and counters, and for how many packets (n ≥ 1
	// when ok). window is the SA's anti-replay window in packets: the
	// caller keeps reordering within it.
	CoastIn(spi uint32, size int) (n uint64, window int, ok bool)
	// CoastSent applies n Sends of size-byte packets that CoastOut allowed
	// on outbound SA spi, as Step would have sealed them.
	CoastSent(spi uint32, n uint64, size int)
	// CoastReceived applies the arrival on inbound SA spi of the packet
	// with sequence number seq that CoastIn allowed, and returns the drop
	// reason Step would have given, or "" when it would have delivered it.
	CoastReceived(spi uint32, seq uint64, size int) (reason string)
}
