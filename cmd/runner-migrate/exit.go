package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// exitCode ends the program with a status and no further message (what there was to say is said).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageErr is a mistake in how the command was called: exit status 2.
type usageErr struct{ err error }

func (e usageErr) Error() string { return e.err.Error() }
func (e usageErr) Unwrap() error { return e.err }

func usageError(_ *cobra.Command, err error) error { return usageErr{err} }
