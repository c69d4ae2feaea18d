package charontest

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns a missing strongSwan
// environment from a skip into a failure (CI sets it to 1).
const RequireEnv = "HITLESS_REQUIRE_STRONGSWAN"

// Require skips t when Available reports a problem, or fails it when
// HITLESS_REQUIRE_STRONGSWAN=1.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%v (%s=1)", err, RequireEnv)
		}
		t.Skipf("%v (set %s=1 to fail instead)", err, RequireEnv)
	}
}

// StartT is Require plus Start, failing t on error. It registers a cleanup
// that closes the Env; if t failed it keeps Dir and logs its path and the
// tail of charon.log.
func StartT(t testing.TB, o Options) *Env {
	t.Helper()
	Require(t)
	e, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			e.KeepDir = true
			t.Logf("charontest: kept %s; charon.log tail:\n%s", e.Dir, e.LogTail(40))
		}
		if err := e.Close(); err != nil {
			t.Errorf("charontest: Close: %v", err)
		}
	})
	return e
}

// WaitChildSAs polls ChildSAs every 10 ms until ok accepts the list or
// timeout passes; it returns the last list either way, with an error on
// timeout that shows it.
func (e *Env) WaitChildSAs(timeout time.Duration, ok func([]ChildSA) bool) ([]ChildSA, error) {
	if e.charon == nil {
		return nil, fmt.Errorf("charontest: charon not running")
	}
	return e.charon.waitChildSAs(timeout, ok)
}

func (d *daemon) waitChildSAs(timeout time.Duration, ok func([]ChildSA) bool) ([]ChildSA, error) {
	deadline := time.Now().Add(timeout)
	for {
		sas, err := d.childSAs()
		if err == nil && ok(sas) {
			return sas, nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return sas, fmt.Errorf("charontest: child SAs not as wanted within %v: %w", timeout, err)
			}
			return sas, fmt.Errorf("charontest: child SAs not as wanted within %v: %+v", timeout, sas)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
