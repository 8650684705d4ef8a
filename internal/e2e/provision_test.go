package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/gitlabfake"
	"github.com/runner-migrate/runner-migrate/internal/localcluster"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// gitlab is a fake GitLab with a group whose owner's access token runner-migrate uses.
type gitlab struct {
	*gitlabfake.Server
	pat   string
	group *gitlabfake.Group
}

func newGitLab(t testing.TB, opts ...gitlabfake.Option) *gitlab {
	t.Helper()
	s := gitlabfake.New(opts...)
	t.Cleanup(s.Close)
	owner := s.AddUser("platform-owner", false)
	g := s.AddGroup("platform")
	s.SetGroupAccess(owner, g, 50)
	other := s.AddGroup("elsewhere") // a group the token owns whose registration token is not the release's
	s.SetGroupAccess(owner, other, 50)
	return &gitlab{Server: s, pat: s.AddToken(owner, "create_runner", "manage_runner", "read_api"), group: g}
}

// secrets are the tokens a test must never find in stderr or a URL.
func (g *gitlab) secrets() []string {
	out := []string{g.pat, g.group.RunnersToken}
	for _, r := range g.Runners() {
		out = append(out, r.Token)
	}
	return out
}

// checkURLs fails when a token appears in any URL the fake was called with.
func (g *gitlab) checkURLs(t testing.TB) {
	t.Helper()
	for _, c := range g.Calls() {
		for _, s := range g.secrets() {
			if s != "" && (strings.Contains(c.Path, s) || strings.Contains(c.Query, s)) {
				t.Errorf("a token appears in the URL of %s %s", c.Method, c.Path)
			}
		}
	}
}

// multiRunnerValues gives the five pools of the multi-runner chart the group's registration token.
func multiRunnerValues(t testing.TB, registration string, tags map[int]string) string {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= 5; i++ {
		tag := tags[i]
		if tag == "" {
			tag = fmt.Sprintf("pool-%d", i)
		}
		fmt.Fprintf(&b, "runner-%d: {gitlabUrl: \"https://gitlab.example.com/\", runnerRegistrationToken: %q, runners: {tags: %q}}\n", i, registration, tag)
	}
	path := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func registrationValues(t *testing.T, registration string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registration.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf("runnerRegistrationToken: %q\n", registration)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// liveToken reads the token Secret of a runner deployment from the cluster.
func liveToken(t *testing.T, c *localcluster.Cluster, ns, name string) (runnerToken, registration string, annotations map[string]string) {
	t.Helper()
	cs, err := c.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	s, err := cs.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("live Secret %s/%s: %v", ns, name, err)
	}
	return string(s.Data[rewrite.KeyRunnerToken]), string(s.Data[rewrite.KeyRegistrationToken]), s.Annotations
}

// TestProvisionUpgrades: helm upgrade --install with runner-migrate against a real API server and
// the fake GitLab. The first upgrade creates one runner per spec; ten more create none and keep the
// tokens; a tags change updates that runner in place.
func TestProvisionUpgrades(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t)
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)
	env := []string{"KUBECONFIG=" + cluster.Kubeconfig, "GITLAB_TOKEN=" + gl.pat, "RUNNER_MIGRATE_GITLAB_URL=" + gl.URL(), "RUNNER_MIGRATE_ALLOW_HTTP=true", "RUNNER_MIGRATE_ALLOWED_HOST=gitlab.example.com"}
	upgrade := func(values string) {
		t.Helper()
		res := helm.Run(env, "upgrade", "--install", "rel", chartPath("multi-runner"), "-f", values, "-n", ns, "--post-renderer", bin)
		noLeaks(t, res.Stderr, gl.secrets()...)
		if res.Err != nil {
			t.Fatalf("helm upgrade: %v\n%s", res.Err, res.Stderr)
		}
	}
	values := multiRunnerValues(t, gl.group.RunnersToken, nil)

	upgrade(values)
	runners := gl.Runners()
	if len(runners) != 5 {
		t.Fatalf("the first upgrade made %d runners, want 5 (one per spec)", len(runners))
	}
	byID := map[string]gitlabfake.Runner{}
	for _, r := range runners {
		if r.Type != "group_type" || r.GroupID != gl.group.ID {
			t.Errorf("runner %d is %s in group %d; the registration token is group %s's", r.ID, r.Type, r.GroupID, gl.group.FullPath)
		}
		if !strings.Contains(r.Description, "[runner-migrate "+ns+"/rel rm-") {
			t.Errorf("runner %d has no marker in its description %q", r.ID, r.Description)
		}
		byID[fmt.Sprint(r.ID)] = r
	}
	tokens := map[int]string{}
	for i := 1; i <= 5; i++ {
		tok, reg, ann := liveToken(t, cluster, ns, fmt.Sprintf("rel-runner-%d", i))
		r, ok := byID[ann[rewrite.AnnotationRunnerID]]
		if !ok || tok != r.Token || reg != "" {
			t.Fatalf("live Secret rel-runner-%d does not hold runner %s's token with an empty registration token", i, ann[rewrite.AnnotationRunnerID])
		}
		if want := []string{fmt.Sprintf("pool-%d", i)}; strings.Join(r.Tags, ",") != want[0] {
			t.Errorf("runner %d has tags %v, want %v", r.ID, r.Tags, want)
		}
		tokens[i] = tok
	}

	gl.ResetCalls()
	for i := 0; i < 10; i++ {
		upgrade(values)
	}
	if n := len(gl.Runners()); n != 5 {
		t.Fatalf("after ten more upgrades GitLab has %d runners, want 5", n)
	}
	if n := gl.CountCalls("POST", "/api/v4/user/runners"); n != 0 {
		t.Fatalf("ten more upgrades created %d runners", n)
	}
	if n := gl.CountCalls("GET", "/api/v4/"); n > 50 {
		t.Errorf("ten upgrades made %d reads, want at most 5 per upgrade", n)
	}
	if n := len(gl.Calls()) - gl.CountCalls("GET", "/api/v4/"); n != 0 {
		t.Errorf("ten unchanged upgrades wrote %d times to GitLab", n)
	}
	for i := 1; i <= 5; i++ {
		if tok, _, _ := liveToken(t, cluster, ns, fmt.Sprintf("rel-runner-%d", i)); tok != tokens[i] {
			t.Fatalf("the token of rel-runner-%d changed across upgrades", i)
		}
	}

	gl.ResetCalls()
	upgrade(multiRunnerValues(t, gl.group.RunnersToken, map[int]string{1: "pool-1,gpu"}))
	if n := gl.CountCalls("PUT", "/api/v4/runners/"); n != 1 {
		t.Fatalf("a tags change made %d PUTs, want 1", n)
	}
	if n := len(gl.Runners()); n != 5 || gl.CountCalls("POST", "/api/v4/user/runners") != 0 {
		t.Fatalf("a tags change must update the runner in place; GitLab has %d runners", n)
	}
	tok, _, ann := liveToken(t, cluster, ns, "rel-runner-1")
	r := byID[ann[rewrite.AnnotationRunnerID]]
	updated, _ := gl.Runner(r.ID)
	if tok != tokens[1] || strings.Join(updated.Tags, ",") != "gpu,pool-1" {
		t.Fatalf("runner %d: tags %v, token kept %v", r.ID, updated.Tags, tok == tokens[1])
	}
	gl.checkURLs(t)
}

