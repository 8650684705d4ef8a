package migrate

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	corev1 "k8s.io/api/core/v1"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/gitlabfake"
	"github.com/runner-migrate/runner-migrate/internal/golden"
	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fakeCluster keeps Secrets in memory.
type fakeCluster struct {
	secrets map[string]*corev1.Secret
	writes  int
}

func (c *fakeCluster) Secret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	if s, ok := c.secrets[ns+"/"+name]; ok {
		return s.DeepCopy(), nil
	}
	return nil, nil
}

func (c *fakeCluster) WriteSecret(_ context.Context, s *corev1.Secret, dryRun bool) (string, error) {
	verb := kube.Created
	if have, ok := c.secrets[s.Namespace+"/"+s.Name]; ok {
		verb = kube.Updated
		if string(have.Data[rewrite.KeyRunnerToken]) == string(s.Data[rewrite.KeyRunnerToken]) {
			return kube.Unchanged, nil
		}
	}
	if !dryRun {
		c.secrets[s.Namespace+"/"+s.Name] = s.DeepCopy()
		c.writes++
	}
	return verb, nil
}

// memStore is the provisioner's token store in memory.
type memStore map[string]gitlab.Record

func (m memStore) Name() string                          { return "memory" }
func (m memStore) Place(context.Context) (string, error) { return "mem-test", nil }
func (m memStore) Lock(context.Context, gitlab.Release, string) (func(), error) {
	return func() {}, nil
}
func (m memStore) Lookup(_ context.Context, req tokensource.Request, rel gitlab.Release) (gitlab.Record, bool, error) {
	r, ok := m[rel.String()+" "+req.Fingerprint()]
	return r, ok, nil
}
func (m memStore) Save(_ context.Context, req tokensource.Request, rel gitlab.Release, r gitlab.Record) error {
	m[rel.String()+" "+req.Fingerprint()] = r
	return nil
}

type world struct {
	fake    *gitlabfake.Server
	pat     string
	cluster *fakeCluster
	store   memStore
}

func newWorld(t *testing.T) *world {
	t.Helper()
	f := gitlabfake.New()
	t.Cleanup(f.Close)
	owner := f.AddUser("owner", false)
	f.SetGroupAccess(owner, f.AddGroup("platform"), 50)
	return &world{fake: f, pat: f.AddToken(owner, "create_runner", "manage_runner", "read_api"),
		cluster: &fakeCluster{secrets: map[string]*corev1.Secret{}}, store: memStore{}}
}

