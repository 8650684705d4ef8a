package fleet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/kube"
)

// Locking says how rotate and prune serialise with post-renders: they take the Lease a post-render
// of the same release and spec takes (kube.Store.Lock), so neither acts on a runner while the other
// works on it.
type Locking struct {
	Holder        string        // names this run in Leases
	LeaseDuration time.Duration // how long a Lease outlives a run that dies (default 15s)
	Warn          func(string)
}

func (l Locking) store(c *kube.Client, namespace string) *kube.Store {
	return &kube.Store{Client: c, Namespace: namespace, Holder: l.Holder, LeaseDuration: l.LeaseDuration, Warn: l.Warn}
}

// RotateOptions configure Rotate.
type RotateOptions struct {
	Namespace string // "" for every namespace
	Release   string // "" for every release
	// ExpiringWithin, when set, rotates only tokens that expire within it (or have expired): what
	// a schedule runs to rotate ahead of expiry. Tokens without an expiry are left alone.
	ExpiringWithin time.Duration
	DryRun         bool
	Locking
	// Done receives each runner's action the moment it is done, one runner at a time.
	Done func(gitlab.Action)
}

// Rotate resets the token of each runner the cluster holds one for, now: the new token goes into
// the token Secret first (later post-renders read it), then into the live Secrets the pods read,
// then the workloads roll (their pod template's token digest, the value the post-renderer renders
// for that token, so the next helm upgrade rolls nothing). One runner at a time, each under its
// spec's Lease. A runner that fails is reported and the others go on; the error joins the failures.
func (f *Fleet) Rotate(ctx context.Context, opts RotateOptions) ([]gitlab.Action, error) {
	if f.GitLab == nil {
		return nil, errors.New("rotate resets tokens in GitLab: set GITLAB_TOKEN or --gitlab-token-file (scope manage_runner, or api)")
	}
	runners, err := f.Inventory(ctx, opts.Namespace)
	if err != nil {
		return nil, err
	}
	var actions []gitlab.Action
	var errs []error
	for _, r := range runners {
		if opts.Release != "" && r.Release.Name != opts.Release {
			continue
		}
		if at := r.ExpiresAt(); opts.ExpiringWithin > 0 && (at == nil || at.Sub(f.now()) > opts.ExpiringWithin) {
			continue
		}
		a, err := f.rotate(ctx, r, opts)
		if err != nil {
			errs = append(errs, err)
		}
		actions = append(actions, a)
		if opts.Done != nil {
			opts.Done(a)
		}
	}
	return actions, errors.Join(errs...)
}

func (f *Fleet) rotate(ctx context.Context, r *Runner, opts RotateOptions) (gitlab.Action, error) {
	action := func(verb, detail string) gitlab.Action {
		return gitlab.Action{Fingerprint: r.Fingerprint, Sites: sites(r), Verb: verb, RunnerID: r.ID, Detail: detail}
	}
	who := fmt.Sprintf("runner %d of release %s", r.ID, r.Release)
	if r.Release.Name == "" || r.Fingerprint == "" {
		return action("skip", "its Secrets name no release or runner spec, so runner-migrate cannot tell which post-renders to serialise with; helm upgrade the release with runner-migrate first"), nil
	}
	api, err := f.GitLab.For(r.GitLabURL, who)
	if err != nil {
		return action("skip", err.Error()), nil
	}
	if opts.DryRun {
		d, err := api.Runner(ctx, r.ID)
		if a, stop, err := checkRotatable(action, d, err, r, who); stop {
			return a, err
		}
		return action("rotate", "dry run, nothing changed: would reset its token, write it into "+strings.Join(secretRefs(r), " and ")+
			rollText(r.Workloads, " and roll ")), nil
	}

	unlock, err := opts.store(f.Kube, r.Release.Namespace).Lock(ctx, r.Release, r.Fingerprint)
	if err != nil {
		return action("skip", err.Error()), err
	}
	defer unlock()
	// Under the Lease, read again what a post-render may have changed meanwhile.
	if why, err := f.refresh(ctx, r); err != nil || why != "" {
		return action("skip", cmp.Or(why, fmt.Sprint(err))), err
	}
	d, err := api.Runner(ctx, r.ID)
	if a, stop, err := checkRotatable(action, d, err, r, who); stop {
		return a, err
	}

	fresh, expiresAt, err := api.ResetToken(ctx, r.ID)
	if err != nil {
		err = gitlab.Explain(err, "resetting the token of "+who)
		return action("skip", err.Error()), err
	}
	// From here the pods' token is revoked: the new one must reach the Secrets.
	rec := gitlab.Record{}
	if s := r.Secrets(); len(s) > 0 {
		rec = s[0].Record()
	}
	rec.RunnerID, rec.Token, rec.ExpiresAt, rec.Fingerprint, rec.Supersedes = r.ID, fresh, expiresAt, r.Fingerprint, ""
	rec.GitLabURL = cmp.Or(rec.GitLabURL, api.Base)
	store := opts.store(f.Kube, r.Release.Namespace)
	if err := retry(ctx, func() error { return store.Keep(ctx, r.Release, rec) }); err != nil {
		err = fmt.Errorf("the token of %s was reset, but keeping it in the token Secret %s/%s failed: %w. The pods hold the old token, which GitLab no longer accepts: "+
			"fix the cause and run runner-migrate rotate again", who, r.Release.Namespace, kube.TokenSecretName(r.Release.Name, r.Fingerprint), err)
		return action("rotate", err.Error()), err
	}
	written := []string{r.Release.Namespace + "/" + kube.TokenSecretName(r.Release.Name, r.Fingerprint)}
	for _, s := range r.LiveSecrets {
		if err := retry(ctx, func() error { return f.Kube.WriteLiveToken(ctx, s, fresh, expiresAt) }); err != nil {
			err = fmt.Errorf("the token of %s was reset and kept in its token Secret, but %v; the pods hold the old token: helm upgrade the release with runner-migrate "+
				"(it renders the kept token) or run runner-migrate rotate again", who, err)
			return action("rotate", err.Error()), err
		}
		written = append(written, s.Ref())
	}
	digest := fresh.Digest("annotation")
	var rolled []kube.Workload
	for _, w := range r.Workloads {
		if w.TokenDigest == digest {
			continue
		}
		if err := retry(ctx, func() error { return f.Kube.RollWorkload(ctx, w, digest) }); err != nil {
			err = fmt.Errorf("the token of %s was reset and written into %s, but %v: its pods keep the old token until they restart (kubectl rollout restart)",
				who, strings.Join(written, ", "), err)
			return action("rotate", err.Error()), err
		}
		rolled = append(rolled, w)
	}
	detail := "token reset"
	if expiresAt != nil {
		detail += " (expires " + expiresAt.UTC().Format(time.RFC3339) + ")"
	}
	detail += "; written into " + strings.Join(written, ", ") + rollText(rolled, "; rolled ")
	return action("rotate", detail), nil
}

