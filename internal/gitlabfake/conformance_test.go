package gitlabfake

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	gitlab "gitlab.com/gitlab-org/api/client-go/v2"
)

// newClient builds the production client against the fake, the way runner-migrate does.
func newClient(t *testing.T, s *Server, pat string, opts ...gitlab.ClientOptionFunc) *gitlab.Client {
	t.Helper()
	c, err := gitlab.NewClient(pat, append([]gitlab.ClientOptionFunc{gitlab.WithBaseURL(s.URL())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClientGoConformance drives the fake with the real client-go v2 and checks what the
// client decodes, including its error types.
func TestClientGoConformance(t *testing.T) {
	clock := &fixedClock{t: time.Now().UTC().Truncate(time.Millisecond)}
	w := newWorld(t, WithClock(clock.now), WithTokenExpiration(30*24*time.Hour))
	s := w.s
	owner := newClient(t, s, w.ownerTok)

	// Users.CurrentUser
	me, _, err := owner.Users.CurrentUser()
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != w.owner.ID || me.Username != "olivia" || me.IsAdmin {
		t.Errorf("CurrentUser = %d %q admin %v", me.ID, me.Username, me.IsAdmin)
	}
	adminMe, _, err := newClient(t, s, w.adminTok).Users.CurrentUser()
	if err != nil || !adminMe.IsAdmin {
		t.Errorf("admin CurrentUser: %v, is_admin %v", err, adminMe != nil && adminMe.IsAdmin)
	}

	// Groups.GetGroup by path and by ID.
	byPath, _, err := owner.Groups.GetGroup("acme/platform", nil)
	if err != nil {
		t.Fatal(err)
	}
	byID, _, err := owner.Groups.GetGroup(w.platform.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if byPath.ID != w.platform.ID || byID.FullPath != "acme/platform" || byPath.ParentID != w.acme.ID ||
		byPath.RunnersToken != w.platform.RunnersToken || byPath.FullName != "acme / platform" || byPath.CreatedAt == nil {
		t.Errorf("GetGroup: by path %+v, by id %+v", byPath.ID, byID.FullPath)
	}
	if len(byPath.Projects) != 1 || byPath.Projects[0].ID != w.app.ID {
		t.Errorf("GetGroup projects = %v", byPath.Projects)
	}
	if _, _, err := owner.Groups.GetGroup("does/not-exist", nil); !errors.Is(err, gitlab.ErrNotFound) {
		t.Errorf("GetGroup(unknown) error = %v, want ErrNotFound", err)
	}
	groups, _, err := owner.Groups.ListGroups(&gitlab.ListGroupsOptions{MinAccessLevel: gitlab.Ptr(gitlab.OwnerPermissions)})
	if err != nil || len(groups) != 2 || groups[0].RunnersToken != "" {
		t.Errorf("ListGroups(owner) = %d groups, err %v", len(groups), err)
	}

	// Projects.GetProject
	pm := newClient(t, s, w.projMaintTok)
	proj, _, err := pm.Projects.GetProject("acme/platform/app", nil)
	if err != nil {
		t.Fatal(err)
	}
	if proj.ID != w.app.ID || proj.PathWithNamespace != "acme/platform/app" || proj.Namespace == nil ||
		proj.Namespace.ID != w.platform.ID || proj.RunnersToken != w.app.RunnersToken ||
		proj.Permissions == nil || proj.Permissions.ProjectAccess == nil || proj.Permissions.ProjectAccess.AccessLevel != gitlab.MaintainerPermissions {
		t.Errorf("GetProject = %+v", proj.Namespace)
	}
	projects, _, err := pm.Projects.ListProjects(&gitlab.ListProjectsOptions{MinAccessLevel: gitlab.Ptr(gitlab.MaintainerPermissions)})
	if err != nil || len(projects) != 1 || projects[0].ID != w.app.ID {
		t.Errorf("ListProjects = %v, %v", projects, err)
	}

	// Users.CreateUserRunner
	created, resp, err := owner.Users.CreateUserRunner(&gitlab.CreateUserRunnerOptions{
		RunnerType:      gitlab.Ptr("group_type"),
		GroupID:         gitlab.Ptr(w.acme.ID),
		Description:     gitlab.Ptr("ci [managed-by=runner-migrate id=ns/rel]"),
		Paused:          gitlab.Ptr(false),
		Locked:          gitlab.Ptr(true),
		RunUntagged:     gitlab.Ptr(false),
		TagList:         &[]string{"docker", "k8s"},
		AccessLevel:     gitlab.Ptr("ref_protected"),
		MaximumTimeout:  gitlab.Ptr(int64(3600)),
		MaintenanceNote: gitlab.Ptr("owned by runner-migrate"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(created.Token, "glrt-t2_") || created.ID == 0 {
		t.Errorf("CreateUserRunner: status %d id %d", resp.StatusCode, created.ID)
	}
	if want := clock.now().Add(30 * 24 * time.Hour); created.TokenExpiresAt == nil || !created.TokenExpiresAt.Equal(want) {
		t.Errorf("TokenExpiresAt = %v, want %v", created.TokenExpiresAt, want)
	}

	// Runners.GetRunnerDetails
	details, _, err := owner.Runners.GetRunnerDetails(created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if details.ID != created.ID || details.Description != "ci [managed-by=runner-migrate id=ns/rel]" ||
		!slices.Equal(details.TagList, []string{"docker", "k8s"}) || !details.Locked || details.RunUntagged ||
		details.AccessLevel != "ref_protected" || details.MaximumTimeout != 3600 || details.MaintenanceNote != "owned by runner-migrate" ||
		details.RunnerType != "group_type" || details.Status != "never_contacted" || details.Online || details.ContactedAt != nil ||
		details.Paused || !details.Active || details.IsShared || details.Token != "" ||
		len(details.Groups) != 1 || details.Groups[0].ID != w.acme.ID {
		t.Errorf("GetRunnerDetails = %+v", *details)
	}

	// Runners.UpdateRunnerDetails
	updated, _, err := owner.Runners.UpdateRunnerDetails(created.ID, &gitlab.UpdateRunnerDetailsOptions{
		Paused:         gitlab.Ptr(true),
		TagList:        &[]string{"arm64"},
		MaximumTimeout: gitlab.Ptr(int64(7200)),
		Locked:         gitlab.Ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !updated.Paused || !slices.Equal(updated.TagList, []string{"arm64"}) || updated.MaximumTimeout != 7200 || updated.Locked ||
		updated.Description != details.Description {
		t.Errorf("UpdateRunnerDetails = %+v", *updated)
	}
	_, _, err = owner.Runners.UpdateRunnerDetails(created.ID, &gitlab.UpdateRunnerDetailsOptions{TagList: &[]string{}, RunUntagged: gitlab.Ptr(false)})
	var er *gitlab.ErrorResponse
	if !errors.As(err, &er) || er.StatusCode != 400 || er.Message != "{message: {tags_list: [can not be empty when runner is not allowed to pick untagged jobs]}}" {
		t.Errorf("invalid update error = %v", err)
	}

	// Runners.ResetRunnerAuthenticationToken
	clock.advance(time.Minute)
	reset, resp, err := owner.Runners.ResetRunnerAuthenticationToken(created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || reset.Token == nil || *reset.Token == created.Token || !strings.HasPrefix(*reset.Token, "glrt-") ||
		reset.TokenExpiresAt == nil || !reset.TokenExpiresAt.Equal(clock.now().Add(30*24*time.Hour)) {
		t.Errorf("ResetRunnerAuthenticationToken: status %d, expires %v", resp.StatusCode, reset.TokenExpiresAt)
	}
	anon := newClient(t, s, "")
	if _, err := anon.Runners.VerifyRegisteredRunner(&gitlab.VerifyRegisteredRunnerOptions{Token: &created.Token}); !gitlab.HasStatusCode(err, 403) {
		t.Errorf("verify with the old token: %v, want 403", err)
	}
	if _, err := anon.Runners.VerifyRegisteredRunner(&gitlab.VerifyRegisteredRunnerOptions{Token: reset.Token}); err != nil {
		t.Errorf("verify with the new token: %v", err)
	}
	managers, _, err := owner.Runners.ListRunnerManagers(created.ID)
	if err != nil || len(managers) != 1 || managers[0].SystemID != "<legacy>" {
		t.Errorf("ListRunnerManagers = %v, %v", managers, err)
	}

	// Runners.ListGroupsRunners
	groupRunners, _, err := owner.Runners.ListGroupsRunners("acme", &gitlab.ListGroupsRunnersOptions{Type: gitlab.Ptr("group_type")})
	if err != nil || len(groupRunners) != 1 || groupRunners[0].ID != created.ID || !groupRunners[0].Online || groupRunners[0].Status != "online" {
		t.Errorf("ListGroupsRunners = %v, %v", groupRunners, err)
	}

	// Runners.DeleteRegisteredRunnerByID, then the 404 sentinel.
	if _, err := owner.Runners.DeleteRegisteredRunnerByID(created.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := owner.Runners.GetRunnerDetails(created.ID); !errors.Is(err, gitlab.ErrNotFound) {
		t.Errorf("GetRunnerDetails after delete: %v, want ErrNotFound", err)
	}
	if _, err := owner.Runners.DeleteRegisteredRunnerByID(created.ID); !errors.Is(err, gitlab.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

// TestClientGoErrors checks the errors client-go produces from the fake's error bodies.
func TestClientGoErrors(t *testing.T) {
	w := newWorld(t)
	s := w.s

	// Insufficient scope: *ErrorResponse 403 carrying the scope text.
	_, _, err := newClient(t, s, w.readAPITok).Users.CreateUserRunner(&gitlab.CreateUserRunnerOptions{RunnerType: gitlab.Ptr("instance_type")})
	var er *gitlab.ErrorResponse
	if !errors.As(err, &er) || er.StatusCode != 403 || !strings.Contains(er.Message, "{error: insufficient_scope}") ||
		!strings.Contains(er.Message, "{scope: api create_runner}") {
		t.Errorf("insufficient scope error = %v", err)
	}
	if strings.Contains(err.Error(), w.readAPITok) {
		t.Error("error text contains the PAT")
	}

	// 401 for an unknown token.
	_, _, err = newClient(t, s, "glpat-unknown").Runners.ListRunners(nil)
	if !gitlab.HasStatusCode(err, 401) || !errors.As(err, &er) || er.Message != "{message: 401 Unauthorized}" {
		t.Errorf("unknown token error = %v", err)
	}

	// Permission and lookup errors of create.
	owner := newClient(t, s, w.ownerTok)
	_, _, err = newClient(t, s, w.maintTok).Users.CreateUserRunner(&gitlab.CreateUserRunnerOptions{RunnerType: gitlab.Ptr("group_type"), GroupID: gitlab.Ptr(w.acme.ID)})
	if !errors.As(err, &er) || er.StatusCode != 403 || er.Message != "{message: 403 Forbidden - Insufficient permissions}" {
		t.Errorf("Maintainer create error = %v", err)
	}
	_, _, err = owner.Users.CreateUserRunner(&gitlab.CreateUserRunnerOptions{RunnerType: gitlab.Ptr("group_type"), GroupID: gitlab.Ptr(int64(424242))})
	if !errors.As(err, &er) || er.StatusCode != 400 || er.Message != "{message: 400 Bad request - Missing/invalid group}" {
		t.Errorf("unknown group create error = %v", err)
	}
	_, _, err = owner.Users.CreateUserRunner(&gitlab.CreateUserRunnerOptions{RunnerType: gitlab.Ptr("group_type"), GroupID: gitlab.Ptr(w.acme.ID), MaximumTimeout: gitlab.Ptr(int64(60))})
	if !errors.As(err, &er) || er.StatusCode != 400 || er.Message != "{message: 400 Bad request - Maximum timeout needs to be at least 10 minutes}" {
		t.Errorf("short timeout create error = %v", err)
	}
	if _, _, err = owner.Projects.GetProject("acme/nope", nil); !errors.Is(err, gitlab.ErrNotFound) {
		t.Errorf("GetProject(unknown) = %v, want ErrNotFound", err)
	}
	if _, _, err = owner.Runners.ListAllRunners(nil); !gitlab.HasStatusCode(err, 403) {
		t.Errorf("ListAllRunners as non-admin = %v, want 403", err)
	}
}

// TestClientGoPagination lists 250 runners 100 at a time by following resp.NextPage.
func TestClientGoPagination(t *testing.T) {
	w := newWorld(t)
	s := w.s
	want := map[int64]bool{}
	for i := range 250 {
		tags := []string{"pool"}
		if i%2 == 0 {
			tags = append(tags, "even")
		}
		r := s.AddRunner(Runner{Type: "group_type", GroupID: w.acme.ID, RunUntagged: true, Tags: tags,
			Description: "runner " + itoa(int64(i)), CreatorID: w.owner.ID})
		want[r.ID] = true
	}
	// Noise the filters must drop.
	s.AddRunner(Runner{Type: "project_type", ProjectID: w.app.ID, RunUntagged: true, Tags: []string{"pool"}})
	s.AddRunner(Runner{Type: "group_type", GroupID: w.acme.ID, RunUntagged: true})

	owner := newClient(t, s, w.ownerTok)
	opt := &gitlab.ListRunnersOptions{ListOptions: gitlab.ListOptions{PerPage: 100}, Type: gitlab.Ptr("group_type"), TagList: &[]string{"pool"}}
	var pages []int64
	got := map[int64]bool{}
	for {
		runners, resp, err := owner.Runners.ListRunners(opt)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, int64(len(runners)))
		if resp.TotalItems != 250 || resp.TotalPages != 3 || resp.ItemsPerPage != 100 {
			t.Errorf("page %d: total %d pages %d per page %d", resp.CurrentPage, resp.TotalItems, resp.TotalPages, resp.ItemsPerPage)
		}
		for _, r := range runners {
			if got[r.ID] {
				t.Errorf("runner %d listed twice", r.ID)
			}
			got[r.ID] = true
		}
		if resp.NextPage == 0 {
			if resp.NextLink != "" || resp.CurrentPage != 3 {
				t.Errorf("last page: next link %q, current page %d", resp.NextLink, resp.CurrentPage)
			}
			break
		}
		opt.Page = resp.NextPage
	}
	if !slices.Equal(pages, []int64{100, 100, 50}) || len(got) != len(want) {
		t.Errorf("pages %v, %d distinct runners, want [100 100 50] and %d", pages, len(got), len(want))
	}

	// The AND filter through client-go's comma-joined tag_list.
	even, resp, err := owner.Runners.ListRunners(&gitlab.ListRunnersOptions{ListOptions: gitlab.ListOptions{PerPage: 100}, TagList: &[]string{"pool", "even"}})
	if err != nil || resp.TotalItems != 125 || len(even) != 100 {
		t.Errorf("tag AND filter: %d items of %d, err %v", len(even), resp.TotalItems, err)
	}

	// Following Link headers works too (gitlab.WithNext uses keyset links when present).
	var viaLinks int
	var next gitlab.RequestOptionFunc
	for page := 0; page < 5; page++ {
		var reqOpts []gitlab.RequestOptionFunc
		if next != nil {
			reqOpts = append(reqOpts, next)
		}
		runners, resp, err := owner.Runners.ListRunners(&gitlab.ListRunnersOptions{ListOptions: gitlab.ListOptions{PerPage: 100}, Type: gitlab.Ptr("group_type"), TagList: &[]string{"pool"}}, reqOpts...)
		if err != nil {
			t.Fatal(err)
		}
		viaLinks += len(runners)
		n, ok := gitlab.WithNext(resp)
		if !ok {
			break
		}
		next = n
	}
	if viaLinks != 250 {
		t.Errorf("WithNext pagination saw %d runners, want 250", viaLinks)
	}
}

// TestClientGoTLS checks NewTLS and CACertPEM with a client that trusts only that CA.
func TestClientGoTLS(t *testing.T) {
	s := NewTLS()
	defer s.Close()
	u := s.AddUser("tls", false)
	pat := s.AddToken(u, "read_api")
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL = %s", s.URL())
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CACertPEM()) {
		t.Fatal("CACertPEM is not a PEM certificate")
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	me, _, err := newClient(t, s, pat, gitlab.WithHTTPClient(hc)).Users.CurrentUser()
	if err != nil || me.Username != "tls" {
		t.Fatalf("CurrentUser over TLS: %v", err)
	}
	plain := New()
	defer plain.Close()
	if plain.CACertPEM() != nil {
		t.Error("plain HTTP server returned a CA certificate")
	}
}
