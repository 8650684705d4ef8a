package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/runner-migrate/runner-migrate/internal/fleet"
	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/kube"
)

// fleetOptions are what doctor, status, rotate and prune share: the GitLab and cluster settings
// post-render takes, the namespaces to look in, and a deadline.
type fleetOptions struct {
	gitlabFlags
	clusterFlags
	allNamespaces bool
	timeout       time.Duration
}

func (o *fleetOptions) bind(cmd *cobra.Command, namespaceUsage string) {
	f := cmd.Flags()
	o.gitlabFlags.bind(f)
	o.clusterFlags.bind(f, namespaceUsage)
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "every namespace (instead of -n)")
	f.DurationVar(&o.timeout, "timeout", o.timeout, "deadline for all GitLab and Kubernetes calls")
}

func (o *fleetOptions) validate() error {
	if o.timeout <= 0 {
		return usageErr{fmt.Errorf("--timeout %s: give a positive duration such as 2m", o.timeout)}
	}
	if o.allNamespaces && o.namespace != "" {
		return usageErr{errors.New("-n and --all-namespaces exclude each other")}
	}
	return nil
}

// open connects to the cluster (chosen as post-render chooses it, without a Helm command line) and
// prepares the GitLab connector (nil without an access token). The namespace is "" with
// --all-namespaces. Without a cluster, target is nil and err says why.
func (o *fleetOptions) open() (f *fleet.Fleet, target *kube.Target, namespace string, clusterErr, err error) {
	f = &fleet.Fleet{}
	pat, err := o.accessToken()
	if err != nil {
		return nil, nil, "", nil, err
	}
	if !pat.IsZero() {
		f.GitLab = &gitlab.Connector{Destination: o.destination(), Client: o.clientConfig(pat)}
	}
	target, clusterErr = kube.Resolve(o.layers()...)
	if clusterErr != nil {
		return f, nil, o.namespace, clusterErr, nil
	}
	if f.Kube, err = kube.NewClient(target.Config); err != nil {
		return nil, nil, "", nil, err
	}
	if !o.allNamespaces {
		namespace = target.Namespace
	}
	return f, target, namespace, nil, nil
}

// openCluster is open for the commands that cannot work without a cluster and an access token.
func (o *fleetOptions) openCluster(command string) (*fleet.Fleet, string, error) {
	f, _, namespace, clusterErr, err := o.open()
	switch {
	case err != nil:
		return nil, "", err
	case clusterErr != nil:
		return nil, "", fmt.Errorf("%s reads the runners' Secrets from the cluster: %w", command, clusterErr)
	case f.GitLab == nil:
		return nil, "", fmt.Errorf("%s needs GitLab: set %s or --gitlab-token-file (scopes manage_runner and read_api, or api) and --gitlab-url", command, envGitLabToken)
	}
	return f, namespace, nil
}

// runWithCluster is the frame of status, rotate and prune: check the flags (invalid, when not nil,
// is the command's own usage mistake), open the cluster and GitLab, work within the deadline.
func (o *fleetOptions) runWithCluster(cmd *cobra.Command, invalid error, work func(ctx context.Context, f *fleet.Fleet, namespace string) error) error {
	if err := o.validate(); err != nil {
		return err
	}
	if invalid != nil {
		return usageErr{invalid}
	}
	f, namespace, err := o.openCluster(cmd.Name())
	if err != nil {
		return err
	}
	ctx, cancel := o.context(cmd)
	defer cancel()
	return work(ctx, f, namespace)
}

func (o *fleetOptions) context(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, o.timeout)
}

func reportFormat(format string) error {
	if format != "text" && format != "json" {
		return fmt.Errorf("--format %q: want text or json", format)
	}
	return nil
}

