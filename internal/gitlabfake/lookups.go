package gitlabfake

import (
	"cmp"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Lookups a provisioner needs: who am I, and which groups and projects (and their IDs and
// registration tokens) can I see.

// accessLevelValues are the values min_access_level accepts (Gitlab::Access.all_values).
var accessLevelValues = []string{"5", "10", "15", "20", "30", "40", "50"}

var numericID = regexp.MustCompile(`^\d+$`)

// findGroup is GitLab's find_group: a numeric ID, or else a full path compared
// case-insensitively.
func (s *Server) findGroup(id string) *group {
	if numericID.MatchString(id) {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil
		}
		return s.groups[n]
	}
	return s.groupByPath(id)
}

// findProject is GitLab's find_project: a numeric ID or a path_with_namespace.
func (s *Server) findProject(id string) *project {
	if numericID.MatchString(id) {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil
		}
		return s.projects[n]
	}
	return s.projectByPath(id)
}

func (s *Server) sortedGroups() []*group {
	out := make([]*group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *group) int { return compareInt64(a.id, b.id) })
	return out
}

func (s *Server) sortedProjects() []*project {
	out := make([]*project, 0, len(s.projects))
	for _, p := range s.projects {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *project) int { return compareInt64(a.id, b.id) })
	return out
}

// GET /user
func (c *call) currentUser() *response {
	return jsonResponse(http.StatusOK, c.currentUserEntity(c.actor.user))
}

// GET /application/settings: administrators only.
func (c *call) applicationSettings() *response {
	if !c.actor.admin {
		return forbidden("")
	}
	s := c.s
	interval := func(t string) any {
		if d, ok := s.tokenExpiration[t]; ok && d > 0 {
			return int64(d.Seconds())
		}
		return nil
	}
	return jsonResponse(http.StatusOK, obj{
		{"id", 1},
		{"default_projects_limit", 100000},
		{"signup_enabled", false},
		{"admin_mode", s.adminMode},
		{"created_at", jsonTimeValue(s.settingsCreatedAt)},
		{"updated_at", jsonTimeValue(s.settingsCreatedAt)},
		{"shared_runners_enabled", true},
		{"shared_runners_text", nil},
		{"runners_registration_token", s.instanceRegistrationToken},
		{"allow_runner_registration_token", s.registrationTokens},
		{"valid_runner_registrars", []string{"project", "group"}},
		{"runner_token_expiration_interval", interval(instanceType)},
		{"group_runner_token_expiration_interval", interval(groupType)},
		{"project_runner_token_expiration_interval", interval(projectType)},
	})
}

// GET /groups
func (c *call) listGroups() *response {
	s, p := c.s, c.params
	var errs paramErrors
	search, _ := p.optString(&errs, "search")
	orderBy := readEnum(p, &errs, "order_by", "name", "path", "id", "similarity")
	sortDir := readEnum(p, &errs, "sort", "asc", "desc")
	owned := readBool(p, &errs, "owned")
	minAccess := readEnum(p, &errs, "min_access_level", accessLevelValues...)
	topLevelOnly := readBool(p, &errs, "top_level_only")
	pr := p.pagination(&errs)
	if resp := errs.response(); resp != nil {
		return resp
	}

	var out []*group
	for _, g := range s.sortedGroups() {
		switch {
		case !s.canReadGroup(c.actor, g):
			continue
		case owned != nil && *owned && s.groupMembers[membershipKey{userIDOf(c.actor), g.id}] != accessOwner:
			continue // owned means a direct Owner membership
		case minAccess != nil && s.groupAccess(c.actor.user, g) < atoi(*minAccess):
			continue
		case topLevelOnly != nil && *topLevelOnly && g.parentID != 0:
			continue
		case search != nil && *search != "" && !containsFold(g.fullPath, *search):
			continue
		}
		out = append(out, g)
	}
	key := func(g *group) string { return g.path() }
	if orderBy != nil && *orderBy == "path" {
		key = func(g *group) string { return g.fullPath }
	}
	byID := orderBy != nil && *orderBy == "id"
	desc := sortDir != nil && *sortDir == "desc"
	slices.SortStableFunc(out, func(a, b *group) int {
		r := compareInt64(a.id, b.id)
		if !byID {
			r = cmp.Or(cmp.Compare(key(a), key(b)), r)
		}
		if desc {
			return -r
		}
		return r
	})
	return paginate(c, pr, out, func(g *group) any { return c.groupEntity(g) })
}

