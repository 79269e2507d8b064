//go:build linux

package redisserver

import "syscall"

// sysProcAttr makes the kernel send redis-server SIGTERM when the process that started
// it dies without calling Stop (a test binary killed on timeout, a crash), so that no
// server outlives it. SIGTERM rather than SIGKILL lets Redis flush its append-only file.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
