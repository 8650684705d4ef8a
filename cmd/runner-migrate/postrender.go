package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/helmcall"
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

	gitlabFlags
	scopeFlags
	clusterFlags
	noCluster     bool
	release       string
	stateFile     string
	deploys       string
	dryRun        bool
	timeout       time.Duration
	leaseDuration time.Duration
}

func newPostRenderCmd() *cobra.Command {
	o := postRenderOptions{timeout: 2 * time.Minute, deploys: "auto", leaseDuration: 15 * time.Second}
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
per distinct runner spec, reused on every later run, on the GitLab --gitlab-url names (the access
token goes nowhere else). Its token is kept in the cluster (read through KUBECONFIG; the kube context
and namespace of the helm command runner-migrate runs under), or in --state-file where no cluster is
reachable (helm template, GitOps).

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
	o.gitlabFlags.bind(f)
	o.scopeFlags.bind(f)
	o.clusterFlags.bind(f, "namespace of objects the manifests leave without one (default: helm's -n, else HELM_NAMESPACE, else the context's)")
	f.BoolVar(&o.noCluster, "no-cluster", false, "use no Kubernetes cluster (keep tokens with --state-file), even where a kubeconfig or a service account is found")
	f.StringVar(&o.release, "release", "", "Helm release name (default: helm's command line, else the chart's labels)")
	f.StringVar(&o.stateFile, "state-file", "", "file keeping runner tokens where no cluster holds them (written 0600, locked while used)")
	f.StringVar(&o.deploys, "deploys", o.deploys, "whether this run's output is deployed, which allows token resets (rotation, adoption): auto, true or false")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan on stderr, call only read endpoints, render placeholder tokens")
	f.DurationVar(&o.timeout, "timeout", o.timeout, "deadline for all GitLab and Kubernetes calls")
	f.DurationVar(&o.leaseDuration, "lease-duration", o.leaseDuration, "how long a run's Lease blocks others after the run dies")
	bindEnv(cmd)
	return cmd
}

func (o *postRenderOptions) validate() error {
	switch {
	case o.timeout <= 0:
		return usageErr{fmt.Errorf("--timeout %s: give a positive duration such as 2m", o.timeout)}
	case o.leaseDuration < time.Second:
		return usageErr{fmt.Errorf("--lease-duration %s: give at least 1s", o.leaseDuration)}
	case o.deploys != "auto" && o.deploys != "true" && o.deploys != "false":
		return usageErr{fmt.Errorf("--deploys %q: want auto, true or false", o.deploys)}
	}
	return nil
}

func (o *postRenderOptions) run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	warn := func(msg string) { fmt.Fprintln(stderr, "runner-migrate: warning: "+msg) }
	note := func(msg string) { fmt.Fprintln(stderr, "runner-migrate: "+msg) }

	source, provisioner, err := o.tokenSource(warn, note)
	if err != nil {
		return err
	}
	if source != nil && o.dryRun {
		source = tokensource.Placeholders{Source: source}
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
func (o *postRenderOptions) tokenSource(warn, note func(string)) (tokensource.Source, *gitlab.Provisioner, error) {
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
	provisioner, err := o.provisioner(warn, note)
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
func (o *postRenderOptions) provisioner(warn, note func(string)) (*gitlab.Provisioner, error) {
	pat, err := o.accessToken()
	if err != nil || pat.IsZero() {
		return nil, err
	}
	call, fromHelm := helmcall.Parent()
	mayReset, refusal := o.mayReset(call, fromHelm)
	cfg := gitlab.Config{
		Destination:  o.destination(),
		Client:       o.clientConfig(pat),
		Scope:        o.scopeConfig(),
		Release:      firstSet(o.release, call.Release),
		Namespace:    firstSet(o.namespace, call.Kube.Namespace, os.Getenv("HELM_NAMESPACE")),
		DryRun:       o.dryRun,
		MayReset:     mayReset,
		ResetRefusal: refusal,
		Warn:         warn,
	}
	cluster, err := o.cluster(call, fromHelm, cfg.Namespace, warn, note)
	if err != nil {
		return nil, err
	}
	if cluster != nil {
		cfg.Namespace = cluster.Namespace
		cfg.Stores = append(cfg.Stores, cluster)
		cfg.LegacyTokens = cluster
	}
	if o.stateFile != "" {
		cfg.Stores = append(cfg.Stores, &statefile.File{Path: o.stateFile})
	}
	return gitlab.New(cfg)
}

// mayReset decides whether this run may reset runner tokens: a reset revokes the token the running
// pods hold, so it is right only when the output is deployed. Helm's command says so: install and
// upgrade deploy, template, --dry-run and helm diff do not; helm template with a state file is how
// GitOps deploys. --deploys overrides.
func (o *postRenderOptions) mayReset(call helmcall.Call, fromHelm bool) (bool, string) {
	switch o.deploys {
	case "true":
		return true, ""
	case "false":
		return false, "--deploys=false says the output is not deployed"
	}
	switch {
	case fromHelm && call.Deploys():
		return true, ""
	case fromHelm && call.Command == "template" && o.stateFile != "":
		return true, ""
	case fromHelm:
		return false, call.Describe() + " does not deploy its output (pass --deploys=true if it is applied, as with GitOps)"
	case o.stateFile != "":
		return true, ""
	}
	return false, "runner-migrate cannot tell that its output is deployed (it does not run under helm install or upgrade); pass --deploys=true if it is"
}

// cluster connects to the cluster that keeps runner tokens, chosen as Helm chose its own: runner-
// migrate's flags (and RUNNER_MIGRATE_* env), then the Helm command line it runs under, then
// Helm's environment (HELM_KUBECONTEXT, HELM_NAMESPACE, HELM_KUBE*), then the kubeconfig's current
// context. It says which on stderr.
func (o *postRenderOptions) cluster(call helmcall.Call, fromHelm bool, namespace string, warn, note func(string)) (*kube.Store, error) {
	if o.noCluster {
		return nil, nil
	}
	var helmLayers []kube.Layer
	if fromHelm {
		k := call.Kube
		helmLayers = append(helmLayers, kube.Layer{Name: "the command line of " + call.Source, Settings: kube.Settings{Kubeconfig: k.Kubeconfig, Context: k.Context,
			Namespace: k.Namespace, APIServer: k.APIServer, Token: k.Token, AsUser: k.AsUser, AsGroups: k.AsGroups, CAFile: k.CAFile,
			Insecure: k.Insecure, TLSServerName: k.TLSServerName}})
	}
	target, err := kube.Resolve(o.layers(helmLayers...)...)
	if errors.Is(err, kube.ErrNoCluster) {
		return nil, nil
	}
	if err != nil {
		if o.stateFile != "" {
			warn(err.Error() + "; carrying on with the state file")
			return nil, nil
		}
		return nil, err
	}
	client, err := kube.NewClient(target.Config)
	if err != nil {
		return nil, err
	}
	note("runner tokens are kept in " + target.Describe())
	if target.FromCurrentContext && !fromHelm {
		warn("the Helm command runner-migrate runs under could not be read, so the cluster is the kubeconfig's current context (" + target.Context +
			"); if Helm deploys to another (helm --kube-context), pass the same --kube-context to runner-migrate (RUNNER_MIGRATE_KUBE_CONTEXT)")
	}
	return &kube.Store{Client: client, Namespace: target.Namespace, Fallback: o.stateFile != "", LeaseDuration: o.leaseDuration,
		Holder: holderIdentity(), Warn: warn}, nil
}

// holderIdentity names this run in Leases: host, process and a random part.
func holderIdentity() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("runner-migrate@%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

func firstSet(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
