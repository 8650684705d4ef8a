package fleet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/kube"
)

// PruneOptions configure PlanPrune and Prune.
type PruneOptions struct {
	Namespace string // "" for every namespace
	// OlderThan keeps runners GitLab created less than this long ago.
	OlderThan time.Duration
	// InFlight: a token Secret written this recently protects its runner even when no live Secret
	// names it yet: its post-render's output may still be on its way through Helm (default 15m).
	InFlight time.Duration
	Locking
}

// PrunePlan is what prune would do: retire (delete) runners no release of this cluster uses, and
// the runners of this cluster it keeps, with why.
type PrunePlan struct {
	// Listed says which runners were read: an administrator's token sees every runner, others the
	// runners of the groups they own and the projects they maintain.
	Listed string
	// Actions are "retire" (to delete) and "skip" (kept although unused, with why), by runner id.
	Actions []gitlab.Action
	// InUse counts this cluster's runners a release uses; Elsewhere the runners whose marker names
	// another place (another cluster, a state file), or no place (markers older than places).
	InUse, Elsewhere, NoPlace, OtherNamespaces int

	candidates map[int64]candidate
}

type candidate struct {
	marker  gitlab.MarkedRunner
	release gitlab.Release
}

// Summary says in a line what the plan holds.
func (p *PrunePlan) Summary() string {
	retire := 0
	for _, a := range p.Actions {
		if a.Verb == "retire" {
			retire++
		}
	}
	s := fmt.Sprintf("%s to delete, %s kept although unused, %d in use; %d carry the marker of another cluster or state file and are left alone",
		plural(retire, "runner"), plural(len(p.Actions)-retire, "runner"), p.InUse, p.Elsewhere)
	if p.NoPlace > 0 {
		s += fmt.Sprintf(", as are %d whose marker names no place (written before markers named one)", p.NoPlace)
	}
	return s + " (read: " + p.Listed + ")"
}

// PlanPrune finds the runners carrying runner-migrate's marker for this cluster whose release no
// longer uses them (see references.used). A runner without the marker, or with another cluster's
// or a state file's place, is never considered.
func (f *Fleet) PlanPrune(ctx context.Context, opts PruneOptions) (*PrunePlan, error) {
	if f.GitLab == nil {
		return nil, errors.New("prune lists and deletes runners in GitLab: set GITLAB_TOKEN or --gitlab-token-file (scopes read_api and manage_runner, or api)")
	}
	api, err := f.GitLab.For("", "prune")
	if err != nil {
		return nil, err
	}
	marked, listed, err := api.MarkedRunners(ctx)
	if err != nil {
		return nil, err
	}
	plan := &PrunePlan{Listed: listed, candidates: map[int64]candidate{}}
	places := newPlaces(f.Kube)
	refs := newReferences(f.Kube, f.now(), opts.inFlight())
	for _, m := range marked {
		release, ok := parseRelease(m.Release)
		switch {
		case !ok:
			plan.NoPlace++
			continue
		case opts.Namespace != "" && release.Namespace != opts.Namespace:
			plan.OtherNamespaces++
			continue
		case m.Place == "":
			plan.NoPlace++
			continue
		}
		here, err := places.here(ctx, m.Place, release.Namespace)
		if err != nil {
			return nil, err
		}
		if !here {
			plan.Elsewhere++
			continue
		}
		action := func(verb, detail string) gitlab.Action {
			return gitlab.Action{Fingerprint: m.Fingerprint, Sites: []string{"release " + release.String()}, Verb: verb, RunnerID: m.ID, Detail: detail}
		}
		used, why, err := refs.used(ctx, m.ID, release)
		if err != nil {
			plan.Actions = append(plan.Actions, action("skip", fmt.Sprintf("cannot tell whether release %s uses it: %v", release, err)))
			continue
		}
		if used {
			plan.InUse++
			continue
		}
		d, err := api.Runner(ctx, m.ID)
		switch {
		case gitlab.StatusOf(err) == http.StatusNotFound:
			continue // deleted since the list
		case err != nil:
			plan.Actions = append(plan.Actions, action("skip", gitlab.Explain(err, fmt.Sprintf("reading runner %d", m.ID)).Error()))
			continue
		case d.Description != m.Description:
			plan.Actions = append(plan.Actions, action("skip", "its description changed since it was listed; run prune again"))
			continue
		case opts.OlderThan > 0 && (d.CreatedAt == nil || f.now().Sub(*d.CreatedAt) < opts.OlderThan):
			plan.Actions = append(plan.Actions, action("skip", fmt.Sprintf("%s, but it was created less than --older-than %s ago", why, opts.OlderThan)))
			continue
		}
		plan.Actions = append(plan.Actions, action("retire", why))
		plan.candidates[m.ID] = candidate{marker: m, release: release}
	}
	return plan, nil
}

