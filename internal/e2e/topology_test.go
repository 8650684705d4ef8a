package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/gitlabfake"
	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/localcluster"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// apiEnv points runner-migrate at the fake GitLab: its address (plain http on loopback, allowed
// explicitly) and the name the fixture runners register with.
func (g *gitlab) apiEnv() []string {
	return []string{"GITLAB_TOKEN=" + g.pat, "RUNNER_MIGRATE_GITLAB_URL=" + g.URL(), "RUNNER_MIGRATE_ALLOW_HTTP=true",
		"RUNNER_MIGRATE_ALLOWED_HOST=gitlab.example.com"}
}

// serviceAccountKubeconfig writes a kubeconfig that acts as a ServiceAccount of the namespace.
func serviceAccountKubeconfig(t *testing.T, c *localcluster.Cluster, ns, name string) string {
	t.Helper()
	cs, err := c.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	err = os.WriteFile(path, []byte(fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: %q, insecure-skip-tls-verify: true}}]\n"+
		"users: [{name: u, user: {token: %q}}]\ncontexts: [{name: c, context: {cluster: c, user: u, namespace: %s}}]\ncurrent-context: c\n",
		c.Host, tr.Status.Token, ns)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// createNamespace makes a namespace in a cluster of the test's own.
func createNamespace(t *testing.T, c *localcluster.Cluster, ns string) {
	t.Helper()
	cs, err := c.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// secretExists reports whether a cluster holds a Secret.
func secretExists(t *testing.T, c *localcluster.Cluster, ns, name string) bool {
	t.Helper()
	cs, err := c.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// legacyRender renders the 0.86 chart with a group's registration token, as Helm hands it to a
// post-renderer.
func legacyRender(t *testing.T, helm *testenv.Helm, registration, ns string) []byte {
	t.Helper()
	res := helm.Run(nil, "template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "-f", registrationValues(t, registration), "-n", ns)
	if res.Err != nil {
		t.Fatalf("helm template: %v\n%s", res.Err, res.Stderr)
	}
	return res.Stdout
}

// TestConcurrentPostRenders: four post-renders of one release started together (two pipelines, a
// retry) leave exactly one runner, and all four outputs carry its token: the Lease serialises them
// and the token Secret hands the first run's token to the others.
func TestConcurrentPostRenders(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t)
	bin := testenv.Binary(t)
	manifests := legacyRender(t, testenv.NewHelm(t, 3), gl.group.RunnersToken, ns)
	env := append(gl.apiEnv(), "KUBECONFIG="+cluster.Kubeconfig, "RUNNER_MIGRATE_NAMESPACE="+ns, "RUNNER_MIGRATE_DEPLOYS=true")
	const runs = 4
	outs := make([][]byte, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < runs; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			var stderr []byte
			outs[i], stderr, errs[i] = runBinary(bin, env, manifests, "post-render")
			noLeaks(t, stderr, gl.secrets()...)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%v\n%s", errs[i], stderr)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	runners := gl.Runners()
	if len(runners) != 1 {
		t.Fatalf("%d post-renders at once made %d runners, want 1", runs, len(runners))
	}
	for i, out := range outs {
		if tok := readRunnerPod(t, out).secrets["runner-token"]; tok != runners[0].Token {
			t.Fatalf("post-render %d does not carry the one runner's token", i)
		}
	}
}

// TestLeaseOfAKilledRun: a run SIGKILLed while it holds the Lease blocks the next run no longer than
// the Lease's duration.
func TestLeaseOfAKilledRun(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t)
	bin := filepath.Join(t.TempDir(), "runner-migrate-held")
	data, err := os.ReadFile(testenv.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	manifests := legacyRender(t, testenv.NewHelm(t, 3), gl.group.RunnersToken, ns)
	const duration = 3 * time.Second
	env := append(gl.apiEnv(), "KUBECONFIG="+cluster.Kubeconfig, "RUNNER_MIGRATE_NAMESPACE="+ns, "RUNNER_MIGRATE_DEPLOYS=true",
		"RUNNER_MIGRATE_LEASE_DURATION="+duration.String())

	gl.Inject(gitlabfake.Fault{Method: "POST", Path: "/api/v4/user/runners", Kind: gitlabfake.FaultHang})
	held := exec.Command(bin, "post-render")
	held.Env = append(cleanEnv(), env...)
	held.Stdin = bytes.NewReader(manifests)
	if err := held.Start(); err != nil {
		t.Fatal(err)
	}
	cs, err := cluster.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for gl.CountCalls("POST", "/api/v4/user/runners") == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	leases, err := cs.CoordinationV1().Leases(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(leases.Items) != 1 || leases.Items[0].Spec.HolderIdentity == nil || *leases.Items[0].Spec.HolderIdentity == "" {
		t.Fatalf("the run that is creating the runner holds no Lease: %v %v", err, leases)
	}
	if killByExe(t, bin) == 0 {
		t.Fatal("no runner-migrate process to kill")
	}
	held.Wait()
	gl.ClearFaults()

	began := time.Now()
	out, stderr, err := runBinary(testenv.Binary(t), env, manifests, "post-render")
	noLeaks(t, stderr, gl.secrets()...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if waited := time.Since(began); waited > duration+3*time.Second {
		t.Fatalf("the next run took %v; the killed run's Lease lasts %v", waited, duration)
	}
	if runners := gl.Runners(); len(runners) != 1 || readRunnerPod(t, out).secrets["runner-token"] != runners[0].Token {
		t.Fatalf("after the killed run: %d runners", len(runners))
	}
}

// TestSameReleaseTwoClusters: staging and production run the same release, namespace and values
// against one GitLab. Each cluster gets its own runner; the second install never takes over (and so
// never revokes) the first cluster's runner, and later upgrades keep both tokens.
func TestSameReleaseTwoClusters(t *testing.T) {
	a, ns := testenv.Cluster(t)
	b := testenv.NewCluster(t)
	createNamespace(t, b, ns)
	gl := newGitLab(t)
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)
	values := registrationValues(t, gl.group.RunnersToken)
	upgrade := func(c *localcluster.Cluster) {
		t.Helper()
		res := helm.Run(append(gl.apiEnv(), "KUBECONFIG="+c.Kubeconfig), "upgrade", "--install", "rel", chartPath("gitlab-runner-0.86.0"),
			"-f", valuesPath("legacy"), "-f", values, "-n", ns, "--post-renderer", bin)
		noLeaks(t, res.Stderr, gl.secrets()...)
		if res.Err != nil {
			t.Fatalf("helm upgrade: %v\n%s", res.Err, res.Stderr)
		}
	}
	upgrade(a)
	tokA, _, annA := liveToken(t, a, ns, "rel-gitlab-runner")
	upgrade(b)
	tokB, _, annB := liveToken(t, b, ns, "rel-gitlab-runner")
	if annA[rewrite.AnnotationRunnerID] == annB[rewrite.AnnotationRunnerID] || len(gl.Runners()) != 2 {
		t.Fatalf("the two clusters share runner %s (GitLab has %d runners); each needs its own", annA[rewrite.AnnotationRunnerID], len(gl.Runners()))
	}
	upgrade(a)
	upgrade(b)
	for name, c := range map[string]*localcluster.Cluster{"A": a, "B": b} {
		tok, _, ann := liveToken(t, c, ns, "rel-gitlab-runner")
		want := map[string]string{"A": tokA, "B": tokB}[name]
		var id int64
		fmt.Sscan(ann[rewrite.AnnotationRunnerID], &id)
		r, ok := gl.Runner(id)
		if !ok || tok != want || r.Token != tok {
			t.Fatalf("cluster %s: its token changed or GitLab no longer accepts it (runner %d)", name, id)
		}
	}
	if n := gl.CountCalls("POST", "/api/v4/runners/"); n != 0 {
		t.Fatalf("%d token resets: one cluster revoked the other's token", n)
	}
}

// TestKubeContextFromHelm: `helm upgrade --kube-context b` runs the post-renderer with no word of the
// context. runner-migrate reads Helm's command line and keeps the token in cluster b, not in the
// current context's cluster a, on Helm 3 (binary) and Helm 4 (plugin).
func TestKubeContextFromHelm(t *testing.T) {
	a, ns := testenv.Cluster(t)
	b := testenv.NewCluster(t)
	createNamespace(t, b, ns)
	kubeconfig := testenv.MergedKubeconfig(t, map[string]*localcluster.Cluster{"a": a, "b": b}, "a")
	gl := newGitLab(t)
	values := registrationValues(t, gl.group.RunnersToken)

	h4 := testenv.NewHelm(t, 4)
	installPostRenderPlugin(t, h4)
	for _, tc := range []struct {
		name, release, renderer string
		helm                    *testenv.Helm
	}{
		{"helm3", "rel3", testenv.Binary(t), testenv.NewHelm(t, 3)},
		{"helm4", "rel4", "runner-migrate-postrender", h4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.helm.Run(append(gl.apiEnv(), "KUBECONFIG="+kubeconfig), "upgrade", "--install", tc.release, chartPath("gitlab-runner-0.86.0"),
				"-f", valuesPath("legacy"), "-f", values, "--kube-context", "b", "-n", ns, "--post-renderer", tc.renderer)
			noLeaks(t, res.Stderr, gl.secrets()...)
			if res.Err != nil {
				t.Fatalf("helm upgrade: %v\n%s", res.Err, res.Stderr)
			}
			runner := tc.release + "-gitlab-runner"
			tok, _, ann := liveToken(t, b, ns, runner)
			fp := ann[rewrite.AnnotationFingerprint]
			if !strings.HasPrefix(tok, "glrt-") || !secretExists(t, b, ns, kube.TokenSecretName(tc.release, fp)) {
				t.Fatal("the token is not kept in cluster b, where Helm deployed")
			}
			if secretExists(t, a, ns, kube.TokenSecretName(tc.release, fp)) || secretExists(t, a, ns, runner) {
				t.Fatal("runner-migrate wrote to cluster a, the current context, while Helm deployed to b")
			}
		})
	}
}

// installPostRenderPlugin installs Helm 4's post-renderer plugin from a checkout, as the README
// says: its install hook builds the binary.
func installPostRenderPlugin(t *testing.T, helm *testenv.Helm) {
	t.Helper()
	mustRun(t, helm, nil, "plugin", "install", filepath.Join(sharedPluginSource(t), "plugins", postRenderPlugin))
}

// TestValuesCannotSendTheTokenElsewhere: a values file whose gitlabUrl names another host makes the
// render fail before the access token goes anywhere; that host never hears from runner-migrate.
func TestValuesCannotSendTheTokenElsewhere(t *testing.T) {
	gl := newGitLab(t)
	var mu sync.Mutex
	var heard []string
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		heard = append(heard, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(trap.Close)
	hostile := filepath.Join(t.TempDir(), "hostile.yaml")
	os.WriteFile(hostile, []byte(fmt.Sprintf("gitlabUrl: %q\nrunnerRegistrationToken: %q\n", trap.URL, gl.group.RunnersToken)), 0o600)
	env := append(gl.apiEnv(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"), "RUNNER_MIGRATE_STATE_FILE="+filepath.Join(t.TempDir(), "state.yaml"))
	res := testenv.NewHelm(t, 3).Run(env, "template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", hostile, "-n", ns0, "--post-renderer", testenv.Binary(t))
	noLeaks(t, res.Stderr, gl.secrets()...)
	host := strings.TrimPrefix(trap.URL, "http://")
	if res.Err == nil || !bytes.Contains(res.Stderr, []byte(host)) || !bytes.Contains(res.Stderr, []byte("--allowed-host")) {
		t.Fatalf("a values file naming another host must fail and say so: %v\n%s", res.Err, res.Stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(heard) > 0 || len(gl.Runners()) > 0 {
		t.Fatalf("the other host was called (%v) or a runner made", heard)
	}
}

// TestDryRunShowsNoToken: after a real install, dry runs that reuse and that update the runner print
// placeholders only: no token on stdout or stderr, plain or base64.
func TestDryRunShowsNoToken(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t)
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)
	env := append(gl.apiEnv(), "KUBECONFIG="+cluster.Kubeconfig)
	values := registrationValues(t, gl.group.RunnersToken)
	if res := helm.Run(env, "upgrade", "--install", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "-f", values, "-n", ns, "--post-renderer", bin); res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Stderr)
	}
	retagged := filepath.Join(t.TempDir(), "retag.yaml")
	os.WriteFile(retagged, []byte("runners: {tags: \"docker,linux,gpu\"}\n"), 0o600)
	for _, tc := range []struct {
		name  string
		extra []string
		verb  string
	}{{"reuse", nil, "reuse"}, {"update", []string{"-f", retagged}, "update"}} {
		t.Run(tc.name, func(t *testing.T) {
			gl.ResetCalls()
			// helm template | runner-migrate post-render --dry-run, as the README recommends for reading
			// the plan (Helm hides a post-renderer's stderr on success).
			args := append([]string{"template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "-f", values}, tc.extra...)
			render := helm.Run(nil, append(args, "-n", ns)...)
			if render.Err != nil {
				t.Fatalf("%v\n%s", render.Err, render.Stderr)
			}
			var res testenv.Result
			res.Stdout, res.Stderr, res.Err = runBinary(bin, append(env, "RUNNER_MIGRATE_NAMESPACE="+ns), render.Stdout, "post-render", "--dry-run")
			if res.Err != nil {
				t.Fatalf("%v\n%s", res.Err, res.Stderr)
			}
			for _, s := range gl.secrets() {
				for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s))} {
					if bytes.Contains(res.Stdout, []byte(form)) || bytes.Contains(res.Stderr, []byte(form)) {
						t.Fatal("a dry run printed a token")
					}
				}
			}
			if pod := readRunnerPod(t, res.Stdout); !strings.HasPrefix(pod.secrets["runner-token"], "glrt-DRY-RUN-PLACEHOLDER-") {
				t.Fatal("the dry run's token is not a placeholder")
			}
			if !bytes.Contains(res.Stderr, []byte("runner-migrate: "+tc.verb+" runner")) {
				t.Fatalf("the plan does not show the %s:\n%s", tc.verb, res.Stderr)
			}
			for _, c := range gl.Calls() {
				if c.Method != "GET" {
					t.Errorf("a dry run called %s %s", c.Method, c.Path)
				}
			}
		})
	}
}

// TestDeployedDryRunIsRepaired: a dry run's output deployed by mistake (RUNNER_MIGRATE_DRY_RUN left
// exported) leaves a placeholder in the live Secret; the next upgrade puts a real token there, and
// later ones keep it.
func TestDeployedDryRunIsRepaired(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	gl := newGitLab(t)
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)
	env := append(gl.apiEnv(), "KUBECONFIG="+cluster.Kubeconfig)
	args := []string{"upgrade", "--install", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "-f", registrationValues(t, gl.group.RunnersToken),
		"-n", ns, "--post-renderer", bin}
	if res := helm.Run(append(env, "RUNNER_MIGRATE_DRY_RUN=true"), args...); res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Stderr)
	}
	if tok, _, ann := liveToken(t, cluster, ns, "rel-gitlab-runner"); !strings.HasPrefix(tok, "glrt-DRY-RUN-PLACEHOLDER-") || ann[rewrite.AnnotationRunnerID] != "" {
		t.Fatalf("the deployed dry run should hold a placeholder without a runner id (runner id %q)", ann[rewrite.AnnotationRunnerID])
	}
	for i := 0; i < 2; i++ {
		res := helm.Run(env, args...)
		noLeaks(t, res.Stderr, gl.secrets()...)
		if res.Err != nil {
			t.Fatalf("%v\n%s", res.Err, res.Stderr)
		}
	}
	runners := gl.Runners()
	if tok, _, _ := liveToken(t, cluster, ns, "rel-gitlab-runner"); len(runners) != 1 || tok != runners[0].Token {
		t.Fatalf("after two real upgrades: %d runners, live token real %v", len(runners), len(runners) == 1 && tok == runners[0].Token)
	}
}

