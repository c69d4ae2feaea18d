// Package pyshim holds shim.py, a second implementation of the gateway
// behind the adapter protocol (../PROTOCOL.md), in Python 3 with Debian's
// python3-cryptography: Quick Mode initiator and responder, ESP (RFC
// 4303, RFC 3948 in UDP), Informational Delete and the six install and
// activation timings of package quickmode, chosen with --profile.
//
// It exists to prove the out-of-process path with code that shares
// nothing with the Go reference but the wire: its tests pass it through
// adapter.Conform and through every property against the reference
// gateway, where profile hitless must hold P1 and install-at-qm3 (and
// the other lossy profiles) must be refuted. Run it by hand with
//
//	hitless peer conform '/usr/bin/python3 ref/peer/adapter/pyshim/shim.py'
//	hitless check --peer '/usr/bin/python3 ref/peer/adapter/pyshim/shim.py --profile install-at-qm3' --expect install-at-qm3
//
// The package has no Go API; see README.md.
package pyshim