func newDoctorCmd() *cobra.Command {
	o := fleetOptions{timeout: time.Minute}
	var scope scopeFlags
	format := "text"
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check, read-only, that GitLab, the access token and the cluster are ready for migration",
		Long: `doctor checks, in seconds and without changing anything, what migration and the commands after it
need: GitLab answering at --gitlab-url and its version; whether it still allows registration tokens
(where the access token may read the application settings); the access token's scopes (create_runner,
manage_runner and read_api; api is more than needed) and expiry; the role it holds in the scope each
release would use (--runner-type, else the group or project of each release's registration token) and
in the scope of each runner already migrated; the cluster answering and the rights runner-migrate
needs there (Secrets, Leases, and the workloads rotate rolls).

Each problem comes with its fix. Exit status 0 when all is well (warnings included), 1 on errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			if err := reportFormat(format); err != nil {
				return usageErr{err}
			}
			f, target, namespace, clusterErr, err := o.open()
			if err != nil {
				return err
			}
			ctx, cancel := o.context(cmd)
			defer cancel()
			opts := fleet.DoctorOptions{Namespace: namespace, NoCluster: clusterErr, Scope: scope.scopeConfig()}
			if target != nil {
				opts.Cluster = target.Describe()
			}
			report := f.Doctor(ctx, opts)
			if format == "json" {
				err = report.WriteJSON(cmd.OutOrStdout(), version)
			} else {
				err = report.WriteText(cmd.OutOrStdout())
			}
			if err == nil && report.Failed() {
				return exitCode(1)
			}
			return err
		},
	}
	o.bind(cmd, "namespace the releases live in, where rights are checked (default: HELM_NAMESPACE, else the kube context's)")
	scope.bind(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", format, "text or json")
	bindEnv(cmd)
	return cmd
}

func newStatusCmd() *cobra.Command {
	o := fleetOptions{timeout: 2 * time.Minute}
	opts := fleet.StatusOptions{WarnExpiry: 7 * 24 * time.Hour, Grace: 15 * time.Minute}
	format := "text"
	cmd := &cobra.Command{
		Use:   "status [-n NAMESPACE | --all-namespaces] [--format text|json]",
		Short: "Show every migrated runner: its release, workloads, GitLab's view of it and its token's state",
		Long: `status lists every runner whose token the cluster's Secrets hold (runner-migrate's annotations):
its release, workloads, runner id, spec fingerprint and scope; GitLab's view of it (GET /runners/:id:
online, offline, stale or never_contacted, paused, last contact) and its managers; the token's expiry
and whether the Secrets still hold the token runner-migrate wrote (compared by one-way digests; no
token is printed).

GitLab offers no way to check a runner token without side effects (POST /runners/verify heartbeats
the runner and registers a manager), so status never asks it. A token revoked outside runner-migrate
shows as a runner going offline; a token gitlab-runner rotated itself shows as a contact after the
Secret's token expired.

Exit status 1 when a runner is missing in GitLab, has never contacted GitLab --grace after it was
created, its token expires within --warn-expiry (or has), or the Secrets disagree about its token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			invalid := reportFormat(format)
			if opts.WarnExpiry <= 0 || opts.Grace <= 0 {
				invalid = errors.New("--warn-expiry and --grace: give positive durations")
			}
			return o.runWithCluster(cmd, invalid, func(ctx context.Context, f *fleet.Fleet, namespace string) error {
				opts.Namespace = namespace
				report, err := f.Status(ctx, opts)
				if err != nil {
					return err
				}
				if format == "json" {
					err = report.WriteJSON(cmd.OutOrStdout(), version)
				} else {
					err = report.WriteText(cmd.OutOrStdout(), time.Now())
				}
				if problems, _ := report.Problems(); err == nil && problems > 0 {
					return exitCode(1)
				}
				return err
			})
		},
	}
	o.bind(cmd, "namespace to look in (default: HELM_NAMESPACE, else the kube context's)")
	fl := cmd.Flags()
	fl.StringVar(&format, "format", format, "text or json")
	fl.DurationVar(&opts.WarnExpiry, "warn-expiry", opts.WarnExpiry, "a token that expires within this is a problem")
	fl.DurationVar(&opts.Grace, "grace", opts.Grace, "a runner that has not contacted GitLab this long after it was created is a problem")
	bindEnv(cmd)
	return cmd
}

