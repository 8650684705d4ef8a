package gitlabfake

import (
	"strings"
	"time"
)

// This file renders GitLab's Grape entities with their keys in GitLab's order. Where an
// entity has many more fields than runner-migrate or client-go care about, a faithful
// subset is rendered, with the types GitLab uses (null where GitLab has null).

// Runner liveness, as Ci::Runner defines it.
const (
	onlineContactTimeout = 2 * time.Hour
	staleTimeout         = 7 * 24 * time.Hour
)

// runnerOnline is Ci::Runner#online?: null for a runner that never contacted GitLab.
func (s *Server) runnerOnline(r *runner) any {
	if r.contactedAt == nil {
		return nil
	}
	return r.contactedAt.After(s.now().Add(-onlineContactTimeout))
}

func (s *Server) runnerStale(r *runner) bool {
	last := r.createdAt
	if r.contactedAt != nil && r.contactedAt.After(last) {
		last = *r.contactedAt
	}
	return !last.After(s.now().Add(-staleTimeout))
}

// runnerStatus is Ci::Runner#status.
func (s *Server) runnerStatus(r *runner) string {
	switch {
	case s.runnerStale(r):
		return "stale"
	case r.contactedAt == nil:
		return "never_contacted"
	case r.contactedAt.After(s.now().Add(-onlineContactTimeout)):
		return "online"
	}
	return "offline"
}

// runnerEntity is Entities::Ci::Runner, the list item.
func (c *call) runnerEntity(r *runner) obj {
	s := c.s
	o := obj{
		{"id", r.id},
		{"description", optString(r.description)},
		// The column is gone since GitLab 17.0; the field stays for compatibility, empty.
		{"ip_address", ""},
		{"active", !r.paused},
		{"paused", r.paused},
		{"is_shared", r.runnerType == instanceType},
		{"runner_type", r.runnerType},
		{"name", optString(r.name)},
		{"online", s.runnerOnline(r)},
	}
	if creator := s.users[r.creatorID]; creator != nil && c.actor.user != nil {
		o = append(o, kv{"created_by", c.userBasic(creator)})
	}
	return append(o,
		kv{"created_at", jsonTimeValue(r.createdAt)},
		kv{"status", s.runnerStatus(r)},
		kv{"job_execution_status", "idle"},
	)
}

// runnerDetailsEntity is Entities::Ci::RunnerDetails.
func (c *call) runnerDetailsEntity(r *runner) obj {
	s := c.s
	tags := r.tags
	if tags == nil {
		tags = []string{}
	}
	o := append(c.runnerEntity(r),
		kv{"tag_list", tags},
		kv{"run_untagged", r.runUntagged},
		kv{"locked", r.locked},
		kv{"maximum_timeout", optInt(r.maximumTimeout)},
		kv{"access_level", r.accessLevel},
		kv{"version", optString(r.version)},
		kv{"revision", optString(r.revision)},
		kv{"platform", optString(r.platform)},
		kv{"architecture", optString(r.architecture)},
		kv{"contacted_at", jsonTime(r.contactedAt)},
	)
	// Newer GitLab shows the maintenance note only to those who may update the runner.
	if s.canUpdateRunner(c.actor, r) {
		o = append(o, kv{"maintenance_note", optString(r.maintenanceNote)})
	}
	projects := []any{}
	if p := s.projects[r.projectID]; r.runnerType == projectType && p != nil && s.canReadProject(c.actor, p) {
		projects = append(projects, c.projectSimpleEntity(p))
	}
	groups := []any{}
	if g := s.groups[r.groupID]; r.runnerType == groupType && g != nil && s.canReadGroup(c.actor, g) {
		groups = append(groups, obj{{"id", g.id}, {"web_url", c.groupWebURL(g)}, {"name", g.path()}})
	}
	return append(o, kv{"projects", projects}, kv{"groups", groups})
}

// registrationDetails is Entities::Ci::RunnerRegistrationDetails, the answer to create,
// legacy registration and verify.
func registrationDetails(r *runner) obj {
	return obj{{"id", r.id}, {"token", r.token}, {"token_expires_at", jsonTime(r.tokenExpiresAt)}}
}

// resetTokenResult is Entities::Ci::ResetTokenResult. Runner tokens are "expirable", so
// token_expires_at is always present.
func resetTokenResult(r *runner) obj {
	return obj{{"token", r.token}, {"token_expires_at", jsonTime(r.tokenExpiresAt)}}
}