func (w *world) provisioner(t *testing.T, dryRun bool) *gitlab.Provisioner {
	t.Helper()
	p, err := gitlab.New(gitlab.Config{
		Destination: gitlab.Destination{URL: w.fake.URL(), AllowHTTP: true, AllowedHosts: []string{"gitlab.example.com"}},
		Client:      gitlab.ClientConfig{Token: token.New(w.pat)},
		Scope:       gitlab.ScopeConfig{RunnerType: "group", Group: "platform"},
		Stores:      []gitlab.Store{w.store}, DryRun: dryRun, MayReset: !dryRun,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// goldenCase is a golden migration: input files under testdata/<dir>, the options, and the lines
// the migration may change (trimmed), which the test holds the line diff to.
type goldenCase struct {
	dir     string
	files   []string
	opts    Options
	removed []string
	added   []string
	runners int
	setup   func(w *world)
	err     string // the run fails, saying this, and changes nothing
	helm    bool   // a chart is rendered without --chart
}

func registrationSecret(ns, name string) func(w *world) {
	return func(w *world) {
		w.cluster.secrets[ns+"/"+name] = &corev1.Secret{Data: map[string][]byte{
			rewrite.KeyRegistrationToken: []byte("GR1348941sharedSecretsRandomTok"), rewrite.KeyRunnerToken: {}}}
	}
}

var goldenCases = []goldenCase{
	{
		dir: "runner", files: []string{"values.yaml"}, opts: Options{Release: "ci", Namespace: "build"},
		removed: []string{`## The registration token from Admin > CI/CD > Runners.`, `runnerRegistrationToken: "[REDACTED]"   # rotate yearly`, ``,
			`## Tags this runner takes jobs for`, `## (a comma-separated list).`, `tags: 'docker, linux'`, `locked: false`, `runUntagged: true`, ``,
			`protected: true`, `maximumTimeout: 3600`, `- name: REGISTER_PAUSED`, `value: "false"`, `extraEnv:`, `RUNNER_TAG_LIST: docker,linux`},
		added:   []string{`secret: ci-gitlab-runner-auth-token`},
		runners: 1,
	},
	{
		// The GitLab chart's bundled runner reads the shared-secrets Secret; its locked: false (the
		// chart's default) becomes true, which gitlab-runner accepts with an authentication token.
		dir: "gitlab", files: []string{"values.yaml"}, opts: Options{Release: "gl", Namespace: "gitlab", Chart: "../../testdata/charts/gitlab-9.9.1"},
		setup:   registrationSecret("gitlab", "gl-gitlab-runner-secret"),
		removed: []string{`locked: false      # as the chart sets it`, `tags: "k8s,shared"`},
		added:   []string{`runner:`, `registrationToken:`, `secret: gl-gitlab-runner-auth-token`, `locked: true      # as the chart sets it`},
		runners: 1,
	},
	{
		// Two aliases of the runner chart in a platform chart, one of them in flow style.
		dir: "pools", files: []string{"values.yaml"}, opts: Options{Release: "pools", Namespace: "ci", Chart: "../../testdata/charts/runner-pools"},
		removed: []string{`runnerRegistrationToken: "[REDACTED]"`, `tags: "linux,amd64"`, `runnerRegistrationToken: "[REDACTED]"`,
			`runners: {tags: "linux,arm64", maximumTimeout: 7200}`},
		added:   []string{`secret: pools-linux-auth-token`, `runners: {secret: pools-arm-auth-token}`},
		runners: 2,
	},
	{
		// Argo CD: values in a block string, and valuesObject with parameters.
		dir: "argocd", files: []string{"applications.yaml"}, opts: Options{Namespace: "default"},
		removed: []string{`# registration (legacy)`, `runnerRegistrationToken: "[REDACTED]"`, `tags: docker`,
			`runnerRegistrationToken: [REDACTED]`, `locked: false`, `- name: runners.tags`, `value: gpu`},
		added:   []string{`secret: ci-gitlab-runner-auth-token`, `secret: gpu-runner-gitlab-runner-auth-token`},
		runners: 2,
	},
	{
		// An Application whose chart is a directory of this checkout: rendered, and the migrated
		// values rendered again to check them.
		dir: "argocd-local", files: []string{"application.yaml"}, opts: Options{Namespace: "default"}, helm: true,
		removed: []string{`runnerRegistrationToken: "[REDACTED]"`, `locked: false`, `runUntagged: true`},
		added:   []string{`secret: build-runner-gitlab-runner-auth-token`},
		runners: 1,
	},
	{
		dir: "flux", files: []string{"helmrelease.yaml"}, opts: Options{Namespace: "default"},
		removed: []string{`runnerRegistrationToken: "[REDACTED]"`, `protected: true`, `secret: ignored-while-a-token-is-set`},
		added:   []string{`secret: ci-runner-gitlab-runner-auth-token`},
		runners: 1,
	},
	{
		dir: "inline", files: []string{"values.yaml"}, opts: Options{Release: "ci", Namespace: "ci", InlineToken: true},
		removed: []string{`runnerRegistrationToken: "[REDACTED]"`, `runners:`, `tags: docker`},
		added:   []string{`runnerToken: [REDACTED]`},
		runners: 1,
	},
	{
		// A token of its own (a pipeline's placeholder): no runner is created, the settings GitLab
		// refuses with an authentication token go.
		dir: "repair", files: []string{"values.yaml"}, opts: Options{Release: "ci", Namespace: "ci"},
		removed: []string{`runners:`, `tags: docker,linux`, `maximumTimeout: 3600`},
	},
	{dir: "anchor", files: []string{"values.yaml"}, opts: Options{Release: "ci", Namespace: "ci"}, err: "inside YAML anchor &defaults"},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.dir, func(t *testing.T) {
			w := newWorld(t)
			dir := filepath.Join("testdata", tc.dir)
			opts := tc.opts
			for _, f := range tc.files {
				opts.Files = append(opts.Files, filepath.Join(dir, f))
			}
			opts.Provisioner, opts.Cluster = w.provisioner(t, false), w.cluster
			if opts.Chart != "" || tc.helm {
				opts.Helm = testenv.Tool(t, "HELM3")
			}
			if tc.setup != nil {
				tc.setup(w)
			}
			res, err := Run(context.Background(), opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one saying %q", err, tc.err)
				}
				if len(w.fake.Runners()) != 0 || w.cluster.writes != 0 {
					t.Fatalf("a failed run created %d runners and wrote %d Secrets", len(w.fake.Runners()), w.cluster.writes)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var removed, added []string
			for _, f := range res.Files {
				compareGolden(t, filepath.Join(dir, filepath.Base(f.Path)+".migrated"), []byte(res.Redact(string(f.After))))
				r, a := changedLines(res.Redact(string(f.Before)), res.Redact(string(f.After)))
				removed, added = append(removed, r...), append(added, a...)
			}
			sameLines(t, "removed", removed, tc.removed)
			sameLines(t, "added", added, tc.added)
			if n := len(w.fake.Runners()); n != tc.runners {
				t.Errorf("%d runners in GitLab, want %d", n, tc.runners)
			}
			compareGolden(t, filepath.Join(dir, "report.txt"), []byte(strings.Join(res.Report, "\n")+"\n"))
			for _, s := range []string{strings.Join(res.Report, "\n")} {
				for _, r := range w.fake.Runners() {
					if strings.Contains(s, r.Token) {
						t.Errorf("the report shows a runner's token")
					}
				}
			}

			// A second run over the migrated files changes nothing and creates nothing.
			tmp := t.TempDir()
			again := opts
			again.Files = nil
			for _, f := range res.Files {
				p := filepath.Join(tmp, filepath.Base(f.Path))
				os.WriteFile(p, f.After, 0o600)
				again.Files = append(again.Files, p)
			}
			writes := w.cluster.writes
			w.fake.ResetCalls()
			res2, err := Run(context.Background(), again)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res2.Files {
				if f.Changed() {
					t.Errorf("a second run changed %s:\n%s", f.Path, f.After)
				}
			}
			if w.cluster.writes != writes || len(w.fake.Runners()) != tc.runners || w.fake.CountCalls("POST", "") > 0 {
				t.Errorf("a second run wrote %d Secrets and made %d POSTs", w.cluster.writes-writes, w.fake.CountCalls("POST", ""))
			}
		})
	}
}

// changedLines lists the lines a diff removes and adds, trimmed of blanks.
func changedLines(before, after string) (removed, added []string) {
	a, b := difflib.SplitLines(before), difflib.SplitLines(after)
	for _, op := range difflib.NewMatcher(a, b).GetOpCodes() {
		if op.Tag == 'e' {
			continue
		}
		for _, l := range a[op.I1:op.I2] {
			removed = append(removed, strings.TrimSpace(l))
		}
		for _, l := range b[op.J1:op.J2] {
			added = append(added, strings.TrimSpace(l))
		}
	}
	return removed, added
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	sort.Strings(g)
	sort.Strings(w)
	if !slices.Equal(g, w) {
		t.Errorf("lines %s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	golden.Compare(t, path, got, *update)
}

// TestDryRun: a dry run reads GitLab and the cluster and changes neither, but shows the diff.
func TestDryRun(t *testing.T) {
	w := newWorld(t)
	res, err := Run(context.Background(), Options{Files: []string{"testdata/runner/values.yaml"}, Release: "ci", Namespace: "build", DryRun: true,
		Provisioner: w.provisioner(t, true), Cluster: w.cluster})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range w.fake.Calls() {
		if c.Method != "GET" {
			t.Errorf("a dry run called %s %s", c.Method, c.Path)
		}
	}
	if len(w.fake.Runners()) != 0 || w.cluster.writes != 0 {
		t.Errorf("a dry run made %d runners and wrote %d Secrets", len(w.fake.Runners()), w.cluster.writes)
	}
	d, err := res.Diff()
	if err != nil || !strings.Contains(d, "+    secret: ci-gitlab-runner-auth-token") || strings.Contains(d, "GR1348941migrateRegistrationTok") {
		t.Errorf("diff (err %v):\n%s", err, d)
	}
	if !strings.Contains(strings.Join(res.Report, "\n"), "Secret build/ci-gitlab-runner-auth-token would be created") {
		t.Errorf("report:\n%s", strings.Join(res.Report, "\n"))
	}
}

// TestRefusals: what migrate cannot do stops it before anything is created, saying what to do.
func TestRefusals(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no access token", Options{Files: []string{"testdata/runner/values.yaml"}, Release: "ci", Namespace: "ci", Cluster: w.cluster}, "set GITLAB_TOKEN"},
		{"no cluster", Options{Files: []string{"testdata/runner/values.yaml"}, Release: "ci", Namespace: "ci", Provisioner: w.provisioner(t, false)}, "--inline-token"},
		{"no release", Options{Files: []string{"testdata/runner/values.yaml"}, Namespace: "ci"}, "--release is needed"},
		{"inline token for the GitLab chart", Options{Files: []string{"testdata/gitlab/values.yaml"}, Release: "gl", Namespace: "gitlab", InlineToken: true,
			Provisioner: w.provisioner(t, false), Cluster: w.cluster}, "--inline-token does not work for the GitLab chart's bundled runner"},
		{"rendered manifests", Options{Files: []string{"../../rewrite/testdata/kept-secret/in.yaml"}, Namespace: "ci"}, "no Argo CD Application or Flux HelmRelease"},
		{"not YAML", Options{Files: []string{"../e2e/testdata/broken.yaml"}, Release: "ci", Namespace: "ci"}, "broken.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one saying %q", err, tt.want)
			}
			if len(w.fake.Runners()) != 0 || w.cluster.writes != 0 {
				t.Fatal("a refused run created something")
			}
		})
	}
}

