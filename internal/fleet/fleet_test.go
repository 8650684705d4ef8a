package fleet

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/gitlabfake"
	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// world is a real API server and a fake GitLab, with releases installed the way post-render and
// Helm leave them.
type world struct {
	gl    *gitlabfake.Server
	owner *gitlabfake.User
	group *gitlabfake.Group
	pat   string
	cs    kubernetes.Interface
	ns    string
	place string // this cluster's place in markers
	f     *Fleet
}

func newWorld(t *testing.T, opts ...gitlabfake.Option) *world {
	t.Helper()
	cluster, ns := testenv.Cluster(t)
	client, err := kube.NewClient(cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := cluster.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	s := gitlabfake.New(opts...)
	t.Cleanup(s.Close)
	w := &world{gl: s, cs: cs, ns: ns, owner: s.AddUser("platform-owner", false), group: s.AddGroup("platform")}
	s.SetGroupAccess(w.owner, w.group, 50)
	w.pat = s.AddToken(w.owner, "create_runner", "manage_runner", "read_api")
	if w.place, err = client.NamespacePlace(context.Background(), "kube-system"); err != nil {
		t.Fatal(err)
	}
	w.f = &Fleet{Kube: client, GitLab: w.connector(w.pat)}
	return w
}

func (w *world) connector(pat string) *gitlab.Connector {
	return &gitlab.Connector{Destination: gitlab.Destination{URL: w.gl.URL(), AllowHTTP: true}, Client: gitlab.ClientConfig{Token: token.New(pat)}}
}

// install leaves what a post-render and helm install of a release leave: a group runner with the
// release's marker in GitLab, its token Secret, the live Secret Helm installed, the Deployment that
// reads it, and Helm's release record. It returns the runner.
func (w *world) install(t *testing.T, release, fingerprint string, expires *time.Time) gitlabfake.Runner {
	t.Helper()
	r := w.gl.AddRunner(gitlabfake.Runner{Type: "group_type", GroupID: w.group.ID, RunUntagged: true, TokenExpiresAt: expires,
		Description: release + "-gitlab-runner " + gitlab.Marker(gitlab.Release{Namespace: w.ns, Name: release}, fingerprint, w.place)})
	tok := token.New(r.Token)
	ann := map[string]string{rewrite.AnnotationRunnerID: fmt.Sprint(r.ID), rewrite.AnnotationFingerprint: fingerprint,
		rewrite.AnnotationTokenDigest: tok.Digest("annotation"), rewrite.AnnotationGitLabURL: w.gl.URL()}
	if expires != nil {
		ann[rewrite.AnnotationTokenExpiresAt] = expires.UTC().Format(time.RFC3339)
	}
	store := &kube.Store{Client: w.f.Kube, Namespace: w.ns}
	rel := gitlab.Release{Namespace: w.ns, Name: release}
	if err := store.Keep(context.Background(), rel, gitlab.Record{RunnerID: r.ID, Token: tok, Fingerprint: fingerprint, ExpiresAt: expires, GitLabURL: w.gl.URL()}); err != nil {
		t.Fatal(err)
	}
	live := map[string]string{"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": w.ns}
	for k, v := range ann {
		live[k] = v
	}
	w.secret(t, release+"-gitlab-runner", map[string]string{"release": release}, live, r.Token)
	w.secret(t, "sh.helm.release.v1."+release+".v1", map[string]string{"owner": "helm", "name": release}, nil, "")
	labels := map[string]string{"app": release}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: release + "-gitlab-runner", Namespace: w.ns}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{rewrite.AnnotationFingerprint: fingerprint, rewrite.AnnotationTokenDigest: tok.Digest("annotation")}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "runner", Image: "gitlab-runner"}}, Volumes: []corev1.Volume{{Name: "secrets",
				VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{
					Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: release + "-gitlab-runner"}}}}}}}}}}}}
	if _, err := w.cs.AppsV1().Deployments(w.ns).Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return r
}

