package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/runner-migrate/runner-migrate/internal/gitlabfake"
	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/localcluster"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// fleetRun runs a day-2 command of the binary and returns stdout, stderr and the exit status,
// failing when either output holds a token.
func fleetRun(t *testing.T, gl *gitlab, env []string, args ...string) (stdout, stderr []byte, code int) {
	t.Helper()
	stdout, stderr, err := runBinary(testenv.Binary(t), env, nil, args...)
	noLeaks(t, stdout, gl.secrets()...)
	noLeaks(t, stderr, gl.secrets()...)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return stdout, stderr, code
}

// statusJSON is the part of status --format json the tests read.
type statusJSON struct {
	Version int `json:"version"`
	Runners []struct {
		Release  string `json:"release"`
		RunnerID int64  `json:"runnerId"`
		GitLab   *struct {
			Status string `json:"status"`
		} `json:"gitlab"`
		Managers []struct {
			SystemID string `json:"systemId"`
		} `json:"managers"`
		Token struct {
			SecretsAgree *bool `json:"secretsAgree"`
			AsWritten    bool  `json:"asWritten"`
			PodsRolled   bool  `json:"podsRolled"`
		} `json:"token"`
		Problems []struct {
			Check string `json:"check"`
		} `json:"problems"`
	} `json:"runners"`
	Summary struct {
		Runners, Problems int
	} `json:"summary"`
}

func status(t *testing.T, gl *gitlab, env []string, ns string) (statusJSON, int) {
	t.Helper()
	out, stderr, code := fleetRun(t, gl, env, "status", "-n", ns, "--format", "json")
	var s statusJSON
	if err := json.Unmarshal(out, &s); err != nil || s.Version != 1 {
		t.Fatalf("status --format json: %v\n%s\n%s", err, out, stderr)
	}
	return s, code
}

