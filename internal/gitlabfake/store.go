package gitlabfake

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GitLab access levels (Gitlab::Access).
const (
	accessMinimal    = 5
	accessGuest      = 10
	accessPlanner    = 15
	accessReporter   = 20
	accessDeveloper  = 30
	accessMaintainer = 40
	accessOwner      = 50
)

// Runner types as GitLab names them.
const (
	instanceType = "instance_type"
	groupType    = "group_type"
	projectType  = "project_type"
)

var runnerTypes = []string{instanceType, groupType, projectType}

func isRunnerType(t string) bool { return slices.Contains(runnerTypes, t) }

// registrationTokenPrefix starts every runner registration token GitLab issues (instance,
// group and project runners_token).
const registrationTokenPrefix = "GR1348941"

// User is a seeded GitLab user.
type User struct {
	ID       int64
	Username string
	Admin    bool
}

type user struct {
	id        int64
	username  string
	admin     bool
	createdAt time.Time
}

func (u *user) export() *User { return &User{ID: u.id, Username: u.username, Admin: u.admin} }

// accessToken is a personal access token.
type accessToken struct {
	id          int64
	name        string
	userID      int64
	scopes      []string
	createdAt   time.Time
	expiresAt   *time.Time // GitLab keeps a date; the fake keeps midnight UTC of it, or a test's instant
	revoked     bool
	lastUsedAt  *time.Time
	lastUsedIPs []string
}

func (t *accessToken) hasScope(scope string) bool { return slices.Contains(t.scopes, scope) }

// Group is a seeded GitLab group. RunnersToken is its (legacy) runner registration token.
type Group struct {
	ID           int64
	FullPath     string
	RunnersToken string
}

type group struct {
	id           int64
	fullPath     string
	parentID     int64
	runnersToken string
	createdAt    time.Time
}

func (g *group) export() *Group {
	return &Group{ID: g.id, FullPath: g.fullPath, RunnersToken: g.runnersToken}
}

func (g *group) path() string { return lastSegment(g.fullPath) }

// Project is a seeded GitLab project. GroupID is 0 for a project in a user namespace.
type Project struct {
	ID                int64
	PathWithNamespace string
	GroupID           int64
	RunnersToken      string
}

type project struct {
	id                int64
	pathWithNamespace string
	groupID           int64
	runnersToken      string
	createdAt         time.Time
}

func (p *project) export() *Project {
	return &Project{ID: p.id, PathWithNamespace: p.pathWithNamespace, GroupID: p.groupID, RunnersToken: p.runnersToken}
}

func (p *project) path() string { return lastSegment(p.pathWithNamespace) }

func (p *project) namespacePath() string {
	i := strings.LastIndex(p.pathWithNamespace, "/")
	if i < 0 {
		return ""
	}
	return p.pathWithNamespace[:i]
}

type membershipKey struct{ userID, sourceID int64 }

// AddUser creates a user. Usernames are not checked for uniqueness.
func (s *Server) AddUser(username string, admin bool) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &user{id: s.nextUserID, username: username, admin: admin, createdAt: s.now()}
	s.nextUserID++
	s.users[u.id] = u
	return u.export()
}

// AddToken issues a personal access token ("glpat-...") for u with the given scopes
// (api, read_api, create_runner, manage_runner, read_user, admin_mode, ...).
func (s *Server) AddToken(u *User, scopes ...string) string {
	return s.addToken(u, scopes, nil, false)
}

// AddTokenExpiringOn issues a personal access token that expires on the given date (GitLab
// keeps a PAT's expiry as a date: the token stops working at the start of that day, UTC).
func (s *Server) AddTokenExpiringOn(u *User, date time.Time, scopes ...string) string {
	day := time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, time.UTC)
	return s.addToken(u, scopes, &day, false)
}

// AddExpiredToken issues a personal access token that expired yesterday.
func (s *Server) AddExpiredToken(u *User, scopes ...string) string {
	s.mu.Lock()
	expired := s.now().AddDate(0, 0, -1)
	s.mu.Unlock()
	return s.addToken(u, scopes, &expired, false)
}

// AddRevokedToken issues a personal access token that has been revoked.
func (s *Server) AddRevokedToken(u *User, scopes ...string) string {
	return s.addToken(u, scopes, nil, true)
}

func (s *Server) addToken(u *User, scopes []string, expiresAt *time.Time, revoked bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUser(u, "AddToken")
	for {
		secret := "glpat-" + randomToken(20)
		if _, taken := s.tokens[secret]; taken {
			continue
		}
		s.tokens[secret] = &accessToken{id: s.nextTokenID, name: "token-" + strconv.FormatInt(s.nextTokenID, 10), userID: u.ID,
			scopes: slices.Clone(scopes), createdAt: s.now(), expiresAt: expiresAt, revoked: revoked}
		s.nextTokenID++
		return secret
	}
}

// AddGroup creates a group with the given full path ("parent/child"). Missing ancestors
// are created too, because GitLab has no subgroup without its parent. Adding an existing
// path (compared case-insensitively, as GitLab does) returns the existing group.
func (s *Server) AddGroup(fullPath string) *Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ensureGroup(strings.Trim(fullPath, "/")).export()
}

func (s *Server) ensureGroup(fullPath string) *group {
	if fullPath == "" {
		panic("gitlabfake: AddGroup: empty path")
	}
	if g := s.groupByPath(fullPath); g != nil {
		return g
	}
	var parentID int64
	if i := strings.LastIndex(fullPath, "/"); i >= 0 {
		parentID = s.ensureGroup(fullPath[:i]).id
	}
	g := &group{id: s.nextGroupID, fullPath: fullPath, parentID: parentID,
		runnersToken: s.newRegistrationToken(), createdAt: s.now()}
	s.nextGroupID++
	s.groups[g.id] = g
	return g
}