// TestRefusedClusterFallsBackToStateFile: in a CI job whose service account may not read Secrets,
// a state file keeps the tokens and the refusal is a warning; --no-cluster skips the cluster.
func TestRefusedClusterFallsBackToStateFile(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	cs, err := cluster.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "ci-job"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubeconfig := serviceAccountKubeconfig(t, cluster, ns, "ci-job")

	gl := newGitLab(t)
	manifests := legacyRender(t, testenv.NewHelm(t, 3), gl.group.RunnersToken, ns)
	env := append(gl.apiEnv(), "KUBECONFIG="+kubeconfig, "RUNNER_MIGRATE_DEPLOYS=true")
	_, stderr, err := runBinary(testenv.Binary(t), env, manifests, "post-render")
	if err == nil || !bytes.Contains(stderr, []byte("get Secrets")) {
		t.Fatalf("without a state file a refused read must fail and say what to grant: %v\n%s", err, stderr)
	}
	state := filepath.Join(t.TempDir(), "state.yaml")
	for _, args := range [][]string{{"post-render", "--state-file", state}, {"post-render", "--state-file", state, "--no-cluster"}} {
		out, stderr, err := runBinary(testenv.Binary(t), env, manifests, args...)
		noLeaks(t, stderr, gl.secrets()...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr)
		}
		refused := bytes.Contains(stderr, []byte("carrying on with the state file"))
		if noCluster := len(args) == 4; refused == noCluster {
			t.Fatalf("%v: warned about the cluster %v:\n%s", args, refused, stderr)
		}
		if runners := gl.Runners(); len(runners) != 1 || readRunnerPod(t, out).secrets["runner-token"] != runners[0].Token {
			t.Fatalf("%v: %d runners", args, len(runners))
		}
	}
}

