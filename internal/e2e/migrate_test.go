package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/runner-migrate/runner-migrate/internal/localcluster"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// migrateEnv is what `runner-migrate migrate` needs to reach the cluster and the fake GitLab.
func migrateEnv(c *localcluster.Cluster, gl *gitlab, helm *testenv.Helm) []string {
	return []string{"KUBECONFIG=" + c.Kubeconfig, "GITLAB_TOKEN=" + gl.pat, "RUNNER_MIGRATE_GITLAB_URL=" + gl.URL(), "RUNNER_MIGRATE_ALLOW_HTTP=true",
		"RUNNER_MIGRATE_ALLOWED_HOST=gitlab.example.com", "HELM_BIN=" + helm.Bin}
}

// secrets lists the Secrets of a namespace by name.
func secrets(t *testing.T, c *localcluster.Cluster, ns string) map[string]corev1.Secret {
	t.Helper()
	cs, err := c.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	list, err := cs.CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]corev1.Secret{}
	for _, s := range list.Items {
		if s.Type != "helm.sh/release.v1" {
			out[s.Name] = s
		}
	}
	return out
}

// withSecret appends a Secret of the cluster to rendered manifests, as the pod would mount it.
func withSecret(manifests []byte, s corev1.Secret) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\ndata:\n", s.Name)
	for k, v := range s.Data {
		fmt.Fprintf(&b, "  %s: %q\n", k, base64.StdEncoding.EncodeToString(v))
	}
	return append(append([]byte{}, manifests...), b.String()...)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMigrate runs `runner-migrate migrate` against a real kube-apiserver and the fake GitLab, for
