// Package gitlabfake is an in-process fake of the parts of the GitLab REST API (v4) that
// runner-migrate talks to: creating runners with runner authentication tokens (glrt-),
// reading, updating, listing, deleting and resetting them, the runner-token endpoints a
// gitlab-runner process uses, the user/group/project lookups a provisioner needs, and what a
// preflight reads: the instance's version and settings and the access token's own scopes and expiry.
//
// GitLab cannot run inside the test environment, so this server reproduces its contract
// (status codes, exact JSON bodies and key order, headers, pagination, scopes and the order
// in which GitLab evaluates auth, parameters, lookups, permissions and model validation)
// closely enough that gitlab.com/gitlab-org/api/client-go cannot tell it from the real thing.
// The contract is docs/gitlab-runner-api.md in the shared docs.
//
// Everything is kept in memory behind one mutex. Tests seed users, tokens, groups and
// projects with the Add* methods, drive the API over HTTP, inspect the resulting runners
// with Runners and the request log with Calls, and inject transport and server faults with
// Inject. Neither the request log nor any error the server produces contains a token.
package gitlabfake

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// apiPrefix is where GitLab mounts its REST API; client-go appends it to the base URL.
const apiPrefix = "/api/v4"

// Server is a fake GitLab instance. Create it with New or NewTLS (or use Handler with a
// listener of your own) and release it with Close.
type Server struct {
	mu sync.Mutex

	// Configuration, fixed after the options ran.
	clock                     func() time.Time
	adminMode                 bool
	registrationTokens        bool
	tokenExpiration           map[string]time.Duration // by runner type
	instanceRegistrationToken string

	// Seeded and API-created state.
	nextUserID, nextGroupID, nextProjectID, nextRunnerID, nextManagerID, nextTokenID int64
	users                                                                            map[int64]*user
	tokens                                                                           map[string]*accessToken // by the PAT's secret
	groups                                                                           map[int64]*group
	projects                                                                         map[int64]*project
	groupMembers                                                                     map[membershipKey]int
	projectMembers                                                                   map[membershipKey]int
	runners                                                                          map[int64]*runner
	settingsCreatedAt                                                                time.Time
	version                                                                          string

	calls  []*Call
	faults []*activeFault

	closing   chan struct{} // closed by Close so that hung requests let go
	closeOnce sync.Once

	ts      *httptest.Server
	handler http.Handler
}

// Option configures a Server before it starts serving.
type Option func(*Server)

// WithAdminMode turns on GitLab's Admin Mode: an administrator's token then acts with
// administrator rights (creating instance runners, /runners/all, /application/settings,
// reaching groups and projects they are not a member of) only when it also carries the
// admin_mode scope. Without it the administrator is treated like a regular user.
func WithAdminMode() Option { return func(s *Server) { s.adminMode = true } }

// WithRegistrationTokens allows the legacy registration workflow (POST /runners with a
// registration token). GitLab 17.0 and later disable it by default, and so does the fake:
// without this option every legacy registration gets 410 Gone.
func WithRegistrationTokens() Option { return func(s *Server) { s.registrationTokens = true } }

// WithTokenExpiration sets the runner token expiration interval for every runner type, the
// way GitLab's runner_token_expiration_interval, group_runner_token_expiration_interval
// and project_runner_token_expiration_interval settings do: a token created or reset at
// time t expires at t+d, and token_expires_at is reported instead of null.
func WithTokenExpiration(d time.Duration) Option {
	return func(s *Server) {
		for _, t := range runnerTypes {
			s.tokenExpiration[t] = d
		}
	}
}

// WithRunnerTypeTokenExpiration sets the token expiration interval for one runner type
// ("instance_type", "group_type" or "project_type") only, as GitLab's per-type
// application settings allow. It panics on an unknown runner type.
func WithRunnerTypeTokenExpiration(runnerType string, d time.Duration) Option {
	return func(s *Server) {
		if !isRunnerType(runnerType) {
			panic("gitlabfake: WithRunnerTypeTokenExpiration: unknown runner type " + runnerType)
		}
		s.tokenExpiration[runnerType] = d
	}
}

// DefaultVersion is the GitLab version the fake reports (GET /version, GET /metadata).
const DefaultVersion = "18.4.1-ee"

// WithVersion sets the version GET /version and GET /metadata report, e.g. "17.11.3-ee".
func WithVersion(v string) Option { return func(s *Server) { s.version = v } }

// WithClock replaces the server's notion of the current time. It drives token expiry,
// runner status (online, offline, stale) and timestamps. It is called with the server's
// mutex held, so it must not call back into the Server.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.clock = now } }

