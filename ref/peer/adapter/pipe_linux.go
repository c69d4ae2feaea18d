package adapter

import (
	"os"
	"syscall"
)

// blockingPipe is os.Pipe without the non-blocking mode: reads block in
// the kernel, which wakes the reader directly when the shim writes.
func blockingPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
}
