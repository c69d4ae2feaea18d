// Package charontest runs a strongSwan 5.9.8 charon (IKEv1, kernel-libipsec,
// userspace ESP through a TUN device) in a pair of network namespaces that the
// test creates, so that `hitless probe` can negotiate with a live daemon.
//
// Topology built by Start:
//
//	probe namespace P                       daemon namespace D
//	  veth0 10.77.0.1/24  <---- veth ---->  veth0 10.77.0.2/24
//	  lo    10.76.1.1/32 (probe inner)       lo     10.76.2.1/32 (daemon inner)
//	                                          ipsec0 (charon's libipsec TUN)
//	                                          charon, vici at Dir/run/charon.vici
//
// Only addresses inside these namespaces carry traffic; nothing is configured
// in the root namespace. charon runs in D in a private mount namespace with
// Dir/run bind-mounted over /run, because it hard-codes /var/run/charon.pid
// (see /work/shared/interop.md). Every process is tracked and stopped by pid,
// and Close deletes both namespaces.
//
// kernel-libipsec forces UDP encapsulation: IKE floats to port 4500 at Main
// Mode message 5 and ESP runs in UDP 4500 (RFC 3947/3948), so a peer must
// speak NAT-T.
package charontest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// CharonPath is the strongSwan daemon binary on Debian.
const CharonPath = "/usr/lib/ipsec/charon"

// Defaults applied by Start to zero Options fields.
const (
	DefaultPSK      = "hitless-probe-psk-0123456789"
	DefaultProposal = "aes128-sha1-modp2048"
	// DefaultRekeyTime is used when Options.RekeyTime is 0: long enough that
	// no automatic rekey happens during a test.
	DefaultRekeyTime = 24 * time.Hour
)

// Bounds on the waits done by this package.
const (
	// ViciTimeout bounds the wait for charon's vici socket after launch.
	ViciTimeout = 10 * time.Second
	// CommandTimeout bounds every external command (ip, swanctl, ...).
	CommandTimeout = 20 * time.Second
	// StopTimeout is how long Close waits after SIGTERM before SIGKILL, and
	// again after SIGKILL before giving up.
	StopTimeout = 5 * time.Second
)

// Names used in the generated swanctl.conf and inside the namespaces.
const (
	// ConnName is the swanctl connection name (Env.Conn).
	ConnName = "hitless"
	// ChildName is the swanctl child name (Env.Child).
	ChildName = "probe"
	// VethName is the veth end's name in both namespaces.
	VethName = "veth0"
)

// The fixed addresses of the topology.
var (
	probeOuter  = netip.MustParseAddr("10.77.0.1")
	daemonOuter = netip.MustParseAddr("10.77.0.2")
	probeInner  = netip.MustParsePrefix("10.76.1.1/32")
	daemonInner = netip.MustParsePrefix("10.76.2.1/32")
)

// Options configures the charon started by Start. The zero value is usable.
type Options struct {
	// PSK is the pre-shared key; default DefaultPSK.
	PSK string
	// IKEProposal is the Main Mode proposal (swanctl `proposals`);
	// default DefaultProposal.
	IKEProposal string
	// ESPProposal is the Quick Mode proposal (swanctl `esp_proposals`);
	// default DefaultProposal (with modp2048, Quick Mode uses PFS).
	ESPProposal string
	// RekeyTime is the CHILD_SA rekey_time; 0 means DefaultRekeyTime (no
	// automatic rekey in a test). rand_time is always 0.
	RekeyTime time.Duration
	// LifeTime is the CHILD_SA life_time; 0 means RekeyTime*1.1.
	LifeTime time.Duration
	// DeleteRekeyed sets charon.delete_rekeyed = yes: the rekey initiator
	// deletes its old inbound SA as soon as it sends QM3.
	DeleteRekeyed bool
	// Log raises charon's file log (Dir/charon.log) to ike=4 chd=4 knl=2,
	// which includes every key, IV and DH secret. Without it charon.log is
	// still written, at level 1 for every subsystem.
	Log bool
	// ExtraConf is appended verbatim inside `charon { }` in strongswan.conf.
	ExtraConf string
}

