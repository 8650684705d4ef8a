package gitlabfake

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

// TestVerifyContract covers POST /runners/verify, including its side effects.
func TestVerifyContract(t *testing.T) {
	clock := &fixedClock{t: epoch}
	w := newWorld(t, WithClock(clock.now), WithRunnerTypeTokenExpiration("group_type", time.Hour))
	s := w.s
	id, token := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`}`)
	verified := `{"id":` + itoa(id) + `,"token":"` + token + `","token_expires_at":"2025-01-02T04:04:05.678Z"}`

	tests := []struct {
		name   string
		r      req
		status int
		body   string
	}{
		{"missing token", req{json: `{}`}, 400, `{"error":"token is missing"}`},
		{"unknown token", req{json: `{"token":"glrt-nope"}`}, 403, forbiddenBody},
		{"a PAT is not a runner token", req{json: `{"token":"` + w.ownerTok + `"}`}, 403, forbiddenBody},
		{"JSON without system_id", req{json: `{"token":"` + token + `"}`}, 200, verified},
		{"form with system_id", req{form: url.Values{"token": {token}, "system_id": {"s_0123456789ab"}}}, 200, verified},
		{"again with the same system_id", req{json: `{"token":"` + token + `","system_id":"s_0123456789ab"}`}, 200, verified},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.method, tc.r.path = "POST", "/api/v4/runners/verify"
			do(t, s, tc.r).expect(t, tc.status, tc.body)
		})
	}
	r, _ := s.Runner(id)
	if !slices.Equal(r.Managers, []string{"<legacy>", "s_0123456789ab"}) {
		t.Errorf("managers = %q", r.Managers)
	}
	if r.ContactedAt == nil || !r.ContactedAt.Equal(epoch) {
		t.Errorf("contacted_at = %v, want %v", r.ContactedAt, epoch)
	}
	do(t, s, req{method: "GET", path: "/api/v4/runners/" + itoa(id) + "/managers", token: w.ownerTok}).
		expect(t, 200, `[{"id":1,"system_id":"\u003clegacy\u003e","version":null,"revision":null,"platform":null,"architecture":null,`+
			`"created_at":"2025-01-02T03:04:05.678Z","contacted_at":"2025-01-02T03:04:05.678Z","ip_address":"","status":"online","job_execution_status":"idle"},`+
			`{"id":2,"system_id":"s_0123456789ab","version":null,"revision":null,"platform":null,"architecture":null,`+
			`"created_at":"2025-01-02T03:04:05.678Z","contacted_at":"2025-01-02T03:04:05.678Z","ip_address":"","status":"online","job_execution_status":"idle"}]`)

	// An expired runner token is refused like an unknown one.
	clock.advance(time.Hour)
	do(t, s, req{method: "POST", path: "/api/v4/runners/verify", json: `{"token":"` + token + `"}`}).expect(t, 403, forbiddenBody)
}

// TestLegacyRegistrationContract covers POST /runners with registration tokens.
func TestLegacyRegistrationContract(t *testing.T) {
	disabled := newWorld(t)
	gone := `{"message":"410 Gone - runner registration disallowed"}`
	for _, token := range []string{disabled.s.InstanceRegistrationToken(), disabled.acme.RunnersToken, "unknown"} {
		do(t, disabled.s, req{method: "POST", path: "/api/v4/runners", json: `{"token":"` + token + `"}`}).expect(t, 410, gone)
	}
	do(t, disabled.s, req{method: "POST", path: "/api/v4/runners", json: `{}`}).expect(t, 400, `{"error":"token is missing"}`)
	if n := len(disabled.s.Runners()); n != 0 {
		t.Fatalf("%d runners registered while registration is disabled", n)
	}

	w := newWorld(t, WithRegistrationTokens())
	s := w.s
	tests := []struct {
		name      string
		body      string
		status    int
		want      string
		typ       string
		ownerID   func(Runner) int64
		wantOwner int64
	}{
		{"unknown token", `{"token":"GR1348941nope"}`, 403, `{"message":"403 Forbidden - invalid token supplied"}`, "", nil, 0},
		{"instance token", `{"token":"` + s.InstanceRegistrationToken() + `","description":"legacy","tag_list":"a,b","info":{"name":"gitlab-runner","version":"17.1.0"}}`,
			201, `~\{"id":\d+,"token":"t1_[A-Za-z0-9_-]{24}","token_expires_at":null\}`, "instance_type", func(Runner) int64 { return 0 }, 0},
		{"group token", `{"token":"` + w.acme.RunnersToken + `"}`, 201, `~\{"id":\d+,"token":"t2_[A-Za-z0-9_-]{24}","token_expires_at":null\}`,
			"group_type", func(r Runner) int64 { return r.GroupID }, w.acme.ID},
		{"project token", `{"token":"` + w.app.RunnersToken + `"}`, 201, `~\{"id":\d+,"token":"t3_[A-Za-z0-9_-]{24}","token_expires_at":null\}`,
			"project_type", func(r Runner) int64 { return r.ProjectID }, w.app.ID},
		{"model validation", `{"token":"` + w.acme.RunnersToken + `","run_untagged":false}`, 400,
			`{"message":{"tags_list":["can not be empty when runner is not allowed to pick untagged jobs"]}}`, "", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rp := do(t, s, req{method: "POST", path: "/api/v4/runners", json: tc.body})
			rp.expect(t, tc.status, tc.want)
			if tc.status != 201 {
				return
			}
			var out struct{ ID int64 }
			rp.decode(t, &out)
			r, _ := s.Runner(out.ID)
			if r.Type != tc.typ || tc.ownerID(r) != tc.wantOwner {
				t.Errorf("registered %s owned by %d, want %s owned by %d", r.Type, tc.ownerID(r), tc.typ, tc.wantOwner)
			}
		})
	}
	// The legacy registration's info{} shows up as name and version.
	rs := s.Runners()
	m := do(t, s, req{method: "GET", path: "/api/v4/runners/" + itoa(rs[0].ID), token: w.adminTok}).object(t)
	if m["name"] != "gitlab-runner" || m["version"] != "17.1.0" || m["description"] != "legacy" {
		t.Errorf("legacy runner details: name %v version %v description %v", m["name"], m["version"], m["description"])
	}
}

// TestRunnerTokenEndpoints covers DELETE /runners and POST /runners/reset_authentication_token
// with the runner's own token.
func TestRunnerTokenEndpoints(t *testing.T) {
	w := newWorld(t)
	s := w.s
	id, token := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`}`)

	do(t, s, req{method: "POST", path: "/api/v4/runners/reset_authentication_token", json: `{"token":"nope"}`}).expect(t, 403, forbiddenBody)
	rp := do(t, s, req{method: "POST", path: "/api/v4/runners/reset_authentication_token", json: `{"token":"` + token + `"}`})
	rp.expect(t, 201, `~\{"token":"glrt-t2_[A-Za-z0-9_-]{24}","token_expires_at":null\}`)
	var out struct{ Token string }
	rp.decode(t, &out)

	do(t, s, req{method: "DELETE", path: "/api/v4/runners?token=" + token}).expect(t, 403, forbiddenBody)
	do(t, s, req{method: "DELETE", path: "/api/v4/runners"}).expect(t, 400, `{"error":"token is missing"}`)
	do(t, s, req{method: "DELETE", path: "/api/v4/runners?token=" + out.Token}).expect(t, 204, "")
	if _, ok := s.Runner(id); ok {
		t.Error("runner survived DELETE /runners")
	}
}
