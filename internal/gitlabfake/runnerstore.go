package gitlabfake

import (
	"fmt"
	"slices"
	"time"
)

// Runner is a snapshot of a runner in the fake's store. Optional values GitLab keeps as
// NULL (description, maintenance note, maximum timeout) are the zero value when unset.
type Runner struct {
	ID              int64
	Type            string // instance_type, group_type or project_type
	GroupID         int64
	ProjectID       int64
	Description     string
	Tags            []string
	RunUntagged     bool
	Locked          bool
	Paused          bool
	AccessLevel     string
	MaximumTimeout  int64
	MaintenanceNote string
	Token           string
	TokenExpiresAt  *time.Time
	ContactedAt     *time.Time
	Managers        []string // system IDs of the runner managers, "<legacy>" when none was sent
	CreatorID       int64
}

type runner struct {
	id               int64
	runnerType       string
	groupID          int64
	projectID        int64
	description      *string
	tags             []string
	runUntagged      bool
	locked           bool
	paused           bool
	accessLevel      string
	maximumTimeout   *int64
	maintenanceNote  *string
	token            string
	tokenExpiresAt   *time.Time
	contactedAt      *time.Time
	createdAt        time.Time
	updatedAt        time.Time
	managers         []*runnerManager
	creatorID        int64
	registrationType string // authenticated_user or registration_token

	// Set only by the legacy registration's info{} hash.
	name, version, revision, platform, architecture *string
}

type runnerManager struct {
	id          int64
	systemID    string
	createdAt   time.Time
	contactedAt time.Time
}

func (r *runner) export() Runner {
	out := Runner{
		ID: r.id, Type: r.runnerType, GroupID: r.groupID, ProjectID: r.projectID,
		Tags: slices.Clone(r.tags), RunUntagged: r.runUntagged, Locked: r.locked, Paused: r.paused,
		AccessLevel: r.accessLevel, Token: r.token, CreatorID: r.creatorID,
		TokenExpiresAt: cloneTime(r.tokenExpiresAt), ContactedAt: cloneTime(r.contactedAt),
	}
	if r.description != nil {
		out.Description = *r.description
	}
	if r.maintenanceNote != nil {
		out.MaintenanceNote = *r.maintenanceNote
	}
	if r.maximumTimeout != nil {
		out.MaximumTimeout = *r.maximumTimeout
	}
	for _, m := range r.managers {
		out.Managers = append(out.Managers, m.systemID)
	}
	return out
}

func (r *runner) clone() *runner {
	c := *r
	c.tags = slices.Clone(r.tags)
	c.managers = slices.Clone(r.managers)
	return &c
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// Runners returns a snapshot of every runner, sorted by ID.
func (s *Server) Runners() []Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Runner, 0, len(s.runners))
	for _, r := range s.sortedRunners() {
		out = append(out, r.export())
	}
	return out
}

// Runner returns a snapshot of one runner.
func (s *Server) Runner(id int64) (Runner, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runners[id]
	if !ok {
		return Runner{}, false
	}
	return r.export(), true
}

// AddRunner stores a runner directly, bypassing the API (for example an orphan created by
// another user, or hundreds of runners for pagination tests). ID, Token (a glrt- token) and
// AccessLevel (not_protected) are filled in when zero; zero Description, MaintenanceNote
// and MaximumTimeout mean unset. It panics on an unknown type or a missing owner.
func (s *Server) AddRunner(r Runner) Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !isRunnerType(r.Type) {
		panic("gitlabfake: AddRunner: unknown runner type " + r.Type)
	}
	if r.Type == groupType && s.groups[r.GroupID] == nil {
		panic(fmt.Sprintf("gitlabfake: AddRunner: unknown group %d", r.GroupID))
	}
	if r.Type == projectType && s.projects[r.ProjectID] == nil {
		panic(fmt.Sprintf("gitlabfake: AddRunner: unknown project %d", r.ProjectID))
	}
	now := s.now()
	nr := &runner{
		id: r.ID, runnerType: r.Type, tags: normalizeTags(r.Tags), runUntagged: r.RunUntagged,
		locked: r.Locked, paused: r.Paused, accessLevel: r.AccessLevel, token: r.Token,
		tokenExpiresAt: cloneTime(r.TokenExpiresAt), contactedAt: cloneTime(r.ContactedAt),
		createdAt: now, updatedAt: now, creatorID: r.CreatorID, registrationType: "authenticated_user",
	}
	switch r.Type {
	case groupType:
		nr.groupID = r.GroupID
	case projectType:
		nr.projectID = r.ProjectID
	}
	if nr.id == 0 {
		nr.id = s.nextRunnerID
	}
	if _, taken := s.runners[nr.id]; taken {
		panic(fmt.Sprintf("gitlabfake: AddRunner: runner %d exists", nr.id))
	}
	s.nextRunnerID = max(s.nextRunnerID, nr.id+1)
	if nr.token == "" {
		nr.token = s.newRunnerToken(nr.runnerType)
	}
	if nr.accessLevel == "" {
		nr.accessLevel = "not_protected"
	}
	if r.Description != "" {
		nr.description = &r.Description
	}
	if r.MaintenanceNote != "" {
		nr.maintenanceNote = &r.MaintenanceNote
	}
	if r.MaximumTimeout != 0 {
		nr.maximumTimeout = &r.MaximumTimeout
	}
	for _, id := range r.Managers {
		s.ensureManager(nr, id, now)
	}
	s.runners[nr.id] = nr
	return nr.export()
}

func (s *Server) sortedRunners() []*runner {
	out := make([]*runner, 0, len(s.runners))
	for _, r := range s.runners {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *runner) int { return compareInt64(a.id, b.id) })
	return out
}

func (s *Server) runnerByToken(token string) *runner {
	if token == "" {
		return nil
	}
	for _, r := range s.runners {
		if r.token == token {
			return r
		}
	}
	return nil
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