// checkRotatable stops a rotation of a runner GitLab does not have, or that does not carry its
// release's marker (runner-migrate resets only tokens of runners it made for the release).
func checkRotatable(action func(string, string) gitlab.Action, d *gitlab.RunnerDetails, err error, r *Runner, who string) (gitlab.Action, bool, error) {
	switch {
	case gitlab.StatusOf(err) == http.StatusNotFound:
		return action("lost", fmt.Sprintf("GitLab has no runner %d any more; helm upgrade the release with runner-migrate to create a new one", r.ID)), true, nil
	case err != nil:
		err = gitlab.Explain(err, "reading "+who)
		return action("skip", err.Error()), true, err
	case !gitlab.OwnedBy(d.Description, r.Release):
		return action("skip", fmt.Sprintf("runner %d does not carry release %s's marker in its description, so runner-migrate does not reset its token", r.ID, r.Release)), true, nil
	}
	return gitlab.Action{}, false, nil
}

// refresh reads a runner's Secrets and workloads again. It says why not to go on when the
// release's token Secret now names another runner (a post-render replaced it meanwhile).
func (f *Fleet) refresh(ctx context.Context, r *Runner) (string, error) {
	ns := r.Release.Namespace
	ts, err := f.Kube.RunnerSecret(ctx, ns, kube.TokenSecretName(r.Release.Name, r.Fingerprint))
	switch {
	case apierrors.IsNotFound(err):
		r.TokenSecret = nil
	case err != nil:
		return "", err
	case ts != nil && ts.RunnerID != r.ID:
		return fmt.Sprintf("the token Secret %s now names runner %d (a post-render replaced runner %d meanwhile); rotate again to reset that one", ts.Ref(), ts.RunnerID, r.ID), nil
	default:
		r.TokenSecret = ts
	}
	var live []kube.RunnerSecret
	for _, s := range r.LiveSecrets {
		fresh, err := f.Kube.RunnerSecret(ctx, ns, s.Name)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		if fresh != nil && fresh.RunnerID == r.ID {
			live = append(live, *fresh)
		}
	}
	r.LiveSecrets = live
	workloads, err := f.Kube.RunnerWorkloads(ctx, ns)
	if err != nil {
		return "", err
	}
	r.Workloads = nil
	for _, w := range workloads {
		for _, s := range live {
			if w.Reads(s.Name) {
				r.Workloads = append(r.Workloads, w)
				break
			}
		}
	}
	return "", nil
}

// retry repeats a cluster write a few times: after a token reset, giving up early loses the token.
func retry(ctx context.Context, write func() error) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if err = write(); err == nil || apierrors.IsForbidden(err) || apierrors.IsInvalid(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 500 * time.Millisecond):
		}
	}
	return err
}

func sites(r *Runner) []string {
	if refs := r.WorkloadRefs(); len(refs) > 0 {
		return refs
	}
	return []string{"release " + r.Release.String()}
}

func secretRefs(r *Runner) []string {
	refs := []string{r.Release.Namespace + "/" + kube.TokenSecretName(r.Release.Name, r.Fingerprint)}
	for _, s := range r.LiveSecrets {
		refs = append(refs, s.Ref())
	}
	return refs
}

func rollText(ws []kube.Workload, prefix string) string {
	if len(ws) == 0 {
		return ""
	}
	refs := make([]string, len(ws))
	for i, w := range ws {
		refs[i] = w.Ref()
	}
	return prefix + strings.Join(refs, ", ")
}
