package gitlabfake

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCreateUserRunnerContract covers POST /user/runners: Grape parameter errors, lookup,
// permission and model validation, in that order, with the exact bodies.
func TestCreateUserRunnerContract(t *testing.T) {
	w := newWorld(t)
	g, p := itoa(w.acme.ID), itoa(w.app.ID)
	tags51 := make([]string, 51)
	for i := range tags51 {
		tags51[i] = `"t` + itoa(int64(i)) + `"`
	}
	const (
		created2 = `~\{"id":\d+,"token":"glrt-t2_[A-Za-z0-9_-]{24}","token_expires_at":null\}`
		created3 = `~\{"id":\d+,"token":"glrt-t3_[A-Za-z0-9_-]{24}","token_expires_at":null\}`
		created1 = `~\{"id":\d+,"token":"glrt-t1_[A-Za-z0-9_-]{24}","token_expires_at":null\}`
		noPerm   = `{"message":"403 Forbidden - Insufficient permissions"}`
	)
	tests := []struct {
		name   string
		token  string
		body   string
		status int
		want   string
	}{
		{"missing runner_type", w.ownerTok, `{}`, 400, `{"error":"runner_type is missing, runner_type does not have a valid value"}`},
		{"bad runner_type", w.ownerTok, `{"runner_type":"shared"}`, 400, `{"error":"runner_type does not have a valid value"}`},
		{"group_type without group_id", w.ownerTok, `{"runner_type":"group_type"}`, 400, `{"error":"group_id is missing"}`},
		{"project_type without project_id", w.ownerTok, `{"runner_type":"project_type"}`, 400, `{"error":"project_id is missing"}`},
		{"group path instead of id", w.ownerTok, `{"runner_type":"group_type","group_id":"acme"}`, 400, `{"error":"group_id is invalid"}`},
		{"bad access_level", w.ownerTok, `{"runner_type":"group_type","group_id":` + g + `,"access_level":"protected"}`, 400, `{"error":"access_level does not have a valid value"}`},
		{"bad boolean", w.ownerTok, `{"runner_type":"group_type","group_id":` + g + `,"paused":"maybe"}`, 400, `{"error":"paused is invalid"}`},
		{"several param errors", w.ownerTok, `{"runner_type":"group_type","group_id":"x","access_level":"x","maximum_timeout":"soon"}`, 400,
			`{"error":"group_id is invalid, access_level does not have a valid value, maximum_timeout is invalid"}`},
		{"params before lookup", w.outsiderTok, `{"runner_type":"group_type","group_id":424242,"locked":"perhaps"}`, 400, `{"error":"locked is invalid"}`},

		{"unknown group is a 400", w.ownerTok, `{"runner_type":"group_type","group_id":424242}`, 400, `{"message":"400 Bad request - Missing/invalid group"}`},
		{"unknown project is a 400", w.ownerTok, `{"runner_type":"project_type","project_id":424242}`, 400, `{"message":"400 Bad request - Missing/invalid project"}`},
		{"group ID as project ID", w.ownerTok, `{"runner_type":"project_type","project_id":` + g + `}`, 400, `{"message":"400 Bad request - Missing/invalid project"}`},
		{"lookup before permission", w.outsiderTok, `{"runner_type":"group_type","group_id":424242}`, 400, `{"message":"400 Bad request - Missing/invalid group"}`},

		{"group Maintainer", w.maintTok, `{"runner_type":"group_type","group_id":` + g + `}`, 403, noPerm},
		{"group Developer", w.devTok, `{"runner_type":"group_type","group_id":` + g + `}`, 403, noPerm},
		{"outsider", w.outsiderTok, `{"runner_type":"group_type","group_id":` + g + `}`, 403, noPerm},
		{"permission before validation", w.maintTok, `{"runner_type":"group_type","group_id":` + g + `,"maximum_timeout":5}`, 403, noPerm},
		{"project Developer", w.projDevTok, `{"runner_type":"project_type","project_id":` + p + `}`, 403, noPerm},
		{"non-admin instance runner", w.ownerTok, `{"runner_type":"instance_type"}`, 403, noPerm},

		{"group Owner", w.ownerTok, `{"runner_type":"group_type","group_id":` + g + `}`, 201, created2},
		{"Owner of a parent group", w.ownerTok, `{"runner_type":"group_type","group_id":` + itoa(w.platform.ID) + `}`, 201, created2},
		{"project Maintainer", w.projMaintTok, `{"runner_type":"project_type","project_id":` + p + `}`, 201, created3},
		{"group Owner creates project runner", w.ownerTok, `{"runner_type":"project_type","project_id":` + p + `}`, 201, created3},
		{"group Maintainer creates project runner", w.maintTok, `{"runner_type":"project_type","project_id":` + p + `}`, 201, created3},
		{"admin instance runner", w.adminTok, `{"runner_type":"instance_type"}`, 201, created1},
		{"admin group runner anywhere", w.adminTok, `{"runner_type":"group_type","group_id":` + itoa(w.other.ID) + `}`, 201, created2},
		{"group_id ignored for project_type", w.projMaintTok, `{"runner_type":"project_type","project_id":` + p + `,"group_id":"junk"}`, 201, created3},

		{"no tags and no untagged jobs", w.ownerTok, `{"runner_type":"group_type","group_id":` + g + `,"run_untagged":false}`, 400,
			`{"message":"400 Bad request - Tags list can not be empty when runner is not allowed to pick untagged jobs"}`},
		{"short maximum_timeout", w.ownerTok, `{"runner_type":"group_type","group_id":` + g + `,"maximum_timeout":599}`, 400,
			`{"message":"400 Bad request - Maximum timeout needs to be at least 10 minutes"}`},
		{"long description", w.ownerTok, `{"runner_type":"group_type","group_id":` + g + `,"description":"` + strings.Repeat("é", 1025) + `"}`, 400,
			`{"message":"400 Bad request - Description is too long (maximum is 1024 characters)"}`},
		{"too many tags", w.ownerTok, `{"runner_type":"group_type","group_id":` + g + `,"tag_list":[` + strings.Join(tags51, ",") + `]}`, 400,
			`{"message":"400 Bad request - Tags list Too many tags specified. Please limit the number of tags to 50"}`},
		{"two model errors", w.ownerTok, `{"runner_type":"group_type","group_id":` + g + `,"run_untagged":false,"maximum_timeout":0}`, 400,
			`{"message":"400 Bad request - Tags list can not be empty when runner is not allowed to pick untagged jobs and Maximum timeout needs to be at least 10 minutes"}`},
		{"1024 characters is fine", w.ownerTok, `{"runner_type":"group_type","group_id":` + g + `,"description":"` + strings.Repeat("é", 1024) + `"}`, 201, created2},
		{"600 seconds is fine", w.ownerTok, `{"runner_type":"group_type","group_id":` + g + `,"maximum_timeout":600}`, 201, created2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(w.s.Runners())
			do(t, w.s, req{method: "POST", path: "/api/v4/user/runners", token: tc.token, json: tc.body}).expect(t, tc.status, tc.want)
			grew := len(w.s.Runners()) - before
			if want := map[bool]int{true: 1, false: 0}[tc.status == 201]; grew != want {
				t.Errorf("runners grew by %d, want %d", grew, want)
			}
		})
	}
}

