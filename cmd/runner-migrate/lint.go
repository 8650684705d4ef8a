package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/lint"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
	"github.com/runner-migrate/runner-migrate/internal/releases"
	"github.com/runner-migrate/runner-migrate/internal/report"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

type lintOptions struct {
	values        []string
	gitlabVersion string
	failOn        string
	format        string
	output        string

	// Deployed releases, read from a cluster.
	clusterFlags
	release       string
	allNamespaces bool
	deployed      bool
	timeout       time.Duration
}

func newLintCmd() *cobra.Command {
	o := lintOptions{gitlabVersion: rules.DefaultGitLabVersion.String(), failOn: "error", format: "text"}
	cmd := &cobra.Command{
		Use:   "lint [PATH...]",
		Short: "Find values and manifests that still depend on legacy runner registration",
		Long: `lint checks Helm values files, charts and rendered manifests for what still depends on legacy
runner registration tokens, with the file and line, why it breaks on the target GitLab version and
how to fix it. PATH is a values file, a manifest file (rendered, or Argo CD Applications and Flux
HelmReleases with their values), a directory (walked: every YAML file outside hidden directories and
chart templates) or "-" for stdin (helm template ... | runner-migrate lint -). With no PATH it lints
the current directory.

-f lints the merge of several values files the way Helm merges them (after the values.yaml of a chart
given as PATH), reporting each finding at the file and line that set the value.

Deployed releases: --release NAME, -n NAMESPACE (or --deployed, for the namespace Helm or the kube
context names) and --all-namespaces read the newest deployed revision of each release from Helm's
release storage in the cluster (Secrets and ConfigMaps) and lint its values and its manifest, as
"pluto detect-helm" does for API versions. As a Helm plugin (helm runner-migrate lint), Helm takes
-n for itself: say --deployed -n NAMESPACE.

Exit status: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage errors or files
that cannot be read (every report carries them).
Rules and their fixes: https://github.com/runner-migrate/runner-migrate#lint-rules`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.deployed = o.deployed || cmd.Flags().Changed("namespace")
			return o.run(cmd.Context(), args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.values, "values", "f", nil, "values file of one release; repeat to merge several, later ones winning")
	f.StringVar(&o.gitlabVersion, "gitlab-version", o.gitlabVersion, "GitLab version the severities are for (before 15.6: nothing; 15.6-16.x: warnings; 17.0+: errors)")
	f.StringVar(&o.failOn, "fail-on", o.failOn, "exit 1 when a finding is at least this severe: error, warning or info")
	f.StringVar(&o.format, "format", o.format, "output: "+strings.Join(report.Formats, ", "))
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file instead of stdout")
	f.StringVar(&o.release, "release", "", "lint this deployed release (in -n's namespace) from the cluster")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "lint the deployed releases of every namespace of the cluster")
	f.BoolVar(&o.deployed, "deployed", false, "lint the deployed releases of the namespace (-n, HELM_NAMESPACE, else the kube context's)")
	f.DurationVar(&o.timeout, "timeout", 2*time.Minute, "deadline for reading the cluster")
	o.clusterFlags.bind(f, "lint the deployed releases of this namespace (default for --release and --deployed: HELM_NAMESPACE, else the kube context's)")
	cmd.SetFlagErrorFunc(usageError)
	return cmd
}

