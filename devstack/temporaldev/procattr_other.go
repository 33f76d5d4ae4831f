//go:build !linux

package temporaldev

import "syscall"

// dieWithParent has no portable equivalent outside Linux: there the server is stopped by
// Stop alone.
func dieWithParent() *syscall.SysProcAttr { return nil }