// TestCreateUserRunnerStoresAttributes checks defaults and that JSON, form and query
// parameters all work, including tag_list as an array or a comma-separated string.
func TestCreateUserRunnerStoresAttributes(t *testing.T) {
	w := newWorld(t)
	s := w.s

	id, token := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`}`)
	r, ok := s.Runner(id)
	if !ok {
		t.Fatal("runner not stored")
	}
	want := Runner{ID: id, Type: "group_type", GroupID: w.acme.ID, Tags: []string{}, RunUntagged: true,
		AccessLevel: "not_protected", Token: token, CreatorID: w.owner.ID}
	if !equalRunner(r, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", redacted(r), redacted(want))
	}

	// client-go style JSON with every attribute.
	id, _ = createRunner(t, s, w.projMaintTok, `{"runner_type":"project_type","project_id":`+itoa(w.app.ID)+
		`,"description":"ci [managed-by=runner-migrate]","maintenance_note":"note","paused":true,"locked":true,`+
		`"run_untagged":false,"tag_list":["docker"," linux ","docker",""],"access_level":"ref_protected","maximum_timeout":3600}`)
	r, _ = s.Runner(id)
	want = Runner{ID: id, Type: "project_type", ProjectID: w.app.ID, Description: "ci [managed-by=runner-migrate]",
		MaintenanceNote: "note", Paused: true, Locked: true, RunUntagged: false, Tags: []string{"docker", "linux"},
		AccessLevel: "ref_protected", MaximumTimeout: 3600, Token: r.Token, CreatorID: w.projMaint.ID}
	if !equalRunner(r, want) {
		t.Errorf("JSON attributes:\n got %+v\nwant %+v", redacted(r), redacted(want))
	}

	// Form body with a comma-separated tag list and string booleans.
	form := url.Values{"runner_type": {"group_type"}, "group_id": {itoa(w.acme.ID)}, "tag_list": {"a, b,c"},
		"run_untagged": {"false"}, "locked": {"1"}}
	rp := do(t, s, req{method: "POST", path: "/api/v4/user/runners", token: w.ownerTok, form: form})
	rp.expect(t, 201, `~\{"id":\d+,"token":"glrt-t2_[A-Za-z0-9_-]{24}","token_expires_at":null\}`)
	var out struct{ ID int64 }
	rp.decode(t, &out)
	r, _ = s.Runner(out.ID)
	if !slices.Equal(r.Tags, []string{"a", "b", "c"}) || r.RunUntagged || !r.Locked {
		t.Errorf("form attributes: tags %q run_untagged %v locked %v", r.Tags, r.RunUntagged, r.Locked)
	}

	// Query parameters with tag_list[].
	rp = do(t, s, req{method: "POST", path: "/api/v4/user/runners?runner_type=group_type&group_id=" + itoa(w.acme.ID) +
		"&tag_list[]=x&tag_list[]=y&run_untagged=false", token: w.ownerTok})
	rp.decode(t, &out)
	if r, _ = s.Runner(out.ID); rp.status != 201 || !slices.Equal(r.Tags, []string{"x", "y"}) {
		t.Errorf("query attributes: %d %s, tags %q", rp.status, rp.body, r.Tags)
	}

	// Each create is a new runner with a new token: the endpoint is not idempotent.
	_, t1 := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`,"description":"same"}`)
	_, t2 := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`,"description":"same"}`)
	if t1 == t2 {
		t.Error("two creates returned the same token")
	}
}

