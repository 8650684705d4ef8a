package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/runner-migrate/runner-migrate/internal/gitlabfake"
	"github.com/runner-migrate/runner-migrate/internal/localcluster"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// fakeRails stands in for `gitlab-rails runner mint-runner.rb` in the toolbox: it keeps the contract
// of mint-runner.rb (the Secret on stdin and the RUNNER_MIGRATE_* env in; result lines on stdout; exit
// 75 while GitLab is not ready) over the fake GitLab's runners, which the API path uses too, so a test
// can switch between the two paths on one GitLab. The stand-in gitlab-rails (a shell script) posts its
// stdin and env here; fakeRails records what it was asked.
type fakeRails struct {
	gl  *gitlabfake.Server
	pat string // an administrator's access token, for the runner calls Rails makes in-process

	mu       sync.Mutex
	notReady int // answer "not ready" this many times first
	asked    []railsCall
}

type railsCall struct {
	env    map[string]string
	secret []byte // what the script passed on stdin
	state  string // what the call did: wait, kept, foreign, adopted, created
}

func (f *fakeRails) calls() []railsCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]railsCall(nil), f.asked...)
}

func (f *fakeRails) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secret, _ := io.ReadAll(r.Body)
	env := map[string]string{}
	lines, _ := base64.StdEncoding.DecodeString(r.Header.Get("X-Runner-Migrate-Env"))
	for _, l := range strings.Split(string(lines), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			env[k] = v
		}
	}
	code, stderr, stdout, state := f.answer(env, secret)
	f.mu.Lock()
	f.asked = append(f.asked, railsCall{env: env, secret: secret, state: state})
	f.mu.Unlock()
	fmt.Fprintf(w, "%d\x1e%s\x1e%s", code, stderr, stdout)
}

// answer decides as mint-runner.rb does.
func (f *fakeRails) answer(env map[string]string, secretJSON []byte) (code int, stderr, stdout, state string) {
	f.mu.Lock()
	wait := f.notReady > 0
	f.notReady--
	f.mu.Unlock()
	if wait {
		return 75, "runner-migrate: waiting: no active administrator yet (the database seed creates root)", "", "wait"
	}
	var secret corev1.Secret
	if err := json.Unmarshal(secretJSON, &secret); err != nil {
		return 1, "stand-in: the script did not pass the Secret: " + err.Error(), "", "error"
	}
	current := string(secret.Data[rewrite.KeyRunnerToken])
	marker := env["RUNNER_MIGRATE_MARKER"]
	digest := func(t string) string { return token.New(t).Digest("annotation") }

	var holder, marked *gitlabfake.Runner
	for _, r := range f.gl.Runners() {
		if strings.HasPrefix(current, "glrt-") && r.Token == current {
			holder = &r
		}
		if r.Type == "instance_type" && carriesMarker(r.Description, marker) && (marked == nil || r.ID < marked.ID) {
			marked = &r
		}
	}
	switch {
	case holder != nil && carriesMarker(holder.Description, marker):
		return 0, "", fmt.Sprintf("runner-migrate-result kept %d %s", holder.ID, digest(current)), "kept"
	case holder != nil && !strings.Contains(holder.Description, "[runner-migrate "):
		return 0, "", fmt.Sprintf("runner-migrate-result foreign %d %s", holder.ID, digest(current)), "foreign"
	}
	var id int64
	var tok string
	if marked != nil {
		state, id = "adopted", marked.ID
		var out struct{ Token string }
		if err := f.post(fmt.Sprintf("/api/v4/runners/%d/reset_authentication_token", id), nil, &out); err != nil {
			return 1, err.Error(), "", "error"
		}
		tok = out.Token
	} else {
		state = "created"
		params := map[string]any{}
		if err := json.Unmarshal([]byte(env["RUNNER_MIGRATE_RUNNER_SETTINGS"]), &params); err != nil {
			return 1, err.Error(), "", "error"
		}
		params["runner_type"], params["description"] = "instance_type", env["RUNNER_MIGRATE_DESCRIPTION"]
		var out struct {
			ID    int64
			Token string
		}
		if err := f.post("/api/v4/user/runners", params, &out); err != nil {
			return 1, err.Error(), "", "error"
		}
		id, tok = out.ID, out.Token
	}
	patch, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{rewrite.AnnotationRunnerID: fmt.Sprint(id),
			rewrite.AnnotationFingerprint: env["RUNNER_MIGRATE_FINGERPRINT"], rewrite.AnnotationTokenDigest: digest(tok)}},
		"data": map[string][]byte{rewrite.KeyRunnerToken: []byte(tok)},
	})
	return 0, "", fmt.Sprintf("runner-migrate-result %s %d %s\nrunner-migrate-secret-patch %s", state, id, digest(tok), patch), state
}

