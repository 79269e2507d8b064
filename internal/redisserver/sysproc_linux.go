//go:build linux

package redisserver

import "syscall"

// sysProcAttr makes the kernel send redis-server SIGTERM when the process that started
// it dies without calling Stop (a test binary killed on timeout, a crash), so that no
// server outlives it. SIGTERM rather than SIGKILL lets Redis flush its append-only file.
//
// Setpgid puts redis-server in a process group of its own: Ctrl-C in a terminal (or a
// signal to the bot's process group) reaches only the bot, which then finishes what it
// holds, writing to Redis, and stops Redis itself last.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}
