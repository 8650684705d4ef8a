package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/runner-migrate/runner-migrate/internal/gitlabfake"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
)

// trap is a listener that must never be called: it records every request it gets.
type trap struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
}

func newTrap(t *testing.T) *trap {
	tr := &trap{}
	tr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		tr.requests = append(tr.requests, r.Method+" "+r.URL.Path+" token="+fmt.Sprint(r.Header.Get("Private-Token") != ""))
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(tr.Close)
	return tr
}

func (tr *trap) calls() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.requests...)
}

// TestAccessTokenGoesOnlyWhereNamed: the access token reaches only the GitLab the operator named. A
// values file that names another host, a GitLab that redirects elsewhere, and plain http all fail
// before the token leaves, and say why.
func TestAccessTokenGoesOnlyWhereNamed(t *testing.T) {
	w := newWorld(t)
	tr := newTrap(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, tr.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(redirector.Close)
	trapHost := strings.TrimPrefix(tr.URL, "http://")
	tests := []struct {
		name      string
		dest      Destination
		runnerURL string
		want      []string // in the error; none means success
	}{
		{"values name another host", Destination{URL: w.fake.URL(), AllowHTTP: true}, tr.URL, []string{trapHost, "--allowed-host", "never to one only the manifests name"}},
		{"no GitLab named", Destination{AllowHTTP: true}, tr.URL, []string{"set --gitlab-url"}},
		{"GitLab redirects to another host", Destination{URL: redirector.URL, AllowHTTP: true}, redirector.URL, []string{"redirect to " + tr.URL, "never follows a redirect"}},
		{"plain http not allowed", Destination{URL: w.fake.URL()}, w.fake.URL(), []string{"plain http", "--allow-http"}},
		{"another name of the same GitLab, allowed", Destination{URL: w.fake.URL(), AllowHTTP: true, AllowedHosts: []string{"gitlab.example.com"}}, "https://gitlab.example.com/", nil},
		{"the runner's own URL, allowed by host", Destination{AllowedHosts: []string{strings.TrimPrefix(w.fake.URL(), "http://")}, AllowHTTP: true}, w.fake.URL(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := w.provisionerWith(t, Config{Client: ClientConfig{Token: token.New(w.ownerPAT)}, Destination: tt.dest, Stores: []Store{memStore{}}, MayReset: true})
			_, err := p.Credential(context.Background(), siteRequest(t, tt.runnerURL, w.group.RunnersToken, "a"))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				if err == nil {
					t.Fatal("want an error")
				}
				for _, s := range tt.want {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error lacks %q: %v", s, err)
					}
				}
				if strings.Contains(err.Error(), w.ownerPAT) {
					t.Error("the error quotes the access token")
				}
			}
			if c := tr.calls(); len(c) > 0 {
				t.Fatalf("the trap was called: %v", c)
			}
		})
	}
}

// TestDryRunHoldsOnlyPlaceholders: whatever a dry run does (create, reuse, update, rotate, adopt),
// the credential is a placeholder without a runner id, and nothing is written.
func TestDryRunHoldsOnlyPlaceholders(t *testing.T) {
	w := newWorld(t, gitlabfake.WithTokenExpiration(2*time.Hour))
	ctx := context.Background()
	req := siteRequest(t, w.fake.URL(), w.group.RunnersToken, "docker")
	store := memStore{}
	real, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store).Credential(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	orphanRelease := siteRequest(t, w.fake.URL(), w.group.RunnersToken, "orphan")
	orphan := w.fake.AddRunner(gitlabfake.Runner{Type: "group_type", GroupID: w.group.ID, Tags: []string{"orphan"},
		Description: Describe("x", Marker(Release{"ci", "rel"}, orphanRelease.Fingerprint(), "mem-test"))})
	tests := []struct {
		name  string
		req   tokensource.Request
		store memStore
		verb  string
	}{
		{"create", siteRequest(t, w.fake.URL(), w.group.RunnersToken, "fresh"), memStore{}, "create"},
		{"rotate (reuse of an expiring token)", req, store, "rotate"},
		{"update", siteRequest(t, w.fake.URL(), w.group.RunnersToken, "docker,gpu"), store, "update"},
		{"adopt", orphanRelease, memStore{}, "adopt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.fake.ResetCalls()
			p := w.provisionerWith(t, Config{Client: ClientConfig{Token: token.New(w.ownerPAT)}, Stores: []Store{tt.store}, DryRun: true})
			cred, err := p.Credential(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if !cred.Placeholder || !cred.Token.IsPlaceholder() || cred.RunnerID != 0 {
				t.Fatalf("a dry run's credential must be a placeholder without a runner id: placeholder %v, id %d", cred.Placeholder, cred.RunnerID)
			}
			for _, r := range w.fake.Runners() {
				if cred.Token.Reveal() == r.Token {
					t.Fatal("the dry run handed out a real token")
				}
			}
			if cred.Token.Equal(real.Token) {
				t.Fatal("the dry run handed out the stored token")
			}
			for _, c := range w.fake.Calls() {
				if c.Method != "GET" {
					t.Errorf("a dry run called %s %s", c.Method, c.Path)
				}
			}
			if !hasVerb(p.Actions(), tt.verb) {
				t.Errorf("the plan %v lacks %s", p.Actions(), tt.verb)
			}
		})
	}
	if r, _ := w.fake.Runner(orphan.ID); r.Token != orphan.Token {
		t.Fatal("a dry run reset a token")
	}
}