// runner charts of each generation and the GitLab chart's bundled runner: a dry run only reads; the
// run creates exactly one runner, in the group whose registration token the values held, and one
// Secret holding its token with both keys; the migrated values, rendered by the real Helm 3 CLI, give
// a pod that registers with that token and passes nothing GitLab refuses; a second run changes and
// creates nothing.
func TestMigrate(t *testing.T) {
	bin := testenv.Binary(t)
	helm := testenv.NewHelm(t, 3)
	tests := []struct {
		chart, release, deployment string
		values                     string // {{token}} is the group's registration token
		shared                     string // a Secret the GitLab chart's shared-secrets job would have made
	}{
		{chart: "gitlab-runner-0.55.0", release: "ci", deployment: "ci-gitlab-runner",
			values: "gitlabUrl: https://gitlab.example.com/\n# from the group's CI/CD settings\nrunnerRegistrationToken: \"{{token}}\"\nrunners:\n  tags: \"docker, linux\"\n  locked: false\n  runUntagged: true\n  maximumTimeout: 3600\n"},
		{chart: "gitlab-runner-0.71.0", release: "ci", deployment: "ci-gitlab-runner",
			values: "gitlabUrl: https://gitlab.example.com/\nrunnerRegistrationToken: '{{token}}'\nrunners:\n  protected: true\n  tags: docker\nenvVars:\n  - name: REGISTER_PAUSED\n    value: \"true\"\n"},
		{chart: "gitlab-runner-0.86.0", release: "ci", deployment: "ci-gitlab-runner",
			values: "gitlabUrl: https://gitlab.example.com/\nrunnerRegistrationToken: {{token}}\nrunners:\n    maximumTimeout: 600\n    name: ci\n"},
		{chart: "gitlab-9.9.1", release: "gl", deployment: "gl-gitlab-runner", shared: "gl-gitlab-runner-secret",
			values: "global:\n  hosts:\n    domain: example.com\ngitlab-runner:\n  runners:\n    locked: false\n"},
	}
	for _, tt := range tests {
		t.Run(tt.chart, func(t *testing.T) {
			cluster, ns := testenv.Cluster(t)
			gl := newGitLab(t)
			env := migrateEnv(cluster, gl, helm)
			if tt.shared != "" {
				createSecret(t, cluster, ns, tt.shared, map[string]string{"runner-registration-token": gl.group.RunnersToken, "runner-token": ""})
			}
			values := filepath.Join(t.TempDir(), "values.yaml")
			original := strings.ReplaceAll(tt.values, "{{token}}", gl.group.RunnersToken)
			os.WriteFile(values, []byte(original), 0o600)
			migrate := func(extra ...string) ([]byte, []byte, error) {
				args := append([]string{"migrate", "-f", values, "--release", tt.release, "-n", ns, "--chart", filepath.Join(testenv.Root(), chartPath(tt.chart))}, extra...)
				cmd := runCmd(bin, env, args...)
				stdout, stderr, err := cmd()
				noLeaks(t, append(stdout, stderr...), gl.secrets()...)
				return stdout, stderr, err
			}
			before := secrets(t, cluster, ns)

			// A dry run reads and shows the diff.
			stdout, stderr, err := migrate("--dry-run")
			if err != nil {
				t.Fatalf("dry run: %v\n%s", err, stderr)
			}
			for _, c := range gl.Calls() {
				if c.Method != "GET" {
					t.Errorf("the dry run called %s %s", c.Method, c.Path)
				}
			}
			if data, _ := os.ReadFile(values); string(data) != original || len(secrets(t, cluster, ns)) != len(before) || len(gl.Runners()) != 0 {
				t.Fatal("the dry run changed the values, the cluster or GitLab")
			}
			if !strings.Contains(string(stdout), "+++ b/"+values) || !strings.Contains(string(stdout), rewrite.AddedSecretName(tt.deployment)) {
				t.Errorf("the dry run's diff does not name the Secret:\n%s", stdout)
			}

			_, stderr, err = migrate()
			if err != nil {
				t.Fatalf("migrate: %v\n%s", err, stderr)
			}
			t.Logf("migrate said:\n%s", stderr)
			runners := gl.Runners()
			if len(runners) != 1 || runners[0].Type != "group_type" || runners[0].GroupID != gl.group.ID {
				t.Fatalf("GitLab holds %+v, want one runner of group %s", runners, gl.group.FullPath)
			}
			after := secrets(t, cluster, ns)
			live, ok := after[rewrite.AddedSecretName(tt.deployment)]
			if !ok {
				t.Fatalf("no Secret %s; Secrets: %v", rewrite.AddedSecretName(tt.deployment), secretNames(after))
			}
			if reg, ok := live.Data["runner-registration-token"]; !ok || len(reg) != 0 || string(live.Data["runner-token"]) != runners[0].Token {
				t.Fatalf("the Secret does not hold the runner's token and an empty registration token")
			}
			if live.Annotations[rewrite.AnnotationRunnerID] != fmt.Sprint(runners[0].ID) || live.Annotations["runner-migrate.io/settings-owner"] != "gitlab" {
				t.Errorf("annotations %v", live.Annotations)
			}
			if n := len(after) - len(before); n != 2 { // the live Secret, and the token Secret the provisioner keeps
				t.Errorf("migrate added %d Secrets, want the live one and the token Secret: %v", n, secretNames(after))
			}

			// The pod of the migrated release registers with the token.
			res := helm.Run(nil, "template", tt.release, chartPath(tt.chart), "-n", ns, "-f", values)
			if res.Err != nil {
				t.Fatalf("helm template: %v\n%s", res.Err, res.Stderr)
			}
			pod := readRunnerPod(t, withSecret(res.Stdout, live))
			reg := pod.start(t)
			if reg.env["CI_SERVER_TOKEN"] != runners[0].Token || reg.env["REGISTRATION_TOKEN"] != "" {
				t.Errorf("register ran with CI_SERVER_TOKEN %q and REGISTRATION_TOKEN %q", redact(reg.env["CI_SERVER_TOKEN"]), redact(reg.env["REGISTRATION_TOKEN"]))
			}
			if bad := reg.refused(); len(bad) > 0 {
				t.Errorf("register got settings GitLab refuses with an authentication token: %v", bad)
			}

			// Someone keeps the post-renderer: it leaves the migrated release as it is, creates
			// nothing and changes no runner (the GitLab chart's bundled runner is not minted again).
			gl.ResetCalls()
			out, postStderr, err := runBinary(bin, env, res.Stdout, "post-render")
			noLeaks(t, postStderr, gl.secrets()...)
			if err != nil || string(out) != string(res.Stdout) {
				t.Errorf("post-rendering the migrated release changed it (err %v):\n%s", err, postStderr)
			}
			for _, c := range gl.Calls() {
				if c.Method != "GET" {
					t.Errorf("post-rendering the migrated release called %s %s", c.Method, c.Path)
				}
			}

			// Again: nothing changes, nothing is created.
			migrated, _ := os.ReadFile(values)
			gl.ResetCalls()
			_, stderr, err = migrate()
			if err != nil {
				t.Fatalf("second run: %v\n%s", err, stderr)
			}
			if data, _ := os.ReadFile(values); string(data) != string(migrated) || !strings.Contains(string(stderr), "nothing to change") {
				t.Errorf("the second run changed the values:\n%s\nstderr:\n%s", data, stderr)
			}
			again := secrets(t, cluster, ns)
			if again[live.Name].ResourceVersion != live.ResourceVersion || len(again) != len(after) || len(gl.Runners()) != 1 || len(gl.Calls()) != 0 {
				t.Errorf("the second run wrote to the cluster or called GitLab (%d calls)", len(gl.Calls()))
			}

			// rotate takes migrate's Secret for the one the pod reads, and writes the new token there.
			stdout, stderr, err = runBinary(bin, env, nil, "rotate", "--release", tt.release, "-n", ns)
			noLeaks(t, append(stdout, stderr...), gl.secrets()...)
			rotated, _ := gl.Runner(runners[0].ID)
			if got := secrets(t, cluster, ns)[live.Name]; err != nil || rotated.Token == runners[0].Token || string(got.Data["runner-token"]) != rotated.Token {
				t.Errorf("rotate (err %v) did not write the new token into %s:\n%s%s", err, live.Name, stdout, stderr)
			}
		})
	}
}

