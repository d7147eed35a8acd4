package minioserver

import "syscall"

// childAttr makes the kernel kill MinIO when the process that started it
// dies, so that a crashed or killed test never leaves a server behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
