//go:build !unix

package main

import "io/fs"

// fileModesMean is false where the permission bits do not say who may read
// a file: no secret file warning is given there.
const fileModesMean = false

func ownedByMe(fs.FileInfo) bool { return false }