// TestProvisionSurvivesKill: a post-renderer killed after GitLab created the runner and before it
// wrote any output leaves a runner whose token nobody kept. The next upgrade finds it by its marker
// and adopts it (resetting its token) instead of creating a second one.
func TestProvisionSurvivesKill(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t)
	helm := testenv.NewHelm(t, 3)
	// A copy of the binary at a path of its own, so the test can find and kill exactly that process.
	bin := filepath.Join(t.TempDir(), "runner-migrate-killme")
	data, err := os.ReadFile(testenv.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	// The killed run holds a Lease; a short one keeps the rerun from waiting long for it to expire.
	env := append(gl.apiEnv(), "KUBECONFIG="+cluster.Kubeconfig, "RUNNER_MIGRATE_LEASE_DURATION=2s")
	args := []string{"upgrade", "--install", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"),
		"-f", registrationValues(t, gl.group.RunnersToken), "-n", ns, "--post-renderer", bin}

	gl.Inject(gitlabfake.Fault{Method: "POST", Path: "/api/v4/user/runners", Kind: gitlabfake.FaultHangAfterCommit})
	cmd := exec.Command(helm.Bin, args...)
	cmd.Env, cmd.Dir = append(append([]string{}, helm.Env...), env...), helm.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(gl.Runners()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(gl.Runners()) != 1 {
		t.Fatal("GitLab never created the runner")
	}
	killed := killByExe(t, bin)
	if err := cmd.Wait(); err == nil {
		t.Fatal("helm upgrade succeeded although its post-renderer was killed")
	}
	noLeaks(t, stderr.Bytes(), gl.secrets()...)
	if killed == 0 {
		t.Fatal("no runner-migrate process to kill")
	}

	gl.ClearFaults()
	gl.ResetCalls()
	res := helm.Run(env, args...)
	noLeaks(t, res.Stderr, gl.secrets()...)
	if res.Err != nil {
		t.Fatalf("helm upgrade after the kill: %v\n%s", res.Err, res.Stderr)
	}
	runners := gl.Runners()
	if len(runners) != 1 {
		t.Fatalf("GitLab has %d runners after the rerun, want 1 (the orphan adopted)", len(runners))
	}
	if gl.CountCalls("POST", "/api/v4/user/runners") != 0 || gl.CountCalls("POST", "/api/v4/runners/") != 1 {
		t.Fatalf("the rerun must adopt by resetting the orphan's token, not create: %v", gl.Calls())
	}
	tok, reg, _ := liveToken(t, cluster, ns, "rel-gitlab-runner")
	if tok != runners[0].Token || reg != "" {
		t.Fatal("the live Secret does not hold the adopted runner's new token")
	}
	gl.checkURLs(t)
}

// killByExe SIGKILLs every process running the given executable and returns how many it found.
func killByExe(t *testing.T, exe string) int {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/exe")
	n := 0
	for _, p := range procs {
		if target, err := os.Readlink(p); err == nil && target == exe {
			var pid int
			fmt.Sscanf(p, "/proc/%d/exe", &pid)
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				n++
			}
		}
	}
	return n
}

