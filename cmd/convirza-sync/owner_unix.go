//go:build unix

package main

import (
	"io/fs"
	"os"
	"syscall"
)

// fileModesMean says the permission bits say who may read a file.
const fileModesMean = true

// ownedByMe reports whether this process's user owns the file.
func ownedByMe(st fs.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == os.Geteuid()
}
