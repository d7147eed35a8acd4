//go:build !linux

package minioserver

import "syscall"

func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
