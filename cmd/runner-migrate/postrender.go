package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/runner-migrate/runner-migrate/internal/postrender"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
)

// Environment variables. Credentials come from the environment or files, never from arguments (which
// other users of the machine can read in the process list).
const (
	envAuthToken     = "RUNNER_MIGRATE_AUTH_TOKEN"
	envAuthTokenFile = "RUNNER_MIGRATE_AUTH_TOKEN_FILE"
	envAuthTokenMap  = "RUNNER_MIGRATE_AUTH_TOKEN_MAP"
	envAllowLegacy   = "RUNNER_MIGRATE_ALLOW_LEGACY"
)

type postRenderOptions struct {
	authTokenFile string
	authTokenMap  string
	allowLegacy   bool
}

func newPostRenderCmd() *cobra.Command {
	o := postRenderOptions{
		authTokenFile: os.Getenv(envAuthTokenFile),
		authTokenMap:  os.Getenv(envAuthTokenMap),
	}
	o.allowLegacy, _ = strconv.ParseBool(os.Getenv(envAllowLegacy))
	cmd := &cobra.Command{
		Use:     "post-render",
		Aliases: []string{"postrender"},
		Short:   "Rewrite a rendered manifest stream (stdin to stdout) to authentication tokens",
		Long: `post-render reads the manifests Helm rendered on stdin, finds the GitLab Runner deployments that
register with a legacy registration token, and writes the manifests to stdout patched to register
with a runner authentication token. Documents it does not change pass through byte for byte. On any
error it writes nothing to stdout and exits non-zero.

Tokens:
  ` + envAuthToken + `       the authentication token (glrt-...) of the one runner the manifests need
  --auth-token-file FILE          the same, read from a file (env ` + envAuthTokenFile + `)
  --auth-token-map FILE           YAML mapping runner spec fingerprints to tokens, for several runners
                                  (env ` + envAuthTokenMap + `)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.authTokenFile, "auth-token-file", o.authTokenFile, "file holding the runner authentication token (env "+envAuthTokenFile+")")
	f.StringVar(&o.authTokenMap, "auth-token-map", o.authTokenMap, "YAML file mapping runner spec fingerprints to authentication tokens (env "+envAuthTokenMap+")")
	f.BoolVar(&o.allowLegacy, "allow-legacy", o.allowLegacy, "pass runners without an authentication token through unchanged, with a warning (env "+envAllowLegacy+")")
	return cmd
}

func (o postRenderOptions) run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	source, err := o.tokenSource()
	if err != nil {
		return err
	}
	in, err := io.ReadAll(stdin)
	if err != nil {
		return fmt.Errorf("reading the manifests from stdin: %w", err)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	out, err := postrender.Run(ctx, in, postrender.Options{
		Source:      source,
		AllowLegacy: o.allowLegacy,
		Warn:        func(msg string) { fmt.Fprintln(stderr, "runner-migrate: warning: "+msg) },
	})
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

// tokenSource builds the user-given token sources: a map file for several runners, or one token.
func (o postRenderOptions) tokenSource() (tokensource.Source, error) {
	var chain tokensource.Chain
	if o.authTokenMap != "" {
		m, err := tokensource.LoadMap(o.authTokenMap)
		if err != nil {
			return nil, err
		}
		chain = append(chain, m)
	}
	single, origin := token.New(os.Getenv(envAuthToken)), envAuthToken
	if o.authTokenFile != "" {
		if !single.IsZero() {
			return nil, fmt.Errorf("both %s and --auth-token-file are set; give the token one way", envAuthToken)
		}
		t, err := tokensource.ReadTokenFile(o.authTokenFile)
		if err != nil {
			return nil, err
		}
		single, origin = t, "token file "+o.authTokenFile
	}
	if !single.IsZero() {
		s, err := tokensource.NewSingle(single, origin)
		if err != nil {
			return nil, err
		}
		chain = append(chain, s)
	}
	if len(chain) == 0 {
		return nil, nil
	}
	return chain, nil
}
