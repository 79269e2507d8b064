//go:build unix

package redisserver

import (
	"errors"
	"os"
	"syscall"
)

// flock takes an exclusive lock on f without waiting. The kernel drops it when
// the process ends, however it ends, so a crash leaves no stale lock behind.
func flock(f *os.File) (held bool, err error) {
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}