func newServer(opts []Option) *Server {
	s := &Server{
		clock:           time.Now,
		tokenExpiration: map[string]time.Duration{},
		nextUserID:      1,
		// Groups and projects are numbered from different bases so that a caller that mixes
		// up a group ID and a project ID hits "Missing/invalid" instead of another object.
		nextGroupID:    100,
		nextProjectID:  1000,
		nextRunnerID:   1,
		nextManagerID:  1,
		nextTokenID:    1,
		version:        DefaultVersion,
		users:          map[int64]*user{},
		tokens:         map[string]*accessToken{},
		groups:         map[int64]*group{},
		projects:       map[int64]*project{},
		groupMembers:   map[membershipKey]int{},
		projectMembers: map[membershipKey]int{},
		runners:        map[int64]*runner{},
		closing:        make(chan struct{}),
	}
	for _, opt := range opts {
		opt(s)
	}
	s.instanceRegistrationToken = registrationTokenPrefix + randomToken(20)
	s.settingsCreatedAt = s.now()
	s.handler = http.HandlerFunc(s.serveHTTP)
	return s
}

// New starts a fake GitLab over plain HTTP on 127.0.0.1.
func New(opts ...Option) *Server {
	s := newServer(opts)
	s.ts = httptest.NewServer(s.handler)
	return s
}

// NewTLS starts a fake GitLab over HTTPS on 127.0.0.1 with a self-signed certificate;
// CACertPEM returns the certificate a client must trust.
func NewTLS(opts ...Option) *Server {
	s := newServer(opts)
	s.ts = httptest.NewTLSServer(s.handler)
	return s
}

// URL is the base URL of the instance without /api/v4, e.g. "http://127.0.0.1:40123", as
// given to gitlab.WithBaseURL. It is empty for a Server that was not started by New/NewTLS.
func (s *Server) URL() string {
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// CACertPEM returns the PEM-encoded certificate of a NewTLS server (the certificate is its
// own CA), or nil for a plain HTTP server.
func (s *Server) CACertPEM() []byte {
	if s.ts == nil || s.ts.TLS == nil {
		return nil
	}
	cert := s.ts.Certificate()
	if cert == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// Handler returns the complete fake (fault injection and call recording included) for use
// with a listener of the caller's choosing.
func (s *Server) Handler() http.Handler { return s.handler }

// Close releases requests held by FaultHang and shuts the listener down. It waits for
// in-flight requests, which is why hung requests are released first.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	if s.ts != nil {
		s.ts.Close()
	}
}

// now is the server's current time in UTC (GitLab renders every timestamp in UTC).
func (s *Server) now() time.Time { return s.clock().UTC() }

// serveHTTP records the call, applies an injected fault if one matches, and otherwise
// answers from the API.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := s.recordCall(r)
	if f := s.takeFault(r); f != nil {
		s.serveFault(w, r, rec, f)
		return
	}
	resp := s.dispatch(r)
	s.setCallStatus(rec, resp.status)
	resp.writeTo(w)
}

// dispatch computes the API's answer under the server mutex. The response is buffered so
// that no network write ever happens while the mutex is held, and so that a fault can
// commit a request and then throw its answer away.
func (s *Server) dispatch(r *http.Request) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path != apiPrefix && !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
		// Outside the API GitLab's Rails app answers with an HTML page.
		return htmlPage(http.StatusNotFound)
	}
	return s.route(r)
}

// Call is one request as the server saw it. It deliberately carries neither headers nor
// bodies, so a test can scan the log for leaked secrets in URLs without the log itself
// holding the PATs and runner tokens that legitimately travel in headers and bodies.
type Call struct {
	Method string
	Path   string // as sent on the wire (escaped), e.g. /api/v4/groups/a%2Fb
	Query  string // raw query string
	Status int    // 0 for requests that were dropped, hung, or are still in flight
}

func (s *Server) recordCall(r *http.Request) *Call {
	c := &Call{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	return c
}

func (s *Server) setCallStatus(c *Call, status int) {
	s.mu.Lock()
	c.Status = status
	s.mu.Unlock()
}

// Calls returns the requests received so far, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = *c
	}
	return out
}

// ResetCalls forgets the recorded requests.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	s.calls = nil
	s.mu.Unlock()
}

// CountCalls counts recorded requests with the given method ("" for any) whose path starts
// with pathPrefix, compared both as sent (escaped) and decoded.
func (s *Server) CountCalls(method, pathPrefix string) int {
	n := 0
	for _, c := range s.Calls() {
		if method != "" && !strings.EqualFold(c.Method, method) {
			continue
		}
		if strings.HasPrefix(c.Path, pathPrefix) || strings.HasPrefix(unescapePath(c.Path), pathPrefix) {
			n++
		}
	}
	return n
}
