// Package probe measures what a live IKEv1 daemon loses when it rekeys.
//
// It is a thin UDP shell around the sans-I/O core: Main Mode with a
// pre-shared key (package mainmode; the RFC 3947 vendor ID and NAT-D
// claiming a NAT, so that IKE floats to UDP 4500 and ESP travels in UDP
// per RFC 3948, all in userspace), then the reference gateway (package
// gateway) driven by the wall clock over two sockets the caller opens.
// Run sends ICMP echo probes through the tunnel and makes rekeys:
//
//   - initiated by the probe, which sends on the new SA from QM2 on and
//     holds QM3 back (Config.QM3Delay): a responder that installs its
//     inbound SA only at QM3 drops those probes;
//   - or initiated by the daemon (Config.DaemonInitiates, with a trigger
//     or on its own timers), the probe answering as the hitless
//     responder, optionally holding the daemon's QM3 back so that its
//     Delete of the old pair overtakes it (Config.HoldQM3).
//
// The Report gives per rekey the probes lost each way, the Quick Mode
// timings, when the daemon first used the new SA and when its Delete
// came, and the install timing this shows, with the profile it matches;
// WriteText adds a ladder of one rekey. Losses are split by what the
// probe sees: a probe unanswered and not dropped by the probe was lost at
// (or on the way to) the daemon; ESP from the daemon the probe dropped
// for lack of an SA was lost on the way back. Datagrams from other
// addresses, IKE messages the gateway rejects and ESP for SPIs the probe
// never had are counted apart and change nothing.
//
// Target is the reference gateway in a chosen profile behind the same
// shell: a stand-in daemon with known timing, for tests and for trying
// the probe. Package charontest runs strongSwan's charon in network
// namespaces for the live tests.
package probe
