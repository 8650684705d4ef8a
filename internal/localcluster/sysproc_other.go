//go:build unix && !linux

package localcluster

import "syscall"

// sysProcAttr puts the child in its own process group. Only Linux has a parent-death signal, so
// DieWithParent is ignored here.
func sysProcAttr(dieWithParent bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
