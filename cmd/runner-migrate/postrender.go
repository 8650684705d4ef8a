package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/postrender"
	"github.com/runner-migrate/runner-migrate/internal/statefile"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Credentials come from the environment or files, never from arguments (which other users of the
// machine can read in the process list).
const (
	envAuthToken   = "RUNNER_MIGRATE_AUTH_TOKEN"
	envGitLabToken = "GITLAB_TOKEN"
)

type postRenderOptions struct {
	authTokenFile string
	authTokenMap  string
	allowLegacy   bool
	bundledRunner string

	gitlabURL       string
	gitlabTokenFile string
	caFile          string
	insecure        bool
	runnerType      string
	group, project  string
	kubeContext     string
	namespace       string
	release         string
	stateFile       string
	dryRun          bool
	timeout         time.Duration
}

func newPostRenderCmd() *cobra.Command {
	o := postRenderOptions{kubeContext: os.Getenv("HELM_KUBECONTEXT"), namespace: os.Getenv("HELM_NAMESPACE"), timeout: 2 * time.Minute}
	cmd := &cobra.Command{
		Use:     "post-render",
		Aliases: []string{"postrender"},
		Short:   "Rewrite a rendered manifest stream (stdin to stdout) to authentication tokens",
		Long: `post-render reads the manifests Helm rendered on stdin, finds the GitLab Runner deployments that
register with a legacy registration token, and writes the manifests to stdout patched to register
with a runner authentication token. Documents it does not change pass through byte for byte. On any
error it writes nothing to stdout and exits non-zero.

Tokens given by the user:
  ` + envAuthToken + `   the authentication token (glrt-...) of the one runner the manifests need
  --auth-token-file, --auth-token-map   the same from a file, or several by runner spec fingerprint

Runners created through the GitLab API (when ` + envGitLabToken + ` or --gitlab-token-file is set): one runner
per distinct runner spec, reused on every later run. Its token lives in the live Secret the pod
reads (read back through KUBECONFIG; --kube-context, HELM_KUBECONTEXT), or in --state-file where no
cluster is reachable (helm template, GitOps).

The GitLab chart's bundled runner: without an access token (--bundled-runner mint) a Job added to the
release creates it inside the cluster and writes its token into the runner's Secret; api creates it
through the GitLab API; skip leaves it as rendered.

Every flag can also be set as RUNNER_MIGRATE_<FLAG> (e.g. RUNNER_MIGRATE_STATE_FILE), which is the
way to configure "helm --post-renderer runner-migrate" without --post-renderer-args.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.authTokenFile, "auth-token-file", "", "file holding the runner authentication token")
	f.StringVar(&o.authTokenMap, "auth-token-map", "", "YAML file mapping runner spec fingerprints to authentication tokens")
	f.BoolVar(&o.allowLegacy, "allow-legacy", false, "pass runners without an authentication token through unchanged, with a warning")
	f.StringVar(&o.bundledRunner, "bundled-runner", "", "the GitLab chart's bundled runner: mint (a Job creates it in the cluster), api, or skip (default: api with a GitLab access token, else mint)")
	f.StringVar(&o.gitlabURL, "gitlab-url", "", "GitLab address for the API (default: the runner's CI_SERVER_URL)")
	f.StringVar(&o.gitlabTokenFile, "gitlab-token-file", "", "file holding the GitLab access token (instead of "+envGitLabToken+")")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of CA certificates for a GitLab behind a private CA")
	f.BoolVar(&o.insecure, "insecure-skip-tls-verify", false, "do not verify GitLab's TLS certificate (unsafe)")
	f.StringVar(&o.runnerType, "runner-type", "", "instance, group or project (default: from the registration token the release used)")
	f.StringVar(&o.group, "group", "", "group path or ID, with --runner-type group")
	f.StringVar(&o.project, "project", "", "project path or ID, with --runner-type project")
	f.StringVar(&o.kubeContext, "kube-context", o.kubeContext, "kubeconfig context of the cluster holding the runner Secrets (default HELM_KUBECONTEXT, else the current)")
	f.StringVarP(&o.namespace, "namespace", "n", o.namespace, "namespace of objects the manifests leave without one (default HELM_NAMESPACE)")
	f.StringVar(&o.release, "release", "", "Helm release name, when the chart's labels do not say it")
	f.StringVar(&o.stateFile, "state-file", "", "file keeping runner tokens where no cluster holds them (written 0600)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan on stderr, call only read endpoints, render placeholder tokens")
	f.DurationVar(&o.timeout, "timeout", o.timeout, "deadline for all GitLab and Kubernetes calls")
	bindEnv(cmd)
	return cmd
}

func (o postRenderOptions) run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	warn := func(msg string) { fmt.Fprintln(stderr, "runner-migrate: warning: "+msg) }

	source, provisioner, err := o.tokenSource(warn)
	if err != nil {
		return err
	}
	in, err := io.ReadAll(stdin)
	if err != nil {
		return fmt.Errorf("reading the manifests from stdin: %w", err)
	}
	out, err := postrender.Run(ctx, in, postrender.Options{Source: source, AllowLegacy: o.allowLegacy, Warn: warn,
		BundledRunner: rewrite.BundledMode(o.bundledRunner), Release: o.release, Namespace: o.namespace})
	if provisioner != nil {
		reportActions(stderr, provisioner.Actions(), o.dryRun)
	}
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

func reportActions(w io.Writer, actions []gitlab.Action, dryRun bool) {
	if dryRun {
		fmt.Fprintln(w, "runner-migrate: dry run: nothing was created or changed, and the output holds placeholder tokens (do not deploy it). The plan:")
	}
	for _, a := range actions {
		fmt.Fprintln(w, "runner-migrate: "+a.String())
	}
}

// tokenSource chains the user's tokens (first) and the GitLab provisioner (when an access token is
// given). It returns the provisioner too, for its report.
func (o postRenderOptions) tokenSource(warn func(string)) (tokensource.Source, *gitlab.Provisioner, error) {
	var chain tokensource.Chain
	if o.authTokenMap != "" {
		m, err := tokensource.LoadMap(o.authTokenMap)
		if err != nil {
			return nil, nil, err
		}
		chain = append(chain, m)
	}
	single, origin := token.New(os.Getenv(envAuthToken)), envAuthToken
	if o.authTokenFile != "" {
		if !single.IsZero() {
			return nil, nil, fmt.Errorf("both %s and --auth-token-file are set; give the token one way", envAuthToken)
		}
		t, err := tokensource.ReadTokenFile(o.authTokenFile)
		if err != nil {
			return nil, nil, err
		}
		single, origin = t, "token file "+o.authTokenFile
	}
	if !single.IsZero() {
		s, err := tokensource.NewSingle(single, origin)
		if err != nil {
			return nil, nil, err
		}
		chain = append(chain, s)
	}
	provisioner, err := o.provisioner(warn)
	if err != nil {
		return nil, nil, err
	}
	if provisioner != nil {
		chain = append(chain, provisioner)
	}
	if len(chain) == 0 {
		return nil, nil, nil
	}
	return chain, provisioner, nil
}

// provisioner builds the GitLab provisioner with its stores, or nil when no access token is given.
func (o postRenderOptions) provisioner(warn func(string)) (*gitlab.Provisioner, error) {
	pat := token.New(os.Getenv(envGitLabToken))
	if o.gitlabTokenFile != "" {
		if !pat.IsZero() {
			return nil, fmt.Errorf("both %s and --gitlab-token-file are set; give the access token one way", envGitLabToken)
		}
		t, err := tokensource.ReadTokenFile(o.gitlabTokenFile)
		if err != nil {
			return nil, err
		}
		pat = t
	}
	if pat.IsZero() {
		return nil, nil
	}
	cfg := gitlab.Config{
		GitLabURL: o.gitlabURL,
		Client:    gitlab.ClientConfig{Token: pat, CAFile: o.caFile, Insecure: o.insecure},
		Scope:     gitlab.ScopeConfig{RunnerType: o.runnerType, Group: o.group, Project: o.project},
		Release:   o.release,
		Namespace: o.namespace,
		DryRun:    o.dryRun,
	}
	live, err := o.liveSecrets(warn)
	if err != nil {
		return nil, err
	}
	if live != nil {
		cfg.Stores = append(cfg.Stores, live)
		cfg.LegacyTokens = live
	}
	if o.stateFile != "" {
		cfg.Stores = append(cfg.Stores, &statefile.File{Path: o.stateFile})
	}
	return gitlab.New(cfg)
}

// liveSecrets connects to the cluster holding the runner Secrets, if one is configured.
func (o postRenderOptions) liveSecrets(warn func(string)) (*kube.LiveSecrets, error) {
	restConfig, contextNamespace, err := kube.Config(o.kubeContext)
	if errors.Is(err, kube.ErrNoCluster) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	restConfig.Timeout = 15 * time.Second
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, err
	}
	ns := o.namespace
	if ns == "" {
		ns = contextNamespace
	}
	live := &kube.LiveSecrets{Client: client, Namespace: ns}
	if o.stateFile != "" {
		live.Unreachable = func(err error) error {
			warn(err.Error() + "; carrying on with the state file")
			return nil
		}
	} else {
		live.Unreachable = func(err error) error {
			return fmt.Errorf("%w. The runner's token lives in that Secret; where no cluster is reachable (helm template, GitOps) keep tokens with --state-file", err)
		}
	}
	return live, nil
}