// withDefaults returns o with zero fields replaced by their defaults.
func (o Options) withDefaults() Options {
	if o.PSK == "" {
		o.PSK = DefaultPSK
	}
	if o.IKEProposal == "" {
		o.IKEProposal = DefaultProposal
	}
	if o.ESPProposal == "" {
		o.ESPProposal = DefaultProposal
	}
	if o.RekeyTime == 0 {
		o.RekeyTime = DefaultRekeyTime
	}
	if o.LifeTime == 0 {
		o.LifeTime = o.RekeyTime + o.RekeyTime/10
	}
	return o
}

// Env is a running charon in its namespaces. Create it with Start and
// release it with Close.
type Env struct {
	// Dir is the temporary directory holding strongswan.conf,
	// swanctl/swanctl.conf, run/ (charon.pid, charon.vici), charon.log and
	// charon.out (stdout and stderr of the daemon).
	Dir string
	// ProbeNS and DaemonNS are the names of the namespaces (`ip netns`).
	ProbeNS, DaemonNS string
	// ProbeOuter and DaemonOuter are the veth addresses: 10.77.0.1 and
	// 10.77.0.2. They are also the IKE identities.
	ProbeOuter, DaemonOuter netip.Addr
	// ProbeInner and DaemonInner are the traffic selectors: 10.76.1.1/32
	// (on lo in P; the probe owns it in userspace) and 10.76.2.1/32 (on lo
	// in D, answered by D's kernel through ipsec0).
	ProbeInner, DaemonInner netip.Prefix
	// Conn and Child are the swanctl connection and child names.
	Conn, Child string
	// Options are the options after defaults were applied.
	Options Options
	// KeepDir makes Close leave Dir on disk for inspection (the caller
	// reports the path). StartT sets it when the test failed.
	KeepDir bool

	charon *daemon
	peer   *daemon // second charon in ProbeNS, package tests only

	closeOnce sync.Once
	closeErr  error
}

// CmdError reports a failed external command with its output.
type CmdError struct {
	Args   []string // the command line
	Stdout string
	Stderr string
	Err    error // the exec error (exit status, timeout, not found)
}

// Error names the command, its error and its stderr (or stdout's tail).
func (e *CmdError) Error() string {
	msg := fmt.Sprintf("charontest: %s: %v", strings.Join(e.Args, " "), e.Err)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ": " + s
	} else if s := strings.TrimSpace(e.Stdout); s != "" {
		msg += ": " + lastLines(s, 5)
	}
	return msg
}

// Unwrap returns the exec error.
func (e *CmdError) Unwrap() error { return e.Err }

// UnavailableError says why the environment cannot run charon.
type UnavailableError struct {
	Missing []string
}

// Error lists what is missing.
func (e *UnavailableError) Error() string {
	return "charontest: strongSwan environment unavailable: " + strings.Join(e.Missing, "; ")
}

// StartError is returned by Start when it failed after charon was
// launched: Dir is kept for its logs (the caller may remove it).
type StartError struct {
	Dir     string // the kept directory
	LogTail string // last lines of charon.log
	Err     error
}

// Error is the cause plus the kept directory and the log tail.
func (e *StartError) Error() string {
	return fmt.Sprintf("%v\n(charon dir %s kept; charon.log tail:\n%s)", e.Err, e.Dir, e.LogTail)
}

// Unwrap returns the cause (often a *CmdError).
func (e *StartError) Unwrap() error { return e.Err }

// run executes a command with CommandTimeout and returns its stdout.
func run(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w after %v", ctx.Err(), CommandTimeout)
		}
		return stdout.String(), &CmdError{Args: append([]string{name}, args...), Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
	}
	return stdout.String(), nil
}

// ip runs `ip ARGS`.
func ip(args ...string) (string, error) { return run(nil, "ip", args...) }

var availOnce struct {
	sync.Mutex
	checked bool
	err     error
}

// Available returns nil when this machine can run Start: root, `ip`,
// `unshare`, `mount`, CharonPath, `swanctl`, and `ip netns add` working.
// Otherwise it returns an *UnavailableError naming what is missing. The
// result is computed once per process.
func Available() error {
	availOnce.Lock()
	defer availOnce.Unlock()
	if !availOnce.checked {
		availOnce.err = checkAvailable()
		availOnce.checked = true
	}
	return availOnce.err
}

