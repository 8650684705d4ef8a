package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/runner-migrate/runner-migrate/internal/tokensource"
)

// RunnerDetails is GET /runners/:id as runner-migrate reads it. client-go's RunnerDetails lacks
// created_at, which adoption needs, and cannot tell an unset maximum timeout from 0.
type RunnerDetails struct {
	ID              int64      `json:"id"`
	Description     string     `json:"description"`
	RunnerType      string     `json:"runner_type"`
	Status          string     `json:"status"`
	Paused          bool       `json:"paused"`
	TagList         []string   `json:"tag_list"`
	RunUntagged     bool       `json:"run_untagged"`
	Locked          bool       `json:"locked"`
	AccessLevel     string     `json:"access_level"`
	MaximumTimeout  *int64     `json:"maximum_timeout"`
	MaintenanceNote *string    `json:"maintenance_note"`
	CreatedAt       *time.Time `json:"created_at"`
	ContactedAt     *time.Time `json:"contacted_at"`
	Groups          []struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		WebURL string `json:"web_url"`
	} `json:"groups"`
	Projects []struct {
		ID                int64  `json:"id"`
		PathWithNamespace string `json:"path_with_namespace"`
	} `json:"projects"`
}

func getRunner(ctx context.Context, c *gl.Client, id int64) (*RunnerDetails, error) {
	req, err := c.NewRequest(http.MethodGet, fmt.Sprintf("runners/%d", id), nil, []gl.RequestOptionFunc{gl.WithContext(ctx)})
	if err != nil {
		return nil, err
	}
	var d RunnerDetails
	if _, err := c.Do(req, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// updateRunner sends PUT /runners/:id with exactly the given fields; a nil value is sent as JSON null
// (how GitLab clears the maximum timeout, which client-go's options cannot express).
func updateRunner(ctx context.Context, c *gl.Client, id int64, fields map[string]any) error {
	req, err := c.NewRequest(http.MethodPut, fmt.Sprintf("runners/%d", id), fields, []gl.RequestOptionFunc{gl.WithContext(ctx)})
	if err != nil {
		return err
	}
	_, err = c.Do(req, nil)
	return err
}

// findAdoptable looks, over all pages of the scope's runners, for one carrying exactly this run's
// marker (release, spec and place) that may be adopted: it never contacted GitLab and was created
// within the adoption window, i.e. a run died between creating it and keeping its token. A marked
// runner that fails those tests is in use somewhere (another pipeline's pod holds its token), and a
// reset would revoke that token: it is left alone and the plan says why.
func (p *Provisioner) findAdoptable(ctx context.Context, r *run, scope Scope) (*RunnerDetails, error) {
	marked, err := listMarked(ctx, r.c, scope, func(m parsedMarker) bool {
		return m.release == r.release.String() && m.fingerprint == r.req.Fingerprint() && m.place == r.place && r.place != ""
	})
	if err != nil {
		return nil, err
	}
	for _, id := range marked {
		d, err := getRunner(ctx, r.c, id)
		if statusOf(err) == 404 {
			continue
		}
		if err != nil {
			return nil, explain(err, fmt.Sprintf("reading runner %d", id))
		}
		switch {
		case d.ContactedAt != nil || (d.Status != "" && d.Status != "never_contacted"):
			p.record(r.req, "skip", id, fmt.Sprintf("runner %d carries this release's marker but has contacted GitLab (status %s): some runner holds its token, so it is not taken over", id, d.Status))
		case d.CreatedAt == nil || time.Since(*d.CreatedAt) > p.cfg.AdoptWindow:
			p.record(r.req, "skip", id, fmt.Sprintf("runner %d carries this release's marker but was created more than %s ago: it is not an orphan of a run that just died, so it is not taken over", id, p.cfg.AdoptWindow))
		default:
			return d, nil
		}
	}
	return nil, nil
}

// listMarked lists the runner ids of a scope whose description marker matches, in id order.
func listMarked(ctx context.Context, c *gl.Client, scope Scope, match func(parsedMarker) bool) ([]int64, error) {
	var found []int64
	page := int64(1)
	for page != 0 {
		lo := gl.ListOptions{PerPage: 100, Page: page}
		var (
			runners []*gl.Runner
			resp    *gl.Response
			err     error
		)
		switch scope.Type {
		case GroupType:
			runners, resp, err = c.Runners.ListGroupsRunners(scope.GroupID, &gl.ListGroupsRunnersOptions{ListOptions: lo, Type: gl.Ptr(GroupType)}, gl.WithContext(ctx))
		case ProjectType:
			runners, resp, err = c.Runners.ListProjectRunners(scope.ProjectID, &gl.ListProjectRunnersOptions{ListOptions: lo, Type: gl.Ptr(ProjectType)}, gl.WithContext(ctx))
		default:
			runners, resp, err = c.Runners.ListAllRunners(&gl.ListRunnersOptions{ListOptions: lo, Type: gl.Ptr(InstanceType)}, gl.WithContext(ctx))
		}
		if err != nil {
			return nil, explain(err, "listing the runners of the "+scope.String())
		}
		for _, r := range runners {
			if m, ok := parseMarker(r.Description); ok && match(m) {
				found = append(found, r.ID)
			}
		}
		page = resp.NextPage
	}
	sort.Slice(found, func(i, j int) bool { return found[i] < found[j] })
	return found, nil
}

// inScope reports whether a runner lives in a scope.
func (d *RunnerDetails) inScope(s Scope) bool {
	if d.RunnerType != s.Type {
		return false
	}
	switch s.Type {
	case GroupType:
		return len(d.Groups) > 0 && d.Groups[0].ID == s.GroupID
	case ProjectType:
		for _, pr := range d.Projects {
			if pr.ID == s.ProjectID {
				return true
			}
		}
		return false
	}
	return true
}

// moveIfScopeChanged handles a runner whose release now registers with another registration token
// (or was told another scope): GitLab cannot move a runner between groups or projects, so a new
// runner is created in the new scope, and the old one, which carries this release's marker, is
// deleted once the new token is kept (only when the output is deployed: the running pods still
// use the old runner until then).
func (p *Provisioner) moveIfScopeChanged(ctx context.Context, r *run, rec Record, d *RunnerDetails) (bool, tokensource.Credential, error) {
	explicit := p.cfg.Scope.RunnerType != ""
	changed := rec.Registration != "" && r.req.Spec.Registration != "" && rec.Registration != r.req.Spec.Registration
	if !explicit && !changed {
		return false, tokensource.Credential{}, nil
	}
	scope, err := p.resolveScope(ctx, r.c, p.legacyToken(ctx, r))
	if err != nil {
		return true, tokensource.Credential{}, err
	}
	if d.inScope(scope) {
		return false, tokensource.Credential{}, nil
	}
	p.record(r.req, "replace", rec.RunnerID, fmt.Sprintf("runner %d is a %s, but the release now belongs to the %s (%s); GitLab cannot move a runner, so a new one is created",
		rec.RunnerID, d.RunnerType, scope.String(), scope.Reason))
	p.unclaim(rec.RunnerID)
	cred, err := p.create(ctx, r, scope)
	if err != nil || p.cfg.DryRun {
		return true, cred, err
	}
	if !p.cfg.MayReset {
		p.record(r.req, "defer", rec.RunnerID, "the old runner stays until the new one is deployed, because "+p.cfg.ResetRefusal+"; runner-migrate prune removes it then")
		return true, cred, nil
	}
	p.record(r.req, "retire", rec.RunnerID, "deleted: replaced by runner "+fmt.Sprint(cred.RunnerID))
	if _, err := r.c.Runners.DeleteRegisteredRunnerByID(rec.RunnerID, gl.WithContext(ctx)); err != nil && statusOf(err) != 404 {
		p.cfg.Warn(explain(err, fmt.Sprintf("deleting the replaced runner %d", rec.RunnerID)).Error())
	}
	return true, cred, nil
}
