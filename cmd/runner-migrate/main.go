// Command runner-migrate moves GitLab Runner deployments on Kubernetes off legacy registration tokens:
// as a Helm post-renderer, a Helm plugin and a CI linter.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	root := newRootCmd()
	root.SetArgs(postRenderDefault(os.Args[1:], stdinIsPipe()))
	err := root.Execute()
	var code exitCode
	var usage usageErr
	switch {
	case err == nil:
	case errors.As(err, &code):
		os.Exit(int(code))
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "runner-migrate: "+err.Error())
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "runner-migrate: "+err.Error())
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "runner-migrate",
		Short: "Move GitLab Runner Helm deployments from registration tokens to authentication tokens",
		Long: `runner-migrate finds GitLab Runner deployments that still register with a legacy registration
token (refused by GitLab 17.0 and later: "410 Gone - runner registration disallowed") and moves them
to a runner authentication token (glrt-...).

As a Helm 3 post-renderer:  helm upgrade --install RELEASE CHART --post-renderer runner-migrate
(with no arguments and a manifest stream on stdin, runner-migrate post-renders).
As a Helm plugin (Helm 3 and 4):   helm runner-migrate lint|plan|post-render|version ...`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	addDebugFlag(root)
	root.AddCommand(newPostRenderCmd(), newLintCmd(), newPlanCmd(), newMigrateCmd(), newVersionCmd(), newReportCmd(),
		newDoctorCmd(), newStatusCmd(), newRotateCmd(), newPruneCmd())
	// Cobra asks a command's parents for this, so every command's flag mistakes exit 2.
	root.SetFlagErrorFunc(usageError)
	return root
}

// postRenderDefault makes `runner-migrate` with no subcommand a post-renderer when its stdin is a pipe:
// Helm 3 runs `--post-renderer runner-migrate` with no arguments, or with only the flags given in
// --post-renderer-args.
func postRenderDefault(args []string, stdinPipe bool) []string {
	if !stdinPipe {
		return args
	}
	if len(args) == 0 {
		return []string{"post-render"}
	}
	switch a := args[0]; {
	case a == "-h" || a == "--help" || a == "--version" || a == "-v":
		return args
	case strings.HasPrefix(a, "-"):
		return append([]string{"post-render"}, args...)
	}
	return args
}

func stdinIsPipe() bool {
	fi, err := os.Stdin.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice == 0
}