func checkAvailable() error {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, fmt.Sprintf("not root (euid %d)", os.Geteuid()))
	}
	for _, tool := range []string{"ip", "unshare", "mount", "swanctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, fmt.Sprintf("%s not in PATH", tool))
		}
	}
	if fi, err := os.Stat(CharonPath); err != nil || fi.Mode()&0o111 == 0 {
		missing = append(missing, CharonPath+" missing (apt-get install strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-extra-plugins)")
	}
	if fi, err := os.Stat("/dev/net/tun"); err != nil || fi.Mode()&os.ModeDevice == 0 {
		missing = append(missing, "/dev/net/tun missing")
	}
	if len(missing) == 0 {
		name := uniqueName("avail")
		if _, err := ip("netns", "add", name); err != nil {
			missing = append(missing, "ip netns add failed: "+err.Error())
		} else if _, err := ip("netns", "del", name); err != nil {
			missing = append(missing, "ip netns del failed: "+err.Error())
		}
	}
	if len(missing) > 0 {
		return &UnavailableError{Missing: missing}
	}
	return nil
}

var seq atomic.Uint64

// uniqueName returns a namespace name unique to this process and call:
// "hlt-<pid>-<seq>-<role>".
func uniqueName(role string) string {
	return fmt.Sprintf("hlt-%d-%d-%s", os.Getpid(), seq.Add(1), role)
}

