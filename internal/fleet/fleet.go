// Package fleet looks after the runners runner-migrate made, after the migration: doctor (a
// preflight of GitLab, the access token and the cluster), status (every runner the cluster holds a
// token for, and GitLab's view of it), rotate (a new token, written where the pods read it, and a
// roll) and prune (runners whose release no longer uses them). It reads the cluster through
// internal/kube and reaches GitLab only through gitlab.Connector, the GitLab the operator named.
package fleet

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/kube"
)

// Fleet is the cluster and the GitLab the commands work with.
type Fleet struct {
	Kube *kube.Client
	// GitLab reaches the GitLab the operator named; nil when no access token was given.
	GitLab *gitlab.Connector
	// Now is the clock (tests set it); time.Now by default.
	Now func() time.Time
}

func (f *Fleet) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Runner is one GitLab runner the cluster holds a token for: the Secrets naming it in one
// namespace, and the workloads whose pods read those Secrets.
type Runner struct {
	Release     gitlab.Release
	ID          int64
	Fingerprint string
	GitLabURL   string
	// TokenSecret is runner-migrate's own Secret for the runner (written first, read by later
	// post-renders); nil when there is none.
	TokenSecret *kube.RunnerSecret
	// LiveSecrets are the Secrets runner pods read (Helm installs them from the post-renderer's output).
	LiveSecrets []kube.RunnerSecret
	Workloads   []kube.Workload
}

// Secrets are the runner's Secrets, the token Secret first.
func (r *Runner) Secrets() []kube.RunnerSecret {
	var out []kube.RunnerSecret
	if r.TokenSecret != nil {
		out = append(out, *r.TokenSecret)
	}
	return append(out, r.LiveSecrets...)
}

// ExpiresAt is the token's expiry as GitLab gave it (the token Secret's record first); nil: none.
func (r *Runner) ExpiresAt() *time.Time {
	for _, s := range r.Secrets() {
		if s.ExpiresAt != nil {
			return s.ExpiresAt
		}
	}
	return nil
}

// WorkloadRefs names the workloads for messages.
func (r *Runner) WorkloadRefs() []string {
	refs := make([]string, len(r.Workloads))
	for i, w := range r.Workloads {
		refs[i] = w.Ref()
	}
	return refs
}

// Inventory gathers the runners whose Secrets live in a namespace ("" for every namespace), sorted
// by release and runner id.
func (f *Fleet) Inventory(ctx context.Context, namespace string) ([]*Runner, error) {
	secrets, err := f.Kube.RunnerSecrets(ctx, namespace)
	if err != nil {
		return nil, err
	}
	workloads, err := f.Kube.RunnerWorkloads(ctx, namespace)
	if err != nil {
		return nil, err
	}
	type key struct {
		namespace string
		id        int64
	}
	byKey := map[key]*Runner{}
	var runners []*Runner
	for _, s := range secrets {
		k := key{s.Namespace, s.RunnerID}
		r := byKey[k]
		if r == nil {
			r = &Runner{ID: s.RunnerID, Release: gitlab.Release{Namespace: s.Namespace}}
			byKey[k] = r
			runners = append(runners, r)
		}
		if s.TokenSecret {
			if r.TokenSecret == nil {
				s := s
				r.TokenSecret = &s
			}
		} else {
			r.LiveSecrets = append(r.LiveSecrets, s)
		}
	}
	for _, r := range runners {
		// What the token Secret says wins: runner-migrate wrote it, and it is written first. A release's
		// Secrets, Leases and markers all live in its namespace, the Secrets' own.
		for _, s := range r.Secrets() {
			r.Release.Name = cmp.Or(r.Release.Name, s.Release.Name)
			r.Fingerprint = cmp.Or(r.Fingerprint, s.Fingerprint)
			r.GitLabURL = cmp.Or(r.GitLabURL, s.GitLabURL)
		}
		for _, w := range workloads {
			if w.Namespace == r.Release.Namespace && slices.ContainsFunc(r.LiveSecrets, func(s kube.RunnerSecret) bool { return w.Reads(s.Name) }) {
				r.Workloads = append(r.Workloads, w)
			}
		}
	}
	slices.SortFunc(runners, func(a, b *Runner) int {
		return cmp.Or(cmp.Compare(a.Release.Namespace, b.Release.Namespace), cmp.Compare(a.Release.Name, b.Release.Name), cmp.Compare(a.ID, b.ID))
	})
	return runners, nil
}

// Finding is something a command found wrong: what, and what to do about it.
type Finding struct {
	Check   string `json:"check"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}