// TestInstallCreatesNamespace: helm upgrade --install --create-namespace renders before the namespace
// exists, so there is no Lease or token Secret to write yet: the install still goes through, and the
// next upgrade reuses the runner and keeps its token in the token Secret.
func TestInstallCreatesNamespace(t *testing.T) {
	cluster, base := testenv.Cluster(t)
	ns := base + "-new"
	gl := newGitLab(t)
	helm := testenv.NewHelm(t, 3)
	args := []string{"upgrade", "--install", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"),
		"-f", registrationValues(t, gl.group.RunnersToken), "-n", ns, "--create-namespace", "--post-renderer", testenv.Binary(t)}
	for i := 0; i < 2; i++ {
		res := helm.Run(append(gl.apiEnv(), "KUBECONFIG="+cluster.Kubeconfig), args...)
		noLeaks(t, res.Stderr, gl.secrets()...)
		if res.Err != nil {
			t.Fatalf("upgrade %d: %v\n%s", i+1, res.Err, res.Stderr)
		}
	}
	runners := gl.Runners()
	tok, _, ann := liveToken(t, cluster, ns, "rel-gitlab-runner")
	if len(runners) != 1 || tok != runners[0].Token {
		t.Fatalf("%d runners; the live Secret does not hold the runner's token", len(runners))
	}
	if !secretExists(t, cluster, ns, kube.TokenSecretName("rel", ann[rewrite.AnnotationFingerprint])) {
		t.Fatal("the second upgrade did not keep the token in the token Secret")
	}
}