// Start creates the namespaces, veth pair and addresses, writes the
// configuration, launches charon in the daemon namespace, waits for its vici
// socket (ViciTimeout) and loads the configuration with `swanctl
// --load-all`. charon then waits as a responder (start_action none); Initiate
// makes it the initiator towards ProbeOuter. On any error, everything set up
// so far is torn down; if charon had been launched the error is a
// *StartError and the directory is kept for its log.
func Start(o Options) (env *Env, err error) {
	if err := Available(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	e := &Env{
		ProbeOuter:  probeOuter,
		DaemonOuter: daemonOuter,
		ProbeInner:  probeInner,
		DaemonInner: daemonInner,
		Conn:        ConnName,
		Child:       ChildName,
		Options:     o,
	}
	defer func() {
		if err != nil {
			if e.charon != nil {
				err = &StartError{Dir: e.Dir, LogTail: e.LogTail(30), Err: err}
				e.KeepDir = true
			}
			if cerr := e.Close(); cerr != nil {
				err = fmt.Errorf("%w; cleanup: %v", err, cerr)
			}
		}
	}()
	e.Dir, err = os.MkdirTemp("", "charontest-")
	if err != nil {
		return nil, fmt.Errorf("charontest: temp dir: %w", err)
	}
	if err := e.setupNetwork(); err != nil {
		return nil, err
	}
	cfg := charonConfig{
		Dir:         e.Dir,
		Local:       e.DaemonOuter,
		Remote:      e.ProbeOuter,
		LocalTS:     e.DaemonInner,
		RemoteTS:    e.ProbeInner,
		Conn:        e.Conn,
		Child:       e.Child,
		Options:     o,
		StartAction: "none",
	}
	if err := cfg.write(); err != nil {
		return nil, err
	}
	e.charon, err = launchCharon(e.DaemonNS, e.Dir)
	if err != nil {
		return nil, err
	}
	if _, err := e.Swanctl("--load-all", "--file", swanctlConfPath(e.Dir)); err != nil {
		return nil, err
	}
	return e, nil
}

// setupNetwork creates both namespaces, the veth pair directly inside them
// (it never exists in the root namespace) and the addresses.
func (e *Env) setupNetwork() error {
	e.ProbeNS, e.DaemonNS = uniqueName("p"), uniqueName("d")
	for _, ns := range []string{e.ProbeNS, e.DaemonNS} {
		if _, err := ip("netns", "add", ns); err != nil {
			return err
		}
	}
	if _, err := ip("link", "add", VethName, "netns", e.ProbeNS, "type", "veth",
		"peer", "name", VethName, "netns", e.DaemonNS); err != nil {
		return err
	}
	for _, side := range []struct {
		ns    string
		outer netip.Addr
		inner netip.Prefix
	}{{e.ProbeNS, e.ProbeOuter, e.ProbeInner}, {e.DaemonNS, e.DaemonOuter, e.DaemonInner}} {
		for _, args := range [][]string{
			{"link", "set", "lo", "up"},
			{"addr", "add", side.inner.String(), "dev", "lo"},
			{"addr", "add", side.outer.String() + "/24", "dev", VethName},
			{"link", "set", VethName, "up"},
		} {
			if _, err := ip(append([]string{"-n", side.ns}, args...)...); err != nil {
				return err
			}
		}
	}
	return nil
}

// daemon is one charon process started by this package.
type daemon struct {
	ns   string
	dir  string
	cmd  *exec.Cmd
	out  *os.File
	done chan struct{} // closed when cmd.Wait returned
	werr error         // cmd.Wait's result, valid after done
}

// launchCharon starts charon in namespace ns, in a private mount namespace
// with dir/run bind-mounted over /run, with STRONGSWAN_CONF=dir/strongswan.conf,
// and waits until its vici socket answers. `ip netns exec`, `unshare` and
// `sh -c exec` all exec in place, so the started pid is charon's.
func launchCharon(ns, dir string) (*daemon, error) {
	out, err := os.Create(filepath.Join(dir, "charon.out"))
	if err != nil {
		return nil, fmt.Errorf("charontest: %w", err)
	}
	script := fmt.Sprintf("mount --bind %s /run && exec %s", shellQuote(filepath.Join(dir, "run")), CharonPath)
	cmd := exec.Command("ip", "netns", "exec", ns, "unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+filepath.Join(dir, "strongswan.conf"))
	cmd.Stdout, cmd.Stderr = out, out
	// Own process group, so a terminal's ^C reaches only the test; SIGKILL
	// when the test process dies (a timeout, a crash), so that leaks no
	// daemon. Pdeathsig follows the forking OS thread: Start must not run
	// on a locked thread that exits afterwards.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("charontest: start charon in %s: %w", ns, err)
	}
	d := &daemon{ns: ns, dir: dir, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		d.werr = cmd.Wait()
		out.Close()
		close(d.done)
	}()
	if err := d.waitVici(ViciTimeout); err != nil {
		if serr := d.stop(); serr != nil {
			err = fmt.Errorf("%w; %v", err, serr)
		}
		return nil, err
	}
	return d, nil
}

// viciPath is the daemon's vici socket.
func (d *daemon) viciPath() string { return filepath.Join(d.dir, "run", "charon.vici") }

// waitVici polls the vici socket until it accepts a connection.
func (d *daemon) waitVici(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-d.done:
			out, _ := os.ReadFile(filepath.Join(d.dir, "charon.out"))
			return fmt.Errorf("charontest: charon in %s exited before vici was up (%v): %s", d.ns, d.werr, lastLines(string(out), 10))
		default:
		}
		if c, err := net.DialTimeout("unix", d.viciPath(), time.Second); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("charontest: charon (pid %d) in %s: vici socket %s not up within %v", d.cmd.Process.Pid, d.ns, d.viciPath(), timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM, waits up to StopTimeout, then SIGKILL and waits again.
func (d *daemon) stop() error {
	select {
	case <-d.done:
		return nil
	default:
	}
	pid := d.cmd.Process.Pid
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return nil
	case <-time.After(StopTimeout):
	}
	_ = d.cmd.Process.Kill()
	select {
	case <-d.done:
		return fmt.Errorf("charontest: charon pid %d ignored SIGTERM for %v, killed", pid, StopTimeout)
	case <-time.After(StopTimeout):
		return fmt.Errorf("charontest: charon pid %d still running %v after SIGKILL", pid, StopTimeout)
	}
}

// swanctl runs swanctl against this daemon's vici socket, inside its
// network namespace.
func (d *daemon) swanctl(args ...string) (string, error) {
	// swanctl's options belong to a command: the command comes first.
	full := []string{"netns", "exec", d.ns, "swanctl"}
	if len(args) > 0 {
		full = append(full, args[0])
		args = args[1:]
	}
	full = append(append(full, "--uri", "unix://"+d.viciPath()), args...)
	return run([]string{"STRONGSWAN_CONF=" + filepath.Join(d.dir, "strongswan.conf")}, "ip", full...)
}

// CharonPid returns the pid of the running charon, or 0 if none.
func (e *Env) CharonPid() int {
	if e.charon == nil {
		return 0
	}
	return e.charon.cmd.Process.Pid
}

// ViciURI is the swanctl --uri of this charon.
func (e *Env) ViciURI() string { return "unix://" + filepath.Join(e.Dir, "run", "charon.vici") }

// LogPath is charon's file log.
func (e *Env) LogPath() string { return filepath.Join(e.Dir, "charon.log") }

// Swanctl runs `swanctl ARGS[0] --uri unix://Dir/run/charon.vici ARGS[1:]`
// in the daemon namespace (swanctl wants the command before its options) and
// returns its stdout; a failure is a *CmdError with swanctl's output.
func (e *Env) Swanctl(args ...string) (string, error) {
	if e.charon == nil {
		return "", errors.New("charontest: charon not running")
	}
	return e.charon.swanctl(args...)
}

// Rekey makes charon initiate a Quick Mode rekey of the child
// (`swanctl --rekey --child Child`). swanctl returns once the request is
// queued; poll ChildSAs for the new SPIs.
func (e *Env) Rekey() error {
	_, err := e.Swanctl("--rekey", "--child", e.Child)
	return err
}

// Initiate makes charon initiate Main Mode and Quick Mode towards ProbeOuter
// (`swanctl --initiate --child Child`), waiting up to 10 s for the result.
func (e *Env) Initiate() error {
	_, err := e.Swanctl("--initiate", "--child", e.Child, "--timeout", "10")
	return err
}

// Terminate deletes the IKE SA (and its children) of Conn, sending Deletes.
func (e *Env) Terminate() error {
	_, err := e.Swanctl("--terminate", "--ike", e.Conn, "--timeout", "10")
	return err
}

// LogTail returns the last n lines of Dir/charon.log ("" if it is missing).
func (e *Env) LogTail(n int) string {
	if e.Dir == "" {
		return ""
	}
	b, err := os.ReadFile(e.LogPath())
	if err != nil {
		return ""
	}
	return lastLines(string(b), n)
}

// Close stops charon by pid (SIGTERM, SIGKILL after StopTimeout), kills any
// other process left in the two namespaces by pid, deletes the namespaces
// and removes Dir unless KeepDir. It is safe to call more than once; later
// calls return the first call's result.
func (e *Env) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.close() })
	return e.closeErr
}