func newRotateCmd() *cobra.Command {
	o := fleetOptions{timeout: 5 * time.Minute}
	opts := fleet.RotateOptions{Locking: fleet.Locking{LeaseDuration: 15 * time.Second}}
	cmd := &cobra.Command{
		Use:   "rotate [--release NAME] [-n NAMESPACE | --all-namespaces] [--expiring-within DURATION] [--dry-run]",
		Short: "Reset the authentication tokens of migrated runners now, write them where the pods read them, and roll the pods",
		Long: `rotate answers a token leak in one command: for each migrated runner (of --release, in the namespace),
one at a time, it resets the runner's authentication token in GitLab (POST /runners/:id/
reset_authentication_token; the old token stops working at once), writes the new one into
runner-migrate's token Secret (which later post-renders read) and into the live Secret the pods read,
and rolls the Deployment or StatefulSet (pod template annotation runner-migrate.io/token-digest, the
value the post-renderer renders for that token, so the next helm upgrade rolls nothing). It holds the
runner's Lease meanwhile, so no post-render of the release runs at the same time.

--expiring-within rotates only tokens that expire within the duration (GitLab gives runner tokens an
expiry when an administrator sets runner_token_expiration_interval): run it on a schedule to rotate
ahead of expiry. --dry-run says what it would do, calling only read endpoints. Exit status 1 when a
runner fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var invalid error
			if opts.LeaseDuration < time.Second || opts.ExpiringWithin < 0 {
				invalid = errors.New("--lease-duration must be at least 1s, --expiring-within not negative")
			}
			return o.runWithCluster(cmd, invalid, func(ctx context.Context, f *fleet.Fleet, namespace string) error {
				opts.Namespace, opts.Holder = namespace, holderIdentity()
				opts.Warn = warner(cmd.ErrOrStderr())
				opts.Done = func(a gitlab.Action) { fmt.Fprintln(cmd.OutOrStdout(), a.String()) }
				actions, err := f.Rotate(ctx, opts)
				if len(actions) == 0 && err == nil {
					fmt.Fprintln(cmd.OutOrStdout(), "no migrated runner to rotate"+releaseText(opts.Release)+expiringText(opts.ExpiringWithin))
				}
				return err
			})
		},
	}
	o.bind(cmd, "namespace of the releases (default: HELM_NAMESPACE, else the kube context's)")
	fl := cmd.Flags()
	fl.StringVar(&opts.Release, "release", "", "only the runners of this Helm release")
	fl.DurationVar(&opts.ExpiringWithin, "expiring-within", 0, "only tokens that expire within this (or have expired), e.g. 72h for a daily schedule")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "say what would be done; change nothing")
	fl.DurationVar(&opts.LeaseDuration, "lease-duration", opts.LeaseDuration, "how long a run's Lease blocks others after the run dies")
	bindEnv(cmd)
	return cmd
}

func newPruneCmd() *cobra.Command {
	o := fleetOptions{timeout: 5 * time.Minute}
	opts := fleet.PruneOptions{Locking: fleet.Locking{LeaseDuration: 15 * time.Second}}
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "prune [-n NAMESPACE | --all-namespaces] [--dry-run] [--older-than DURATION]",
		Short: "Delete the runners runner-migrate made for this cluster that no release uses any more",
		Long: `prune deletes runners that carry runner-migrate's marker for this cluster ([runner-migrate
<namespace>/<release> <spec> k8s-<cluster>]) but that no release uses: no live Secret names them, nor a
token Secret whose post-render's output may still be on its way (a release Helm has installed but not
yet deployed, an upgrade in the last 15 minutes, a post-render in the last 30 seconds). That is a
release uninstalled, or a runner replaced (settings or scope changed). A runner without the marker, or
with the marker of another cluster or of a state file (which share the GitLab), is never deleted.

It prints the plan first, then deletes by id, each under the runner's Lease after checking again, and
removes the token Secrets of the deleted runners. --dry-run prints the plan only; --older-than keeps
runners GitLab created more recently.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var invalid error
			if opts.OlderThan < 0 || opts.LeaseDuration < time.Second {
				invalid = errors.New("--older-than must not be negative, --lease-duration at least 1s")
			}
			return o.runWithCluster(cmd, invalid, func(ctx context.Context, f *fleet.Fleet, namespace string) error {
				opts.Namespace, opts.Holder, opts.Warn = namespace, holderIdentity(), warner(cmd.ErrOrStderr())
				plan, err := f.PlanPrune(ctx, opts)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				fmt.Fprintln(out, "plan: "+plan.Summary())
				for _, a := range plan.Actions {
					fmt.Fprintln(out, "  "+a.String())
				}
				if dryRun {
					fmt.Fprintln(out, "dry run: nothing was deleted")
					return nil
				}
				return f.Prune(ctx, plan, opts, func(a gitlab.Action) { fmt.Fprintln(out, a.String()) })
			})
		},
	}
	o.bind(cmd, "namespace of the releases whose runners are considered (default: HELM_NAMESPACE, else the kube context's)")
	fl := cmd.Flags()
	fl.BoolVar(&dryRun, "dry-run", false, "print the plan; delete nothing")
	fl.DurationVar(&opts.OlderThan, "older-than", 0, "keep runners GitLab created less than this long ago")
	fl.DurationVar(&opts.LeaseDuration, "lease-duration", opts.LeaseDuration, "how long a run's Lease blocks others after the run dies")
	bindEnv(cmd)
	return cmd
}

func warner(w io.Writer) func(string) {
	return func(msg string) { fmt.Fprintln(w, "runner-migrate: warning: "+msg) }
}

func expiringText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return " whose token expires within " + d.String()
}

func releaseText(release string) string {
	if release == "" {
		return ""
	}
	return " of release " + release
}
