package gitlabfake

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// The four runner lists (GET /runners, /runners/all, /groups/:id/runners,
// /projects/:id/runners) and their filters.

// Ci::Runner::AVAILABLE_STATUSES (active and paused are deprecated) and the extra scopes
// /runners/all accepts.
var (
	runnerStatuses  = []string{"active", "paused", "online", "offline", "never_contacted", "stale"}
	allRunnerScopes = append(slices.Clone(runnerStatuses), "specific", "shared", instanceType, groupType, projectType)
	versionPrefixRe = regexp.MustCompile(`^[\d+.]+`)
)

type runnerFilter struct {
	scope, runnerType, status, versionPrefix string
	paused                                   *bool
	tags                                     []string
}

// readRunnerFilters reads the list parameters in GitLab's declaration order, then the
// pagination parameters, and finally checks the deprecated scope against the values the
// endpoint allows.
func (c *call) readRunnerFilters(scopes []string) (runnerFilter, pageRequest, *response) {
	p := c.params
	var errs paramErrors
	var f runnerFilter
	if v, ok := p.optString(&errs, "scope"); ok && v != nil {
		f.scope = *v
	}
	if v := readEnum(p, &errs, "type", runnerTypes...); v != nil {
		f.runnerType = *v
	}
	f.paused = readBool(p, &errs, "paused")
	if v := readEnum(p, &errs, "status", runnerStatuses...); v != nil {
		f.status = *v
	}
	if tags, ok := p.optList(&errs, "tag_list"); ok {
		f.tags = normalizeTags(tags)
	}
	if v, ok := p.optString(&errs, "version_prefix"); ok && v != nil {
		if !versionPrefixRe.MatchString(*v) {
			errs.add("version_prefix", "is invalid")
		}
		f.versionPrefix = *v
	}
	pr := p.pagination(&errs)
	if resp := errs.response(); resp != nil {
		return f, pr, resp
	}
	if f.scope != "" && !slices.Contains(scopes, f.scope) {
		return f, pr, messageError(http.StatusBadRequest, "Scope contains invalid value")
	}
	return f, pr, nil
}

// matchesStatusScope applies Ci::Runner's status scopes (which, unlike #status, overlap:
// a stale runner is also offline or never_contacted).
func (s *Server) matchesStatusScope(r *runner, status string) bool {
	deadline := s.now().Add(-onlineContactTimeout)
	staleDeadline := s.now().Add(-staleTimeout)
	switch status {
	case "active":
		return !r.paused
	case "paused":
		return r.paused
	case "online":
		return r.contactedAt != nil && r.contactedAt.After(deadline)
	case "offline":
		return r.contactedAt != nil && !r.contactedAt.After(deadline)
	case "never_contacted":
		return r.contactedAt == nil
	case "stale":
		return !r.createdAt.After(staleDeadline) && (r.contactedAt == nil || !r.contactedAt.After(staleDeadline))
	}
	return true
}

func (s *Server) matchesFilter(r *runner, f runnerFilter) bool {
	switch f.scope {
	case "":
	case "specific":
		if r.runnerType == instanceType {
			return false
		}
	case "shared":
		if r.runnerType != instanceType {
			return false
		}
	case instanceType, groupType, projectType:
		if r.runnerType != f.scope {
			return false
		}
	default:
		if !s.matchesStatusScope(r, f.scope) {
			return false
		}
	}
	if f.runnerType != "" && r.runnerType != f.runnerType {
		return false
	}
	if f.paused != nil && r.paused != *f.paused {
		return false
	}
	if f.status != "" && !s.matchesStatusScope(r, f.status) {
		return false
	}
	for _, t := range f.tags {
		if !slices.Contains(r.tags, t) {
			return false
		}
	}
	if f.versionPrefix != "" && (r.version == nil || !strings.HasPrefix(*r.version, f.versionPrefix)) {
		return false
	}
	return true
}

// listRunners filters the runners include accepts and renders one page, ordered by ID as
// GitLab's paginate adds when the relation has no order.
func (c *call) listRunners(f runnerFilter, pr pageRequest, include func(*runner) bool) *response {
	var out []*runner
	for _, r := range c.s.sortedRunners() {
		if include(r) && c.s.matchesFilter(r, f) {
			out = append(out, r)
		}
	}
	return paginate(c, pr, out, func(r *runner) any { return c.runnerEntity(r) })
}

// GET /runners: the caller's owned runners.
func (c *call) listOwnedRunners() *response {
	f, pr, resp := c.readRunnerFilters(runnerStatuses)
	if resp != nil {
		return resp
	}
	return c.listRunners(f, pr, func(r *runner) bool { return c.s.ownsRunner(c.actor.user, r) })
}

// GET /runners/all: administrators only.
func (c *call) listAllRunners() *response {
	f, pr, resp := c.readRunnerFilters(allRunnerScopes)
	if resp != nil {
		return resp
	}
	if !c.actor.admin {
		return forbidden("")
	}
	return c.listRunners(f, pr, func(*runner) bool { return true })
}

// GET /groups/:id/runners: instance runners plus the runners of the group and its
// ancestors (Ci::Runner.group_or_instance_wide).
func (c *call) listGroupRunners() *response {
	f, pr, resp := c.readRunnerFilters(allRunnerScopes)
	if resp != nil {
		return resp
	}
	g := c.s.findGroup(c.vars["id"])
	if g == nil || !c.s.canReadGroup(c.actor, g) {
		return notFoundResource("Group")
	}
	if !c.actor.admin && c.s.groupAccess(c.actor.user, g) < accessMaintainer {
		return forbidden("")
	}
	ancestry := c.s.groupAncestry(g)
	return c.listRunners(f, pr, func(r *runner) bool {
		return r.runnerType == instanceType || (r.runnerType == groupType && slices.Contains(ancestry, c.s.groups[r.groupID]))
	})
}

// GET /projects/:id/runners: the project's runners, its group hierarchy's runners and
// instance runners.
func (c *call) listProjectRunners() *response {
	f, pr, resp := c.readRunnerFilters(allRunnerScopes)
	if resp != nil {
		return resp
	}
	p := c.s.findProject(c.vars["id"])
	if p == nil || !c.s.canReadProject(c.actor, p) {
		return notFoundResource("Project")
	}
	if !c.actor.admin && c.s.projectAccess(c.actor.user, p) < accessMaintainer {
		return forbidden("")
	}
	ancestry := c.s.groupAncestry(c.s.groups[p.groupID])
	return c.listRunners(f, pr, func(r *runner) bool {
		switch r.runnerType {
		case instanceType:
			return true
		case groupType:
			return slices.Contains(ancestry, c.s.groups[r.groupID])
		}
		return r.projectID == p.id
	})
}
