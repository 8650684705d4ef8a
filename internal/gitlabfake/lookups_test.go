package gitlabfake

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCurrentUserContract(t *testing.T) {
	clock := &fixedClock{t: epoch}
	w := newWorld(t, WithClock(clock.now))
	base := w.s.URL()
	user := `{"id":` + itoa(w.owner.ID) + `,"username":"olivia","name":"olivia","state":"active","locked":false,"avatar_url":null,` +
		`"web_url":"` + base + `/olivia","created_at":"2025-01-02T03:04:05.678Z","bio":"","location":"","public_email":null,` +
		`"linkedin":"","twitter":"","discord":"","website_url":"","organization":"","job_title":"","pronouns":null,"bot":false,` +
		`"work_information":null,"local_time":null,"last_sign_in_at":null,"confirmed_at":"2025-01-02T03:04:05.678Z",` +
		`"last_activity_on":null,"email":"olivia@example.com","theme_id":3,"color_scheme_id":1,"projects_limit":100000,` +
		`"current_sign_in_at":null,"identities":[],"can_create_group":true,"can_create_project":true,"two_factor_enabled":false,` +
		`"external":false,"private_profile":false,"commit_email":"olivia@example.com"}`
	readUserTok := w.s.AddToken(w.owner, "read_user")
	tests := []struct {
		name, token string
		status      int
		body        string
	}{
		{"regular user", w.ownerTok, 200, user},
		{"read_user scope", readUserTok, 200, user},
		{"read_api scope", w.readAPITok, 200, user},
		{"admin sees is_admin", w.adminTok, 200, `~\{"id":` + itoa(w.admin.ID) + `,"username":"root",.*"commit_email":"root@example.com","is_admin":true,"note":null,"namespace_id":\d+,"created_by":null\}`},
		{"anonymous", "", 401, unauthorizedBody},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			do(t, w.s, req{method: "GET", path: "/api/v4/user", token: tc.token}).expect(t, tc.status, tc.body)
		})
	}
}