// TestSpecFromValuesMatchesRender: without a chart, the runner spec is read from the values as the
// chart reads them; it must be the spec the post-renderer derives from the chart's render (the same
// fingerprint, so both find the same runner), for every chart generation and the GitLab chart.
func TestSpecFromValuesMatchesRender(t *testing.T) {
	helm := testenv.Tool(t, "HELM3")
	charts := []string{"gitlab-runner-0.28.0", "gitlab-runner-0.55.0", "gitlab-runner-0.71.0", "gitlab-runner-0.86.0"}
	valueFiles := []string{"legacy", "legacy-minimal", "legacy-envvars", "external-secret"}
	spec := func(t *testing.T, path, chart, release string) (string, bool) {
		t.Helper()
		f, err := readFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := valuesRelease([]*file{f}, release, "ci", chart)
		if err != nil {
			t.Fatal(err)
		}
		var sites []*rewrite.Site
		if chart != "" {
			if sites, err = r.render(helm, false); err != nil {
				t.Fatal(err)
			}
		}
		m := &migration{opts: Options{Warn: func(s string) { t.Log(s) }, Note: func(string) {}, Cluster: &fakeCluster{secrets: map[string]*corev1.Secret{}}}, res: &Result{}}
		targets := r.targets()
		if len(targets) != 1 {
			t.Fatalf("%d runners in %s", len(targets), path)
		}
		tg := targets[0]
		if err := m.decide(context.Background(), tg, mergedValues(r)); err != nil || tg.act != actMigrate {
			t.Fatalf("decide: %v, %v", err, tg.act)
		}
		if err := m.spec(tg, mergedValues(r), sites, 1); err != nil {
			t.Fatal(err)
		}
		return tg.site.Spec.Fingerprint() + " " + tg.site.Spec.Summary() + " " + tg.site.Spec.Description, tg.rendered
	}
	for _, chart := range charts {
		for _, v := range valueFiles {
			t.Run(chart+"/"+v, func(t *testing.T) {
				file := filepath.Join("..", "..", "testdata", "values", v+".yaml")
				fromValues, _ := spec(t, file, "", "ci")
				fromRender, rendered := spec(t, file, filepath.Join("..", "..", "testdata", "charts", chart), "ci")
				if !rendered {
					t.Fatal("the render showed no runner to migrate")
				}
				if chart == "gitlab-runner-0.28.0" && v == "legacy" {
					// Charts before 0.40 have no runners.maximumTimeout: the values say more than the
					// chart passes on, which only a render (--chart) can tell.
					if !strings.Contains(fromValues, "maximum-timeout=3600s") || strings.Contains(fromRender, "maximum-timeout") {
						t.Errorf("from the values: %s\nfrom the render: %s", fromValues, fromRender)
					}
					return
				}
				if fromValues != fromRender {
					t.Errorf("from the values: %s\nfrom the render: %s", fromValues, fromRender)
				}
			})
		}
	}
	t.Run("gitlab chart", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "values.yaml")
		os.WriteFile(file, []byte("global:\n  hosts:\n    domain: example.org\ngitlab-runner:\n  runners:\n    tags: k8s\n"), 0o600)
		fromValues, _ := spec(t, file, "", "gl")
		fromRender, _ := spec(t, file, filepath.Join("..", "..", "testdata", "charts", "gitlab-9.9.1"), "gl")
		if fromValues != fromRender {
			t.Errorf("from the values: %s\nfrom the render: %s", fromValues, fromRender)
		}
	})
}