func (o lintOptions) run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	target, err := rules.ParseGitLabVersion(o.gitlabVersion)
	if err != nil {
		return usageError(nil, fmt.Errorf("--gitlab-version: %w", err))
	}
	failOn, err := rules.ParseSeverity(o.failOn)
	if err != nil {
		return usageError(nil, fmt.Errorf("--fail-on: %w", err))
	}
	if o.timeout <= 0 {
		return usageError(nil, fmt.Errorf("--timeout %s: give a positive duration such as 2m", o.timeout))
	}
	if !validFormat(o.format) {
		return usageError(nil, fmt.Errorf("--format %q: want one of %s", o.format, strings.Join(report.Formats, ", ")))
	}
	opts := lint.Options{Paths: args, ValuesFiles: o.values, Target: target, Stdin: stdin}
	if o.release != "" || o.allNamespaces || o.deployed {
		if ctx == nil {
			ctx = context.Background()
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
		if opts.Releases, opts.LiveSecret, err = o.deployedReleases(ctx, stderr); err != nil {
			return usageErr{err} // like a file lint cannot read: exit 2
		}
		opts.Deployed = true
	}
	res := lint.Run(opts)
	out, color := stdout, o.format == "text" && isTerminal(stdout) && os.Getenv("NO_COLOR") == ""
	if o.output != "" {
		f, err := os.Create(o.output)
		if err != nil {
			return usageError(nil, err)
		}
		defer f.Close()
		out, color = f, false
	}
	if err := report.Write(out, res, report.Options{Format: o.format, Color: color, ToolVersion: version, GitLabVersion: target}); err != nil {
		return err
	}
	// Every report carries the files lint could not read; stderr names them too, unless the report
	// is the text on stdout, which already shows them.
	if o.format != "text" || o.output != "" {
		for _, e := range res.Errors {
			fmt.Fprintln(stderr, "runner-migrate: "+e.Error())
		}
	}
	switch {
	case len(res.Errors) > 0:
		return exitCode(2)
	case worst(res.Findings) >= failOn:
		return exitCode(1)
	}
	return nil
}

func validFormat(f string) bool {
	for _, x := range report.Formats {
		if f == x {
			return true
		}
	}
	return false
}

func worst(fs []rules.Finding) rules.Severity {
	w := rules.SeverityNone
	for _, f := range fs {
		w = max(w, f.Severity)
	}
	return w
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// deployedReleases reads the releases --release, -n/--deployed or --all-namespaces name from the
// cluster, saying on stderr which cluster and how many.
// The releases' Secrets are read with the same client, to judge runners by what their token Secret
// holds.
func (o lintOptions) deployedReleases(ctx context.Context, stderr io.Writer) ([]*releases.Release, rules.LiveSecret, error) {
	if o.allNamespaces && (o.namespace != "" || o.release != "") {
		return nil, nil, errors.New("--all-namespaces reads every release of the cluster: leave out -n and --release")
	}
	target, err := kube.Resolve(o.layers()...)
	if err != nil {
		return nil, nil, fmt.Errorf("reading deployed releases: %w", err)
	}
	client, err := kube.NewClient(target.Config)
	if err != nil {
		return nil, nil, err
	}
	store := &kube.Store{Client: client, Namespace: target.Namespace}
	live := func(ns, name string) (token.Token, token.Token, bool, error) {
		s, err := store.Secret(ctx, ns, name)
		if err != nil || s == nil {
			return token.Token{}, token.Token{}, false, err
		}
		return token.New(string(s.Data[rewrite.KeyRegistrationToken])), token.New(string(s.Data[rewrite.KeyRunnerToken])), true, nil
	}
	q := releases.Query{Namespace: target.Namespace, Name: o.release}
	where := "namespace " + target.Namespace + " (from " + target.NamespaceSource + ")"
	if o.allNamespaces {
		q.Namespace, where = "", "all namespaces"
	}
	rels, err := releases.Deployed(ctx, client, q)
	if len(rels) == 0 && err != nil {
		return nil, nil, err
	}
	if err != nil {
		fmt.Fprintln(stderr, "runner-migrate: warning: "+err.Error())
	}
	what := fmt.Sprintf("%d deployed release(s)", len(rels))
	if o.release != "" {
		what = "release " + o.release
		if len(rels) == 0 {
			return nil, nil, fmt.Errorf("no deployed release %q in %s of cluster %s (helm list -n %s shows what there is)",
				o.release, where, target.Config.Host, target.Namespace)
		}
	}
	fmt.Fprintf(stderr, "runner-migrate: linting %s in %s of cluster %s\n", what, where, target.Config.Host)
	return rels, live, nil
}