// uninstall removes what helm uninstall removes (not runner-migrate's token Secret).
func (w *world) uninstall(t *testing.T, release string) {
	t.Helper()
	ctx := context.Background()
	for _, err := range []error{
		w.cs.CoreV1().Secrets(w.ns).Delete(ctx, release+"-gitlab-runner", metav1.DeleteOptions{}),
		w.cs.CoreV1().Secrets(w.ns).Delete(ctx, "sh.helm.release.v1."+release+".v1", metav1.DeleteOptions{}),
		w.cs.AppsV1().Deployments(w.ns).Delete(ctx, release+"-gitlab-runner", metav1.DeleteOptions{}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (w *world) secret(t *testing.T, name string, labels, ann map[string]string, tok string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.ns, Labels: labels, Annotations: ann},
		Data: map[string][]byte{rewrite.KeyRunnerToken: []byte(tok), rewrite.KeyRegistrationToken: {}}}
	if _, err := w.cs.CoreV1().Secrets(w.ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (w *world) secretToken(t *testing.T, name string) string {
	t.Helper()
	s, err := w.cs.CoreV1().Secrets(w.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return string(s.Data[rewrite.KeyRunnerToken])
}

// verify is what a runner pod does when it starts: POST /runners/verify with its token (which
// heartbeats the runner and registers a manager).
func (w *world) verify(t *testing.T, tok string) int {
	t.Helper()
	resp, err := http.Post(w.gl.URL()+"/api/v4/runners/verify", "application/json", strings.NewReader(`{"token":"`+tok+`","system_id":"s_runnerpod01"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// noToken fails when an output holds any token of the world, plain or base64.
func (w *world) noToken(t *testing.T, out []byte) {
	t.Helper()
	secrets := []string{w.pat}
	for _, r := range w.gl.Runners() {
		secrets = append(secrets, r.Token)
	}
	for _, s := range secrets {
		if bytes.Contains(out, []byte(s)) || bytes.Contains(out, []byte(base64.StdEncoding.EncodeToString([]byte(s)))) {
			t.Fatalf("a token appears in the output:\n%s", out)
		}
	}
}

func checks(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Check)
	}
	return out
}

// TestStatus: a fresh runner is fine within the grace period and a problem after it; once its pod
// contacts GitLab it is online with its manager listed; a token near expiry, Secrets that disagree,
// and a runner deleted in GitLab are problems. No output holds a token.
func TestStatus(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	soon := time.Now().Add(3 * 24 * time.Hour).Truncate(time.Second)
	a := w.install(t, "alpha", "rm-00000000000a", nil)
	b := w.install(t, "beta", "rm-00000000000b", &soon)

	status := func(now time.Time) map[string]RunnerStatus {
		t.Helper()
		w.f.Now = func() time.Time { return now }
		report, err := w.f.Status(ctx, StatusOptions{Namespace: w.ns})
		if err != nil {
			t.Fatal(err)
		}
		var text, js bytes.Buffer
		if err := report.WriteText(&text, now); err != nil {
			t.Fatal(err)
		}
		if err := report.WriteJSON(&js, "test"); err != nil {
			t.Fatal(err)
		}
		w.noToken(t, text.Bytes())
		w.noToken(t, js.Bytes())
		var decoded struct {
			Version int
			Runners []RunnerStatus
		}
		if err := json.Unmarshal(js.Bytes(), &decoded); err != nil || decoded.Version != 1 || len(decoded.Runners) != len(report.Runners) {
			t.Fatalf("JSON report: %v\n%s", err, js.String())
		}
		out := map[string]RunnerStatus{}
		for _, r := range report.Runners {
			out[r.Release] = r
		}
		return out
	}

	now := status(time.Now())
	alpha, beta := now[w.ns+"/alpha"], now[w.ns+"/beta"]
	if alpha.RunnerID != a.ID || alpha.GitLab == nil || alpha.GitLab.Status != "never_contacted" || len(alpha.Problems) != 0 ||
		alpha.TokenSecret == "" || len(alpha.LiveSecrets) != 1 || len(alpha.Workloads) != 1 || alpha.Scope == nil || alpha.Scope.Path != "platform" {
		t.Fatalf("a fresh runner: %+v", alpha)
	}
	if !alpha.Token.AsWritten || !alpha.Token.PodsRolled || alpha.Token.SecretsAgree == nil || !*alpha.Token.SecretsAgree {
		t.Fatalf("a fresh runner's token: %+v", alpha.Token)
	}
	if strings.Join(checks(beta.Problems), ",") != "token-expiring" {
		t.Fatalf("a token expiring in 3 days is a problem within 7: %+v", beta.Problems)
	}

	later := status(time.Now().Add(20 * time.Minute))[w.ns+"/alpha"]
	if strings.Join(checks(later.Problems), ",") != "never-contacted" {
		t.Fatalf("never contacted after the grace period: %+v", later.Problems)
	}

	if code := w.verify(t, a.Token); code != 200 {
		t.Fatalf("verify: %d", code)
	}
	alpha = status(time.Now())[w.ns+"/alpha"]
	if alpha.GitLab.Status != "online" || alpha.GitLab.ContactedAt == nil || len(alpha.Managers) != 1 || alpha.Managers[0].SystemID != "s_runnerpod01" || len(alpha.Problems) != 0 {
		t.Fatalf("after its pod contacted GitLab: %+v %+v", alpha.GitLab, alpha.Managers)
	}

	// The live Secret gets another token (a rollback, a hand edit): both are problems.
	patch := `{"data":{"runner-token":"` + base64.StdEncoding.EncodeToString([]byte("glrt-somethingelse0000000000")) + `"}}`
	if _, err := w.cs.CoreV1().Secrets(w.ns).Patch(ctx, "alpha-gitlab-runner", "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	got := checks(status(time.Now())[w.ns+"/alpha"].Problems)
	if strings.Join(got, ",") != "secrets-disagree,secret-edited" {
		t.Fatalf("a changed live Secret: %v", got)
	}

	// Deleted in GitLab.
	req, _ := http.NewRequest("DELETE", fmt.Sprintf("%s/api/v4/runners/%d", w.gl.URL(), b.ID), nil)
	req.Header.Set("PRIVATE-TOKEN", w.pat)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("delete: %v %v", resp, err)
	}
	beta = status(time.Now())[w.ns+"/beta"]
	if beta.GitLab == nil || beta.GitLab.Status != "missing" || !strings.Contains(strings.Join(checks(beta.Problems), ","), "missing") {
		t.Fatalf("a runner deleted in GitLab: %+v", beta)
	}
}

// TestRotate: the token changes in GitLab and in both Secrets in step, the old one stops working,
// the Deployment rolls once; a dry run changes nothing; a runner without the release's marker is
// left alone.
func TestRotate(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, gitlabfake.WithTokenExpiration(30*24*time.Hour))
	a := w.install(t, "alpha", "rm-00000000000a", nil)
	soon := time.Now().Add(48 * time.Hour)
	b := w.install(t, "beta", "rm-00000000000b", &soon)
	before, _ := w.cs.AppsV1().Deployments(w.ns).Get(ctx, "alpha-gitlab-runner", metav1.GetOptions{})

	// On a schedule: only the token that expires within the window.
	actions, err := w.f.Rotate(ctx, RotateOptions{Namespace: w.ns, ExpiringWithin: 72 * time.Hour, Locking: Locking{Holder: "test"}})
	if rb, _ := w.gl.Runner(b.ID); err != nil || len(actions) != 1 || actions[0].RunnerID != b.ID || rb.Token == b.Token || w.secretToken(t, "beta-gitlab-runner") != rb.Token {
		t.Fatalf("rotate --expiring-within 72h: %v, %v", actions, err)
	}

	actions, err = w.f.Rotate(ctx, RotateOptions{Namespace: w.ns, Release: "alpha", DryRun: true, Locking: Locking{Holder: "test"}})
	if err != nil || len(actions) != 1 || actions[0].Verb != "rotate" || !strings.Contains(actions[0].Detail, "dry run") {
		t.Fatalf("dry run: %v, %v", actions, err)
	}
	if r, _ := w.gl.Runner(a.ID); r.Token != a.Token || w.secretToken(t, "alpha-gitlab-runner") != a.Token {
		t.Fatal("a dry run changed the token")
	}

	var done []gitlab.Action
	actions, err = w.f.Rotate(ctx, RotateOptions{Namespace: w.ns, Release: "alpha", Locking: Locking{Holder: "test", LeaseDuration: 2 * time.Second},
		Done: func(a gitlab.Action) { done = append(done, a) }})
	if err != nil || len(actions) != 1 || actions[0].Verb != "rotate" || len(done) != 1 {
		t.Fatalf("rotate: %v, %v", actions, err)
	}
	w.noToken(t, []byte(actions[0].String()))
	r, _ := w.gl.Runner(a.ID)
	tokenSecret := kube.TokenSecretName("alpha", "rm-00000000000a")
	if r.Token == a.Token || w.secretToken(t, "alpha-gitlab-runner") != r.Token || w.secretToken(t, tokenSecret) != r.Token {
		t.Fatal("GitLab and the Secrets do not hold the same new token")
	}
	if w.verify(t, a.Token) != 403 || w.verify(t, r.Token) != 200 {
		t.Fatal("the old token must be refused and the new one accepted")
	}
	live, err := w.f.Kube.RunnerSecret(ctx, w.ns, "alpha-gitlab-runner")
	if err != nil || live.ExpiresAt == nil || !live.ExpiresAt.Equal(r.TokenExpiresAt.Truncate(time.Second)) || live.RecordedDigest != token.New(r.Token).Digest("annotation") {
		t.Fatalf("the live Secret's annotations: %+v, %v", live, err)
	}
	after, _ := w.cs.AppsV1().Deployments(w.ns).Get(ctx, "alpha-gitlab-runner", metav1.GetOptions{})
	if after.Generation != before.Generation+1 || after.Spec.Template.Annotations[rewrite.AnnotationTokenDigest] != token.New(r.Token).Digest("annotation") {
		t.Fatalf("the Deployment: generation %d -> %d", before.Generation, after.Generation)
	}
	report, err := w.f.Status(ctx, StatusOptions{Namespace: w.ns})
	if err != nil || len(report.Runners) != 2 {
		t.Fatalf("status after the rotation: %+v, %v", report, err)
	}
	for _, rs := range report.Runners {
		if !rs.Token.PodsRolled || !rs.Token.AsWritten || !*rs.Token.SecretsAgree || len(rs.Problems) != 0 {
			t.Fatalf("status after the rotation: %+v", rs)
		}
	}

	// A runner whose description lost the release's marker is not ours to reset.
	req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/api/v4/runners/%d", w.gl.URL(), a.ID), strings.NewReader(`{"description":"renamed by hand"}`))
	req.Header.Set("PRIVATE-TOKEN", w.pat)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("rename: %v %v", resp, err)
	}
	actions, err = w.f.Rotate(ctx, RotateOptions{Namespace: w.ns, Release: "alpha", Locking: Locking{Holder: "test"}})
	if again, _ := w.gl.Runner(a.ID); err != nil || len(actions) != 1 || actions[0].Verb != "skip" || again.Token != r.Token {
		t.Fatalf("a runner without the marker: %v, %v", actions, err)
	}
}

// TestPrune: after one of two releases is uninstalled, prune deletes exactly its runner and its
// token Secret, and the runner a release replaced; never the other release's, another cluster's,
// a state file's, an unmarked one, one whose token Secret was just written, or the runner of an
// installed release whose output has not arrived.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	a := w.install(t, "alpha", "rm-00000000000a", nil)
	b := w.install(t, "beta", "rm-00000000000b", nil)
	g := w.install(t, "gamma", "rm-00000000000c", nil)
	if err := w.cs.CoreV1().Secrets(w.ns).Delete(ctx, "gamma-gitlab-runner", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	w.install(t, "delta", "rm-00000000000d", nil)
	replaced := w.gl.AddRunner(gitlabfake.Runner{Type: "group_type", GroupID: w.group.ID, RunUntagged: true,
		Description: "x " + gitlab.Marker(gitlab.Release{Namespace: w.ns, Name: "delta"}, "rm-00000000000e", w.place)})
	if err := (&kube.Store{Client: w.f.Kube, Namespace: w.ns}).Keep(ctx, gitlab.Release{Namespace: w.ns, Name: "delta"},
		gitlab.Record{RunnerID: replaced.ID, Token: token.New(replaced.Token), Fingerprint: "rm-00000000000e"}); err != nil {
		t.Fatal(err)
	}
	gone := gitlab.Release{Namespace: w.ns, Name: "alpha"}
	other := w.gl.AddRunner(gitlabfake.Runner{Type: "group_type", GroupID: w.group.ID, RunUntagged: true,
		Description: "x " + gitlab.Marker(gone, "rm-00000000000a", "k8s-0123456789ab")})
	file := w.gl.AddRunner(gitlabfake.Runner{Type: "group_type", GroupID: w.group.ID, RunUntagged: true,
		Description: "x " + gitlab.Marker(gone, "rm-00000000000a", "file-0123456789ab")})
	old := w.gl.AddRunner(gitlabfake.Runner{Type: "group_type", GroupID: w.group.ID, RunUntagged: true, Description: "x " + gitlab.Marker(gone, "rm-00000000000a", "")})
	unmarked := w.gl.AddRunner(gitlabfake.Runner{Type: "group_type", GroupID: w.group.ID, RunUntagged: true, Description: "alpha-gitlab-runner"})
	w.uninstall(t, "alpha")

	opts := PruneOptions{Namespace: w.ns, Locking: Locking{Holder: "test"}}
	plan, err := w.f.PlanPrune(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Actions) != 0 {
		t.Fatalf("a token Secret written just now protects its runner: %v", plan.Actions)
	}

	w.f.Now = func() time.Time { return time.Now().Add(time.Hour) }
	plan, err = w.f.PlanPrune(ctx, opts)
	if err != nil || len(plan.Actions) != 2 || plan.Actions[0].Verb != "retire" || plan.Actions[0].RunnerID != a.ID ||
		plan.Actions[1].Verb != "retire" || plan.Actions[1].RunnerID != replaced.ID || plan.InUse != 3 || plan.Elsewhere != 2 || plan.NoPlace != 1 {
		t.Fatalf("plan: %+v, %v", plan, err)
	}
	if len(w.gl.Runners()) != 9 {
		t.Fatal("planning deleted something")
	}
	if older, _ := w.f.PlanPrune(ctx, PruneOptions{Namespace: w.ns, OlderThan: 2 * time.Hour}); len(older.Actions) != 2 || older.Actions[0].Verb != "skip" {
		t.Fatalf("--older-than keeps a runner created an hour ago: %v", older.Actions)
	}
	var done []gitlab.Action
	if err := w.f.Prune(ctx, plan, opts, func(a gitlab.Action) { done = append(done, a) }); err != nil {
		t.Fatal(err)
	}
	if len(done) != 2 || done[0].Verb != "retire" || done[0].RunnerID != a.ID || done[1].RunnerID != replaced.ID {
		t.Fatalf("prune did %v", done)
	}
	var left []int64
	for _, r := range w.gl.Runners() {
		left = append(left, r.ID)
	}
	if fmt.Sprint(left) != fmt.Sprint([]int64{b.ID, g.ID, g.ID + 1, other.ID, file.ID, old.ID, unmarked.ID}) {
		t.Fatalf("runners left %v", left)
	}
	if _, err := w.f.Kube.RunnerSecret(ctx, w.ns, kube.TokenSecretName("alpha", "rm-00000000000a")); err == nil {
		t.Fatal("the uninstalled release's token Secret was kept")
	}
	if again, err := w.f.PlanPrune(ctx, opts); err != nil || len(again.Actions) != 0 {
		t.Fatalf("a second prune: %v, %v", again.Actions, err)
	}
}

// TestDoctor: an access token missing create_runner is an error that names it; one with api is a
// warning; the role in a legacy release's group is checked (Owner is enough, Maintainer is not).
func TestDoctor(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.secret(t, "legacy-gitlab-runner", map[string]string{"chart": "gitlab-runner-0.86.0", "release": "legacy"}, nil, "")
	patch := `{"data":{"runner-registration-token":"` + base64.StdEncoding.EncodeToString([]byte(w.group.RunnersToken)) + `"}}`
	if _, err := w.cs.CoreV1().Secrets(w.ns).Patch(ctx, "legacy-gitlab-runner", "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	maintainer := w.gl.AddUser("maintainer", false)
	w.gl.SetGroupAccess(maintainer, w.group, 40)

	run := func(pat string) (*DoctorReport, map[string]Check) {
		t.Helper()
		w.f.GitLab = w.connector(pat)
		r := w.f.Doctor(ctx, DoctorOptions{Namespace: w.ns, Cluster: "test cluster"})
		var text bytes.Buffer
		if err := r.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		w.noToken(t, text.Bytes())
		if bytes.Contains(text.Bytes(), []byte(w.group.RunnersToken)) {
			t.Fatal("doctor printed a registration token")
		}
		byName := map[string]Check{}
		for _, c := range r.Checks {
			byName[c.Name] = c
		}
		return r, byName
	}

	r, c := run(w.pat)
	if r.Failed() || c["access token"].Status != CheckOK || c["gitlab"].Status != CheckOK || !strings.Contains(c["gitlab"].Detail, gitlabfake.DefaultVersion) {
		t.Fatalf("a token with exactly the scopes needed: %+v", r.Checks)
	}
	role := c["role for release "+w.ns+"/legacy (Secret "+w.ns+"/legacy-gitlab-runner)"]
	if role.Status != CheckOK || !strings.Contains(role.Detail, "Owner") {
		t.Fatalf("the legacy release's group role: %+v\n%+v", role, r.Checks)
	}
	if c["cluster rights for post-render: secrets"].Status != CheckOK || c["registration tokens"].Status != CheckInfo {
		t.Fatalf("cluster rights and settings: %+v", r.Checks)
	}

	r, c = run(w.gl.AddToken(w.owner, "manage_runner", "read_api"))
	if !r.Failed() || c["access token"].Status != CheckError || !strings.Contains(c["access token"].Detail, "lacks the scope create_runner") {
		t.Fatalf("a token without create_runner: %+v", c["access token"])
	}
	r, c = run(w.gl.AddToken(w.owner, "api"))
	if r.Failed() || c["access token"].Status != CheckWarning || !strings.Contains(c["access token"].Detail, "more than runner-migrate needs") {
		t.Fatalf("an api token: %+v", r.Checks)
	}
	maintainerPAT := w.gl.AddToken(maintainer, "create_runner", "manage_runner", "read_api")
	r, c = run(maintainerPAT)
	if scope := c["scope of release "+w.ns+"/legacy (Secret "+w.ns+"/legacy-gitlab-runner)"]; !r.Failed() || scope.Status != CheckError || !strings.Contains(scope.Detail, "--runner-type") {
		t.Fatalf("a Maintainer cannot read the group's registration token, so the release's scope is unknown: %+v", r.Checks)
	}
	w.f.GitLab = w.connector(maintainerPAT)
	r = w.f.Doctor(ctx, DoctorOptions{Namespace: w.ns, Scope: gitlab.ScopeConfig{RunnerType: "group", Group: "platform"}})
	var named Check
	for _, c := range r.Checks {
		if c.Name == "role for new runners (--runner-type)" {
			named = c
		}
	}
	if !r.Failed() || named.Status != CheckError || !strings.Contains(named.Detail, "is Maintainer there") || !strings.Contains(named.Detail, "Owner") {
		t.Fatalf("a Maintainer of the group named by --group: %+v", r.Checks)
	}
}

// TestRateLimitsAndDeadline: status waits out a 429 that asks for a second and succeeds; one that
// asks for longer than the deadline fails at once and says why, as does a GitLab that hangs.
func TestRateLimitsAndDeadline(t *testing.T) {
	w := newWorld(t)
	w.install(t, "alpha", "rm-00000000000a", nil)
	w.gl.Inject(gitlabfake.Fault{Method: "GET", Path: "/api/v4/runners/*", Kind: gitlabfake.FaultRateLimit, RetryAfter: time.Second})
	start := time.Now()
	report, err := w.f.Status(context.Background(), StatusOptions{Namespace: w.ns})
	if err != nil || len(report.Runners) != 1 || report.Runners[0].GitLab == nil || time.Since(start) < time.Second {
		t.Fatalf("after a 429 asking for 1s: %+v, %v (took %v)", report, err, time.Since(start))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.gl.Inject(gitlabfake.Fault{Method: "GET", Path: "/api/v4/runners/*", Kind: gitlabfake.FaultRateLimitRetryAfterOnly})
	start = time.Now()
	report, err = w.f.Status(ctx, StatusOptions{Namespace: w.ns})
	if err != nil || time.Since(start) > 3*time.Second || len(report.Runners[0].Problems) != 1 || !strings.Contains(report.Runners[0].Problems[0].Message, "past the deadline") {
		t.Fatalf("a 429 asking for 60s within a 5s deadline: %+v, %v (took %v)", report, err, time.Since(start))
	}

	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	w.gl.ClearFaults()
	w.gl.Inject(gitlabfake.Fault{Method: "GET", Path: "/api/v4/runners/*", Kind: gitlabfake.FaultHang})
	report, err = w.f.Status(ctx, StatusOptions{Namespace: w.ns})
	if err != nil || !strings.Contains(fmt.Sprint(report.Runners[0].Problems), "deadline") {
		t.Fatalf("a GitLab that hangs: %+v, %v", report, err)
	}
}

// TestOtherGitLabIsNotCalled: a runner whose Secrets record another GitLab is reported, not looked
// up: the access token goes only to the GitLab the operator named.
func TestOtherGitLabIsNotCalled(t *testing.T) {
	w := newWorld(t)
	w.secret(t, "elsewhere-gitlab-runner", map[string]string{"release": "elsewhere"}, map[string]string{rewrite.AnnotationRunnerID: "99",
		rewrite.AnnotationFingerprint: "rm-0000000000ff", rewrite.AnnotationGitLabURL: "https://gitlab.other.example"}, "glrt-elsewhere-token-00000000")
	w.gl.ResetCalls()
	report, err := w.f.Status(context.Background(), StatusOptions{Namespace: w.ns})
	if err != nil || len(report.Runners) != 1 || report.Runners[0].GitLab != nil || !strings.Contains(strings.Join(checks(report.Runners[0].Warnings), ","), "other-gitlab") {
		t.Fatalf("a runner of another GitLab: %+v, %v", report, err)
	}
	if calls := w.gl.Calls(); len(calls) != 0 {
		t.Fatalf("GitLab was called about another GitLab's runner: %v", calls)
	}
	actions, err := w.f.Rotate(context.Background(), RotateOptions{Namespace: w.ns, Locking: Locking{Holder: "test"}})
	if err != nil || len(actions) != 1 || actions[0].Verb != "skip" || len(w.gl.Calls()) != 0 {
		t.Fatalf("rotating another GitLab's runner: %v, %v", actions, err)
	}
}
