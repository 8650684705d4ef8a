package fleet

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
)

// StatusOptions configure Status.
type StatusOptions struct {
	// Namespace to look in; "" for every namespace.
	Namespace string
	// WarnExpiry: a token that expires within it is a problem (default 7 days).
	WarnExpiry time.Duration
	// Grace: a runner that has not contacted GitLab this long after it was created is a problem
	// (default 15 minutes: pods pull an image and register within it).
	Grace time.Duration
}

// RunnerStatus is what status says about one runner. Its JSON form is the machine-readable report.
type RunnerStatus struct {
	Release     string           `json:"release"`
	RunnerID    int64            `json:"runnerId"`
	Fingerprint string           `json:"fingerprint"`
	GitLabURL   string           `json:"gitlabUrl"`
	Workloads   []string         `json:"workloads"`
	TokenSecret string           `json:"tokenSecret,omitempty"`
	LiveSecrets []string         `json:"liveSecrets"`
	Scope       *ScopeView       `json:"scope"`
	GitLab      *GitLabView      `json:"gitlab"`
	Managers    []gitlab.Manager `json:"managers"`
	Token       TokenView        `json:"token"`
	Problems    []Finding        `json:"problems"`
	Warnings    []Finding        `json:"warnings"`
}

// ScopeView is where the runner lives in GitLab.
type ScopeView struct {
	Type string `json:"type"`
	ID   int64  `json:"id,omitempty"`
	Path string `json:"path,omitempty"`
}

// GitLabView is GitLab's view of the runner (GET /runners/:id); null when it could not be read.
type GitLabView struct {
	Status      string     `json:"status"` // online, offline, stale, never_contacted; missing when GitLab has no such runner
	Paused      bool       `json:"paused"`
	ContactedAt *time.Time `json:"contactedAt"`
	CreatedAt   *time.Time `json:"createdAt"`
	Description string     `json:"description"`
}

// TokenView is what can be said about the token without showing it, and without asking GitLab
// (the one endpoint that checks a runner token, POST /runners/verify, heartbeats the runner and
// registers a runner manager, so status never calls it).
type TokenView struct {
	// ExpiresAt is the expiry GitLab gave when it issued the token; null when it gave none.
	ExpiresAt *time.Time `json:"expiresAt"`
	// SecretsAgree: the live Secrets hold the token the token Secret keeps; null without both.
	SecretsAgree *bool `json:"secretsAgree"`
	// AsWritten: every Secret holds the token runner-migrate wrote there (its recorded digest).
	AsWritten bool `json:"asWritten"`
	// PodsRolled: every workload's pod template was rolled for the token its Secret holds.
	PodsRolled bool `json:"podsRolled"`
}

// StatusReport is the status of every runner found.
type StatusReport struct {
	Namespace string // "" for every namespace
	Runners   []RunnerStatus
}

// Problems counts the problems of all runners.
func (r *StatusReport) Problems() (problems, warnings int) {
	for _, s := range r.Runners {
		problems += len(s.Problems)
		warnings += len(s.Warnings)
	}
	return problems, warnings
}

// Status reports every runner the cluster's Secrets name, with GitLab's view of it.
func (f *Fleet) Status(ctx context.Context, opts StatusOptions) (*StatusReport, error) {
	if opts.WarnExpiry <= 0 {
		opts.WarnExpiry = 7 * 24 * time.Hour
	}
	if opts.Grace <= 0 {
		opts.Grace = 15 * time.Minute
	}
	runners, err := f.Inventory(ctx, opts.Namespace)
	if err != nil {
		return nil, err
	}
	report := &StatusReport{Namespace: opts.Namespace, Runners: make([]RunnerStatus, 0, len(runners))}
	for _, r := range runners {
		report.Runners = append(report.Runners, f.runnerStatus(ctx, r, opts))
	}
	return report, nil
}

