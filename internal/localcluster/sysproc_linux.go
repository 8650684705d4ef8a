package localcluster

import "syscall"

// sysProcAttr puts the child in its own process group and, if asked, has the kernel SIGKILL it when
// its parent dies.
func sysProcAttr(dieWithParent bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if dieWithParent {
		a.Pdeathsig = syscall.SIGKILL
	}
	return a
}
