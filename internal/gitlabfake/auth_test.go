package gitlabfake

import (
	"net/http"
	"strings"
	"testing"
)

// TestAuthAndScopes pins GitLab's evaluation order (authentication, then scopes, then
// parameters) and the exact 401/403 bodies on every kind of endpoint.
func TestAuthAndScopes(t *testing.T) {
	w := newWorld(t)
	s := w.s
	// A runner the owner may read, so that allowed requests get past lookup.
	id, _ := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`}`)
	rid := itoa(id)

	tests := []struct {
		name   string
		r      req
		status int
		body   string
	}{
		{"no token", req{method: "POST", path: "/api/v4/user/runners", json: `{"runner_type":"instance_type"}`}, 401, unauthorizedBody},
		{"unknown token", req{method: "POST", path: "/api/v4/user/runners", token: "glpat-doesnotexist", json: `{}`}, 401, unauthorizedBody},
		{"unknown bearer", req{method: "GET", path: "/api/v4/user", bearer: "nope"}, 401, unauthorizedBody},
		{"expired token", req{method: "POST", path: "/api/v4/user/runners", token: w.expiredTok, json: `{}`}, 401, expiredBody},
		{"revoked token", req{method: "GET", path: "/api/v4/runners/" + rid, token: w.revokedTok}, 401, revokedBody},
		{"auth before params", req{method: "POST", path: "/api/v4/user/runners", token: w.expiredTok, json: `{"runner_type":"bogus"}`}, 401, expiredBody},

		{"read_api cannot create", req{method: "POST", path: "/api/v4/user/runners", token: w.readAPITok, json: `{"runner_type":"group_type","group_id":1}`}, 403, scopeBody("api create_runner")},
		{"scope before params", req{method: "POST", path: "/api/v4/user/runners", token: w.readAPITok, json: `{}`}, 403, scopeBody("api create_runner")},
		{"manage_runner cannot create", req{method: "POST", path: "/api/v4/user/runners", token: w.manageRunTok, json: `{}`}, 403, scopeBody("api create_runner")},
		{"create_runner cannot read runner", req{method: "GET", path: "/api/v4/runners/" + rid, token: w.createRunnerTok}, 403, scopeBody("api read_api manage_runner")},
		{"create_runner cannot list", req{method: "GET", path: "/api/v4/runners", token: w.createRunnerTok}, 403, scopeBody("api read_api")},
		{"manage_runner cannot list", req{method: "GET", path: "/api/v4/runners", token: w.manageRunTok}, 403, scopeBody("api read_api")},
		{"manage_runner cannot read group", req{method: "GET", path: "/api/v4/groups/acme", token: w.manageRunTok}, 403, scopeBody("api read_api")},
		{"read_api cannot update", req{method: "PUT", path: "/api/v4/runners/" + rid, token: w.readAPITok, json: `{"locked":true}`}, 403, scopeBody("api manage_runner")},
		{"read_api cannot delete", req{method: "DELETE", path: "/api/v4/runners/" + rid, token: w.readAPITok}, 403, scopeBody("api manage_runner")},
		{"read_api cannot reset", req{method: "POST", path: "/api/v4/runners/" + rid + "/reset_authentication_token", token: w.readAPITok}, 403, scopeBody("api manage_runner")},
		{"create_runner cannot read user", req{method: "GET", path: "/api/v4/user", token: w.createRunnerTok}, 403, scopeBody("api read_api read_user")},

		{"read_api reads runner", req{method: "GET", path: "/api/v4/runners/" + rid, token: w.readAPITok}, 200, ""},
		{"manage_runner reads runner", req{method: "GET", path: "/api/v4/runners/" + rid, token: w.manageRunTok}, 200, ""},
		{"manage_runner updates runner", req{method: "PUT", path: "/api/v4/runners/" + rid, token: w.manageRunTok, json: `{"locked":true}`}, 200, ""},
		{"manage_runner, unknown runner", req{method: "GET", path: "/api/v4/runners/999999", token: w.manageRunTok}, 404, recordNotFoundB},
		{"bearer PAT", req{method: "GET", path: "/api/v4/runners/" + rid, bearer: w.ownerTok}, 200, ""},
		{"private_token parameter", req{method: "GET", path: "/api/v4/runners/" + rid + "?private_token=" + w.ownerTok}, 200, ""},

		{"unknown route", req{method: "GET", path: "/api/v4/nope", token: w.ownerTok}, 404, notFoundRoute},
		{"unknown route without token", req{method: "GET", path: "/api/v4/runners/1/nope"}, 404, notFoundRoute},
		{"known path, wrong method", req{method: "PATCH", path: "/api/v4/runners/" + rid, token: w.ownerTok}, 404, notFoundRoute},
		{"unescaped path is another route", req{method: "GET", path: "/api/v4/groups/acme/platform", token: w.ownerTok}, 404, notFoundRoute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rp := do(t, s, tc.r)
			if tc.body == "" {
				if rp.status != tc.status {
					t.Fatalf("status = %d, want %d: %s", rp.status, tc.status, rp.body)
				}
				return
			}
			rp.expect(t, tc.status, tc.body)
		})
	}
}

