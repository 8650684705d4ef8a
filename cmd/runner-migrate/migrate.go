package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/migrate"
	"github.com/runner-migrate/runner-migrate/internal/plan"
	"github.com/runner-migrate/runner-migrate/internal/statefile"
)

type migrateOptions struct {
	values      []string
	release     string
	chart       string
	output      string
	diff        bool
	inlineToken bool
	dryRun      bool

	gitlabFlags
	scopeFlags
	clusterFlags
	noCluster     bool
	stateFile     string
	timeout       time.Duration
	leaseDuration time.Duration
}

func newMigrateCmd() *cobra.Command {
	o := migrateOptions{timeout: 2 * time.Minute, leaseDuration: 15 * time.Second}
	cmd := &cobra.Command{
		Use:   "migrate [VALUES...] [-f VALUES]...",
		Short: "Move values files to runner authentication tokens for good (no post-renderer needed afterwards)",
		Long: `migrate rewrites values files so that the runners they configure register with a runner
authentication token, and creates those runners in GitLab through the API (the same runners the
post-renderer would create and reuse). For each runner that registers with a registration token:

  - the runner is created (or the one runner-migrate made for the release before is reused), with
    the settings the values pass at registration (tags, run-untagged, locked, protected, maximum
    timeout), on the GitLab --gitlab-url names, with GITLAB_TOKEN;
  - its token goes into a Secret <deployment>-auth-token in the release namespace, holding
    runner-token and an empty runner-registration-token, and the values point at it
    (runners.secret; for the GitLab chart's bundled runner global.runner.registrationToken.secret);
    --inline-token writes runnerToken into the values instead (a secret in git);
  - runnerRegistrationToken and the settings GitLab owns are removed from the values.

Several values files are the layers of one release (helm -f order): keys are removed from every
file that sets them, and added to the file of highest precedence that configures the runner.
Argo CD Applications and Flux HelmReleases with inline values are migrated in place, each as the
release it declares. Only the lines that change differ: comments, key order, quoting,
indentation and blank lines stay.

--chart renders the release with the Helm CLI (HELM_BIN, else helm on the PATH) to derive each
runner's spec exactly as the post-renderer does, and renders the migrated values to check that
the runner registers with its token and passes nothing GitLab refuses. Without a chart the spec
comes from the values, read as the chart reads them.

--dry-run prints the diff and the plan and only reads GitLab and the cluster. A second run finds
the values migrated and changes nothing.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), append(args, o.values...), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.values, "values", "f", nil, "values file, or manifest with Argo CD Applications or Flux HelmReleases (repeat; as positional arguments)")
	f.StringVar(&o.release, "release", "", "the release the values files configure (it names the runner's Deployment and Secret)")
	f.StringVar(&o.chart, "chart", "", "chart to render the release with (a directory, a .tgz or a repository chart such as gitlab/gitlab-runner)")
	f.StringVar(&o.output, "output", "", "write the migrated files into this directory instead of in place")
	f.BoolVar(&o.diff, "diff", false, "print the unified diff of the values instead of writing them (runners and Secrets are created)")
	f.BoolVar(&o.inlineToken, "inline-token", false, "write the runner's token into the values (runnerToken) instead of a Secret: a secret in git")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the diff and the plan; only read GitLab and the cluster")
	o.gitlabFlags.bind(f)
	o.scopeFlags.bind(f)
	o.clusterFlags.bind(f, "the release namespace (default: HELM_NAMESPACE, which helm -n sets for plugins, else the kube context's)")
	f.BoolVar(&o.noCluster, "no-cluster", false, "use no Kubernetes cluster (with --inline-token and --state-file)")
	f.StringVar(&o.stateFile, "state-file", "", "also keep runner tokens in this file (written 0600, locked while used)")
	f.DurationVar(&o.timeout, "timeout", o.timeout, "deadline for all GitLab and Kubernetes calls")
	f.DurationVar(&o.leaseDuration, "lease-duration", o.leaseDuration, "how long a run's Lease blocks others after the run dies")
	bindEnv(cmd)
	cmd.SetFlagErrorFunc(usageError)
	return cmd
}

func (o *migrateOptions) validate(files []string) error {
	switch {
	case len(files) == 0:
		return errors.New("nothing to migrate: give values files (migrate values.yaml, or -f values.yaml)")
	case o.timeout <= 0:
		return fmt.Errorf("--timeout %s: give a positive duration such as 2m", o.timeout)
	case o.leaseDuration < time.Second:
		return fmt.Errorf("--lease-duration %s: give at least 1s", o.leaseDuration)
	case o.diff && o.output != "":
		return errors.New("--diff prints the changes and --output writes them: give one")
	case o.noCluster && !o.inlineToken:
		return errors.New("--no-cluster: without a cluster there is no Secret to keep the token in; add --inline-token (and --state-file)")
	}
	if o.output != "" {
		seen := map[string]string{}
		for _, f := range files {
			if other, ok := seen[filepath.Base(f)]; ok {
				return fmt.Errorf("--output %s: %s and %s would both be written as %s", o.output, other, f, filepath.Base(f))
			}
			seen[filepath.Base(f)] = f
		}
	}
	return nil
}

func (o *migrateOptions) run(ctx context.Context, files []string, stdout, stderr io.Writer) error {
	if err := o.validate(files); err != nil {
		return usageErr{err}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	warn := func(msg string) { fmt.Fprintln(stderr, "runner-migrate: warning: "+msg) }
	note := func(msg string) { fmt.Fprintln(stderr, "runner-migrate: "+msg) }

	opts := migrate.Options{Files: files, Release: o.release, Chart: o.chart, InlineToken: o.inlineToken, DryRun: o.dryRun, Warn: warn, Note: note}
	opts.Helm, _ = plan.HelmBinary() // "" when none: needed only to render a chart
	var store *kube.Store
	opts.Namespace = firstSet(o.namespace, os.Getenv("HELM_NAMESPACE"), "default")
	if !o.noCluster {
		target, err := kube.Resolve(o.layers()...)
		if err != nil {
			return fmt.Errorf("migrate keeps runner tokens in the cluster: %w", err)
		}
		client, err := kube.NewClient(target.Config)
		if err != nil {
			return err
		}
		note("runner tokens are kept in " + target.Describe())
		store = &kube.Store{Client: client, Namespace: target.Namespace, LeaseDuration: o.leaseDuration, Holder: holderIdentity(), Warn: warn}
		opts.Namespace, opts.Cluster = target.Namespace, store
	}
	pat, err := o.accessToken()
	if err != nil {
		return err
	}
	if !pat.IsZero() {
		cfg := gitlab.Config{
			Destination: o.destination(),
			Client:      o.clientConfig(pat),
			Scope:       o.scopeConfig(),
			Namespace:   opts.Namespace,
			DryRun:      o.dryRun,
			// migrate writes the token into the Secret the values point at right away, so a reset
			// (adopting an orphan, rotating a token about to expire) is as good as deployed.
			MayReset: !o.dryRun,
			Warn:     warn,
		}
		if store != nil {
			cfg.Stores, cfg.LegacyTokens = append(cfg.Stores, store), store
		}
		if o.stateFile != "" {
			cfg.Stores = append(cfg.Stores, &statefile.File{Path: o.stateFile})
		}
		if opts.Provisioner, err = gitlab.New(cfg); err != nil {
			return err
		}
	}

	res, err := migrate.Run(ctx, opts)
	if o.dryRun {
		note("dry run: nothing was created or changed; the diff is on stdout. The plan:")
	}
	if opts.Provisioner != nil {
		for _, a := range opts.Provisioner.Actions() {
			note(a.String())
		}
	}
	if res != nil {
		for _, line := range res.Report {
			note(line)
		}
	}
	if err != nil {
		return err
	}
	return o.write(res, stdout, note)
}

// write puts the migrated files where the flags say: a diff (--diff, --dry-run), a directory
// (--output), or in place.
func (o *migrateOptions) write(res *migrate.Result, stdout io.Writer, note func(string)) error {
	if o.diff || o.dryRun {
		d, err := res.Diff()
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, d)
		return err
	}
	changed := 0
	for _, f := range res.Files {
		path := f.Path
		if o.output != "" {
			if err := os.MkdirAll(o.output, 0o755); err != nil {
				return err
			}
			path = filepath.Join(o.output, filepath.Base(f.Path))
		} else if !f.Changed() {
			continue
		}
		if err := writeFileAtomic(path, f.Path, f.After); err != nil {
			return err
		}
		if f.Changed() {
			changed++
			note("wrote " + path)
		}
	}
	if changed == 0 {
		note("the values are migrated already: nothing to change")
	}
	return nil
}

// writeFileAtomic replaces path with data: a temporary file in the same directory, synced and
// renamed over it, with the mode of the file it was read from.
func writeFileAtomic(path, from string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(from); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".runner-migrate-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