func (o PruneOptions) inFlight() time.Duration {
	if o.InFlight <= 0 {
		return 15 * time.Minute
	}
	return o.InFlight
}

// Prune deletes the runners the plan retires, by id in order, each under the Lease of its release
// and spec after checking again that no release uses it and that it still carries the same marker;
// then the token Secrets that named it. It stops at the first failure.
func (f *Fleet) Prune(ctx context.Context, plan *PrunePlan, opts PruneOptions, done func(gitlab.Action)) error {
	api, err := f.GitLab.For("", "prune")
	if err != nil {
		return err
	}
	for _, a := range plan.Actions {
		c, ok := plan.candidates[a.RunnerID]
		if a.Verb != "retire" || !ok {
			continue
		}
		result, err := f.retire(ctx, api, c, opts)
		result.Fingerprint, result.Sites, result.RunnerID = a.Fingerprint, a.Sites, a.RunnerID
		if done != nil {
			done(result)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (f *Fleet) retire(ctx context.Context, api *gitlab.API, c candidate, opts PruneOptions) (gitlab.Action, error) {
	m := c.marker
	unlock, err := opts.store(f.Kube, c.release.Namespace).Lock(ctx, c.release, m.Fingerprint)
	if err != nil {
		return gitlab.Action{Verb: "skip", Detail: err.Error()}, err
	}
	defer unlock()
	refs := newReferences(f.Kube, f.now(), opts.inFlight())
	used, _, err := refs.used(ctx, m.ID, c.release)
	switch {
	case err != nil:
		return gitlab.Action{Verb: "skip", Detail: err.Error()}, err
	case used:
		return gitlab.Action{Verb: "skip", Detail: "a release uses it since the plan was made"}, nil
	}
	d, err := api.Runner(ctx, m.ID)
	switch {
	case gitlab.StatusOf(err) == http.StatusNotFound:
		return gitlab.Action{Verb: "retire", Detail: "already deleted"}, f.deleteTokenSecrets(ctx, refs, m.ID, c.release)
	case err != nil:
		err = gitlab.Explain(err, fmt.Sprintf("reading runner %d", m.ID))
		return gitlab.Action{Verb: "skip", Detail: err.Error()}, err
	}
	if release, fingerprint, place, ok := gitlab.MarkerOf(d.Description); !ok || release != m.Release || fingerprint != m.Fingerprint || place != m.Place {
		return gitlab.Action{Verb: "skip", Detail: "it no longer carries the marker it was listed with"}, nil
	}
	if err := api.DeleteRunner(ctx, m.ID); err != nil && gitlab.StatusOf(err) != http.StatusNotFound {
		err = gitlab.Explain(err, fmt.Sprintf("deleting runner %d", m.ID))
		return gitlab.Action{Verb: "skip", Detail: err.Error()}, err
	}
	detail := "deleted"
	if names := refs.tokenSecretRefs(m.ID, c.release); len(names) > 0 {
		detail += "; and its token Secret " + strings.Join(names, ", ")
	}
	return gitlab.Action{Verb: "retire", Detail: detail}, f.deleteTokenSecrets(ctx, refs, m.ID, c.release)
}

func (f *Fleet) deleteTokenSecrets(ctx context.Context, refs *references, id int64, release gitlab.Release) error {
	for _, s := range refs.secrets[release.Namespace] {
		if s.TokenSecret && s.RunnerID == id {
			if err := f.Kube.DeleteRunnerSecret(ctx, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// places tells whether a marker's place is this cluster: the UID of its kube-system namespace, or
// of the release namespace (what a run that could not read kube-system wrote).
type places struct {
	c      *kube.Client
	system *string
	byNS   map[string]string
}

func newPlaces(c *kube.Client) *places { return &places{c: c, byNS: map[string]string{}} }

func (p *places) here(ctx context.Context, place, namespace string) (bool, error) {
	if p.system == nil {
		s, err := p.c.NamespacePlace(ctx, "kube-system")
		if err != nil && !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("reading the cluster's identity (namespace kube-system): %w", err)
		}
		p.system = &s
	}
	if place == *p.system {
		return true, nil
	}
	nsPlace, ok := p.byNS[namespace]
	if !ok {
		var err error
		nsPlace, err = p.c.NamespacePlace(ctx, namespace)
		if err != nil && !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("reading namespace %s: %w", namespace, err)
		}
		p.byNS[namespace] = nsPlace
	}
	return nsPlace != "" && place == nsPlace, nil
}

// references tells whether a release uses a runner, from the Secrets of the release namespace.
type references struct {
	c        *kube.Client
	now      time.Time
	inFlight time.Duration
	secrets  map[string][]kube.RunnerSecret
}

func newReferences(c *kube.Client, now time.Time, inFlight time.Duration) *references {
	return &references{c: c, now: now, inFlight: inFlight, secrets: map[string][]kube.RunnerSecret{}}
}

// used reports whether the runner is in use, and otherwise why it is not (for the plan).
//
// A live Secret naming it means in use. A token Secret naming it is the token of a post-render
// whose output may still be on its way, or is left over. Helm records a release (pending) right
// after rendering and before it applies anything, hooks included, so:
//   - release installed (Helm keeps a record): in use while the release has no live Secret at all
//     (an install whose output has not arrived is not judged), or the token Secret was written
//     within the in-flight window (an upgrade that adds a runner, its hooks still running);
//     otherwise its live Secrets say which runners it uses, and this is not one of them;
//   - release not installed: in use only within the seconds between a post-render and Helm's record
//     (recordGap); after that the release was uninstalled, or its output never applied.
func (r *references) used(ctx context.Context, id int64, release gitlab.Release) (bool, string, error) {
	secrets, ok := r.secrets[release.Namespace]
	if !ok {
		var err error
		if secrets, err = r.c.RunnerSecrets(ctx, release.Namespace); err != nil {
			return false, "", err
		}
		r.secrets[release.Namespace] = secrets
	}
	var tokenSecrets []kube.RunnerSecret
	for _, s := range secrets {
		switch {
		case s.RunnerID != id:
		case !s.TokenSecret:
			return true, "", nil
		default:
			tokenSecrets = append(tokenSecrets, s)
		}
	}
	why := fmt.Sprintf("no live Secret in %s names it", release.Namespace)
	if len(tokenSecrets) == 0 {
		return false, why + ", nor a token Secret", nil
	}
	for _, ts := range tokenSecrets {
		age := r.now.Sub(ts.Written)
		installed, err := r.c.ReleaseInstalled(ctx, ts.Release)
		if err != nil {
			return false, "", err
		}
		if !installed {
			if age < recordGap {
				return true, "", nil
			}
			why += fmt.Sprintf("; release %s is not installed (Helm keeps no record of it), so its token Secret %s is left over", ts.Release, ts.Ref())
			continue
		}
		deployed := slices.ContainsFunc(secrets, func(s kube.RunnerSecret) bool { return !s.TokenSecret && s.Release.Name == ts.Release.Name })
		if !deployed || age < r.inFlight {
			return true, "", nil
		}
		why += fmt.Sprintf("; release %s's live Secrets name other runners, so its token Secret %s is left from a runner it replaced", ts.Release, ts.Ref())
	}
	return false, why, nil
}

// recordGap bounds the time between a post-render writing a token Secret and Helm recording the
// release it renders for (Helm validates the manifests against the API server in between).
const recordGap = 30 * time.Second

func (r *references) tokenSecretRefs(id int64, release gitlab.Release) []string {
	var out []string
	for _, s := range r.secrets[release.Namespace] {
		if s.TokenSecret && s.RunnerID == id {
			out = append(out, s.Ref())
		}
	}
	return out
}

func parseRelease(s string) (gitlab.Release, bool) {
	ns, name, ok := strings.Cut(s, "/")
	return gitlab.Release{Namespace: ns, Name: name}, ok && ns != "" && name != ""
}
