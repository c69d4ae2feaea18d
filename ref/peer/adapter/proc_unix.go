//go:build unix

package adapter

import (
	"os/exec"
	"syscall"
)

// ownGroup puts the shim in a process group of its own, so that killGroup
// also ends whatever the shim started (a shell, an interpreter's children).
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