func TestOAuthErrorsCarryWWWAuthenticate(t *testing.T) {
	w := newWorld(t)
	rp := do(t, w.s, req{method: "GET", path: "/api/v4/runners", token: w.expiredTok})
	want := `Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="Token is expired. You can either do re-authorization or token refresh."`
	if got := rp.header.Get("WWW-Authenticate"); got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
	rp = do(t, w.s, req{method: "POST", path: "/api/v4/user/runners", token: w.readAPITok, json: `{}`})
	if got := rp.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="insufficient_scope"`) || !strings.Contains(got, `scope="api create_runner"`) {
		t.Errorf("WWW-Authenticate = %q", got)
	}
}

// TestAdminMode checks that, with Admin Mode on, an administrator's token acts as an
// administrator only with the admin_mode scope.
func TestAdminMode(t *testing.T) {
	instance := `{"runner_type":"instance_type"}`
	tests := []struct {
		name      string
		adminMode bool
		scoped    bool
		status    int
		body      string
	}{
		{"no admin mode, api scope", false, false, 201, `~\{"id":\d+,"token":"glrt-t1_[A-Za-z0-9_-]{24}","token_expires_at":null\}`},
		{"admin mode, api scope only", true, false, 403, `{"message":"403 Forbidden - Insufficient permissions"}`},
		{"admin mode, admin_mode scope", true, true, 201, `~\{"id":\d+,"token":"glrt-t1_[A-Za-z0-9_-]{24}","token_expires_at":null\}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []Option
			if tc.adminMode {
				opts = append(opts, WithAdminMode())
			}
			w := newWorld(t, opts...)
			tok := w.adminTok
			if tc.scoped {
				tok = w.adminModeScopedTok
			}
			do(t, w.s, req{method: "POST", path: "/api/v4/user/runners", token: tok, json: instance}).expect(t, tc.status, tc.body)

			all := do(t, w.s, req{method: "GET", path: "/api/v4/runners/all", token: tok})
			settings := do(t, w.s, req{method: "GET", path: "/api/v4/application/settings", token: tok})
			wantAdmin := tc.status == http.StatusCreated
			if (all.status == http.StatusOK) != wantAdmin || (settings.status == http.StatusOK) != wantAdmin {
				t.Errorf("admin rights = %v: /runners/all %d, /application/settings %d", wantAdmin, all.status, settings.status)
			}
			if !wantAdmin {
				all.expect(t, 403, forbiddenBody)
			}
			user := do(t, w.s, req{method: "GET", path: "/api/v4/user", token: tok}).object(t)
			if got, present := user["is_admin"]; present != wantAdmin || (present && got != true) {
				t.Errorf("GET /user is_admin = %v (present %v), want present %v", got, present, wantAdmin)
			}
		})
	}
}
