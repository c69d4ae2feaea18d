package charontest

import (
	"fmt"
	"os"
	"path/filepath"
)

// startPeer starts a second charon in the probe namespace, mirroring the
// daemon's configuration (same PSK and proposals, local ProbeOuter, traffic
// selectors swapped, its own rekey times from o), with its files in
// Dir/peer. It validates the libipsec data plane the probe relies on; Close
// stops it. Only the package's own tests use it.
func (e *Env) startPeer(o Options) (*daemon, error) {
	if e.peer != nil {
		return nil, fmt.Errorf("charontest: peer charon already running")
	}
	o = o.withDefaults()
	dir := filepath.Join(e.Dir, "peer")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("charontest: %w", err)
	}
	cfg := charonConfig{
		Dir:         dir,
		Local:       e.ProbeOuter,
		Remote:      e.DaemonOuter,
		LocalTS:     e.ProbeInner,
		RemoteTS:    e.DaemonInner,
		Conn:        e.Conn,
		Child:       e.Child,
		Options:     o,
		StartAction: "none",
	}
	if err := cfg.write(); err != nil {
		return nil, err
	}
	d, err := launchCharon(e.ProbeNS, dir)
	if err != nil {
		return nil, err
	}
	e.peer = d
	if _, err := d.swanctl("--load-all", "--file", swanctlConfPath(dir)); err != nil {
		return nil, err
	}
	return d, nil
}