// carriesMarker matches as mint-runner.rb does: the Job's marker names no place, the API path's adds
// one before the closing bracket.
func carriesMarker(description, marker string) bool {
	if strings.HasSuffix(description, marker) {
		return true
	}
	prefix := strings.TrimSuffix(marker, "]") + " "
	i := strings.LastIndex(description, prefix)
	if i < 0 || !strings.HasSuffix(description, "]") {
		return false
	}
	place := strings.TrimSuffix(description[i+len(prefix):], "]")
	return place != "" && !strings.ContainsAny(place, " \t]")
}

func (f *fakeRails) post(path string, body, out any) error {
	var data []byte
	if body != nil {
		data, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(http.MethodPost, f.gl.URL()+path, bytes.NewReader(data))
	req.Header.Set("PRIVATE-TOKEN", f.pat)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("stand-in Rails: POST %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Stand-ins for the toolbox image's programs the Job's script calls.
const (
	standInRails = `#!/bin/bash
# Stand-in for gitlab-rails: "gitlab-rails runner FILE" hands stdin and the RUNNER_MIGRATE_* env to the
# test's fake Rails and answers as it says.
if [ "$1" != runner ] || [ ! -f "$2" ]; then echo "stand-in gitlab-rails: want: runner FILE" >&2; exit 64; fi
printf '%s\n' "$*" >>"$STAND_IN_LOG"
env=$(env | grep '^RUNNER_MIGRATE_' | base64 -w0)
resp=$(curl -sS --data-binary @- -H "X-Runner-Migrate-Env: $env" "$FAKE_RAILS_URL") || exit 70
code=${resp%%$'\x1e'*}
rest=${resp#*$'\x1e'}
err=${rest%%$'\x1e'*}
out=${rest#*$'\x1e'}
[ -n "$err" ] && printf '%s\n' "$err" >&2
[ -n "$out" ] && printf '%s\n' "$out"
exit "$code"
`
	// The database counts as migrated from the second check on.
	standInWaitForDeps = `#!/bin/sh
n=$(cat "$0.count" 2>/dev/null || echo 0)
echo $((n + 1)) >"$0.count"
echo "Checking database connection and schema version"
if [ "$n" -lt 1 ]; then echo "Database Schema - current: 0, codebase: 20260224120000"; exit 1; fi
echo "Database Schema - current: 20260224120000, codebase: 20260224120000"
`
)

// mintJob is the live minting Job of a release, run the way its pod would run it: its script and
// env from the cluster, the service account's real token, the real API server as
// KUBERNETES_SERVICE_HOST, and stand-ins for gitlab-rails and wait-for-deps.
type mintJob struct {
	name    string
	dir     string   // scripts, stand-ins, service account files
	env     []string // the Job container's RUNNER_MIGRATE_* env and where the pod keeps things
	secrets []string // tokens that must never show
}

func loadMintJob(t *testing.T, cluster *localcluster.Cluster, cs kubernetes.Interface, ns string, rails *httptest.Server) *mintJob {
	t.Helper()
	ctx := context.Background()
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=gl-gitlab-runner-mint"})
	if err != nil || len(jobs.Items) != 1 {
		t.Fatalf("want one minting Job in the release, have %d (%v)", len(jobs.Items), err)
	}
	job := jobs.Items[0]
	pod := job.Spec.Template.Spec
	if pod.ServiceAccountName != "gl-gitlab-runner-mint" || len(pod.Containers) != 1 {
		t.Fatalf("the Job runs as %q with %d containers", pod.ServiceAccountName, len(pod.Containers))
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, job.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Job's ConfigMap: %v", err)
	}
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range cm.Data {
		write(k, v, 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	os.MkdirAll(filepath.Join(dir, "serviceaccount"), 0o755)
	write("bin/gitlab-rails", standInRails, 0o755)
	write("bin/wait-for-deps", standInWaitForDeps, 0o755)

	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, pod.ServiceAccountName,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for the Job's service account: %v", err)
	}
	ca, err := os.ReadFile(filepath.Join(cluster.Dir, "certs", "apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	write("serviceaccount/token", tr.Status.Token, 0o600)
	write("serviceaccount/ca.crt", string(ca), 0o644)
	write("serviceaccount/namespace", ns, 0o644)

	host, port, _ := strings.Cut(strings.TrimPrefix(cluster.Host, "https://"), ":")
	m := &mintJob{name: job.Name, dir: dir, secrets: []string{tr.Status.Token, sharedRegistrationToken}, env: []string{
		"PATH=" + filepath.Join(dir, "bin") + ":" + os.Getenv("PATH"),
		"KUBERNETES_SERVICE_HOST=" + host, "KUBERNETES_SERVICE_PORT=" + port,
		"RUNNER_MIGRATE_SERVICEACCOUNT_DIR=" + filepath.Join(dir, "serviceaccount"),
		"RUNNER_MIGRATE_WAIT_FOR_DEPS=" + filepath.Join(dir, "bin", "wait-for-deps"),
		"RUNNER_MIGRATE_POLL_SECONDS=0.2",
		"FAKE_RAILS_URL=" + rails.URL, "STAND_IN_LOG=" + filepath.Join(dir, "gitlab-rails.log"),
	}}
	for _, e := range pod.Containers[0].Env {
		if strings.HasPrefix(e.Name, "RUNNER_MIGRATE_") {
			m.env = append(m.env, e.Name+"="+e.Value)
		}
	}
	return m
}

func (m *mintJob) envValue(name string) string {
	for _, kv := range m.env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// run runs the Job's script once, as its pod would.
func (m *mintJob) run(t *testing.T, gl *gitlabfake.Server) string {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(m.dir, "mint-runner.sh"))
	cmd.Env = m.env
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the Job's script did not finish:\n%s", out)
	}
	secrets := append([]string{}, m.secrets...)
	for _, r := range gl.Runners() {
		secrets = append(secrets, r.Token)
	}
	noLeaks(t, out, secrets...)
	if err != nil {
		t.Fatalf("the Job's script failed: %v\n%s", err, out)
	}
	return string(out)
}

// TestBundledMintJob installs the GitLab chart post-rendered with no token at all (the mint path) into
// a real API server, proves the Job's rights, runs the Job's script against the API server with its
// service account's real token, and switches between the mint and API paths on one GitLab: one runner
// throughout, its token in the runner's Secret, the runner restarted once per new token.
func TestBundledMintJob(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	cs, err := cluster.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	gl := gitlabfake.New()
	t.Cleanup(gl.Close)
	root := gl.AddUser("root", true)
	rails := &fakeRails{gl: gl, pat: gl.AddToken(root, "create_runner", "manage_runner", "read_api"), notReady: 1}
	railsServer := httptest.NewServer(rails)
	t.Cleanup(railsServer.Close)
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)

	// What the shared-secrets hook leaves: Helm runs no hook here (no controller would run the hook's Job).
	shared := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "gl-gitlab-runner-secret", Labels: map[string]string{"app": "shared-secrets"}},
		Data: map[string][]byte{rewrite.KeyRegistrationToken: []byte(gl.InstanceRegistrationToken()), rewrite.KeyRunnerToken: {}}}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, shared, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "gl-rails-secret"}, Data: map[string][]byte{"secrets.yml": []byte("x")}}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	upgrade := func(env ...string) {
		t.Helper()
		res := helm.Run(append([]string{"KUBECONFIG=" + cluster.Kubeconfig}, env...), "upgrade", "--install", "gl", chartPath("gitlab-9.9.1"),
			"-n", ns, "--no-hooks", "--post-renderer", bin)
		noLeaks(t, res.Stderr, sharedRegistrationToken, gl.InstanceRegistrationToken())
		if res.Err != nil {
			t.Fatalf("helm upgrade --install: %v\n%s", res.Err, res.Stderr)
		}
	}
	liveSecret := func() *corev1.Secret {
		t.Helper()
		s, err := cs.CoreV1().Secrets(ns).Get(ctx, "gl-gitlab-runner-secret", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	generation := func() int64 {
		t.Helper()
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "gl-gitlab-runner", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d.Generation
	}
	oneRunner := func(when string) gitlabfake.Runner {
		t.Helper()
		runners := gl.Runners()
		if len(runners) != 1 {
			t.Fatalf("%s: GitLab has %d runners, want 1", when, len(runners))
		}
		return runners[0]
	}

	upgrade()
	job := loadMintJob(t, cluster, cs, ns, railsServer)
	t.Run("rights", func(t *testing.T) { checkMintRights(t, cluster, cs, ns) })

	// First run: waits for the database and for Rails, creates the runner, writes its token, restarts.
	gen := generation()
	out := job.run(t, gl)
	t.Logf("the Job's log:\n%s", out)
	for _, want := range []string{"step 1/5", "waiting for the database and the migrations Job: Database Schema - current: 0",
		"waiting: no active administrator yet", "step 4/5: write the token of runner", "restarted deployments/gl-gitlab-runner"} {
		if !strings.Contains(out, want) {
			t.Errorf("the Job's log lacks %q:\n%s", want, out)
		}
	}
	r := oneRunner("after the first run")
	marker := job.envValue("RUNNER_MIGRATE_MARKER")
	if !regexp.MustCompile(`^\[runner-migrate ` + ns + `/gl rm-[0-9a-f]{12}\]$`).MatchString(marker) {
		t.Errorf("the Job names the runner by %q, not the API path's marker", marker)
	}
	if r.Type != "instance_type" || r.Description != "gl-gitlab-runner "+marker || !r.RunUntagged || r.Locked || len(r.Tags) != 0 {
		t.Errorf("the runner is %+v; want an untagged, unlocked instance runner described by the release's marker", r)
	}
	s := liveSecret()
	if string(s.Data[rewrite.KeyRunnerToken]) != r.Token || string(s.Data[rewrite.KeyRegistrationToken]) != gl.InstanceRegistrationToken() {
		t.Fatal("the Secret must hold the runner's token in runner-token and keep runner-registration-token")
	}
	if s.Annotations[rewrite.AnnotationRunnerID] != fmt.Sprint(r.ID) {
		t.Errorf("the Secret does not name runner %d: %v", r.ID, s.Annotations)
	}
	if g := generation(); g != gen+1 {
		t.Errorf("the runner Deployment went from generation %d to %d; want one restart", gen, g)
	}
	calls := rails.calls()
	var given corev1.Secret
	if len(calls) != 2 || calls[1].state != "created" || json.Unmarshal(calls[1].secret, &given) != nil || given.Name != "gl-gitlab-runner-secret" {
		t.Errorf("gitlab-rails was asked %d times; want a wait, then a create with the Secret on stdin", len(calls))
	}
	if args, _ := os.ReadFile(filepath.Join(job.dir, "gitlab-rails.log")); !strings.HasPrefix(string(args), "runner /") ||
		!strings.Contains(string(args), "mint-runner.rb") || bytes.Contains(args, []byte("glrt-")) {
		t.Errorf("gitlab-rails was called with %q; want `runner <path>/mint-runner.rb`", args)
	}

	// The pod's Secret now holds the token: the runner registers with it.
	pod := readRunnerPod(t, mustManifest(t, helm, cluster, ns))
	pod.secrets = map[string]string{"runner-registration-token": gl.InstanceRegistrationToken(), "runner-token": r.Token}
	if reg := pod.start(t); reg.exit != nil || reg.env["CI_SERVER_TOKEN"] != r.Token || len(reg.refused()) > 0 {
		t.Errorf("the runner would not register with the minted token (exit %v, refused %v)", reg.exit, reg.refused())
	}

	// A later upgrade and a second run change nothing.
	upgrade()
	if again := loadMintJob(t, cluster, cs, ns, railsServer); again.name != job.name {
		t.Errorf("a later upgrade made a new Job %s (was %s)", again.name, job.name)
	}
	gen = generation()
	out = job.run(t, gl)
	if !strings.Contains(out, "already holds the token") || !strings.Contains(out, "not restarted") {
		t.Errorf("a second run must keep the token and not restart:\n%s", out)
	}
	if oneRunner("after the second run").Token != r.Token || generation() != gen {
		t.Error("a second run changed the token or restarted the runner")
	}

	// Switch to the API path: it finds the runner the Job made by its marker.
	api := []string{"GITLAB_TOKEN=" + rails.pat, "RUNNER_MIGRATE_GITLAB_URL=" + gl.URL(), "RUNNER_MIGRATE_ALLOW_HTTP=true",
		"RUNNER_MIGRATE_ALLOWED_HOST=gitlab.example.com", "RUNNER_MIGRATE_BUNDLED_RUNNER=api"}
	upgrade(api...)
	viaAPI := oneRunner("after switching to the API path")
	if viaAPI.ID != r.ID {
		t.Errorf("the API path made runner %d instead of adopting runner %d", viaAPI.ID, r.ID)
	}
	if jobs, _ := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=gl-gitlab-runner-mint"}); len(jobs.Items) != 0 {
		t.Error("the API path's release still has the minting Job")
	}

	// And back to the mint path: the API path reused the Job's runner and token (it read them from the
	// shared Secret, no reset), so the Job finds its token still there and keeps it; it restarts the
	// runner once, since the pod template lost the API path's token digest.
	upgrade()
	job = loadMintJob(t, cluster, cs, ns, railsServer)
	gen = generation()
	out = job.run(t, gl)
	back := oneRunner("after switching back to the mint path")
	if back.ID != r.ID || string(liveSecret().Data[rewrite.KeyRunnerToken]) != back.Token {
		t.Errorf("switching back must keep runner %d with its token in the Secret", r.ID)
	}
	if calls := rails.calls(); calls[len(calls)-1].state != "kept" || back.Token != r.Token || generation() != gen+1 {
		t.Errorf("switching back: %s, generation %d -> %d; want the token kept and one restart\n%s", calls[len(calls)-1].state, gen, generation(), out)
	}
}

// TestBundledMintHelm4Install: Helm 4 installs the same mint path release (its post-renderer sees the
// hooks too, and passes them through).
func TestBundledMintHelm4Install(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	helm := testenv.NewHelm(t, 4)
	installPostRenderPlugin(t, helm)
	res := helm.Run([]string{"KUBECONFIG=" + cluster.Kubeconfig}, "upgrade", "--install", "gl", chartPath("gitlab-8.6.2"), "-n", ns,
		"--no-hooks", "--post-renderer", "runner-migrate-postrender")
	if res.Err != nil {
		t.Fatalf("helm upgrade --install: %v\n%s", res.Err, res.Stderr)
	}
	cs, err := cluster.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=gl-gitlab-runner-mint"})
	if err != nil || len(jobs.Items) != 1 || !mintJobName.MatchString(jobs.Items[0].Name) {
		t.Fatalf("want the minting Job in the release: %v", err)
	}
	role, err := cs.RbacV1().Roles(ns).Get(ctx, "gl-gitlab-runner-mint", metav1.GetOptions{})
	if err != nil || len(role.Rules) != 2 {
		t.Fatalf("the Job's Role: %v", err)
	}
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "gl-gitlab-runner", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "REGISTER_LOCKED" {
			t.Errorf("REGISTER_LOCKED=%q reached the 0.71 runner, which gitlab-runner refuses with an authentication token", e.Value)
		}
	}
}