// GET /groups/:id. An existing group the caller may not see is reported as missing, as
// GitLab does not disclose private groups.
func (c *call) getGroup() *response {
	var errs paramErrors
	withProjects := readBool(c.params, &errs, "with_projects")
	if resp := errs.response(); resp != nil {
		return resp
	}
	g := c.s.findGroup(c.vars["id"])
	if g == nil || !c.s.canReadGroup(c.actor, g) {
		return notFoundResource("Group")
	}
	return jsonResponse(http.StatusOK, c.groupDetailEntity(g, withProjects == nil || *withProjects))
}

// GET /projects
func (c *call) listProjects() *response {
	s, p := c.s, c.params
	var errs paramErrors
	orderBy := readEnum(p, &errs, "order_by", "id", "name", "path", "created_at", "updated_at", "last_activity_at", "similarity", "star_count")
	sortDir := readEnum(p, &errs, "sort", "asc", "desc")
	search, _ := p.optString(&errs, "search")
	owned := readBool(p, &errs, "owned")
	membership := readBool(p, &errs, "membership")
	minAccess := readEnum(p, &errs, "min_access_level", accessLevelValues...)
	simple := readBool(p, &errs, "simple")
	pr := p.pagination(&errs)
	if resp := errs.response(); resp != nil {
		return resp
	}

	var out []*project
	for _, pj := range s.sortedProjects() {
		switch {
		case !s.canReadProject(c.actor, pj):
			continue
		case membership != nil && *membership && s.projectAccess(c.actor.user, pj) == 0:
			continue
		case owned != nil && *owned && (pj.groupID != 0 || c.actor.user == nil || !strings.EqualFold(pj.namespacePath(), c.actor.user.username)):
			continue // owned means the project lives in the caller's personal namespace
		case minAccess != nil && s.projectAccess(c.actor.user, pj) < atoi(*minAccess):
			continue
		case search != nil && *search != "" && !containsFold(pj.path(), *search):
			continue
		}
		out = append(out, pj)
	}
	// GitLab's default order is created_at desc, with the ID as tie-breaker.
	order := "created_at"
	if orderBy != nil && *orderBy != "similarity" && *orderBy != "star_count" {
		order = *orderBy
	}
	desc := sortDir == nil || *sortDir == "desc"
	slices.SortStableFunc(out, func(a, b *project) int {
		r := compareInt64(a.id, b.id)
		switch order {
		case "name", "path":
			r = cmp.Or(cmp.Compare(a.path(), b.path()), r)
		case "created_at", "updated_at", "last_activity_at":
			r = cmp.Or(a.createdAt.Compare(b.createdAt), r)
		}
		if desc {
			return -r
		}
		return r
	})
	render := func(pj *project) any { return c.projectEntity(pj) }
	if simple != nil && *simple {
		render = func(pj *project) any { return c.projectSimpleEntity(pj) }
	}
	return paginate(c, pr, out, render)
}

// GET /projects/:id
func (c *call) getProject() *response {
	pj := c.s.findProject(c.vars["id"])
	if pj == nil || !c.s.canReadProject(c.actor, pj) {
		return notFoundResource("Project")
	}
	return jsonResponse(http.StatusOK, c.projectEntity(pj))
}

func userIDOf(a *actor) int64 {
	if a.user == nil {
		return 0
	}
	return a.user.id
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