func TestGroupsContract(t *testing.T) {
	clock := &fixedClock{t: epoch}
	w := newWorld(t, WithClock(clock.now))
	s := w.s
	base := s.URL()
	s.AddGroup("acme/my.group")

	listItem := `{"id":` + itoa(w.platform.ID) + `,"web_url":"` + base + `/groups/acme/platform","name":"platform","path":"platform",` +
		`"description":"","visibility":"private","share_with_group_lock":false,"require_two_factor_authentication":false,` +
		`"two_factor_grace_period":48,"project_creation_level":"developer","auto_devops_enabled":null,"subgroup_creation_level":"maintainer",` +
		`"emails_disabled":false,"emails_enabled":true,"mentions_disabled":null,"lfs_enabled":true,"default_branch":null,` +
		`"default_branch_protection":2,"avatar_url":null,"request_access_enabled":true,"full_name":"acme / platform",` +
		`"full_path":"acme/platform","created_at":"2025-01-02T03:04:05.678Z","parent_id":` + itoa(w.acme.ID) + `,"organization_id":1,` +
		`"shared_runners_setting":"enabled","ldap_cn":null,"ldap_access":null,"wiki_access_level":"enabled","marked_for_deletion_on":null,"archived":false}`

	// GET /groups/:id by ID and by URL-encoded path; runners_token for Owners and admins only.
	detail := []struct {
		name, token, id string
		status          int
		body            string
		runnersToken    bool
	}{
		{"Owner by path", w.ownerTok, "acme%2Fplatform", 200, "", true},
		{"Owner by ID", w.ownerTok, itoa(w.platform.ID), 200, "", true},
		{"path is case-insensitive", w.ownerTok, "ACME%2FPlatform", 200, "", true},
		{"dot encoded as %2E", w.ownerTok, "acme%2Fmy%2Egroup", 200, "", true},
		{"Maintainer: no runners_token", w.maintTok, "acme", 200, "", false},
		{"admin", w.adminTok, "other", 200, "", true},
		{"member of a project below sees the group", w.projDevTok, "acme", 200, "", false},
		{"outsider: private group is not found", w.outsiderTok, "acme", 404, `{"message":"404 Group Not Found"}`, false},
		{"anonymous: not found", "", "acme", 404, `{"message":"404 Group Not Found"}`, false},
		{"unknown", w.adminTok, "nope", 404, `{"message":"404 Group Not Found"}`, false},
		{"unknown ID", w.adminTok, "424242", 404, `{"message":"404 Group Not Found"}`, false},
	}
	for _, tc := range detail {
		t.Run("get "+tc.name, func(t *testing.T) {
			rp := do(t, s, req{method: "GET", path: "/api/v4/groups/" + tc.id, token: tc.token})
			if tc.body != "" {
				rp.expect(t, tc.status, tc.body)
				return
			}
			if rp.status != tc.status {
				t.Fatalf("status %d: %s", rp.status, rp.body)
			}
			m := rp.object(t)
			tok, has := m["runners_token"]
			if has != tc.runnersToken {
				t.Errorf("runners_token present = %v, want %v", has, tc.runnersToken)
			}
			if has && !strings.HasPrefix(tok.(string), "GR1348941") {
				t.Errorf("runners_token %q lacks the GR1348941 prefix", tok)
			}
		})
	}
	// The group detail starts with the list entity and embeds its projects.
	rp := do(t, s, req{method: "GET", path: "/api/v4/groups/acme%2Fplatform", token: w.ownerTok})
	if !strings.HasPrefix(rp.body, strings.TrimSuffix(listItem, "}")+`,"runners_token":"`+w.platform.RunnersToken+`"`) ||
		!strings.Contains(rp.body, `"projects":[{"id":`+itoa(w.app.ID)) {
		t.Errorf("group detail = %s", rp.body)
	}
	rp = do(t, s, req{method: "GET", path: "/api/v4/groups/acme%2Fplatform?with_projects=false", token: w.ownerTok})
	if strings.Contains(rp.body, `"projects"`) {
		t.Errorf("with_projects=false still lists projects: %s", rp.body)
	}

	// GET /groups: list items never carry runners_token.
	list := []struct {
		name, token, query string
		want               []string
	}{
		{"Owner sees the hierarchy, ordered by name", w.ownerTok, "", []string{"acme", "acme/my.group", "acme/platform"}},
		{"admin sees every group", w.adminTok, "", []string{"acme", "acme/my.group", "other", "acme/platform"}},
		{"min_access_level 50", w.maintTok, "?min_access_level=50", nil},
		{"min_access_level 40", w.maintTok, "?min_access_level=40", []string{"acme", "acme/my.group", "acme/platform"}},
		{"owned is direct Owner membership", w.ownerTok, "?owned=true", []string{"acme"}},
		{"search", w.ownerTok, "?search=PLAT", []string{"acme/platform"}},
		{"top_level_only", w.adminTok, "?top_level_only=true", []string{"acme", "other"}},
		{"order_by id desc", w.adminTok, "?order_by=id&sort=desc", []string{"acme/my.group", "other", "acme/platform", "acme"}},
		{"project member sees ancestors", w.projDevTok, "", []string{"acme", "acme/platform"}},
		{"anonymous sees no private group", "", "", nil},
	}
	for _, tc := range list {
		t.Run("list "+tc.name, func(t *testing.T) {
			rp := do(t, s, req{method: "GET", path: "/api/v4/groups" + tc.query, token: tc.token})
			if rp.status != 200 {
				t.Fatalf("status %d: %s", rp.status, rp.body)
			}
			var items []struct {
				FullPath string `json:"full_path"`
			}
			rp.decode(t, &items)
			var got []string
			for _, it := range items {
				got = append(got, it.FullPath)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("groups = %v, want %v", got, tc.want)
			}
			if strings.Contains(rp.body, "runners_token") {
				t.Error("list exposes runners_token")
			}
		})
	}
	rp = do(t, s, req{method: "GET", path: "/api/v4/groups?search=platform", token: w.ownerTok})
	rp.expect(t, 200, "["+listItem+"]")
	do(t, s, req{method: "GET", path: "/api/v4/groups?min_access_level=45", token: w.ownerTok}).expect(t, 400, `{"error":"min_access_level does not have a valid value"}`)
	do(t, s, req{method: "GET", path: "/api/v4/groups", token: w.expiredTok}).expect(t, 401, expiredBody)
	do(t, s, req{method: "GET", path: "/api/v4/groups", token: "glpat-unknown"}).expect(t, 401, unauthorizedBody)
}