// AddProject creates a project. With a group, a pathWithNamespace without a slash is taken
// as the project's own path inside the group. Without a group the project lives in the
// group named by its namespace part when that group exists, and otherwise in a user
// namespace.
func (s *Server) AddProject(pathWithNamespace string, grp *Group) *Project {
	s.mu.Lock()
	defer s.mu.Unlock()
	full := strings.Trim(pathWithNamespace, "/")
	if full == "" {
		panic("gitlabfake: AddProject: empty path")
	}
	var groupID int64
	if grp != nil {
		g := s.groups[grp.ID]
		if g == nil {
			panic(fmt.Sprintf("gitlabfake: AddProject: unknown group %d", grp.ID))
		}
		groupID = g.id
		if !strings.Contains(full, "/") {
			full = g.fullPath + "/" + full
		}
	} else if i := strings.LastIndex(full, "/"); i >= 0 {
		if g := s.groupByPath(full[:i]); g != nil {
			groupID = g.id
		}
	}
	if p := s.projectByPath(full); p != nil {
		return p.export()
	}
	p := &project{id: s.nextProjectID, pathWithNamespace: full, groupID: groupID,
		runnersToken: s.newRegistrationToken(), createdAt: s.now()}
	s.nextProjectID++
	s.projects[p.id] = p
	return p.export()
}

// SetGroupAccess makes u a direct member of g with the given access level (10 Guest, 20
// Reporter, 30 Developer, 40 Maintainer, 50 Owner). Level 0 removes the membership.
// Memberships are inherited by subgroups and projects, as in GitLab.
func (s *Server) SetGroupAccess(u *User, g *Group, level int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUser(u, "SetGroupAccess")
	if g == nil || s.groups[g.ID] == nil {
		panic("gitlabfake: SetGroupAccess: unknown group")
	}
	setMembership(s.groupMembers, membershipKey{u.ID, g.ID}, level)
}

// SetProjectAccess makes u a direct member of p with the given access level; 0 removes it.
func (s *Server) SetProjectAccess(u *User, p *Project, level int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustUser(u, "SetProjectAccess")
	if p == nil || s.projects[p.ID] == nil {
		panic("gitlabfake: SetProjectAccess: unknown project")
	}
	setMembership(s.projectMembers, membershipKey{u.ID, p.ID}, level)
}

func setMembership(m map[membershipKey]int, k membershipKey, level int) {
	if level <= 0 {
		delete(m, k)
		return
	}
	m[k] = level
}

// InstanceRegistrationToken is the instance-wide runner registration token that the
// legacy POST /runners accepts when WithRegistrationTokens is set.
func (s *Server) InstanceRegistrationToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.instanceRegistrationToken
}

func (s *Server) mustUser(u *User, caller string) *user {
	if u == nil || s.users[u.ID] == nil {
		panic("gitlabfake: " + caller + ": unknown user")
	}
	return s.users[u.ID]
}

func (s *Server) newRegistrationToken() string { return registrationTokenPrefix + randomToken(20) }

func (s *Server) groupByPath(fullPath string) *group {
	for _, g := range s.groups {
		if strings.EqualFold(g.fullPath, fullPath) {
			return g
		}
	}
	return nil
}

func (s *Server) projectByPath(fullPath string) *project {
	for _, p := range s.projects {
		if strings.EqualFold(p.pathWithNamespace, fullPath) {
			return p
		}
	}
	return nil
}

// groupAncestry returns g and its ancestors, nearest first.
func (s *Server) groupAncestry(g *group) []*group {
	var chain []*group
	for g != nil {
		chain = append(chain, g)
		g = s.groups[g.parentID]
	}
	return chain
}

// isDescendantOrSelf reports whether g is root or lies below it.
func (s *Server) isDescendantOrSelf(g, root *group) bool {
	return slices.Contains(s.groupAncestry(g), root)
}

// groupAccess is the user's effective access to g: the highest of their direct
// memberships in g and its ancestors.
func (s *Server) groupAccess(u *user, g *group) int {
	if u == nil || g == nil {
		return 0
	}
	best := 0
	for _, a := range s.groupAncestry(g) {
		best = max(best, s.groupMembers[membershipKey{u.id, a.id}])
	}
	return best
}

// projectAccess is the user's effective access to p: direct membership or inherited from
// the project's group hierarchy.
func (s *Server) projectAccess(u *user, p *project) int {
	if u == nil || p == nil {
		return 0
	}
	return max(s.projectMembers[membershipKey{u.id, p.id}], s.groupAccess(u, s.groups[p.groupID]))
}

// canReadGroup mirrors GitLab's read_group for private groups: members (direct or
// inherited), and members of anything below the group, can see it.
func (s *Server) canReadGroup(a *actor, g *group) bool {
	if a.admin {
		return true
	}
	if a.user == nil {
		return false
	}
	if s.groupAccess(a.user, g) > 0 {
		return true
	}
	for k := range s.groupMembers {
		if k.userID == a.user.id && s.isDescendantOrSelf(s.groups[k.sourceID], g) {
			return true
		}
	}
	for k := range s.projectMembers {
		if p := s.projects[k.sourceID]; k.userID == a.user.id && p != nil && s.isDescendantOrSelf(s.groups[p.groupID], g) {
			return true
		}
	}
	return false
}

// canReadProject mirrors read_project for private projects: any member can read it.
func (s *Server) canReadProject(a *actor, p *project) bool {
	return a.admin || s.projectAccess(a.user, p) > 0
}

func lastSegment(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}
