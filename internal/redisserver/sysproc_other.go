//go:build !linux

package redisserver

import "syscall"

// sysProcAttr has nothing to add where there is no parent-death signal: there, a server
// whose parent died without calling Stop keeps running until it is stopped by hand.
func sysProcAttr() *syscall.SysProcAttr {
	return nil
}
