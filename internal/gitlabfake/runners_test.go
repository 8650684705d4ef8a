package gitlabfake

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

var epoch = time.Date(2025, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

// TestGetRunnerContract pins the RunnerDetails body and the 400/403/404 answers.
func TestGetRunnerContract(t *testing.T) {
	clock := &fixedClock{t: epoch}
	w := newWorld(t, WithClock(clock.now))
	s := w.s
	groupRunner, _ := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`}`)
	projectRunner, _ := createRunner(t, s, w.projMaintTok, `{"runner_type":"project_type","project_id":`+itoa(w.app.ID)+
		`,"description":"d","tag_list":"b,a","maximum_timeout":3600,"maintenance_note":"m","access_level":"ref_protected","locked":true}`)
	instanceRunner, _ := createRunner(t, s, w.adminTok, `{"runner_type":"instance_type","paused":true}`)

	base := s.URL()
	creator := func(id int64, name string) string {
		return `{"id":` + itoa(id) + `,"username":"` + name + `","name":"` + name + `","state":"active","locked":false,"avatar_url":null,"web_url":"` + base + `/` + name + `"}`
	}
	groupDetails := `{"id":` + itoa(groupRunner) + `,"description":null,"ip_address":"","active":true,"paused":false,"is_shared":false,` +
		`"runner_type":"group_type","name":null,"online":null,"created_by":` + creator(w.owner.ID, "olivia") + `,` +
		`"created_at":"2025-01-02T03:04:05.678Z","status":"never_contacted","job_execution_status":"idle",` +
		`"tag_list":[],"run_untagged":true,"locked":false,"maximum_timeout":null,"access_level":"not_protected",` +
		`"version":null,"revision":null,"platform":null,"architecture":null,"contacted_at":null,"maintenance_note":null,` +
		`"projects":[],"groups":[{"id":` + itoa(w.acme.ID) + `,"web_url":"` + base + `/groups/acme","name":"acme"}]}`

	tests := []struct {
		name   string
		token  string
		id     string
		status int
		body   string
	}{
		{"group runner, Owner", w.ownerTok, itoa(groupRunner), 200, groupDetails},
		{"group runner, Maintainer may read, without the note", w.maintTok, itoa(groupRunner), 200, `~.*"contacted_at":null,"projects":\[\],.*`},
		{"group runner, Developer", w.devTok, itoa(groupRunner), 403, noAccessBody},
		{"group runner, outsider", w.outsiderTok, itoa(groupRunner), 403, noAccessBody},
		{"group runner, admin", w.adminTok, itoa(groupRunner), 200, groupDetails},
		{"project runner, project Maintainer", w.projMaintTok, itoa(projectRunner), 200,
			`~\{"id":\d+,"description":"d",.*"tag_list":\["b","a"\],"run_untagged":true,"locked":true,"maximum_timeout":3600,"access_level":"ref_protected",.*"maintenance_note":"m","projects":\[\{"id":` + itoa(w.app.ID) + `,"description":null,"name":"app","name_with_namespace":"acme / platform / app","path":"app","path_with_namespace":"acme/platform/app",.*\],"groups":\[\]\}`},
		{"project runner, project Developer", w.projDevTok, itoa(projectRunner), 403, noAccessBody},
		{"instance runner, any user", w.outsiderTok, itoa(instanceRunner), 200,
			`~\{"id":\d+,"description":null,"ip_address":"","active":false,"paused":true,"is_shared":true,"runner_type":"instance_type",.*"contacted_at":null,"projects":\[\],"groups":\[\]\}`},
		{"unknown runner", w.adminTok, "987654", 404, recordNotFoundB},
		{"non-numeric id", w.adminTok, "abc", 400, `{"error":"id is invalid"}`},
		{"verify is not a GET route", w.adminTok, "verify", 400, `{"error":"id is invalid"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			do(t, s, req{method: "GET", path: "/api/v4/runners/" + tc.id, token: tc.token}).expect(t, tc.status, tc.body)
		})
	}
	// Non-updaters do not see the maintenance note of an instance runner.
	rp := do(t, s, req{method: "GET", path: "/api/v4/runners/" + itoa(instanceRunner), token: w.outsiderTok})
	if strings.Contains(rp.body, "maintenance_note") {
		t.Errorf("maintenance_note shown to a user who cannot update the runner: %s", rp.body)
	}
}

// TestUpdateRunnerContract covers PUT /runners/:id.
func TestUpdateRunnerContract(t *testing.T) {
	w := newWorld(t)
	s := w.s
	id, _ := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`,"tag_list":["old"]}`)
	path := "/api/v4/runners/" + itoa(id)

	tests := []struct {
		name   string
		token  string
		body   string
		status int
		want   string
	}{
		{"no parameters", w.ownerTok, `{}`, 400,
			`{"error":"description, active, paused, tag_list, run_untagged, locked, access_level, maximum_timeout, maintainer_note, maintenance_note are missing, at least one parameter must be provided"}`},
		{"active and paused", w.ownerTok, `{"active":true,"paused":true}`, 400, `{"error":"active, paused are mutually exclusive"}`},
		{"bad access level", w.ownerTok, `{"access_level":"all"}`, 400, `{"error":"access_level does not have a valid value"}`},
		{"params before permission", w.outsiderTok, `{}`, 400, `~\{"error":"description, .* are missing, at least one parameter must be provided"\}`},
		{"Maintainer cannot update a group runner", w.maintTok, `{"locked":true}`, 403, noAccessBody},
		{"outsider", w.outsiderTok, `{"locked":true}`, 403, noAccessBody},
		{"tags emptied without untagged jobs", w.ownerTok, `{"tag_list":[],"run_untagged":false}`, 400,
			`{"message":{"tags_list":["can not be empty when runner is not allowed to pick untagged jobs"]}}`},
		{"short timeout and long note", w.ownerTok, `{"maximum_timeout":60,"maintenance_note":"` + strings.Repeat("n", 1025) + `"}`, 400,
			`{"message":{"maximum_timeout":["needs to be at least 10 minutes"],"maintenance_note":["is too long (maximum is 1024 characters)"]}}`},
		{"valid update", w.ownerTok, `{"description":"new","paused":true,"tag_list":["a","b"],"run_untagged":false,"locked":true,"access_level":"ref_protected","maximum_timeout":7200,"maintenance_note":"n"}`, 200,
			`~\{"id":\d+,"description":"new","ip_address":"","active":false,"paused":true,.*"tag_list":\["a","b"\],"run_untagged":false,"locked":true,"maximum_timeout":7200,"access_level":"ref_protected",.*"maintenance_note":"n",.*\}`},
		{"deprecated active", w.ownerTok, `{"active":true}`, 200, `~.*"active":true,"paused":false,.*`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			do(t, s, req{method: "PUT", path: path, token: tc.token, json: tc.body}).expect(t, tc.status, tc.want)
		})
	}
	r, _ := s.Runner(id)
	want := Runner{ID: id, Type: "group_type", GroupID: w.acme.ID, Description: "new", Tags: []string{"a", "b"},
		Locked: true, AccessLevel: "ref_protected", MaximumTimeout: 7200, MaintenanceNote: "n", Token: r.Token, CreatorID: w.owner.ID}
	if !equalRunner(r, want) {
		t.Errorf("after updates:\n got %+v\nwant %+v", redacted(r), redacted(want))
	}

	do(t, s, req{method: "PUT", path: "/api/v4/runners/999999", token: w.ownerTok, json: `{"locked":true}`}).expect(t, 404, recordNotFoundB)

	// A project Maintainer may update their project's runner.
	pid, _ := createRunner(t, s, w.projMaintTok, `{"runner_type":"project_type","project_id":`+itoa(w.app.ID)+`}`)
	do(t, s, req{method: "PUT", path: "/api/v4/runners/" + itoa(pid), token: w.projMaintTok, json: `{"description":"x"}`}).expect(t, 200, `~.*"description":"x".*`)
	do(t, s, req{method: "PUT", path: "/api/v4/runners/" + itoa(pid), token: w.projDevTok, json: `{"description":"x"}`}).expect(t, 403, noAccessBody)
}

// TestDeleteRunnerContract covers DELETE /runners/:id.
func TestDeleteRunnerContract(t *testing.T) {
	clock := &fixedClock{t: epoch}
	w := newWorld(t, WithClock(clock.now))
	s := w.s
	id, token := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`}`)
	path := "/api/v4/runners/" + itoa(id)

	do(t, s, req{method: "DELETE", path: path, token: w.maintTok}).expect(t, 403, noAccessBody)
	do(t, s, req{method: "DELETE", path: "/api/v4/runners/424242", token: w.ownerTok}).expect(t, 404, recordNotFoundB)
	do(t, s, req{method: "DELETE", path: "/api/v4/runners/x", token: w.ownerTok}).expect(t, 400, `{"error":"id is invalid"}`)

	// If-Unmodified-Since older than the runner's last change: 412, nothing deleted.
	old := epoch.Add(-time.Hour).Format(http.TimeFormat)
	do(t, s, req{method: "DELETE", path: path, token: w.ownerTok, header: map[string]string{"If-Unmodified-Since": old}}).
		expect(t, 412, `{"message":"412 Precondition Failed"}`)

	rp := do(t, s, req{method: "DELETE", path: path, token: w.ownerTok})
	rp.expect(t, 204, "")
	if ct := rp.header.Get("Content-Type"); ct != "" {
		t.Errorf("204 carries Content-Type %q", ct)
	}
	if _, ok := s.Runner(id); ok {
		t.Error("runner still stored after DELETE")
	}
	do(t, s, req{method: "GET", path: path, token: w.ownerTok}).expect(t, 404, recordNotFoundB)
	do(t, s, req{method: "POST", path: "/api/v4/runners/verify", json: `{"token":"` + token + `"}`}).expect(t, 403, forbiddenBody)
}

// TestResetRunnerTokenContract covers POST /runners/:id/reset_authentication_token.
func TestResetRunnerTokenContract(t *testing.T) {
	clock := &fixedClock{t: epoch}
	w := newWorld(t, WithClock(clock.now), WithTokenExpiration(24*time.Hour))
	s := w.s
	id, oldToken := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`}`)
	path := "/api/v4/runners/" + itoa(id) + "/reset_authentication_token"

	do(t, s, req{method: "POST", path: path, token: w.maintTok}).expect(t, 403, noAccessBody)
	do(t, s, req{method: "POST", path: "/api/v4/runners/424242/reset_authentication_token", token: w.ownerTok}).expect(t, 404, recordNotFoundB)

	clock.advance(time.Hour)
	rp := do(t, s, req{method: "POST", path: path, token: w.ownerTok})
	rp.expect(t, 201, `~\{"token":"glrt-t2_[A-Za-z0-9_-]{24}","token_expires_at":"2025-01-03T04:04:05.678Z"\}`)
	var out struct{ Token string }
	rp.decode(t, &out)
	if out.Token == oldToken {
		t.Fatal("reset returned the old token")
	}
	if r, _ := s.Runner(id); r.Token != out.Token {
		t.Error("store does not hold the new token")
	}
	// The old token is dead at once; the new one works.
	do(t, s, req{method: "POST", path: "/api/v4/runners/verify", json: `{"token":"` + oldToken + `"}`}).expect(t, 403, forbiddenBody)
	do(t, s, req{method: "POST", path: "/api/v4/runners/verify", json: `{"token":"` + out.Token + `"}`}).
		expect(t, 200, `{"id":`+itoa(id)+`,"token":"`+out.Token+`","token_expires_at":"2025-01-03T04:04:05.678Z"}`)
}

// TestRunnerListsContract covers the four list endpoints, their permissions and filters.
func TestRunnerListsContract(t *testing.T) {
	clock := &fixedClock{t: epoch}
	w := newWorld(t, WithClock(clock.now))
	s := w.s
	acmeRunner, acmeToken := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`,"tag_list":["docker","linux"],"description":"acme"}`)
	platformRunner, _ := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.platform.ID)+`,"tag_list":["docker"],"paused":true}`)
	otherRunner, _ := createRunner(t, s, w.adminTok, `{"runner_type":"group_type","group_id":`+itoa(w.other.ID)+`}`)
	appRunner, _ := createRunner(t, s, w.projMaintTok, `{"runner_type":"project_type","project_id":`+itoa(w.app.ID)+`,"tag_list":["linux"]}`)
	instRunner, _ := createRunner(t, s, w.adminTok, `{"runner_type":"instance_type"}`)
	do(t, s, req{method: "POST", path: "/api/v4/runners/verify", json: `{"token":"` + acmeToken + `"}`}).expect(t, 200, `~.*`)

	ids := func(t *testing.T, rp reply) []int64 {
		t.Helper()
		if rp.status != 200 {
			t.Fatalf("status %d: %s", rp.status, rp.body)
		}
		var items []struct{ ID int64 }
		rp.decode(t, &items)
		var out []int64
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	tests := []struct {
		name  string
		token string
		path  string
		want  []int64
	}{
		{"owned: group Owner", w.ownerTok, "/api/v4/runners", []int64{acmeRunner, platformRunner, appRunner}},
		{"owned: group Maintainer sees project runners only", w.maintTok, "/api/v4/runners", []int64{appRunner}},
		{"owned: project Maintainer", w.projMaintTok, "/api/v4/runners", []int64{appRunner}},
		{"owned: admin gets nothing extra", w.adminTok, "/api/v4/runners", nil},
		{"owned: type filter", w.ownerTok, "/api/v4/runners?type=group_type", []int64{acmeRunner, platformRunner}},
		{"owned: tag_list is an AND", w.ownerTok, "/api/v4/runners?tag_list=docker,linux", []int64{acmeRunner}},
		{"owned: single tag", w.ownerTok, "/api/v4/runners?tag_list=docker", []int64{acmeRunner, platformRunner}},
		{"owned: paused", w.ownerTok, "/api/v4/runners?paused=true", []int64{platformRunner}},
		{"owned: status online", w.ownerTok, "/api/v4/runners?status=online", []int64{acmeRunner}},
		{"owned: status never_contacted", w.ownerTok, "/api/v4/runners?status=never_contacted", []int64{platformRunner, appRunner}},
		{"owned: no description filter exists", w.ownerTok, "/api/v4/runners?description=acme&search=acme", []int64{acmeRunner, platformRunner, appRunner}},
		{"all: admin", w.adminTok, "/api/v4/runners/all", []int64{acmeRunner, platformRunner, otherRunner, appRunner, instRunner}},
		{"all: scope shared", w.adminTok, "/api/v4/runners/all?scope=shared", []int64{instRunner}},
		{"group: with ancestors and instance runners", w.ownerTok, "/api/v4/groups/" + itoa(w.platform.ID) + "/runners", []int64{acmeRunner, platformRunner, instRunner}},
		{"group: by path, type filter", w.maintTok, "/api/v4/groups/acme%2Fplatform/runners?type=group_type", []int64{acmeRunner, platformRunner}},
		{"project: project, group hierarchy, instance", w.projMaintTok, "/api/v4/projects/" + itoa(w.app.ID) + "/runners", []int64{acmeRunner, platformRunner, appRunner, instRunner}},
		{"project: type filter", w.projMaintTok, "/api/v4/projects/acme%2Fplatform%2Fapp/runners?type=project_type", []int64{appRunner}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(t, do(t, s, req{method: "GET", path: tc.path, token: tc.token})); !slices.Equal(got, tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
		})
	}

	errorCases := []struct {
		name, token, path string
		status            int
		body              string
	}{
		{"all: non-admin", w.ownerTok, "/api/v4/runners/all", 403, forbiddenBody},
		{"bad type", w.ownerTok, "/api/v4/runners?type=shared", 400, `{"error":"type does not have a valid value"}`},
		{"bad status", w.ownerTok, "/api/v4/runners?status=busy", 400, `{"error":"status does not have a valid value"}`},
		{"bad paused", w.ownerTok, "/api/v4/runners?paused=perhaps", 400, `{"error":"paused is invalid"}`},
		{"bad scope", w.ownerTok, "/api/v4/runners?scope=shared", 400, `{"message":"Scope contains invalid value"}`},
		{"per_page zero", w.ownerTok, "/api/v4/runners?per_page=0", 400, `{"error":"per_page has a value not allowed"}`},
		{"page not a number", w.ownerTok, "/api/v4/runners?page=two", 400, `{"error":"page is invalid"}`},
		{"params before admin check", w.ownerTok, "/api/v4/runners/all?type=x", 400, `{"error":"type does not have a valid value"}`},
		{"group: unknown", w.ownerTok, "/api/v4/groups/424242/runners", 404, `{"message":"404 Group Not Found"}`},
		{"group: invisible is unknown", w.outsiderTok, "/api/v4/groups/acme/runners", 404, `{"message":"404 Group Not Found"}`},
		{"group: Developer", w.devTok, "/api/v4/groups/acme/runners", 403, forbiddenBody},
		{"project: unknown", w.ownerTok, "/api/v4/projects/424242/runners", 404, `{"message":"404 Project Not Found"}`},
		{"project: Developer", w.projDevTok, "/api/v4/projects/" + itoa(w.app.ID) + "/runners", 403, forbiddenBody},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			do(t, s, req{method: "GET", path: tc.path, token: tc.token}).expect(t, tc.status, tc.body)
		})
	}

	// The list item: exactly these keys, online null for a runner that never called in.
	rp := do(t, s, req{method: "GET", path: "/api/v4/runners?type=project_type", token: w.projMaintTok})
	rp.expect(t, 200, `[{"id":`+itoa(appRunner)+`,"description":null,"ip_address":"","active":true,"paused":false,"is_shared":false,`+
		`"runner_type":"project_type","name":null,"online":null,"created_by":{"id":`+itoa(w.projMaint.ID)+`,"username":"pam","name":"pam",`+
		`"state":"active","locked":false,"avatar_url":null,"web_url":"`+s.URL()+`/pam"},"created_at":"2025-01-02T03:04:05.678Z",`+
		`"status":"never_contacted","job_execution_status":"idle"}]`)
}

// TestRunnerStatusOverTime checks online, offline and stale against the server clock.
func TestRunnerStatusOverTime(t *testing.T) {
	clock := &fixedClock{t: epoch}
	w := newWorld(t, WithClock(clock.now))
	id, token := createRunner(t, w.s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`}`)
	status := func() (string, any) {
		m := do(t, w.s, req{method: "GET", path: "/api/v4/runners/" + itoa(id), token: w.ownerTok}).object(t)
		return m["status"].(string), m["online"]
	}
	if st, online := status(); st != "never_contacted" || online != nil {
		t.Errorf("fresh: %s, online %v", st, online)
	}
	do(t, w.s, req{method: "POST", path: "/api/v4/runners/verify", json: `{"token":"` + token + `","system_id":"s_abc"}`}).expect(t, 200, `~.*`)
	if st, online := status(); st != "online" || online != true {
		t.Errorf("after verify: %s, online %v", st, online)
	}
	clock.advance(3 * time.Hour)
	if st, online := status(); st != "offline" || online != false {
		t.Errorf("3h later: %s, online %v", st, online)
	}
	clock.advance(7 * 24 * time.Hour)
	if st, _ := status(); st != "stale" {
		t.Errorf("a week later: %s", st)
	}
}