// TestProvisionStateFile: with no cluster (helm template, GitOps) the tokens live in --state-file.
// Two renders give the same output and one runner; without a state file runner-migrate refuses.
func TestProvisionStateFile(t *testing.T) {
	gl := newGitLab(t)
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)
	state := filepath.Join(t.TempDir(), "state", "runners.yaml")
	env := []string{"KUBECONFIG=" + filepath.Join(t.TempDir(), "none"), "GITLAB_TOKEN=" + gl.pat, "RUNNER_MIGRATE_GITLAB_URL=" + gl.URL(), "RUNNER_MIGRATE_ALLOW_HTTP=true", "RUNNER_MIGRATE_ALLOWED_HOST=gitlab.example.com"}
	args := []string{"template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"),
		"-f", registrationValues(t, gl.group.RunnersToken), "-n", ns0, "--post-renderer", bin}

	refused := helm.Run(env, args...)
	noLeaks(t, refused.Stderr, gl.secrets()...)
	if refused.Err == nil || !bytes.Contains(refused.Stderr, []byte("--state-file")) {
		t.Fatalf("without a cluster or a state file runner-migrate must refuse and name --state-file: %v\n%s", refused.Err, refused.Stderr)
	}
	if len(gl.Runners()) != 0 {
		t.Fatal("a refused run created a runner")
	}

	withState := append(env, "RUNNER_MIGRATE_STATE_FILE="+state)
	first := helm.Run(withState, args...)
	second := helm.Run(withState, args...)
	for _, r := range []testenv.Result{first, second} {
		noLeaks(t, r.Stderr, gl.secrets()...)
		if r.Err != nil {
			t.Fatalf("%v\n%s", r.Err, r.Stderr)
		}
	}
	if !bytes.Equal(first.Stdout, second.Stdout) {
		t.Fatal("the second render differs from the first: the token was not kept")
	}
	if n := len(gl.Runners()); n != 1 {
		t.Fatalf("two renders made %d runners, want 1", n)
	}
	fi, err := os.Stat(state)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if pod := readRunnerPod(t, first.Stdout); pod.secrets["runner-token"] != gl.Runners()[0].Token {
		t.Fatal("the render does not carry the runner's token")
	}
}

// ns0 is the namespace for renders that never reach a cluster.
const ns0 = "ci"

// TestProvisionDryRun: --dry-run plans without writing anything to GitLab and renders a placeholder.
func TestProvisionDryRun(t *testing.T) {
	gl := newGitLab(t)
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)
	env := []string{"KUBECONFIG=" + filepath.Join(t.TempDir(), "none"), "GITLAB_TOKEN=" + gl.pat, "RUNNER_MIGRATE_GITLAB_URL=" + gl.URL(), "RUNNER_MIGRATE_ALLOW_HTTP=true", "RUNNER_MIGRATE_ALLOWED_HOST=gitlab.example.com"}
	res := helm.Run(env, "template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"),
		"-f", registrationValues(t, gl.group.RunnersToken), "-n", ns0, "--post-renderer", bin, "--post-renderer-args", "--dry-run")
	noLeaks(t, res.Stderr, gl.secrets()...)
	if res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Stderr)
	}
	for _, c := range gl.Calls() {
		if c.Method != "GET" {
			t.Errorf("a dry run called %s %s", c.Method, c.Path)
		}
	}
	if len(gl.Runners()) != 0 {
		t.Fatal("a dry run created a runner")
	}
	if !bytes.Contains(res.Stdout, []byte(rewrite.AnnotationPlaceholder)) {
		t.Fatal("the dry run's output does not say its token is a placeholder")
	}
	if pod := readRunnerPod(t, res.Stdout); !strings.HasPrefix(pod.secrets["runner-token"], "glrt-DRY-RUN-PLACEHOLDER-") {
		t.Fatal("the dry run's Secret does not hold the placeholder")
	}
}
