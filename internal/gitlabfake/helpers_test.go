package gitlabfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// world is the seeded instance most tests use:
//
//	acme (group)            owner: Owner 50, maint: Maintainer 40, dev: Developer 30
//	acme/platform (group)   inherits acme's members
//	acme/platform/app       projMaint: Maintainer 40 (direct), projDev: Developer 30
//	other (group)           nobody
type world struct {
	s                                          *Server
	admin, owner, maint, dev, projMaint        *User
	projDev, outsider                          *User
	acme, platform, other                      *Group
	app, otherApp                              *Project
	adminTok, ownerTok, maintTok, devTok       string
	projMaintTok, projDevTok, outsiderTok      string
	readAPITok, createRunnerTok, manageRunTok  string
	expiredTok, revokedTok, adminModeScopedTok string
}

func newWorld(t *testing.T, opts ...Option) *world {
	t.Helper()
	s := New(opts...)
	t.Cleanup(s.Close)
	w := &world{s: s}
	w.admin = s.AddUser("root", true)
	w.owner = s.AddUser("olivia", false)
	w.maint = s.AddUser("mark", false)
	w.dev = s.AddUser("dora", false)
	w.projMaint = s.AddUser("pam", false)
	w.projDev = s.AddUser("pete", false)
	w.outsider = s.AddUser("oscar", false)

	w.acme = s.AddGroup("acme")
	w.platform = s.AddGroup("acme/platform")
	w.other = s.AddGroup("other")
	w.app = s.AddProject("acme/platform/app", w.platform)
	w.otherApp = s.AddProject("app", w.other)

	s.SetGroupAccess(w.owner, w.acme, 50)
	s.SetGroupAccess(w.maint, w.acme, 40)
	s.SetGroupAccess(w.dev, w.acme, 30)
	s.SetProjectAccess(w.projMaint, w.app, 40)
	s.SetProjectAccess(w.projDev, w.app, 30)

	w.adminTok = s.AddToken(w.admin, "api")
	w.adminModeScopedTok = s.AddToken(w.admin, "api", "admin_mode")
	w.ownerTok = s.AddToken(w.owner, "api")
	w.maintTok = s.AddToken(w.maint, "api")
	w.devTok = s.AddToken(w.dev, "api")
	w.projMaintTok = s.AddToken(w.projMaint, "api")
	w.projDevTok = s.AddToken(w.projDev, "api")
	w.outsiderTok = s.AddToken(w.outsider, "api")
	w.readAPITok = s.AddToken(w.owner, "read_api")
	w.createRunnerTok = s.AddToken(w.owner, "create_runner")
	w.manageRunTok = s.AddToken(w.owner, "manage_runner")
	w.expiredTok = s.AddExpiredToken(w.owner, "api")
	w.revokedTok = s.AddRevokedToken(w.owner, "api")
	return w
}

// req is one raw HTTP request against the fake.
type req struct {
	method, path string
	token        string // sent as PRIVATE-TOKEN
	bearer       string // sent as Authorization: Bearer
	json         string // JSON body
	form         url.Values
	header       map[string]string
}

type reply struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, s *Server, r req) reply {
	t.Helper()
	var body io.Reader
	if r.json != "" {
		body = strings.NewReader(r.json)
	} else if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	hr, err := http.NewRequest(r.method, s.URL()+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case r.json != "":
		hr.Header.Set("Content-Type", "application/json")
	case r.form != nil:
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.token != "" {
		hr.Header.Set("PRIVATE-TOKEN", r.token)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// expect checks status and exact body; a body starting with "~" is a regular expression
// that must match the whole body.
func (rp reply) expect(t *testing.T, status int, body string) {
	t.Helper()
	if rp.status != status {
		t.Errorf("status = %d, want %d (body %s)", rp.status, status, rp.body)
	}
	if pattern, ok := strings.CutPrefix(body, "~"); ok {
		if !regexp.MustCompile(`^(?:` + pattern + `)$`).MatchString(rp.body) {
			t.Errorf("body = %s\nwant match of %s", rp.body, pattern)
		}
	} else if rp.body != body {
		t.Errorf("body = %s\nwant %s", rp.body, body)
	}
	if strings.HasPrefix(rp.body, "{") || strings.HasPrefix(rp.body, "[") {
		if ct := rp.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", ct)
		}
	}
}

func (rp reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(rp.body), v); err != nil {
		t.Fatalf("decoding %s: %v", rp.body, err)
	}
}

// jsonObject decodes an object keeping numbers exact.
func (rp reply) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(rp.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decoding %s: %v", rp.body, err)
	}
	return m
}

// createRunner creates a runner through the API and returns its ID and token.
func createRunner(t *testing.T, s *Server, token, body string) (int64, string) {
	t.Helper()
	rp := do(t, s, req{method: "POST", path: "/api/v4/user/runners", token: token, json: body})
	if rp.status != http.StatusCreated {
		t.Fatalf("create runner %s: %d %s", body, rp.status, rp.body)
	}
	var out struct {
		ID    int64
		Token string
	}
	rp.decode(t, &out)
	return out.ID, out.Token
}

const (
	unauthorizedBody = `{"message":"401 Unauthorized"}`
	expiredBody      = `{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}`
	revokedBody      = `{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}`
	notFoundRoute    = `{"error":"404 Not Found"}`
	noAccessBody     = `{"message":"403 Forbidden - No access granted"}`
	forbiddenBody    = `{"message":"403 Forbidden"}`
	recordNotFoundB  = `{"message":"404 Not found"}`
)

func scopeBody(scope string) string {
	return `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"` + scope + `"}`
}

// fixedClock is a settable clock for WithClock.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
