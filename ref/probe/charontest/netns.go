package charontest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// InProbeNS runs f on a locked OS thread switched into the probe namespace,
// then switches the thread back. Sockets created inside f (for example
// net.ListenUDP on ProbeOuter:500 and :4500) belong to the probe namespace
// for their whole life and may be used from any goroutine afterwards.
//
// f runs on its own goroutine; InProbeNS waits for it. f must not start
// goroutines that expect to inherit the namespace (new goroutines may run on
// other threads). If the thread cannot be switched back it is left locked so
// the runtime discards it when the goroutine exits.
func (e *Env) InProbeNS(f func() error) error { return InNamespace(e.ProbeNS, f) }

// InDaemonNS is InProbeNS for the daemon namespace.
func (e *Env) InDaemonNS(f func() error) error { return InNamespace(e.DaemonNS, f) }

// InNamespace runs f on a locked OS thread switched into the named network
// namespace (/run/netns/NAME), as InProbeNS describes.
func InNamespace(name string, f func() error) error {
	target, err := os.Open(filepath.Join("/run/netns", name))
	if err != nil {
		return fmt.Errorf("charontest: open namespace %s: %w", name, err)
	}
	defer target.Close()
	result := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			result <- fmt.Errorf("charontest: open current namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			result <- fmt.Errorf("charontest: setns %s: %w", name, err)
			return
		}
		var ferr error
		func() {
			defer func() {
				if r := recover(); r != nil {
					ferr = fmt.Errorf("charontest: panic in namespace %s: %v", name, r)
				}
			}()
			ferr = f()
		}()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Stay locked: the thread dies with this goroutine.
			result <- fmt.Errorf("charontest: setns back from %s: %w (f: %v)", name, err, ferr)
			return
		}
		runtime.UnlockOSThread()
		result <- ferr
	}()
	return <-result
}
