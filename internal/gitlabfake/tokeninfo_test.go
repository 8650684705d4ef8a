package gitlabfake

import (
	"testing"
	"time"
)

// TestPersonalAccessTokenSelfContract pins GET /personal_access_tokens/self: any scope may inspect
// its own token, expires_at is a date, last_used_at and last_used_ips follow use, and expired or
// revoked tokens are refused by authentication before the endpoint answers.
func TestPersonalAccessTokenSelfContract(t *testing.T) {
	clock := &fixedClock{t: epoch}
	w := newWorld(t, WithClock(clock.now))
	s := w.s
	narrow := s.AddToken(w.owner, "create_runner", "manage_runner")
	repoOnly := s.AddToken(w.owner, "read_repository")
	expiring := s.AddTokenExpiringOn(w.owner, time.Date(2025, 3, 1, 15, 0, 0, 0, time.UTC), "api")
	self := func(tok string) reply {
		return do(t, s, req{method: "GET", path: "/api/v4/personal_access_tokens/self", token: tok})
	}
	ids := map[string]string{}
	for _, tok := range []string{narrow, repoOnly, expiring} {
		ids[tok] = self(tok).object(t)["id"].(interface{ String() string }).String()
	}
	body := func(tok, scopes, expires string) string {
		return `{"id":` + ids[tok] + `,"name":"token-` + ids[tok] + `","revoked":false,"created_at":"2025-01-02T03:04:05.678Z","description":null,` +
			`"scopes":` + scopes + `,"user_id":` + itoa(w.owner.ID) + `,"last_used_at":"2025-01-02T03:04:05.678Z","active":true,` +
			`"expires_at":` + expires + `,"last_used_ips":["127.0.0.1"]}`
	}
	tests := []struct {
		name, token string
		status      int
		body        string
	}{
		{"runner scopes only", narrow, 200, body(narrow, `["create_runner","manage_runner"]`, "null")},
		{"a scope unrelated to the API", repoOnly, 200, body(repoOnly, `["read_repository"]`, "null")},
		{"expiry is a date", expiring, 200, body(expiring, `["api"]`, `"2025-03-01"`)},
		{"expired", w.expiredTok, 401, expiredBody},
		{"revoked", w.revokedTok, 401, revokedBody},
		{"unknown", "glpat-unknown", 401, unauthorizedBody},
		{"anonymous", "", 401, unauthorizedBody},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { self(tc.token).expect(t, tc.status, tc.body) })
	}

	// The date passes: the token stops authenticating at the start of its expiry day.
	clock.advance(57 * 24 * time.Hour) // 2025-02-28
	self(expiring).expect(t, 200, `~\{.*"active":true,"expires_at":"2025-03-01",.*\}`)
	clock.advance(24 * time.Hour)
	self(expiring).expect(t, 401, expiredBody)
}

// TestVersionContract pins GET /version (a mirror of GET /metadata since GitLab 15.5): api,
// read_api and read_user may read it; runner scopes alone may not.
func TestVersionContract(t *testing.T) {
	w := newWorld(t, WithVersion("17.11.3-ee"))
	s := w.s
	readUser := s.AddToken(w.owner, "read_user")
	runnerOnly := s.AddToken(w.owner, "create_runner", "manage_runner")
	const metadata = `{"version":"17.11.3-ee","revision":"0123456789a","kas":{"enabled":false,"externalUrl":null,"externalK8sProxyUrl":null,"version":null},"enterprise":true}`
	tests := []struct {
		name, path, token string
		status            int
		body              string
	}{
		{"api", "/api/v4/version", w.ownerTok, 200, metadata},
		{"read_api", "/api/v4/version", w.readAPITok, 200, metadata},
		{"read_user", "/api/v4/version", readUser, 200, metadata},
		{"metadata", "/api/v4/metadata", readUser, 200, metadata},
		{"runner scopes only", "/api/v4/version", runnerOnly, 403, scopeBody("api read_api read_user")},
		{"anonymous", "/api/v4/version", "", 401, unauthorizedBody},
		{"expired", "/api/v4/version", w.expiredTok, 401, expiredBody},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			do(t, s, req{method: "GET", path: tc.path, token: tc.token}).expect(t, tc.status, tc.body)
		})
	}
	plain := newWorld(t)
	do(t, plain.s, req{method: "GET", path: "/api/v4/version", token: plain.ownerTok}).expect(t, 200, `~\{"version":"`+DefaultVersion+`",.*\}`)
}

// TestTokenInfoClientGo: client-go decodes the token's scopes and its date of expiry, and the version.
func TestTokenInfoClientGo(t *testing.T) {
	w := newWorld(t)
	tok := w.s.AddTokenExpiringOn(w.owner, time.Now().AddDate(0, 1, 0), "create_runner", "manage_runner", "read_api")
	c := newClient(t, w.s, tok)
	pat, _, err := c.PersonalAccessTokens.GetSinglePersonalAccessToken()
	if err != nil {
		t.Fatal(err)
	}
	want := time.Now().AddDate(0, 1, 0).UTC().Format("2006-01-02")
	if pat.ExpiresAt == nil || pat.ExpiresAt.String() != want || !pat.Active || pat.UserID != w.owner.ID || len(pat.Scopes) != 3 {
		t.Errorf("GetSinglePersonalAccessToken = %+v (expires %v, want %s)", pat, pat.ExpiresAt, want)
	}
	v, _, err := c.Version.GetVersion()
	if err != nil || v.Version != DefaultVersion {
		t.Errorf("GetVersion = %+v, %v", v, err)
	}
}