func (f *Fleet) runnerStatus(ctx context.Context, r *Runner, opts StatusOptions) RunnerStatus {
	now := f.now()
	rs := RunnerStatus{Release: r.Release.String(), RunnerID: r.ID, Fingerprint: r.Fingerprint, GitLabURL: r.GitLabURL,
		Workloads: r.WorkloadRefs(), LiveSecrets: []string{}, Managers: []gitlab.Manager{}, Problems: []Finding{}, Warnings: []Finding{}}
	problem := func(check, msg, fix string) { rs.Problems = append(rs.Problems, Finding{check, msg, fix}) }
	warning := func(check, msg, fix string) { rs.Warnings = append(rs.Warnings, Finding{check, msg, fix}) }
	rotate := fmt.Sprintf("runner-migrate rotate -n %s --release %s", r.Release.Namespace, r.Release.Name)
	if r.Release.Name == "" {
		rotate = "runner-migrate rotate -n " + r.Release.Namespace
	}

	// The cluster's side: which token each Secret holds, compared by equality and digests only.
	for _, s := range r.LiveSecrets {
		rs.LiveSecrets = append(rs.LiveSecrets, s.Ref())
	}
	if r.TokenSecret != nil {
		rs.TokenSecret = r.TokenSecret.Ref()
	}
	rs.Token.ExpiresAt = r.ExpiresAt()
	if r.TokenSecret != nil && len(r.LiveSecrets) > 0 {
		agree := true
		for _, s := range r.LiveSecrets {
			if !s.Token.Equal(r.TokenSecret.Token) {
				agree = false
				problem("secrets-disagree", fmt.Sprintf("the live Secret %s holds another token than the token Secret %s, which runner-migrate wrote last: the pods read a token GitLab no longer accepts (a rotation or an upgrade that did not finish, or a helm rollback)",
					s.Ref(), r.TokenSecret.Ref()), rotate+" (or helm upgrade with runner-migrate, which renders the token Secret's token)")
			}
		}
		rs.Token.SecretsAgree = &agree
	}
	rs.Token.AsWritten = true
	for _, s := range r.Secrets() {
		if s.RecordedDigest != "" && s.Token.Digest("annotation") != s.RecordedDigest {
			rs.Token.AsWritten = false
			problem("secret-edited", fmt.Sprintf("the Secret %s holds another token than the one runner-migrate wrote there (its runner-migrate.io/token-digest): it was changed by hand or by another tool", s.Ref()), rotate)
		}
	}
	rs.Token.PodsRolled = true
	for _, w := range r.Workloads {
		for _, s := range r.LiveSecrets {
			if w.Reads(s.Name) && w.TokenDigest != s.Token.Digest("annotation") {
				rs.Token.PodsRolled = false
				warning("pods-not-rolled", fmt.Sprintf("the pods of %s were not rolled for the token %s holds: pods started before it changed keep the old one", w.Ref(), s.Ref()),
					"helm upgrade the release with runner-migrate (it renders the token's digest into the pod template, which rolls the pods), or "+rotate)
			}
		}
	}
	if len(r.Workloads) == 0 && len(r.LiveSecrets) > 0 {
		warning("no-workload", "no Deployment or StatefulSet migrated by runner-migrate reads the runner's live Secret", "")
	}
	if len(r.LiveSecrets) == 0 {
		warning("not-deployed", "only runner-migrate's token Secret names the runner: no live Secret does (the release's last upgrade failed, was not applied, or the release was uninstalled)",
			"helm upgrade the release with runner-migrate, or runner-migrate prune once it is gone")
	}
	if at := rs.Token.ExpiresAt; at != nil {
		switch {
		case !at.After(now):
			problem("token-expired", fmt.Sprintf("the token expired at %s: GitLab refuses it, and pods fail when they restart", at.UTC().Format(time.RFC3339)), rotate)
		case at.Sub(now) < opts.WarnExpiry:
			problem("token-expiring", fmt.Sprintf("the token expires at %s, in %s (less than --warn-expiry %s)", at.UTC().Format(time.RFC3339), roundDuration(at.Sub(now)), opts.WarnExpiry), rotate)
		}
	}

	// GitLab's side.
	who := fmt.Sprintf("runner %d of release %s", r.ID, r.Release)
	if f.GitLab == nil {
		warning("gitlab-not-read", "no GitLab access token was given, so GitLab's view of the runner was not read", "set GITLAB_TOKEN (read_api or manage_runner scope)")
		return rs
	}
	api, err := f.GitLab.For(r.GitLabURL, who)
	if err != nil {
		warning("other-gitlab", err.Error(), "")
		return rs
	}
	d, err := api.Runner(ctx, r.ID)
	switch {
	case gitlab.StatusOf(err) == http.StatusNotFound:
		rs.GitLab = &GitLabView{Status: "missing"}
		problem("missing", fmt.Sprintf("GitLab has no runner %d (deleted in GitLab): the pods' token names nothing", r.ID),
			"helm upgrade the release with runner-migrate: it creates a new runner and puts its token in the Secrets")
		return rs
	case err != nil:
		problem("gitlab-unreadable", gitlab.Explain(err, "reading "+who).Error(), "give the access token the read_api or manage_runner scope and a role that sees the runner")
		return rs
	}
	rs.GitLab = &GitLabView{Status: d.Status, Paused: d.Paused, ContactedAt: d.ContactedAt, CreatedAt: d.CreatedAt, Description: d.Description}
	sc := d.Scope()
	rs.Scope = &ScopeView{Type: sc.Type, ID: max(sc.GroupID, sc.ProjectID), Path: sc.Path}
	if r.Release.Name != "" && !gitlab.OwnedBy(d.Description, r.Release) {
		warning("not-marked", fmt.Sprintf("runner %d does not carry release %s's marker in its description, so runner-migrate does not change it (post-render creates a runner of its own instead)", r.ID, r.Release), "")
	}
	if managers, err := api.Managers(ctx, r.ID); err == nil {
		rs.Managers = managers
	} else {
		warning("managers-unreadable", gitlab.Explain(err, "listing the managers of "+who).Error(), "")
	}
	born := d.CreatedAt
	if born == nil && r.TokenSecret != nil {
		born = &r.TokenSecret.Written
	}
	switch d.Status {
	case "never_contacted":
		if born != nil && now.Sub(*born) > opts.Grace {
			problem("never-contacted", fmt.Sprintf("runner %d was created %s ago and has never contacted GitLab: its pods are not running, or GitLab refuses their token", r.ID, roundDuration(now.Sub(*born))),
				fmt.Sprintf("look at the pods (kubectl -n %s logs deploy/...); if they say 403 Forbidden, %s", r.Release.Namespace, rotate))
		}
	case "offline", "stale":
		warning(d.Status, fmt.Sprintf("runner %d is %s (last contact %s): its pods are not running, or GitLab refuses their token", r.ID, d.Status, when(d.ContactedAt)),
			fmt.Sprintf("look at the pods; if they say 403 Forbidden, %s", rotate))
	}
	if at := rs.Token.ExpiresAt; at != nil && !at.After(now) && d.ContactedAt != nil && d.ContactedAt.After(*at) {
		// The expired token cannot have made that contact: say what happened instead.
		rs.Problems = slices.DeleteFunc(rs.Problems, func(f Finding) bool { return f.Check == "token-expired" })
		problem("rotated-by-runner", fmt.Sprintf("runner %d contacted GitLab at %s, after the Secret's token expired (%s): gitlab-runner rotated its token itself, as it does before expiry, "+
			"and the Secrets still hold the old one, which fails when a pod restarts", r.ID, when(d.ContactedAt), at.UTC().Format(time.RFC3339)), rotate)
	}
	if d.Paused {
		warning("paused", fmt.Sprintf("runner %d is paused in GitLab and takes no jobs", r.ID), "")
	}
	return rs
}

func when(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// roundDuration prints durations the way people read them: 3d4h, 5h2m, 40s.
func roundDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		days := d / (24 * time.Hour)
		return fmt.Sprintf("%dd%dh", days, (d-days*24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}
