//go:build !unix

package statefile

import (
	"context"
	"os"
)

// lockFile: without flock, runs that share a state file are not serialised on this platform.
func lockFile(context.Context, *os.File) error { return nil }

func unlockFile(*os.File) {}
