package gitlab

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

// The calls the commands that look after migrated runners make (doctor, status, rotate, prune).
// They go through the same client as the provisioner, to the same destination only.

// Connector opens clients for the GitLab the operator named, one per API address.
type Connector struct {
	Destination Destination
	Client      ClientConfig // Token, CAFile, Insecure; BaseURL comes from Destination

	mu   sync.Mutex
	apis map[string]*API
}

// For returns the client for a runner recorded at recordedURL (a Secret's runner-migrate.io/
// gitlab-url; "" for calls about no runner). A recorded address that is not a name of the GitLab
// the operator named is an error: the access token is not sent there.
func (k *Connector) For(recordedURL, who string) (*API, error) {
	base, err := k.Destination.base(recordedURL, who)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if a, ok := k.apis[base]; ok {
		return a, nil
	}
	cfg := k.Client
	cfg.BaseURL = base
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	if k.apis == nil {
		k.apis = map[string]*API{}
	}
	a := &API{c: c, Base: base}
	k.apis[base] = a
	return a, nil
}

// API is a client of one GitLab.
type API struct {
	c    *gl.Client
	Base string // the API address
}

// Explain turns an API error into what a person can act on (see explain).
func Explain(err error, what string) error { return explain(err, what) }

// StatusOf returns the HTTP status of an API error, 0 for transport errors.
func StatusOf(err error) int { return statusOf(err) }

// IsInsufficientScope reports whether GitLab refused a call because the access token lacks a scope.
func IsInsufficientScope(err error) bool {
	var er *gl.ErrorResponse
	return errors.As(err, &er) && er.StatusCode == http.StatusForbidden && strings.Contains(string(er.Body), `"insufficient_scope"`)
}

// Version is GitLab's version (GET /version, which api, read_api and read_user may read).
func (a *API) Version(ctx context.Context) (string, error) {
	v, _, err := a.c.Version.GetVersion(gl.WithContext(ctx))
	if err != nil {
		return "", err
	}
	return v.Version, nil
}

// AccessToken is what GitLab says about the access token itself.
type AccessToken struct {
	Name      string
	Scopes    []string
	UserID    int64
	Active    bool
	ExpiresAt *time.Time // the day it stops working (midnight UTC); nil: no expiry
}