func secretNames(m map[string]corev1.Secret) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// runCmd runs the binary with a clean environment plus env and returns a func giving stdout, stderr
// and the error.
func runCmd(bin string, env []string, args ...string) func() ([]byte, []byte, error) {
	return func() ([]byte, []byte, error) { return runBinary(bin, env, nil, args...) }
}

// TestMigrateAfterPostRender: a release deployed with the post-renderer (its runner's token in the
// <deployment>-auth-token Secret the post-renderer renders into the release) is migrated: migrate
// finds the post-renderer's runner instead of creating a second, and keeps that Secret past the next
// upgrade, which no longer renders it. A later post-render of the migrated values neither collides
// with the Secret nor turns the runner's settings back.
func TestMigrateAfterPostRender(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t)
	bin := testenv.Binary(t)
	helm := testenv.NewHelm(t, 3)
	env := migrateEnv(cluster, gl, helm)
	createSecret(t, cluster, ns, "legacy-runner-secret", map[string]string{"runner-registration-token": gl.group.RunnersToken, "runner-token": ""})
	values := filepath.Join(t.TempDir(), "values.yaml")
	os.WriteFile(values, []byte("gitlabUrl: https://gitlab.example.com/\nrunners:\n  secret: legacy-runner-secret\n  tags: docker\n"), 0o600)
	chart := filepath.Join(testenv.Root(), chartPath("gitlab-runner-0.71.0"))
	upgrade := func(extra ...string) {
		t.Helper()
		res := helm.Run(env, append([]string{"upgrade", "--install", "ci", chart, "-n", ns, "-f", values}, extra...)...)
		noLeaks(t, res.Stderr, gl.secrets()...)
		if res.Err != nil {
			t.Fatalf("helm upgrade %v: %v\n%s", extra, res.Err, res.Stderr)
		}
	}
	upgrade("--post-renderer", bin)
	if n := len(gl.Runners()); n != 1 {
		t.Fatalf("the post-renderer made %d runners", n)
	}
	first := gl.Runners()[0]

	stdout, stderr, err := runBinary(bin, env, nil, "migrate", "-f", values, "--release", "ci", "-n", ns, "--chart", chart)
	noLeaks(t, append(stdout, stderr...), gl.secrets()...)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr)
	}
	if runners := gl.Runners(); len(runners) != 1 || runners[0].ID != first.ID {
		t.Fatalf("migrate made another runner: %+v", runners)
	}
	if !strings.Contains(string(stderr), "helm.sh/resource-policy: keep") {
		t.Errorf("migrate did not say it keeps the release's Secret:\n%s", stderr)
	}

	upgrade() // the migrated values, no post-renderer
	live, ok := secrets(t, cluster, ns)["ci-gitlab-runner-auth-token"]
	if !ok || string(live.Data["runner-token"]) != first.Token {
		t.Fatal("the upgrade without the post-renderer removed the Secret the migrated values read")
	}

	gl.ResetCalls()
	upgrade("--post-renderer", bin) // someone keeps the post-renderer
	if n := gl.CountCalls("PUT", "/api/v4/runners/") + gl.CountCalls("POST", ""); n != 0 || len(gl.Runners()) != 1 {
		t.Errorf("post-rendering the migrated values changed GitLab (%d writes)", n)
	}
	if r, _ := gl.Runner(first.ID); strings.Join(r.Tags, ",") != "docker" {
		t.Errorf("the runner's tags became %v", r.Tags)
	}
	manifest := helm.Run(env, "get", "manifest", "ci", "-n", ns)
	nodes, err := kio.FromBytes(manifest.Stdout)
	if err != nil || len(nodes) == 0 {
		t.Fatalf("helm get manifest: %v %v", err, manifest.Err)
	}
	for _, n := range nodes {
		if n.GetKind() == "Secret" {
			t.Errorf("the post-render of the migrated values rendered Secret %s into the release", n.GetName())
		}
	}
}

