package gitlab

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runner-migrate/runner-migrate/internal/gitlabfake"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// siteRequest renders a minimal 0.86-shaped runner release that registers with registration and
// returns the token request for its one runner spec.
func siteRequest(t *testing.T, url, registration, tags string) tokensource.Request {
	t.Helper()
	reg := base64.StdEncoding.EncodeToString([]byte(registration))
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: rel-gitlab-runner, namespace: ci, labels: {release: rel, chart: gitlab-runner-0.86.0}}
data: {runner-registration-token: %q, runner-token: ""}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: rel-gitlab-runner, namespace: ci, labels: {release: rel, chart: gitlab-runner-0.86.0}}
spec:
  template:
    spec:
      containers:
      - name: rel-gitlab-runner
        command: [/configmaps/entrypoint]
        env:
        - {name: CI_SERVER_URL, value: %q}
        - {name: RUNNER_TAG_LIST, value: %q}
      volumes:
      - name: projected-secrets
        projected: {sources: [{secret: {name: rel-gitlab-runner, items: [{key: runner-registration-token, path: runner-registration-token}, {key: runner-token, path: runner-token}]}}]}
`, reg, url, tags)
	s, err := rewrite.Read([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if err := (rewrite.Detect{}).Filter(s); err != nil || len(s.Sites) != 1 {
		t.Fatalf("detect: %v (%d sites)", err, len(s.Sites))
	}
	return tokensource.Request{Spec: s.Sites[0].Spec, Sites: s.Sites}
}

// memStore is a Store in memory, by fingerprint; with one record it serves it to every spec (one
// runner per test).
type memStore map[string]Record

func (m memStore) Name() string                                          { return "memory" }
func (m memStore) Place(context.Context) (string, error)                 { return "mem-test", nil }
func (m memStore) Lock(context.Context, Release, string) (func(), error) { return func() {}, nil }
func (m memStore) Lookup(_ context.Context, req tokensource.Request, _ Release) (Record, bool, error) {
	if r, ok := m[req.Fingerprint()]; ok {
		return r, true, nil
	}
	if len(m) == 1 {
		for _, r := range m {
			return r, true, nil
		}
	}
	return Record{}, false, nil
}
func (m memStore) Save(_ context.Context, _ tokensource.Request, _ Release, r Record) error {
	if r.Supersedes != "" {
		delete(m, r.Supersedes)
	}
	m[r.Fingerprint] = r
	return nil
}

type world struct {
	fake               *gitlabfake.Server
	owner, admin       *gitlabfake.User
	group, subgroup    *gitlabfake.Group
	project            *gitlabfake.Project
	ownerPAT, adminPAT string
}

func newWorld(t *testing.T, opts ...gitlabfake.Option) *world {
	t.Helper()
	f := gitlabfake.New(opts...)
	t.Cleanup(f.Close)
	w := &world{fake: f, owner: f.AddUser("owner", false), admin: f.AddUser("root", true)}
	w.group = f.AddGroup("platform")
	w.subgroup = f.AddGroup("platform/ci")
	w.project = f.AddProject("apps/web", f.AddGroup("apps"))
	f.SetGroupAccess(w.owner, w.group, 50)
	f.SetProjectAccess(w.owner, w.project, 40)
	w.ownerPAT = f.AddToken(w.owner, "create_runner", "manage_runner", "read_api")
	w.adminPAT = f.AddToken(w.admin, "api")
	return w
}

func (w *world) provisioner(t *testing.T, pat string, scope ScopeConfig, stores ...Store) *Provisioner {
	t.Helper()
	return w.provisionerWith(t, Config{Client: ClientConfig{Token: token.New(pat)}, Scope: scope, Stores: stores, MayReset: true})
}

// provisionerWith fills in the destination (the fake, over plain http) of a config.
func (w *world) provisionerWith(t *testing.T, cfg Config) *Provisioner {
	t.Helper()
	if cfg.Destination.URL == "" && !cfg.Destination.AllowHTTP && len(cfg.Destination.AllowedHosts) == 0 {
		cfg.Destination = Destination{URL: w.fake.URL(), AllowHTTP: true}
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScopeResolution(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name         string
		pat          func(*world) string
		registration func(*world) string
		scope        ScopeConfig
		want         string // runner type and where, or an error substring
		wantErr      bool
	}{
		{"group owner, group's token", func(w *world) string { return w.ownerPAT }, func(w *world) string { return w.group.RunnersToken }, ScopeConfig{}, "group_type platform", false},
		{"project maintainer, project's token", func(w *world) string { return w.ownerPAT }, func(w *world) string { return w.project.RunnersToken }, ScopeConfig{}, "project_type apps/web", false},
		{"admin, instance token", func(w *world) string { return w.adminPAT }, func(w *world) string { return w.fake.InstanceRegistrationToken() }, ScopeConfig{}, "instance_type", false},
		{"owner, token of a group not owned", func(w *world) string { return w.ownerPAT }, func(*world) string { return "GR1348941someoneElsesToken0" }, ScopeConfig{},
			"not the registration token of any of the 2 groups this access token owns, the 1 projects", true},
		// An administrator's token must not turn a group's runner into an instance runner.
		{"admin, a group's token", func(w *world) string { return w.adminPAT }, func(w *world) string { return w.group.RunnersToken }, ScopeConfig{},
			"--runner-type instance", true},
		{"admin, explicit instance", func(w *world) string { return w.adminPAT }, func(w *world) string { return w.group.RunnersToken }, ScopeConfig{RunnerType: "instance"},
			"instance_type", false},
		{"explicit group by path", func(w *world) string { return w.ownerPAT }, func(*world) string { return "GR1348941whatever" }, ScopeConfig{RunnerType: "group", Group: "platform"}, "group_type platform", false},
		{"explicit project by path", func(w *world) string { return w.ownerPAT }, func(*world) string { return "GR1348941whatever" }, ScopeConfig{RunnerType: "project", Project: "apps/web"}, "project_type apps/web", false},
		{"group without type", func(w *world) string { return w.ownerPAT }, func(*world) string { return "x" }, ScopeConfig{Group: "platform"}, "--group and --project need --runner-type", true},
		{"unknown type", func(w *world) string { return w.ownerPAT }, func(*world) string { return "x" }, ScopeConfig{RunnerType: "shared"}, "want instance, group or project", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(w.fake.Runners())
			p := w.provisioner(t, tt.pat(w), tt.scope, memStore{})
			cred, err := p.Credential(context.Background(), siteRequest(t, w.fake.URL(), tt.registration(w), "docker"))
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want it to say %q", err, tt.want)
				}
				if len(w.fake.Runners()) != before {
					t.Fatal("a failed resolution created a runner")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, _ := w.fake.Runner(cred.RunnerID)
			where := r.Type
			if r.GroupID != 0 {
				where += " platform"
			}
			if r.ProjectID != 0 {
				where += " apps/web"
			}
			if where != tt.want || r.Token != cred.Token.Reveal() {
				t.Fatalf("made a %s runner, want %s", where, tt.want)
			}
			if a := p.Actions(); len(a) != 1 || a[0].Verb != "create" || !strings.Contains(a[0].Detail, "because") {
				t.Fatalf("actions %v must say the scope and why", a)
			}
		})
	}
}

func TestReuseReconcileRecreate(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	store := memStore{}
	req := siteRequest(t, w.fake.URL(), w.group.RunnersToken, "docker")
	first, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store).Credential(ctx, req)
	if err != nil {
		t.Fatal(err)
	}

	w.fake.ResetCalls()
	again, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store).Credential(ctx, req)
	if err != nil || again.RunnerID != first.RunnerID || !again.Token.Equal(first.Token) {
		t.Fatalf("reuse gave runner %d (err %v), want %d with the same token", again.RunnerID, err, first.RunnerID)
	}
	if calls := w.fake.Calls(); len(calls) != 1 || calls[0].Method != "GET" {
		t.Fatalf("reuse must cost one read, made %v", calls)
	}

	w.fake.ResetCalls()
	retagged := siteRequest(t, w.fake.URL(), w.group.RunnersToken, "docker,gpu")
	if _, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store).Credential(ctx, retagged); err != nil {
		t.Fatal(err)
	}
	r, _ := w.fake.Runner(first.RunnerID)
	if w.fake.CountCalls("PUT", "/api/v4/runners/") != 1 || strings.Join(r.Tags, ",") != "docker,gpu" || len(w.fake.Runners()) != 1 {
		t.Fatalf("a tags change must update the runner in place: tags %v, %d runners", r.Tags, len(w.fake.Runners()))
	}

	// Someone deletes the runner in GitLab: the next run makes a new one.
	del, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("%s/api/v4/runners/%d", w.fake.URL(), first.RunnerID), nil)
	del.Header.Set("PRIVATE-TOKEN", w.ownerPAT)
	if resp, err := http.DefaultClient.Do(del); err != nil || resp.StatusCode != 204 {
		t.Fatalf("deleting the runner: %v", err)
	}
	p := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store)
	fresh, err := p.Credential(ctx, retagged)
	if err != nil || fresh.RunnerID == first.RunnerID || len(w.fake.Runners()) != 1 {
		t.Fatalf("after a delete: runner %d (err %v), %d runners", fresh.RunnerID, err, len(w.fake.Runners()))
	}
	if a := p.Actions(); len(a) != 2 || a[0].Verb != "lost" || a[1].Verb != "create" {
		t.Fatalf("actions %v, want lost then create", a)
	}
}

func TestRotatesExpiringToken(t *testing.T) {
	w := newWorld(t, gitlabfake.WithTokenExpiration(2*time.Hour))
	ctx := context.Background()
	store := memStore{}
	req := siteRequest(t, w.fake.URL(), w.group.RunnersToken, "docker")
	first, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store).Credential(ctx, req)
	if err != nil || first.ExpiresAt == nil {
		t.Fatalf("create: %v, expires %v", err, first.ExpiresAt)
	}
	p := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store) // rotates within 24 h of expiry by default
	second, err := p.Credential(ctx, req)
	if err != nil || second.Token.Equal(first.Token) || second.RunnerID != first.RunnerID {
		t.Fatalf("a token two hours from expiry must be rotated on the same runner (err %v)", err)
	}
	if r, _ := w.fake.Runner(first.RunnerID); r.Token != second.Token.Reveal() {
		t.Fatal("the rotated token is not the runner's")
	}
}

func TestErrorsSayWhatIsMissing(t *testing.T) {
	w := newWorld(t)
	maintainer := w.fake.AddUser("maintainer", false)
	w.fake.SetGroupAccess(maintainer, w.group, 40)
	tests := []struct {
		name  string
		pat   string
		scope ScopeConfig
		want  []string
	}{
		{"read-only token", w.fake.AddToken(w.owner, "read_api"), ScopeConfig{RunnerType: "group", Group: "platform"}, []string{"lacks the scope", "create_runner"}},
		{"maintainer creating a group runner", w.fake.AddToken(maintainer, "api"), ScopeConfig{RunnerType: "group", Group: "platform"}, []string{"403", "Owner role in platform"}},
		{"non-admin creating an instance runner", w.ownerPAT, ScopeConfig{RunnerType: "instance"}, []string{"needs an administrator's token", "owner is not an administrator"}},
		{"expired token", w.fake.AddExpiredToken(w.owner, "api"), ScopeConfig{RunnerType: "group", Group: "platform"}, []string{"Token is expired", "GITLAB_TOKEN"}},
		{"unknown token", "glpat-unknown000000000000", ScopeConfig{RunnerType: "group", Group: "platform"}, []string{"does not know the access token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.provisioner(t, tt.pat, tt.scope, memStore{}).Credential(context.Background(), siteRequest(t, w.fake.URL(), "GR1348941x", "a"))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
			if strings.Contains(err.Error(), tt.pat) {
				t.Errorf("the error quotes the access token: %v", err)
			}
		})
	}
}

func TestDryRunOnlyReads(t *testing.T) {
	w := newWorld(t)
	p := w.provisionerWith(t, Config{Client: ClientConfig{Token: token.New(w.ownerPAT)}, DryRun: true})
	cred, err := p.Credential(context.Background(), siteRequest(t, w.fake.URL(), w.group.RunnersToken, "docker"))
	if err != nil || !cred.Placeholder || !cred.Token.IsAuthentication() {
		t.Fatalf("dry run: %v, placeholder %v", err, cred.Placeholder)
	}
	for _, c := range w.fake.Calls() {
		if c.Method != "GET" {
			t.Errorf("a dry run called %s %s", c.Method, c.Path)
		}
	}
	if a := p.Actions(); len(a) != 1 || a[0].Verb != "create" || !strings.Contains(a[0].String(), "group runner in platform") {
		t.Fatalf("plan %v", a)
	}
}

func TestNowhereToKeepTokens(t *testing.T) {
	w := newWorld(t)
	_, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}).Credential(context.Background(), siteRequest(t, w.fake.URL(), w.group.RunnersToken, "a"))
	if err == nil || !strings.Contains(err.Error(), "--state-file") || len(w.fake.Runners()) != 0 {
		t.Fatalf("without a store runner-migrate must refuse before creating anything: %v", err)
	}
}

// TestPrivateCA: GitLab behind a private CA is reached with --ca-file; without it, TLS verification
// refuses, unless the user turns it off.
func TestPrivateCA(t *testing.T) {
	fake := gitlabfake.NewTLS()
	t.Cleanup(fake.Close)
	owner := fake.AddUser("owner", false)
	g := fake.AddGroup("platform")
	fake.SetGroupAccess(owner, g, 50)
	pat := fake.AddToken(owner, "api")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, fake.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	try := func(cfg ClientConfig) error {
		cfg.Token = token.New(pat)
		p, err := New(Config{Client: cfg, Destination: Destination{URL: fake.URL()}, Scope: ScopeConfig{RunnerType: "group", Group: "platform"}, Stores: []Store{memStore{}}})
		if err != nil {
			return err
		}
		_, err = p.Credential(context.Background(), siteRequest(t, fake.URL(), "GR1348941x", "a"))
		return err
	}
	if err := try(ClientConfig{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("an unknown CA must be refused, got %v", err)
	}
	if err := try(ClientConfig{CAFile: ca}); err != nil {
		t.Fatalf("with --ca-file: %v", err)
	}
	if err := try(ClientConfig{Insecure: true}); err != nil {
		t.Fatalf("with --insecure-skip-tls-verify: %v", err)
	}
	if err := try(ClientConfig{CAFile: filepath.Join(t.TempDir(), "missing.pem")}); err == nil || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("a missing CA file must be named, got %v", err)
	}
}

// TestReuseLeavesGitLabOwnedSettings: a record marked as migrated (its settings now GitLab's) is
// reused without turning the runner's settings back to what the values say (the chart's defaults
// once migrate removed them); the marker is still checked, and the mark survives the save.
func TestReuseLeavesGitLabOwnedSettings(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	store := memStore{}
	tagged := siteRequest(t, w.fake.URL(), w.group.RunnersToken, "docker")
	first, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store).Credential(ctx, tagged)
	if err != nil {
		t.Fatal(err)
	}
	rec := store[tagged.Fingerprint()]
	rec.SettingsOwner = SettingsOwnedByGitLab
	store[tagged.Fingerprint()] = rec

	w.fake.ResetCalls()
	untagged := siteRequest(t, w.fake.URL(), w.group.RunnersToken, "")
	p := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store)
	got, err := p.Credential(ctx, untagged)
	if err != nil || got.RunnerID != first.RunnerID {
		t.Fatalf("reuse gave runner %d (err %v), want %d", got.RunnerID, err, first.RunnerID)
	}
	if n := w.fake.CountCalls("PUT", "/api/v4/runners/"); n != 0 {
		t.Errorf("the runner's settings were changed (%d PUTs) although GitLab owns them", n)
	}
	if r, _ := w.fake.Runner(first.RunnerID); strings.Join(r.Tags, ",") != "docker" {
		t.Errorf("tags %v, want docker", r.Tags)
	}
	if a := p.Actions(); len(a) != 1 || a[0].Verb != "reuse" || !strings.Contains(a[0].Detail, "GitLab's") {
		t.Errorf("actions %v, want one reuse that says the settings are GitLab's", a)
	}
	if saved := store[untagged.Fingerprint()]; saved.SettingsOwner != SettingsOwnedByGitLab {
		t.Errorf("the record saved for the new spec lost the mark: %+v", saved)
	}

	// Without the mark, the same reuse reconciles (the check above could fail).
	delete(store, untagged.Fingerprint())
	rec.SettingsOwner = ""
	store[tagged.Fingerprint()] = rec
	if _, err := w.provisioner(t, w.ownerPAT, ScopeConfig{}, store).Credential(ctx, untagged); err != nil {
		t.Fatal(err)
	}
	if n := w.fake.CountCalls("PUT", "/api/v4/runners/"); n != 1 {
		t.Errorf("an unmarked record must be reconciled: %d PUTs", n)
	}
}
