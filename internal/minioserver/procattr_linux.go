package minioserver

import "syscall"

// childAttr makes the kernel kill MinIO when the process that started it
// dies, so that a crashed or killed test never leaves a server behind; and
// puts MinIO in its own process group, so that a terminal's Ctrl-C reaches
// only the parent, which then stops MinIO in order.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
