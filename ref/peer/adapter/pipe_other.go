//go:build !linux

package adapter

import "os"

func blockingPipe() (r, w *os.File, err error) { return os.Pipe() }