func (e *Env) close() error {
	var errs []error
	for _, d := range []*daemon{e.peer, e.charon} {
		if d != nil {
			errs = append(errs, d.stop())
		}
	}
	for _, ns := range []string{e.ProbeNS, e.DaemonNS} {
		if ns == "" {
			continue
		}
		errs = append(errs, killNSPids(ns))
		if _, err := os.Stat(filepath.Join("/run/netns", ns)); err == nil {
			if _, err := ip("netns", "del", ns); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if e.Dir != "" && !e.KeepDir {
		errs = append(errs, os.RemoveAll(e.Dir))
	}
	return errors.Join(errs...)
}

// killNSPids SIGKILLs, by pid, the processes still in namespace ns (other
// than this process), and reports them: they are leaks of the caller's.
func killNSPids(ns string) error {
	out, err := ip("netns", "pids", ns)
	if err != nil {
		return nil // namespace already gone
	}
	var left []string
	for _, f := range strings.Fields(out) {
		var pid int
		if _, err := fmt.Sscan(f, &pid); err != nil || pid == os.Getpid() || pid <= 1 {
			continue
		}
		if p, err := os.FindProcess(pid); err == nil && p.Signal(syscall.SIGKILL) == nil {
			left = append(left, f)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("charontest: killed processes left in namespace %s: %s", ns, strings.Join(left, " "))
	}
	return nil
}

func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
