package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// version and commit are set at build time: -ldflags "-X main.version=0.1.0 -X main.commit=<git
// commit>[-dirty]". The Makefile, make dist and the plugin's install hook (scripts/install-binary.sh)
// set both; the hook compares them with plugin.yaml and the source to decide whether to rebuild.
var (
	version = "dev"
	commit  = ""
)

// build describes this binary.
type build struct {
	Version, Commit, Go, Platform string
}

// currentBuild reads the build settings, falling back to the VCS stamp the Go toolchain writes
// (a plain go build or go install in a checkout) when no commit was set.
func currentBuild() build {
	b := build{Version: version, Commit: commit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if b.Commit == "" {
		if info, ok := debug.ReadBuildInfo(); ok {
			var modified bool
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					b.Commit = s.Value
				case "vcs.modified":
					modified = s.Value == "true"
				}
			}
			if b.Commit != "" && modified {
				b.Commit += "-dirty"
			}
		}
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, source commit and Go version (and, as a Helm plugin, Helm's version)",
		Long: `version prints one "key: value" line each: the version (the plugin's, from plugin.yaml), the
source commit it was built from ("-dirty" when the checkout had changes), the Go version and platform,
and, when Helm runs it as a plugin, the version of that Helm (HELM_BIN).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			writeVersion(cmd.OutOrStdout(), currentBuild(), os.Getenv("HELM_BIN"))
			return nil
		},
	}
}

func writeVersion(w io.Writer, b build, helmBin string) {
	fmt.Fprintf(w, "version: %s\ncommit: %s\ngo: %s %s\n", b.Version, b.Commit, b.Go, b.Platform)
	if helmBin != "" {
		fmt.Fprintf(w, "helm: %s (%s)\n", helmVersion(helmBin), helmBin)
	}
}

// helmVersion asks the Helm that runs this plugin for its version.
func helmVersion(helmBin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, helmBin, "version", "--short").Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return strings.TrimSpace(string(out))
}