// TestMigrateInlineToken: --inline-token writes the runner's token into the values (with a warning
// that names no token) instead of a Secret; the migrated values, rendered by the real Helm 3 CLI on
// a chart with template-time token detection (0.71), give a pod that registers with the token.
func TestMigrateInlineToken(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t)
	bin := testenv.Binary(t)
	helm := testenv.NewHelm(t, 3)
	chart := filepath.Join(testenv.Root(), chartPath("gitlab-runner-0.71.0"))
	values := filepath.Join(t.TempDir(), "values.yaml")
	os.WriteFile(values, []byte("gitlabUrl: https://gitlab.example.com/\nrunnerRegistrationToken: "+gl.group.RunnersToken+"\nrunners:\n  tags: docker\n  locked: false\n"), 0o600)
	before := secrets(t, cluster, ns)
	_, stderr, err := runBinary(bin, migrateEnv(cluster, gl, helm), nil, "migrate", values, "--release", "ci", "-n", ns, "--chart", chart, "--inline-token")
	noLeaks(t, stderr, gl.secrets()...)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr)
	}
	if !strings.Contains(string(stderr), "a secret in git") {
		t.Errorf("no warning that the token is now in the values:\n%s", stderr)
	}
	runners := gl.Runners()
	data, _ := os.ReadFile(values)
	if len(runners) != 1 || !strings.Contains(string(data), "runnerToken: "+runners[0].Token) || strings.Contains(string(data), gl.group.RunnersToken) {
		t.Fatalf("%d runners; values:\n%s", len(runners), redact(string(data)))
	}
	if _, ok := secrets(t, cluster, ns)["ci-gitlab-runner-auth-token"]; ok || len(secrets(t, cluster, ns)) != len(before)+1 {
		t.Errorf("with --inline-token migrate keeps only its token Secret: %v", secretNames(secrets(t, cluster, ns)))
	}
	res := helm.Run(nil, "template", "ci", chart, "-n", ns, "-f", values)
	if res.Err != nil {
		t.Fatalf("helm template: %v\n%s", res.Err, res.Stderr)
	}
	reg := readRunnerPod(t, res.Stdout).start(t)
	if reg.env["CI_SERVER_TOKEN"] != runners[0].Token || len(reg.refused()) > 0 {
		t.Errorf("register: token matches %t, refused %v", reg.env["CI_SERVER_TOKEN"] == runners[0].Token, reg.refused())
	}
}