func TestCreateUserRunnerTokenExpiration(t *testing.T) {
	clock := &fixedClock{t: time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)}
	w := newWorld(t, WithClock(clock.now), WithTokenExpiration(72*time.Hour),
		WithRunnerTypeTokenExpiration("project_type", 0))

	rp := do(t, w.s, req{method: "POST", path: "/api/v4/user/runners", token: w.ownerTok,
		json: `{"runner_type":"group_type","group_id":` + itoa(w.acme.ID) + `}`})
	rp.expect(t, 201, `~\{"id":\d+,"token":"glrt-t2_[A-Za-z0-9_-]{24}","token_expires_at":"2025-03-07T05:06:07.890Z"\}`)

	// A type whose interval is switched off gets null.
	rp = do(t, w.s, req{method: "POST", path: "/api/v4/user/runners", token: w.ownerTok,
		json: `{"runner_type":"project_type","project_id":` + itoa(w.app.ID) + `}`})
	rp.expect(t, 201, `~\{"id":\d+,"token":"glrt-t3_[A-Za-z0-9_-]{24}","token_expires_at":null\}`)
}

func equalRunner(a, b Runner) bool {
	return a.ID == b.ID && a.Type == b.Type && a.GroupID == b.GroupID && a.ProjectID == b.ProjectID &&
		a.Description == b.Description && slices.Equal(a.Tags, b.Tags) && a.RunUntagged == b.RunUntagged &&
		a.Locked == b.Locked && a.Paused == b.Paused && a.AccessLevel == b.AccessLevel &&
		a.MaximumTimeout == b.MaximumTimeout && a.MaintenanceNote == b.MaintenanceNote && a.Token == b.Token &&
		a.CreatorID == b.CreatorID
}

// redacted keeps tokens out of test failure messages.
func redacted(r Runner) Runner {
	if r.Token != "" {
		r.Token = "[REDACTED]"
	}
	return r
}