// mustManifest reads the release's manifest back from Helm.
func mustManifest(t *testing.T, helm *testenv.Helm, cluster *localcluster.Cluster, ns string) []byte {
	t.Helper()
	res := helm.Run([]string{"KUBECONFIG=" + cluster.Kubeconfig}, "get", "manifest", "gl", "-n", ns)
	if res.Err != nil {
		t.Fatalf("helm get manifest: %v\n%s", res.Err, res.Stderr)
	}
	return res.Stdout
}

// checkMintRights asks the API server what the Job's service account may do, and tries it with the
// account's real token: get and patch of the runner's Secret and Deployment, nothing else.
func checkMintRights(t *testing.T, cluster *localcluster.Cluster, cs kubernetes.Interface, ns string) {
	ctx := context.Background()
	sa := "system:serviceaccount:" + ns + ":gl-gitlab-runner-mint"
	tests := []struct {
		verb, group, resource, sub, name string
		allowed                          bool
	}{
		{"get", "", "secrets", "", "gl-gitlab-runner-secret", true},
		{"patch", "", "secrets", "", "gl-gitlab-runner-secret", true},
		{"get", "apps", "deployments", "", "gl-gitlab-runner", true},
		{"patch", "apps", "deployments", "", "gl-gitlab-runner", true},
		{"get", "", "secrets", "", "gl-rails-secret", false},
		{"patch", "", "secrets", "", "gl-minio-secret", false},
		{"update", "", "secrets", "", "gl-gitlab-runner-secret", false},
		{"delete", "", "secrets", "", "gl-gitlab-runner-secret", false},
		{"list", "", "secrets", "", "", false},
		{"watch", "", "secrets", "", "", false},
		{"create", "", "secrets", "", "", false},
		{"patch", "apps", "deployments", "", "gl-toolbox", false},
		{"delete", "apps", "deployments", "", "gl-gitlab-runner", false},
		{"list", "apps", "deployments", "", "", false},
		{"create", "", "pods", "exec", "gl-toolbox-0", false},
		{"get", "", "pods", "", "", false},
		{"patch", "", "secrets", "", "gl-gitlab-runner-secret", false}, // in another namespace, below
	}
	for i, tc := range tests {
		namespace := ns
		if i == len(tests)-1 {
			namespace = "default"
		}
		review, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   sa,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: tc.verb, Group: tc.group,
				Resource: tc.resource, Subresource: tc.sub, Name: tc.name},
		}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if review.Status.Allowed != tc.allowed {
			t.Errorf("%s %s/%s %q in %s: allowed=%v, want %v", tc.verb, tc.resource, tc.sub, tc.name, namespace, review.Status.Allowed, tc.allowed)
		}
	}

	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "gl-gitlab-runner-mint", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &rest.Config{Host: cluster.Host, BearerToken: tr.Status.Token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	as, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.CoreV1().Secrets(ns).Get(ctx, "gl-gitlab-runner-secret", metav1.GetOptions{}); err != nil {
		t.Errorf("the Job's account cannot read the runner's Secret: %v", err)
	}
	forbidden := map[string]error{}
	_, forbidden["get another Secret"] = as.CoreV1().Secrets(ns).Get(ctx, "gl-rails-secret", metav1.GetOptions{})
	_, forbidden["list Secrets"] = as.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	forbidden["delete the runner's Secret"] = as.CoreV1().Secrets(ns).Delete(ctx, "gl-gitlab-runner-secret", metav1.DeleteOptions{})
	forbidden["delete the runner's Deployment"] = as.AppsV1().Deployments(ns).Delete(ctx, "gl-gitlab-runner", metav1.DeleteOptions{})
	for what, err := range forbidden {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s with the Job's token: %v, want Forbidden", what, err)
		}
	}
}