func (c *call) managerEntity(r *runner, m *runnerManager) obj {
	status := "offline"
	if m.contactedAt.After(c.s.now().Add(-onlineContactTimeout)) {
		status = "online"
	}
	return obj{
		{"id", m.id},
		{"system_id", m.systemID},
		{"version", optString(r.version)},
		{"revision", optString(r.revision)},
		{"platform", optString(r.platform)},
		{"architecture", optString(r.architecture)},
		{"created_at", jsonTimeValue(m.createdAt)},
		{"contacted_at", jsonTimeValue(m.contactedAt)},
		{"ip_address", ""},
		{"status", status},
		{"job_execution_status", "idle"},
	}
}

// userBasic is Entities::UserBasic.
func (c *call) userBasic(u *user) obj {
	return obj{
		{"id", u.id},
		{"username", u.username},
		{"name", u.username},
		{"state", "active"},
		{"locked", false},
		{"avatar_url", nil},
		{"web_url", c.baseURL() + "/" + u.username},
	}
}

// currentUserEntity is Entities::UserPublic for the caller, or UserWithAdmin (which adds
// is_admin) when the caller may read all resources, i.e. is an administrator acting as one.
func (c *call) currentUserEntity(u *user) obj {
	o := append(c.userBasic(u),
		kv{"created_at", jsonTimeValue(u.createdAt)},
		kv{"bio", ""},
		kv{"location", ""},
		kv{"public_email", nil},
		kv{"linkedin", ""},
		kv{"twitter", ""},
		kv{"discord", ""},
		kv{"website_url", ""},
		kv{"organization", ""},
		kv{"job_title", ""},
		kv{"pronouns", nil},
		kv{"bot", false},
		kv{"work_information", nil},
		kv{"local_time", nil},
		kv{"last_sign_in_at", nil},
		kv{"confirmed_at", jsonTimeValue(u.createdAt)},
		kv{"last_activity_on", nil},
		kv{"email", u.username + "@example.com"},
		kv{"theme_id", 3},
		kv{"color_scheme_id", 1},
		kv{"projects_limit", 100000},
		kv{"current_sign_in_at", nil},
		kv{"identities", []any{}},
		kv{"can_create_group", true},
		kv{"can_create_project", true},
		kv{"two_factor_enabled", false},
		kv{"external", false},
		kv{"private_profile", false},
		kv{"commit_email", u.username + "@example.com"},
	)
	if c.actor.admin {
		o = append(o, kv{"is_admin", u.admin}, kv{"note", nil}, kv{"namespace_id", u.id}, kv{"created_by", nil})
	}
	return o
}

func (c *call) groupWebURL(g *group) string { return c.baseURL() + "/groups/" + g.fullPath }

func (s *Server) groupFullName(g *group) string {
	chain := s.groupAncestry(g)
	names := make([]string, len(chain))
	for i, a := range chain {
		names[len(chain)-1-i] = a.path()
	}
	return strings.Join(names, " / ")
}

// groupEntity is Entities::Group, the list item. It never carries runners_token.
func (c *call) groupEntity(g *group) obj {
	var parent any
	if g.parentID != 0 {
		parent = g.parentID
	}
	return obj{
		{"id", g.id},
		{"web_url", c.groupWebURL(g)},
		{"name", g.path()},
		{"path", g.path()},
		{"description", ""},
		{"visibility", "private"},
		{"share_with_group_lock", false},
		{"require_two_factor_authentication", false},
		{"two_factor_grace_period", 48},
		{"project_creation_level", "developer"},
		{"auto_devops_enabled", nil},
		{"subgroup_creation_level", "maintainer"},
		{"emails_disabled", false},
		{"emails_enabled", true},
		{"mentions_disabled", nil},
		{"lfs_enabled", true},
		{"default_branch", nil},
		{"default_branch_protection", 2},
		{"avatar_url", nil},
		{"request_access_enabled", true},
		{"full_name", c.s.groupFullName(g)},
		{"full_path", g.fullPath},
		{"created_at", jsonTimeValue(g.createdAt)},
		{"parent_id", parent},
		{"organization_id", 1},
		{"shared_runners_setting", "enabled"},
		{"ldap_cn", nil},
		{"ldap_access", nil},
		{"wiki_access_level", "enabled"},
		{"marked_for_deletion_on", nil},
		{"archived", false},
	}
}