func hasVerb(actions []Action, verb string) bool {
	for _, a := range actions {
		if a.Verb == verb {
			return true
		}
	}
	return false
}

// TestStoredRunnerIdIsNotTrustedElsewhere: a record that names a runner on another GitLab is not
// reused, and a runner without this release's marker is never changed: the run creates its own.
func TestStoredRunnerIdIsNotTrustedElsewhere(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	someoneElses := w.fake.AddRunner(gitlabfake.Runner{Type: "group_type", GroupID: w.group.ID, Description: "the platform team's runner", Tags: []string{"prod"}})
	tests := []struct {
		name string
		rec  Record
	}{
		{"record from another GitLab", Record{RunnerID: someoneElses.ID, Token: token.New("glrt-t2_fromanotherinstance000000"), GitLabURL: "https://old-gitlab.example.com", Where: "test"}},
		{"runner without the release's marker", Record{RunnerID: someoneElses.ID, Token: token.New("glrt-t2_fromanotherinstance000000"), Where: "test"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := siteRequest(t, w.fake.URL(), w.group.RunnersToken, fmt.Sprintf("case-%d", i))
			w.fake.ResetCalls()
			before := len(w.fake.Runners())
			p := w.provisioner(t, w.ownerPAT, ScopeConfig{}, memStore{req.Fingerprint(): tt.rec})
			cred, err := p.Credential(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if cred.RunnerID == someoneElses.ID || cred.Token.Equal(tt.rec.Token) {
				t.Fatal("the stored runner was reused")
			}
			if n := w.fake.CountCalls("PUT", "/api/v4/runners/"); n != 0 {
				t.Fatalf("%d PUTs: a runner without the release's marker was changed", n)
			}
			if r, _ := w.fake.Runner(someoneElses.ID); r.Description != "the platform team's runner" || strings.Join(r.Tags, ",") != "prod" {
				t.Fatal("someone else's runner was changed")
			}
			if len(w.fake.Runners()) != before+1 || !hasVerb(p.Actions(), "skip") {
				t.Fatalf("want a new runner and a skip in the plan: %v", p.Actions())
			}
		})
	}
}

// TestResetsOnlyWhenDeployed: a run whose output is not deployed (helm template, diff, --dry-run of
// Helm) never resets a token: an expiring token is kept (rotation deferred) and an orphan is not
// adopted (the output holds a placeholder).
func TestResetsOnlyWhenDeployed(t *testing.T) {
	w := newWorld(t, gitlabfake.WithTokenExpiration(2*time.Hour))
	ctx := context.Background()
	req := siteRequest(t, w.fake.URL(), w.group.RunnersToken, "docker")
	store := memStore{}
	first, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store).Credential(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	notDeployed := Config{Client: ClientConfig{Token: token.New(w.ownerPAT)}, Stores: []Store{store}, ResetRefusal: "helm template does not deploy its output"}

	w.fake.ResetCalls()
	p := w.provisionerWith(t, notDeployed)
	again, err := p.Credential(ctx, req)
	if err != nil || !again.Token.Equal(first.Token) {
		t.Fatalf("an expiring token must be kept when the output is not deployed (err %v)", err)
	}
	if n := w.fake.CountCalls("POST", "/api/v4/runners/"); n != 0 || !hasVerb(p.Actions(), "defer") {
		t.Fatalf("%d resets; plan %v", n, p.Actions())
	}

	orphanReq := siteRequest(t, w.fake.URL(), w.group.RunnersToken, "orphan")
	orphan := w.fake.AddRunner(gitlabfake.Runner{Type: "group_type", GroupID: w.group.ID, Tags: []string{"orphan"},
		Description: Describe("x", Marker(Release{"ci", "rel"}, orphanReq.Fingerprint(), "mem-test"))})
	notDeployed.Stores = []Store{memStore{}}
	p = w.provisionerWith(t, notDeployed)
	cred, err := p.Credential(ctx, orphanReq)
	if err != nil || !cred.Placeholder || cred.RunnerID != 0 {
		t.Fatalf("adoption when not deployed: err %v, placeholder %v", err, cred.Placeholder)
	}
	if r, _ := w.fake.Runner(orphan.ID); r.Token != orphan.Token {
		t.Fatal("the orphan's token was reset although the output is not deployed")
	}
}

// TestSpecsDoNotShareARunner: two workloads shared a runner, then one got a new tag. The runner stays
// with the first spec; the second gets its own, and later runs change nothing (no flip-flop).
func TestSpecsDoNotShareARunner(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := siteRequest(t, w.fake.URL(), w.group.RunnersToken, "docker")
	b := siteRequest(t, w.fake.URL(), w.group.RunnersToken, "docker,gpu")
	shared, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, memStore{}).Credential(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{RunnerID: shared.RunnerID, Token: shared.Token, Fingerprint: a.Fingerprint(), Where: "live Secret"}
	// Both workloads' live Secrets name the shared runner.
	both := sharedStore{rec: rec}
	for run := 0; run < 3; run++ {
		w.fake.ResetCalls()
		p := w.provisioner(t, w.ownerPAT, ScopeConfig{}, &both)
		ca, err := p.Credential(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		cb, err := p.Credential(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if ca.RunnerID != shared.RunnerID || cb.RunnerID == shared.RunnerID {
			t.Fatalf("run %d: spec a has runner %d, spec b %d; want a to keep %d and b its own", run, ca.RunnerID, cb.RunnerID, shared.RunnerID)
		}
		if n := w.fake.CountCalls("PUT", "/api/v4/runners/"); n != 0 && run > 0 {
			t.Fatalf("run %d: %d PUTs (settings going back and forth)", run, n)
		}
	}
	if r, _ := w.fake.Runner(shared.RunnerID); strings.Join(r.Tags, ",") != "docker" {
		t.Fatalf("the shared runner's tags are %v", r.Tags)
	}
}

// sharedStore serves one record to every spec (both live Secrets name it) and keeps what is saved.
type sharedStore struct {
	rec   Record
	saved map[string]Record
}

func (s *sharedStore) Name() string                                          { return "shared" }
func (s *sharedStore) Place(context.Context) (string, error)                 { return "mem-test", nil }
func (s *sharedStore) Lock(context.Context, Release, string) (func(), error) { return func() {}, nil }
func (s *sharedStore) Lookup(_ context.Context, req tokensource.Request, _ Release) (Record, bool, error) {
	if r, ok := s.saved[req.Fingerprint()]; ok {
		return r, true, nil
	}
	return s.rec, true, nil
}
func (s *sharedStore) Save(_ context.Context, req tokensource.Request, _ Release, r Record) error {
	if s.saved == nil {
		s.saved = map[string]Record{}
	}
	s.saved[req.Fingerprint()] = r
	return nil
}

// TestAdoptionStaysInItsPlace: a runner carrying this release's marker is adopted only when it is an
// orphan of this place: same place, never contacted, created moments ago. Another cluster's runner,
// one in use, and an old one are left alone, and a new runner is made.
func TestAdoptionStaysInItsPlace(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	w := newWorld(t, gitlabfake.WithClock(func() time.Time { return clock() }))
	ctx := context.Background()
	contacted := now.Add(-time.Minute)
	tests := []struct {
		name      string
		place     string
		contacted *time.Time
		age       time.Duration
		adopt     bool
	}{
		{"orphan of this place", "mem-test", nil, time.Minute, true},
		{"another cluster's runner", "k8s-0123456789ab", nil, time.Minute, false},
		{"a runner in use", "mem-test", &contacted, time.Minute, false},
		{"an old runner", "mem-test", nil, 2 * time.Hour, false},
		{"a marker from before places", "", nil, time.Minute, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := siteRequest(t, w.fake.URL(), w.group.RunnersToken, fmt.Sprintf("case-%d", i))
			clock = func() time.Time { return now.Add(-tt.age) }
			marked := w.fake.AddRunner(gitlabfake.Runner{Type: "group_type", GroupID: w.group.ID, Tags: []string{fmt.Sprintf("case-%d", i)},
				ContactedAt: tt.contacted, Description: Describe("x", Marker(Release{"ci", "rel"}, req.Fingerprint(), tt.place))})
			clock = func() time.Time { return now }
			cred, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, memStore{}).Credential(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if adopted := cred.RunnerID == marked.ID; adopted != tt.adopt {
				t.Fatalf("adopted %v, want %v", adopted, tt.adopt)
			}
			if r, _ := w.fake.Runner(marked.ID); !tt.adopt && r.Token != marked.Token {
				t.Fatal("a runner that is not an orphan of this place had its token reset")
			}
		})
	}
}

// TestSettingsGitLabKeeps: a maximum timeout removed from the values is cleared in GitLab (a PUT with
// null), and the maintenance note is reconciled like the other settings.
func TestSettingsGitLabKeeps(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	req := siteRequest(t, w.fake.URL(), w.group.RunnersToken, "docker")
	store := memStore{}
	cred, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store).Credential(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/api/v4/runners/%d", w.fake.URL(), cred.RunnerID),
		strings.NewReader(`{"maximum_timeout": 3600, "maintenance_note": "set by hand"}`))
	set.Header.Set("PRIVATE-TOKEN", w.ownerPAT)
	set.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(set); err != nil || resp.StatusCode != 200 {
		t.Fatalf("setting the timeout: %v", err)
	}
	if _, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store).Credential(ctx, req); err != nil {
		t.Fatal(err)
	}
	if r, _ := w.fake.Runner(cred.RunnerID); r.MaximumTimeout != 0 || r.MaintenanceNote != "" {
		t.Fatalf("maximum timeout %d, note %q: both must follow the values (unset)", r.MaximumTimeout, r.MaintenanceNote)
	}
}