// Self inspects the access token (GET /personal_access_tokens/self, open to any scope).
func (a *API) Self(ctx context.Context) (*AccessToken, error) {
	t, _, err := a.c.PersonalAccessTokens.GetSinglePersonalAccessToken(gl.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	out := &AccessToken{Name: t.Name, Scopes: slices.Clone(t.Scopes), UserID: t.UserID, Active: t.Active}
	if t.ExpiresAt != nil {
		at := time.Time(*t.ExpiresAt)
		out.ExpiresAt = &at
	}
	return out, nil
}

// User is who the access token acts as.
type User struct {
	ID       int64
	Username string
	Admin    bool // an administrator (GitLab shows is_admin only to administrators)
}

// CurrentUser is GET /user.
func (a *API) CurrentUser(ctx context.Context) (*User, error) {
	u, _, err := a.c.Users.CurrentUser(gl.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	return &User{ID: u.ID, Username: u.Username, Admin: u.IsAdmin}, nil
}

// RegistrationTokensAllowed reads the instance's allow_runner_registration_token setting. Only an
// administrator's token reads the application settings: for others it reports nil (unknown).
func (a *API) RegistrationTokensAllowed(ctx context.Context) (*bool, error) {
	req, err := a.c.NewRequest(http.MethodGet, "application/settings", nil, []gl.RequestOptionFunc{gl.WithContext(ctx)})
	if err != nil {
		return nil, err
	}
	var settings struct {
		AllowRunnerRegistrationToken *bool `json:"allow_runner_registration_token"`
	}
	if _, err := a.c.Do(req, &settings); err != nil {
		if statusOf(err) == http.StatusForbidden {
			return nil, nil
		}
		return nil, err
	}
	return settings.AllowRunnerRegistrationToken, nil
}

// Runner is GET /runners/:id.
func (a *API) Runner(ctx context.Context, id int64) (*RunnerDetails, error) {
	return getRunner(ctx, a.c, id)
}

// Manager is one runner manager (a gitlab-runner process that used the runner's token).
type Manager struct {
	SystemID    string     `json:"systemId"`
	Status      string     `json:"status"`
	Version     string     `json:"version,omitempty"`
	ContactedAt *time.Time `json:"contactedAt,omitempty"`
}

// Managers is GET /runners/:id/managers.
func (a *API) Managers(ctx context.Context, id int64) ([]Manager, error) {
	ms, _, err := a.c.Runners.ListRunnerManagers(id, gl.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	out := make([]Manager, 0, len(ms))
	for _, m := range ms {
		out = append(out, Manager{SystemID: m.SystemID, Status: m.Status, Version: m.Version, ContactedAt: m.ContactedAt})
	}
	return out, nil
}

// ResetToken is POST /runners/:id/reset_authentication_token: the old token stops working at once.
func (a *API) ResetToken(ctx context.Context, id int64) (token.Token, *time.Time, error) {
	t, _, err := a.c.Runners.ResetRunnerAuthenticationToken(id, gl.WithContext(ctx))
	if err != nil {
		return token.Token{}, nil, err
	}
	return token.New(deref(t.Token)), t.TokenExpiresAt, nil
}

// DeleteRunner is DELETE /runners/:id (by id: the runner's token never goes into a URL).
func (a *API) DeleteRunner(ctx context.Context, id int64) error {
	_, err := a.c.Runners.DeleteRegisteredRunnerByID(id, gl.WithContext(ctx))
	return err
}

// MarkedRunner is a runner whose description carries runner-migrate's marker.
type MarkedRunner struct {
	ID          int64
	Description string
	Release     string // namespace/release
	Fingerprint string
	Place       string // "" in markers written before places existed
}

// MarkedRunners lists the runners the access token can see that carry runner-migrate's marker:
// every runner for an administrator (GET /runners/all), else the runners of the groups it owns and
// the projects it maintains (GET /runners). It says which list it read.
func (a *API) MarkedRunners(ctx context.Context) ([]MarkedRunner, string, error) {
	list := func(all bool, page int64) ([]*gl.Runner, *gl.Response, error) {
		opt := &gl.ListRunnersOptions{ListOptions: gl.ListOptions{PerPage: 100, Page: page}}
		if all {
			return a.c.Runners.ListAllRunners(opt, gl.WithContext(ctx))
		}
		return a.c.Runners.ListRunners(opt, gl.WithContext(ctx))
	}
	all, source := true, "every runner of the instance (GET /runners/all)"
	var out []MarkedRunner
	for page := int64(1); page != 0; {
		runners, resp, err := list(all, page)
		if all && page == 1 && statusOf(err) == http.StatusForbidden && !IsInsufficientScope(err) {
			all, source = false, "the runners of the groups the access token owns and the projects it maintains (GET /runners)"
			continue
		}
		if err != nil {
			return nil, source, explain(err, "listing runners")
		}
		for _, r := range runners {
			if m, ok := parseMarker(r.Description); ok {
				out = append(out, MarkedRunner{ID: r.ID, Description: r.Description, Release: m.release, Fingerprint: m.fingerprint, Place: m.place})
			}
		}
		page = resp.NextPage
	}
	slices.SortFunc(out, func(x, y MarkedRunner) int { return cmp.Compare(x.ID, y.ID) })
	return out, source, nil
}

// MarkerOf reads the marker at the end of a runner's description.
func MarkerOf(description string) (release, fingerprint, place string, ok bool) {
	m, ok := parseMarker(description)
	return m.release, m.fingerprint, m.place, ok
}

// OwnedBy reports whether a description carries a marker of the release.
func OwnedBy(description string, release Release) bool { return ownedBy(description, release) }

// Scope is where the runner lives, as GET /runners/:id says.
func (d *RunnerDetails) Scope() Scope {
	s := Scope{Type: d.RunnerType}
	switch {
	case d.RunnerType == GroupType && len(d.Groups) > 0:
		g := d.Groups[0]
		s.GroupID, s.Path = g.ID, g.Name
		if _, path, ok := strings.Cut(g.WebURL, "/groups/"); ok && path != "" {
			s.Path = path
		}
	case d.RunnerType == ProjectType && len(d.Projects) > 0:
		s.ProjectID, s.Path = d.Projects[0].ID, d.Projects[0].PathWithNamespace
	}
	return s
}

// ResolveScope decides the scope a release's new runner would get, exactly as post-render does:
// the one the configuration names, else the group or project whose registration token the release
// carries (legacy).
func (a *API) ResolveScope(ctx context.Context, cfg ScopeConfig, legacy token.Token) (Scope, error) {
	p := &Provisioner{cfg: Config{Scope: cfg}, scopes: map[string]Scope{}}
	return p.resolveScope(ctx, a.c, legacy)
}

// Role is the access token's standing in a scope, and whether it suffices to create and manage
// runners there (group: Owner; project: Maintainer; instance: administrator).
type Role struct {
	Name   string // "Owner", "Maintainer", "Developer", ..., "administrator", "none"
	Enough bool
	Need   string // what creating and managing runners there takes
}

// RoleIn finds the access token's role in a scope.
func (a *API) RoleIn(ctx context.Context, s Scope, user *User) (Role, error) {
	switch s.Type {
	case InstanceType:
		r := Role{Name: "not an administrator", Need: "an administrator (with the admin_mode scope when Admin Mode is on)"}
		if user.Admin {
			r.Name, r.Enough = "administrator", true
		}
		return r, nil
	case GroupType:
		need := "the Owner role in group " + s.Path
		for _, level := range []gl.AccessLevelValue{gl.OwnerPermissions, gl.MaintainerPermissions, gl.DeveloperPermissions} {
			in, err := a.memberOfGroup(ctx, s.GroupID, level)
			if err != nil {
				return Role{}, explain(err, "listing the groups the access token is a member of")
			}
			if in {
				return Role{Name: accessName(level), Enough: level >= gl.OwnerPermissions, Need: need}, nil
			}
		}
		if user.Admin {
			return Role{Name: "administrator", Enough: true, Need: need}, nil
		}
		return Role{Name: "none", Need: need}, nil
	case ProjectType:
		need := "the Maintainer role (or Owner) in project " + s.Path
		p, _, err := a.c.Projects.GetProject(s.ProjectID, nil, gl.WithContext(ctx))
		if err != nil {
			return Role{}, explain(err, "reading project "+s.Path)
		}
		level := gl.AccessLevelValue(0)
		if p.Permissions != nil && p.Permissions.ProjectAccess != nil {
			level = p.Permissions.ProjectAccess.AccessLevel
		}
		if p.Permissions != nil && p.Permissions.GroupAccess != nil {
			level = max(level, p.Permissions.GroupAccess.AccessLevel)
		}
		if level == 0 && user.Admin {
			return Role{Name: "administrator", Enough: true, Need: need}, nil
		}
		return Role{Name: accessName(level), Enough: level >= gl.MaintainerPermissions, Need: need}, nil
	}
	return Role{}, fmt.Errorf("unknown runner type %q", s.Type)
}

// memberOfGroup reports whether the group is among those where the token's user has at least level.
func (a *API) memberOfGroup(ctx context.Context, id int64, level gl.AccessLevelValue) (bool, error) {
	opt := &gl.ListGroupsOptions{MinAccessLevel: &level, ListOptions: gl.ListOptions{PerPage: 100}}
	for {
		groups, resp, err := a.c.Groups.ListGroups(opt, gl.WithContext(ctx))
		if err != nil {
			return false, err
		}
		for _, g := range groups {
			if g.ID == id {
				return true, nil
			}
		}
		if resp.NextPage == 0 {
			return false, nil
		}
		opt.Page = resp.NextPage
	}
}

func accessName(level gl.AccessLevelValue) string {
	switch {
	case level >= gl.OwnerPermissions:
		return "Owner"
	case level >= gl.MaintainerPermissions:
		return "Maintainer"
	case level >= gl.DeveloperPermissions:
		return "Developer"
	case level >= gl.ReporterPermissions:
		return "Reporter"
	case level > 0:
		return "Guest"
	}
	return "none"
}