// groupDetailEntity is Entities::GroupDetail: runners_token only for those who may
// administer the group (Owners and administrators), and the group's own projects unless
// with_projects=false.
func (c *call) groupDetailEntity(g *group, withProjects bool) obj {
	s := c.s
	o := c.groupEntity(g)
	if c.actor.admin || s.groupAccess(c.actor.user, g) >= accessOwner {
		o = append(o, kv{"runners_token", g.runnersToken})
	}
	o = append(o,
		kv{"prevent_sharing_groups_outside_hierarchy", false},
		kv{"shared_with_groups", []any{}},
		kv{"runners_token_expiration_interval", nil},
	)
	if withProjects {
		projects := []any{}
		for _, p := range s.sortedProjects() {
			if p.groupID == g.id && s.canReadProject(c.actor, p) {
				projects = append(projects, c.projectEntity(p))
			}
		}
		o = append(o, kv{"projects", projects}, kv{"shared_projects", []any{}})
	}
	return o
}

func (c *call) projectNamespace(p *project) obj {
	if g := c.s.groups[p.groupID]; g != nil {
		var parent any
		if g.parentID != 0 {
			parent = g.parentID
		}
		return obj{
			{"id", g.id}, {"name", g.path()}, {"path", g.path()}, {"kind", "group"},
			{"full_path", g.fullPath}, {"parent_id", parent}, {"avatar_url", nil},
			{"web_url", c.groupWebURL(g)},
		}
	}
	ns := p.namespacePath()
	return obj{
		{"id", 0}, {"name", ns}, {"path", ns}, {"kind", "user"}, {"full_path", ns},
		{"parent_id", nil}, {"avatar_url", nil}, {"web_url", c.baseURL() + "/" + ns},
	}
}

func (c *call) projectNameWithNamespace(p *project) string {
	if g := c.s.groups[p.groupID]; g != nil {
		return c.s.groupFullName(g) + " / " + p.path()
	}
	return strings.ReplaceAll(p.pathWithNamespace, "/", " / ")
}

// projectSimpleEntity is Entities::BasicProjectDetails (what simple=true lists and runner
// details embed).
func (c *call) projectSimpleEntity(p *project) obj {
	host := strings.TrimPrefix(strings.TrimPrefix(c.baseURL(), "https://"), "http://")
	return obj{
		{"id", p.id},
		{"description", nil},
		{"name", p.path()},
		{"name_with_namespace", c.projectNameWithNamespace(p)},
		{"path", p.path()},
		{"path_with_namespace", p.pathWithNamespace},
		{"created_at", jsonTimeValue(p.createdAt)},
		{"default_branch", nil},
		{"tag_list", []any{}},
		{"topics", []any{}},
		{"ssh_url_to_repo", "git@" + host + ":" + p.pathWithNamespace + ".git"},
		{"http_url_to_repo", c.baseURL() + "/" + p.pathWithNamespace + ".git"},
		{"web_url", c.baseURL() + "/" + p.pathWithNamespace},
		{"readme_url", nil},
		{"forks_count", 0},
		{"avatar_url", nil},
		{"star_count", 0},
		{"last_activity_at", jsonTimeValue(p.createdAt)},
		{"namespace", c.projectNamespace(p)},
	}
}

// projectEntity is Entities::ProjectWithAccess: runners_token only for those who may
// administer the project (Maintainer and up, administrators).
func (c *call) projectEntity(p *project) obj {
	s := c.s
	o := append(c.projectSimpleEntity(p),
		kv{"visibility", "private"},
		kv{"empty_repo", true},
		kv{"archived", false},
		kv{"resolve_outdated_diff_discussions", false},
		kv{"container_registry_access_level", "enabled"},
		kv{"creator_id", 1},
		kv{"shared_runners_enabled", true},
		kv{"group_runners_enabled", true},
	)
	if c.actor.admin || s.projectAccess(c.actor.user, p) >= accessMaintainer {
		o = append(o, kv{"runners_token", p.runnersToken})
	}
	o = append(o, kv{"runner_token_expiration_interval", nil})

	var projectAccess, groupAccess any
	if c.actor.user != nil {
		if lvl := s.projectMembers[membershipKey{c.actor.user.id, p.id}]; lvl > 0 {
			projectAccess = obj{{"access_level", lvl}, {"notification_level", 3}}
		}
		if lvl := s.groupAccess(c.actor.user, s.groups[p.groupID]); lvl > 0 {
			groupAccess = obj{{"access_level", lvl}, {"notification_level", 3}}
		}
	}
	return append(o, kv{"permissions", obj{{"project_access", projectAccess}, {"group_access", groupAccess}}})
}