func TestProjectsContract(t *testing.T) {
	clock := &fixedClock{t: epoch}
	w := newWorld(t, WithClock(clock.now))
	s := w.s
	clock.advance(time.Minute)
	later := s.AddProject("acme/tools", w.acme)

	detail := []struct {
		name, token, id string
		status          int
		body            string
		runnersToken    bool
	}{
		{"project Maintainer by path", w.projMaintTok, "acme%2Fplatform%2Fapp", 200, "", true},
		{"by ID", w.projMaintTok, itoa(w.app.ID), 200, "", true},
		{"group Maintainer inherits", w.maintTok, itoa(w.app.ID), 200, "", true},
		{"Developer: no runners_token", w.projDevTok, itoa(w.app.ID), 200, "", false},
		{"outsider", w.outsiderTok, itoa(w.app.ID), 404, `{"message":"404 Project Not Found"}`, false},
		{"unknown", w.adminTok, "nope%2Fnope", 404, `{"message":"404 Project Not Found"}`, false},
		{"admin", w.adminTok, "other%2Fapp", 200, "", true},
	}
	for _, tc := range detail {
		t.Run("get "+tc.name, func(t *testing.T) {
			rp := do(t, s, req{method: "GET", path: "/api/v4/projects/" + tc.id, token: tc.token})
			if tc.body != "" {
				rp.expect(t, tc.status, tc.body)
				return
			}
			if rp.status != tc.status {
				t.Fatalf("status %d: %s", rp.status, rp.body)
			}
			m := rp.object(t)
			if _, has := m["runners_token"]; has != tc.runnersToken {
				t.Errorf("runners_token present = %v, want %v", has, tc.runnersToken)
			}
		})
	}
	rp := do(t, s, req{method: "GET", path: "/api/v4/projects/" + itoa(w.app.ID), token: w.projMaintTok})
	rp.expect(t, 200, `~\{"id":`+itoa(w.app.ID)+`,"description":null,"name":"app","name_with_namespace":"acme / platform / app","path":"app",`+
		`"path_with_namespace":"acme/platform/app",.*"namespace":\{"id":`+itoa(w.platform.ID)+`,"name":"platform","path":"platform","kind":"group",`+
		`"full_path":"acme/platform","parent_id":`+itoa(w.acme.ID)+`,.*"runners_token":"`+w.app.RunnersToken+`",.*`+
		`"permissions":\{"project_access":\{"access_level":40,"notification_level":3\},"group_access":null\}\}`)

	list := []struct {
		name, token, query string
		want               []int64
	}{
		{"newest first by default", w.ownerTok, "", []int64{later.ID, w.app.ID}},
		{"order_by id asc", w.ownerTok, "?order_by=id&sort=asc", []int64{w.app.ID, later.ID}},
		{"min_access_level 40", w.projMaintTok, "?min_access_level=40", []int64{w.app.ID}},
		{"min_access_level 40, Developer", w.projDevTok, "?min_access_level=40", nil},
		{"membership", w.projDevTok, "?membership=true", []int64{w.app.ID}},
		{"search", w.adminTok, "?search=tool", []int64{later.ID}},
		{"admin sees all", w.adminTok, "?order_by=id&sort=asc", []int64{w.app.ID, w.otherApp.ID, later.ID}},
		{"anonymous", "", "", nil},
	}
	for _, tc := range list {
		t.Run("list "+tc.name, func(t *testing.T) {
			rp := do(t, s, req{method: "GET", path: "/api/v4/projects" + tc.query, token: tc.token})
			if rp.status != 200 {
				t.Fatalf("status %d: %s", rp.status, rp.body)
			}
			var items []struct{ ID int64 }
			rp.decode(t, &items)
			var got []int64
			for _, it := range items {
				got = append(got, it.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("projects = %v, want %v", got, tc.want)
			}
		})
	}
	// runners_token in list items for Maintainers only; simple=true never has it.
	rp = do(t, s, req{method: "GET", path: "/api/v4/projects?min_access_level=30", token: w.projDevTok})
	if strings.Contains(rp.body, "runners_token") {
		t.Error("Developer sees runners_token in the list")
	}
	rp = do(t, s, req{method: "GET", path: "/api/v4/projects?membership=true", token: w.projMaintTok})
	if !strings.Contains(rp.body, `"runners_token":"`+w.app.RunnersToken+`"`) {
		t.Error("Maintainer does not see runners_token in the list")
	}
	rp = do(t, s, req{method: "GET", path: "/api/v4/projects?simple=true", token: w.projMaintTok})
	if strings.Contains(rp.body, "runners_token") || !strings.Contains(rp.body, `"path_with_namespace":"acme/platform/app"`) {
		t.Errorf("simple list = %s", rp.body)
	}
}

func TestApplicationSettingsContract(t *testing.T) {
	w := newWorld(t, WithRegistrationTokens(), WithTokenExpiration(2*time.Hour))
	do(t, w.s, req{method: "GET", path: "/api/v4/application/settings", token: w.ownerTok}).expect(t, 403, forbiddenBody)
	rp := do(t, w.s, req{method: "GET", path: "/api/v4/application/settings", token: w.adminTok})
	rp.expect(t, 200, `~\{"id":1,.*"runners_registration_token":"`+w.s.InstanceRegistrationToken()+`","allow_runner_registration_token":true,`+
		`"valid_runner_registrars":\["project","group"\],"runner_token_expiration_interval":7200,"group_runner_token_expiration_interval":7200,`+
		`"project_runner_token_expiration_interval":7200\}`)

	w = newWorld(t)
	rp = do(t, w.s, req{method: "GET", path: "/api/v4/application/settings", token: w.adminTok})
	rp.expect(t, 200, `~\{"id":1,.*"allow_runner_registration_token":false,.*"runner_token_expiration_interval":null,.*\}`)
}
