package gitlab

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

// Runner types, as the API names them.
const (
	InstanceType = "instance_type"
	GroupType    = "group_type"
	ProjectType  = "project_type"
)

// Scope is where a runner lives in GitLab, and why runner-migrate chose it.
type Scope struct {
	Type      string
	GroupID   int64
	ProjectID int64
	Path      string // group full path or project path with namespace; "" for instance
	Reason    string
}

func (s Scope) String() string {
	switch s.Type {
	case GroupType:
		return fmt.Sprintf("group runner in %s (id %d)", s.Path, s.GroupID)
	case ProjectType:
		return fmt.Sprintf("project runner in %s (id %d)", s.Path, s.ProjectID)
	}
	return "instance runner"
}

// ScopeConfig is what the user said about the scope: nothing (resolve it from the registration
// token), or a runner type with a group or project given by path or id.
type ScopeConfig struct {
	RunnerType string // instance, group or project (or the API's *_type names); "" to resolve
	Group      string
	Project    string
}

// resolveScope decides the scope of a new runner: the one the user named, else the group or project
// whose registration token the release carried, else (administrators only) an instance runner.
func (p *Provisioner) resolveScope(ctx context.Context, c *gl.Client, legacy token.Token) (Scope, error) {
	if p.cfg.Scope.RunnerType != "" {
		p.mu.Lock()
		s, ok := p.scopes["config"]
		p.mu.Unlock()
		if ok {
			return s, nil
		}
		s, err := p.configuredScope(ctx, c)
		if err == nil {
			p.remember("config", s)
		}
		return s, err
	}
	if p.cfg.Scope.Group != "" || p.cfg.Scope.Project != "" {
		return Scope{}, fmt.Errorf("--group and --project need --runner-type group or project")
	}
	if legacy.IsZero() {
		return Scope{}, fmt.Errorf("cannot tell which group or project the runner belongs to: the registration token is not in the " +
			"manifests (nor readable from the cluster). Fix: pass --runner-type group --group PATH (or project --project PATH, or instance)")
	}
	return p.scopeOfRegistrationToken(ctx, c, legacy)
}

// configuredScope is the scope the user named with --runner-type, --group and --project.
func (p *Provisioner) configuredScope(ctx context.Context, c *gl.Client) (Scope, error) {
	cfg := p.cfg.Scope
	switch normalizeType(cfg.RunnerType) {
	case InstanceType:
		user, _, err := c.Users.CurrentUser(gl.WithContext(ctx))
		if err != nil {
			return Scope{}, explain(err, "reading the access token's user")
		}
		if !user.IsAdmin {
			return Scope{}, fmt.Errorf("--runner-type instance: %s, but %s is not an administrator", Scope{Type: InstanceType}.forbiddenFix(), user.Username)
		}
		return Scope{Type: InstanceType, Reason: "--runner-type instance"}, nil
	case GroupType:
		if cfg.Group == "" {
			return Scope{}, fmt.Errorf("--runner-type group needs --group PATH or ID")
		}
		g, _, err := c.Groups.GetGroup(cfg.Group, withoutProjects, gl.WithContext(ctx))
		if err != nil {
			return Scope{}, explain(err, "looking up group "+cfg.Group)
		}
		return Scope{Type: GroupType, GroupID: g.ID, Path: g.FullPath, Reason: "--group " + cfg.Group}, nil
	case ProjectType:
		if cfg.Project == "" {
			return Scope{}, fmt.Errorf("--runner-type project needs --project PATH or ID")
		}
		pr, _, err := c.Projects.GetProject(cfg.Project, nil, gl.WithContext(ctx))
		if err != nil {
			return Scope{}, explain(err, "looking up project "+cfg.Project)
		}
		return Scope{Type: ProjectType, ProjectID: pr.ID, Path: pr.PathWithNamespace, Reason: "--project " + cfg.Project}, nil
	}
	return Scope{}, fmt.Errorf("--runner-type %q: want instance, group or project", cfg.RunnerType)
}

// withoutProjects asks for a group without the projects GitLab would otherwise embed.
var withoutProjects = &gl.GetGroupOptions{WithProjects: gl.Ptr(false)}

func normalizeType(t string) string {
	switch t {
	case "instance", InstanceType:
		return InstanceType
	case "group", GroupType:
		return GroupType
	case "project", ProjectType:
		return ProjectType
	}
	return t
}