// TestScopeChangeReplacesRunner: the release now registers with another group's token. GitLab cannot
// move a runner, so a new one is created in the new group and the old one (this release's) retired.
func TestScopeChangeReplacesRunner(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	other := w.fake.AddGroup("other")
	w.fake.SetGroupAccess(w.owner, other, 50)
	store := memStore{}
	first, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store).Credential(ctx, siteRequest(t, w.fake.URL(), w.group.RunnersToken, "docker"))
	if err != nil {
		t.Fatal(err)
	}
	p := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store)
	moved, err := p.Credential(ctx, siteRequest(t, w.fake.URL(), other.RunnersToken, "docker"))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := w.fake.Runner(moved.RunnerID)
	if !ok || r.GroupID != other.ID || moved.RunnerID == first.RunnerID {
		t.Fatalf("the runner must be recreated in group other: %+v", r.ID)
	}
	if _, still := w.fake.Runner(first.RunnerID); still {
		t.Fatalf("the replaced runner was not retired: %v", p.Actions())
	}
}

func TestDescribeCutsAtCharacters(t *testing.T) {
	m := Marker(Release{"ci", "rel"}, "rm-0123456789ab", "k8s-0123456789ab")
	d := Describe(strings.Repeat("é", 2000), m)
	if !utf8.ValidString(d) || utf8.RuneCountInString(d) > maxDescription || !strings.HasSuffix(d, m) {
		t.Fatalf("description of %d characters, valid UTF-8 %v", utf8.RuneCountInString(d), utf8.ValidString(d))
	}
	if got, ok := parseMarker(d); !ok || got.place != "k8s-0123456789ab" || got.release != "ci/rel" {
		t.Fatalf("marker read back as %+v", got)
	}
}