// verifyAsPod does what a runner pod does when it starts: POST /runners/verify with its token, which
// heartbeats the runner (online) and registers a runner manager.
func verifyAsPod(t *testing.T, gl *gitlab, tok string) {
	t.Helper()
	resp, err := http.Post(gl.URL()+"/api/v4/runners/verify", "application/json", strings.NewReader(`{"token":"`+tok+`","system_id":"s_e2epod000001"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the pod's token was refused: %d", resp.StatusCode)
	}
}

func deploymentGeneration(t *testing.T, c *localcluster.Cluster, ns, name string) (int64, string) {
	t.Helper()
	cs, err := c.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d.Generation, d.Spec.Template.Annotations[rewrite.AnnotationTokenDigest]
}

// TestStatusAndRotate: after helm upgrade --install with runner-migrate, status shows the runner
// (never contacted, within the grace period), and online with its manager once its pod contacted
// GitLab. rotate changes the token in GitLab and in both Secrets in step and rolls the Deployment
// exactly once: the next helm upgrade renders the same token and annotation, so nothing rolls again.
func TestStatusAndRotate(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t)
	helm := testenv.NewHelm(t, 3)
	env := append(gl.apiEnv(), "KUBECONFIG="+cluster.Kubeconfig)
	upgrade := []string{"upgrade", "--install", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"),
		"-f", registrationValues(t, gl.group.RunnersToken), "-n", ns, "--post-renderer", testenv.Binary(t)}
	if res := helm.Run(env, upgrade...); res.Err != nil {
		t.Fatalf("helm upgrade: %v\n%s", res.Err, res.Stderr)
	}
	runners := gl.Runners()
	if len(runners) != 1 {
		t.Fatalf("%d runners after the install", len(runners))
	}

	s, code := status(t, gl, env, ns)
	if code != 0 || len(s.Runners) != 1 || s.Runners[0].RunnerID != runners[0].ID || s.Runners[0].Release != ns+"/rel" ||
		s.Runners[0].GitLab == nil || s.Runners[0].GitLab.Status != "never_contacted" {
		t.Fatalf("status of a fresh release (exit %d): %+v", code, s)
	}
	tok, _, _ := liveToken(t, cluster, ns, "rel-gitlab-runner")
	verifyAsPod(t, gl, tok)
	s, code = status(t, gl, env, ns)
	if r := s.Runners[0]; code != 0 || r.GitLab.Status != "online" || len(r.Managers) != 1 || r.Managers[0].SystemID != "s_e2epod000001" {
		t.Fatalf("status once the pod contacted GitLab (exit %d): %+v", code, r)
	}
	text, _, _ := fleetRun(t, gl, env, "status", "-n", ns)
	t.Logf("runner-migrate status:\n%s", text)
	if !bytes.Contains(text, []byte("GitLab: online")) || !bytes.Contains(text, []byte(fmt.Sprintf("runner %d", runners[0].ID))) {
		t.Fatalf("status text:\n%s", text)
	}

	generation, _ := deploymentGeneration(t, cluster, ns, "rel-gitlab-runner")
	dry, _, code := fleetRun(t, gl, env, "rotate", "-n", ns, "--dry-run")
	if r, _ := gl.Runner(runners[0].ID); code != 0 || r.Token != runners[0].Token || !bytes.Contains(dry, []byte("dry run")) {
		t.Fatalf("rotate --dry-run (exit %d) changed the token or said nothing:\n%s", code, dry)
	}
	gl.ResetCalls()
	out, stderr, code := fleetRun(t, gl, env, "rotate", "-n", ns, "--release", "rel")
	t.Logf("runner-migrate rotate:\n%s%s", out, stderr)
	if code != 0 || !bytes.Contains(out, []byte(fmt.Sprintf("rotate runner %d", runners[0].ID))) {
		t.Fatalf("rotate (exit %d):\n%s\n%s", code, out, stderr)
	}
	if n := gl.CountCalls("POST", fmt.Sprintf("/api/v4/runners/%d/reset_authentication_token", runners[0].ID)); n != 1 {
		t.Fatalf("%d token resets, want 1", n)
	}
	rotated, _ := gl.Runner(runners[0].ID)
	live, _, ann := liveToken(t, cluster, ns, "rel-gitlab-runner")
	kept, _, _ := liveToken(t, cluster, ns, kube.TokenSecretName("rel", ann[rewrite.AnnotationFingerprint]))
	if rotated.Token == runners[0].Token || live != rotated.Token || kept != rotated.Token {
		t.Fatal("GitLab, the live Secret and the token Secret do not hold the same new token")
	}
	rolled, digest := deploymentGeneration(t, cluster, ns, "rel-gitlab-runner")
	if rolled != generation+1 || digest != ann[rewrite.AnnotationTokenDigest] {
		t.Fatalf("the Deployment rolled %d times (generation %d -> %d)", rolled-generation, generation, rolled)
	}

	gl.ResetCalls()
	if res := helm.Run(env, upgrade...); res.Err != nil {
		t.Fatalf("helm upgrade after the rotation: %v\n%s", res.Err, res.Stderr)
	}
	if again, _ := deploymentGeneration(t, cluster, ns, "rel-gitlab-runner"); again != rolled {
		t.Fatalf("the helm upgrade after the rotation rolled the Deployment again (generation %d -> %d)", rolled, again)
	}
	if after, _, _ := liveToken(t, cluster, ns, "rel-gitlab-runner"); after != rotated.Token || len(gl.Runners()) != 1 ||
		gl.CountCalls("POST", "/api/v4/") != 0 {
		t.Fatal("the helm upgrade after the rotation changed the token or the runner")
	}
	verifyAsPod(t, gl, rotated.Token)
	s, code = status(t, gl, env, ns)
	if r := s.Runners[0]; code != 0 || !r.Token.AsWritten || !r.Token.PodsRolled || r.Token.SecretsAgree == nil || !*r.Token.SecretsAgree {
		t.Fatalf("status after the rotation (exit %d): %+v", code, r)
	}
	gl.checkURLs(t)
}

// TestStatusFailsOnAMissingRunner: a runner deleted in GitLab makes status exit 1 and say so.
func TestStatusFailsOnAMissingRunner(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t)
	env := append(gl.apiEnv(), "KUBECONFIG="+cluster.Kubeconfig)
	if res := testenv.NewHelm(t, 3).Run(env, "upgrade", "--install", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"),
		"-f", registrationValues(t, gl.group.RunnersToken), "-n", ns, "--post-renderer", testenv.Binary(t)); res.Err != nil {
		t.Fatalf("helm upgrade: %v\n%s", res.Err, res.Stderr)
	}
	req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("%s/api/v4/runners/%d", gl.URL(), gl.Runners()[0].ID), nil)
	req.Header.Set("PRIVATE-TOKEN", gl.pat)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", resp, err)
	}
	out, _, code := fleetRun(t, gl, env, "status", "-n", ns)
	if code != 1 || !bytes.Contains(out, []byte("problem [missing]")) || !bytes.Contains(out, []byte("fix: helm upgrade")) {
		t.Fatalf("status of a runner deleted in GitLab (exit %d):\n%s", code, out)
	}
}

// TestFleetDoctor: an access token missing create_runner fails doctor, which names the scope and the fix;
// an api token passes with a warning; JSON carries the same checks.
func TestFleetDoctor(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t)
	user := gl.AddUser("ci-bot", false)
	gl.SetGroupAccess(user, gl.group, 50)
	base := []string{"RUNNER_MIGRATE_GITLAB_URL=" + gl.URL(), "RUNNER_MIGRATE_ALLOW_HTTP=true", "KUBECONFIG=" + cluster.Kubeconfig}
	run := func(scopes ...string) ([]byte, int) {
		t.Helper()
		pat := gl.AddToken(user, scopes...)
		out, stderr, code := fleetRun(t, gl, append([]string{"GITLAB_TOKEN=" + pat}, base...), "doctor", "-n", ns)
		noLeaks(t, out, pat)
		noLeaks(t, stderr, pat)
		return out, code
	}
	out, code := run("manage_runner", "read_api")
	if code != 1 || !bytes.Contains(out, []byte("lacks the scope create_runner")) || !bytes.Contains(out, []byte("fix: create a token with the scopes create_runner")) {
		t.Fatalf("doctor with a token missing create_runner (exit %d):\n%s", code, out)
	}
	t.Logf("runner-migrate doctor:\n%s", out)
	out, code = run("api")
	t.Logf("runner-migrate doctor:\n%s", out)
	if code != 0 || !bytes.Contains(out, []byte("warning access token")) || !bytes.Contains(out, []byte("more than runner-migrate needs")) ||
		!bytes.Contains(out, []byte("ok      cluster: Kubernetes")) {
		t.Fatalf("doctor with an api token (exit %d):\n%s", code, out)
	}
	js, _, code := fleetRun(t, gl, append([]string{"GITLAB_TOKEN=" + gl.pat}, base...), "doctor", "-n", ns, "--format", "json")
	var report struct {
		Checks  []struct{ Name, Status string }
		Summary struct{ Errors int }
	}
	if err := json.Unmarshal(js, &report); err != nil || code != 0 || report.Summary.Errors != 0 || len(report.Checks) < 5 {
		t.Fatalf("doctor --format json (exit %d): %v\n%s", code, err, js)
	}
}

// TestFleetPrune: of two releases installed with runner-migrate, one is uninstalled; prune deletes
// exactly its runner and its token Secret, and leaves the other release's runner, another cluster's
// runner and a runner without the marker alone.
func TestFleetPrune(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t)
	helm := testenv.NewHelm(t, 3)
	env := append(gl.apiEnv(), "KUBECONFIG="+cluster.Kubeconfig)
	values := registrationValues(t, gl.group.RunnersToken)
	installed := map[string]time.Time{}
	for _, rel := range []string{"one", "two"} {
		installed[rel] = time.Now()
		if res := helm.Run(env, "upgrade", "--install", rel, chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "-f", values,
			"-n", ns, "--post-renderer", testenv.Binary(t)); res.Err != nil {
			t.Fatalf("helm upgrade %s: %v\n%s", rel, res.Err, res.Stderr)
		}
	}
	_, _, annOne := liveToken(t, cluster, ns, "one-gitlab-runner")
	_, _, annTwo := liveToken(t, cluster, ns, "two-gitlab-runner")
	elsewhere := gl.AddRunner(gitlabfake.Runner{Type: "group_type", GroupID: gl.group.ID, RunUntagged: true,
		Description: "one-gitlab-runner [runner-migrate " + ns + "/one " + annOne[rewrite.AnnotationFingerprint] + " k8s-0123456789ab]"})
	unmarked := gl.AddRunner(gitlabfake.Runner{Type: "group_type", GroupID: gl.group.ID, RunUntagged: true, Description: "one-gitlab-runner"})
	if res := helm.Run(env, "uninstall", "one", "-n", ns); res.Err != nil {
		t.Fatalf("helm uninstall: %v\n%s", res.Err, res.Stderr)
	}

	// A post-render's token Secret is kept for the seconds before Helm records its release.
	if wait := time.Until(installed["two"].Add(31 * time.Second)); wait > 0 {
		time.Sleep(wait)
	}
	dry, _, code := fleetRun(t, gl, env, "prune", "-n", ns, "--dry-run")
	if code != 0 || len(gl.Runners()) != 4 || !bytes.Contains(dry, []byte("retire runner "+annOne[rewrite.AnnotationRunnerID])) {
		t.Fatalf("prune --dry-run (exit %d) deleted or planned wrong:\n%s", code, dry)
	}
	out, stderr, code := fleetRun(t, gl, env, "prune", "-n", ns)
	t.Logf("runner-migrate prune:\n%s%s", out, stderr)
	if code != 0 {
		t.Fatalf("prune (exit %d):\n%s\n%s", code, out, stderr)
	}
	var left []string
	for _, r := range gl.Runners() {
		left = append(left, fmt.Sprint(r.ID))
	}
	if want := []string{annTwo[rewrite.AnnotationRunnerID], fmt.Sprint(elsewhere.ID), fmt.Sprint(unmarked.ID)}; strings.Join(left, ",") != strings.Join(want, ",") {
		t.Fatalf("runners left %v, want %v:\n%s", left, want, out)
	}
	if secretExists(t, cluster, ns, kube.TokenSecretName("one", annOne[rewrite.AnnotationFingerprint])) ||
		!secretExists(t, cluster, ns, kube.TokenSecretName("two", annTwo[rewrite.AnnotationFingerprint])) {
		t.Fatal("prune must remove the uninstalled release's token Secret and keep the other's")
	}
	if n := gl.CountCalls("DELETE", "/api/v4/runners/"); n != 1 {
		t.Fatalf("%d DELETE calls, want 1", n)
	}
	gl.checkURLs(t)
}

// TestCronJobExample applies the example's RBAC, runs its script (without the go install) as its
// ServiceAccount: the token that expires within 3 days is rotated and status passes; once the
// runner is deleted in GitLab, the script fails, as the Job should.
func TestCronJobExample(t *testing.T) {
	ctx := context.Background()
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t, gitlabfake.WithTokenExpiration(60*time.Hour))
	env := append(gl.apiEnv(), "KUBECONFIG="+cluster.Kubeconfig)
	if res := testenv.NewHelm(t, 3).Run(env, "upgrade", "--install", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"),
		"-f", registrationValues(t, gl.group.RunnersToken), "-n", ns, "--post-renderer", testenv.Binary(t)); res.Err != nil {
		t.Fatalf("helm upgrade: %v\n%s", res.Err, res.Stderr)
	}
	before := gl.Runners()[0]

	data, err := os.ReadFile(filepath.Join(testenv.Root(), "examples", "kubernetes", "runner-migrate-cronjob.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := cluster.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	suffix := "-" + ns // cluster-wide names of this test's own
	var script string
	var envNames []string
	dec := k8syaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		var meta struct{ Kind string }
		json.Unmarshal(raw, &meta)
		switch meta.Kind {
		case "ServiceAccount":
			var sa corev1.ServiceAccount
			json.Unmarshal(raw, &sa)
			sa.Namespace = ns
			_, err = cs.CoreV1().ServiceAccounts(ns).Create(ctx, &sa, metav1.CreateOptions{})
		case "ClusterRole":
			var role rbacv1.ClusterRole
			json.Unmarshal(raw, &role)
			role.Name += suffix
			_, err = cs.RbacV1().ClusterRoles().Create(ctx, &role, metav1.CreateOptions{})
		case "ClusterRoleBinding":
			var binding rbacv1.ClusterRoleBinding
			json.Unmarshal(raw, &binding)
			binding.Name += suffix
			binding.RoleRef.Name += suffix
			binding.Subjects[0].Namespace = ns
			_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &binding, metav1.CreateOptions{})
		case "CronJob":
			var cj batchv1.CronJob
			json.Unmarshal(raw, &cj)
			c := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
			script = c.Args[0]
			for _, e := range c.Env {
				envNames = append(envNames, e.Name)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if script == "" || strings.Join(envNames, ",") != "GITLAB_TOKEN,RUNNER_MIGRATE_GITLAB_URL" {
		t.Fatalf("the example's CronJob: script %q, env %v", script, envNames)
	}
	var lines []string
	for _, l := range strings.Split(script, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "go install") {
			lines = append(lines, l)
		}
	}
	kubeconfig := serviceAccountKubeconfig(t, cluster, ns, "runner-migrate")
	run := func() ([]byte, error) {
		cmd := exec.Command("sh", "-c", strings.Join(lines, "\n"))
		cmd.Env = append(cleanEnv(), append(gl.apiEnv(), "KUBECONFIG="+kubeconfig,
			"PATH="+filepath.Dir(testenv.Binary(t))+string(os.PathListSeparator)+os.Getenv("PATH"))...)
		out, err := cmd.CombinedOutput()
		noLeaks(t, out, gl.secrets()...)
		return out, err
	}

	out, err := run()
	after, _ := gl.Runner(before.ID)
	live, _, _ := liveToken(t, cluster, ns, "rel-gitlab-runner")
	if err != nil || after.Token == before.Token || live != after.Token {
		t.Fatalf("the example's script (%v) did not rotate the token that expires in 60h:\n%s", err, out)
	}
	req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("%s/api/v4/runners/%d", gl.URL(), before.ID), nil)
	req.Header.Set("PRIVATE-TOKEN", gl.pat)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", resp, err)
	}
	if out, err := run(); err == nil || !bytes.Contains(out, []byte("problem [missing]")) {
		t.Fatalf("the example's script must fail once the runner is gone (%v):\n%s", err, out)
	}
}