// scopeOfRegistrationToken finds the group or project whose runner registration token the release
// used: GitLab shows runners_token to a group's owners (GET /groups/:id) and a project's maintainers
// (project lists and GET /projects/:id).
func (p *Provisioner) scopeOfRegistrationToken(ctx context.Context, c *gl.Client, legacy token.Token) (Scope, error) {
	p.mu.Lock()
	s, ok := p.scopes[legacy.Digest("scope")]
	p.mu.Unlock()
	if ok {
		return s, nil
	}
	matches := func(t string) bool {
		return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(legacy.Reveal())) == 1
	}
	groups, projects := 0, 0
	owner := gl.AccessLevelValue(gl.OwnerPermissions)
	gopt := &gl.ListGroupsOptions{MinAccessLevel: &owner, ListOptions: gl.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.Groups.ListGroups(gopt, gl.WithContext(ctx))
		if err != nil {
			return Scope{}, explain(err, "listing the groups this access token owns")
		}
		for _, g := range page {
			groups++
			d, _, err := c.Groups.GetGroup(g.ID, withoutProjects, gl.WithContext(ctx))
			if err != nil {
				return Scope{}, explain(err, "reading group "+g.FullPath)
			}
			if matches(d.RunnersToken) {
				return p.remember(legacy.Digest("scope"), Scope{Type: GroupType, GroupID: d.ID, Path: d.FullPath,
					Reason: "the release's registration token is group " + d.FullPath + "'s"}), nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		gopt.Page = resp.NextPage
	}
	maintainer := gl.AccessLevelValue(gl.MaintainerPermissions)
	popt := &gl.ListProjectsOptions{MinAccessLevel: &maintainer, ListOptions: gl.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.Projects.ListProjects(popt, gl.WithContext(ctx))
		if err != nil {
			return Scope{}, explain(err, "listing the projects this access token maintains")
		}
		for _, pr := range page {
			projects++
			if matches(pr.RunnersToken) {
				return p.remember(legacy.Digest("scope"), Scope{Type: ProjectType, ProjectID: pr.ID, Path: pr.PathWithNamespace,
					Reason: "the release's registration token is project " + pr.PathWithNamespace + "'s"}), nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		popt.Page = resp.NextPage
	}
	// An instance runner takes jobs from every project, so it is made only for the instance's own
	// registration token (readable by administrators only): a group's or project's runner must never
	// become one because the access token happens to be an administrator's.
	if matches(instanceRegistrationToken(ctx, c)) {
		return p.remember(legacy.Digest("scope"), Scope{Type: InstanceType, Reason: "the release's registration token is the instance's"}), nil
	}
	return Scope{}, fmt.Errorf("the release's registration token is not the registration token of any of the %d groups this access token owns, "+
		"the %d projects it maintains, or the instance (readable only with an administrator's token), so runner-migrate cannot tell which "+
		"runners' jobs it served. Fix: name the scope with --runner-type group --group PATH, --runner-type project --project PATH, "+
		"or --runner-type instance if an instance runner (open to every project) is meant", groups, projects)
}

func (p *Provisioner) remember(key string, s Scope) Scope {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scopes[key] = s
	return s
}

// createOptions fills the scope part of a create request.
func (s Scope) createOptions(o *gl.CreateUserRunnerOptions) {
	o.RunnerType = gl.Ptr(s.Type)
	switch s.Type {
	case GroupType:
		o.GroupID = gl.Ptr(s.GroupID)
	case ProjectType:
		o.ProjectID = gl.Ptr(s.ProjectID)
	}
}

// forbiddenFix says which role a scope needs, for 403 answers to a create.
func (s Scope) forbiddenFix() string {
	switch s.Type {
	case GroupType:
		return "creating a group runner needs the Owner role in " + s.Path
	case ProjectType:
		return "creating a project runner needs the Maintainer role (or Owner) in " + s.Path
	}
	return "creating an instance runner needs an administrator's token (with the admin_mode scope when Admin Mode is on)"
}

// instanceRegistrationToken reads the instance's runner registration token from the application
// settings (administrators only); client-go's Settings type does not carry it.
func instanceRegistrationToken(ctx context.Context, c *gl.Client) string {
	req, err := c.NewRequest(http.MethodGet, "application/settings", nil, []gl.RequestOptionFunc{gl.WithContext(ctx)})
	if err != nil {
		return ""
	}
	var settings struct {
		RunnersRegistrationToken string `json:"runners_registration_token"`
	}
	if _, err := c.Do(req, &settings); err != nil {
		return ""
	}
	return settings.RunnersRegistrationToken
}
