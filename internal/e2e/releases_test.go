package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/localcluster"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// extraNamespace makes a second namespace for a test, deleted at its end.
func extraNamespace(t *testing.T, c *localcluster.Cluster, name string) {
	t.Helper()
	cs, err := c.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) })
}

func createSecret(t *testing.T, c *localcluster.Cluster, ns, name string, data map[string]string) {
	t.Helper()
	cs, err := c.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	if _, err := cs.CoreV1().Secrets(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

type jsonReport struct {
	Findings []struct {
		RuleID, Severity, File, Path, Message string
		Line                                  int
	}
	Summary struct{ Error, Warning, Info int }
}

// TestLintDeployedReleases installs releases with the real Helm CLIs (a legacy one, upgraded once;
// one whose values runner-migrate migrated, by Helm 4; one in another namespace through Helm's
// ConfigMap driver, reading a user Secret that holds a registration token; a release that is no
// runner) and lints them from the cluster by --release, -n, --deployed with HELM_NAMESPACE (as Helm
// runs plugins), and --all-namespaces.
func TestLintDeployedReleases(t *testing.T) {
	cluster, ns := testenv.Cluster(t)
	other := ns + "-b"
	extraNamespace(t, cluster, other)
	env := []string{"KUBECONFIG=" + cluster.Kubeconfig}
	helm3, helm4 := testenv.NewHelm(t, 3), testenv.NewHelm(t, 4)
	install := func(h *testenv.Helm, extra []string, args ...string) {
		t.Helper()
		if res := h.Run(append(env, extra...), args...); res.Err != nil {
			t.Fatalf("helm %v: %v\n%s", args, res.Err, res.Stderr)
		}
	}
	install(helm3, nil, "install", "legacy", chartPath("gitlab-runner-0.71.0"), "-n", ns, "-f", valuesPath("legacy-minimal"))
	install(helm3, nil, "upgrade", "legacy", chartPath("gitlab-runner-0.71.0"), "-n", ns, "-f", valuesPath("legacy"))
	createSecret(t, cluster, ns, rewrite.AddedSecretName("migrated-gitlab-runner"), map[string]string{"runner-token": authToken, "runner-registration-token": ""})
	install(helm4, nil, "install", "migrated", chartPath("gitlab-runner-0.71.0"), "-n", ns, "--set", "gitlabUrl=https://gitlab.example.com",
		"--set", "runners.secret="+rewrite.AddedSecretName("migrated-gitlab-runner"))
	install(helm3, nil, "install", "quiet", chartPath("switched-off"), "-n", ns)
	createSecret(t, cluster, other, "my-runner-secret", map[string]string{"runner-token": "", "runner-registration-token": registrationToken})
	install(helm3, []string{"HELM_DRIVER=configmap"}, "install", "external", chartPath("gitlab-runner-0.86.0"), "-n", other, "-f", valuesPath("external-secret"))

	lint := func(extraEnv []string, args ...string) (jsonReport, string, int) {
		t.Helper()
		cmd := exec.Command(testenv.Binary(t), append([]string{"lint", "--format", "json"}, args...)...)
		cmd.Env = append(append(cleanEnv(), env...), extraEnv...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := exitCode(err)
		if code < 0 {
			t.Fatal(err)
		}
		noLeaks(t, append(stdout.Bytes(), stderr.Bytes()...))
		var rep jsonReport
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil && stdout.Len() > 0 {
			t.Fatalf("lint %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
		}
		return rep, stderr.String(), code
	}
	byFile := func(rep jsonReport) map[string][]string {
		out := map[string][]string{}
		for _, f := range rep.Findings {
			out[f.File] = append(out[f.File], f.RuleID+" "+f.Severity+" "+f.Path)
		}
		return out
	}
	legacyLabel := "release " + ns + "/legacy (revision 2, chart gitlab-runner-0.71.0)"
	externalLabel := "release " + other + "/external (revision 1, chart gitlab-runner-0.86.0)"

	t.Run("one release", func(t *testing.T) {
		rep, stderr, code := lint(nil, "--release", "legacy", "-n", ns)
		got := byFile(rep)[legacyLabel]
		if code != 1 || len(byFile(rep)) != 1 || !strings.Contains(stderr, "linting release legacy in namespace "+ns) {
			t.Fatalf("exit %d, findings %v\nstderr: %s", code, byFile(rep), stderr)
		}
		for _, want := range []string{"RM001 error values: runnerRegistrationToken", "RM002 warning values: runners.tags",
			"RM007 error manifest: Secret " + ns + "/legacy-gitlab-runner runner-registration-token"} {
			if !contains(got, want) {
				t.Errorf("missing %q in %v", want, got)
			}
		}
	})
	t.Run("a namespace: the migrated release and the one without a runner have no finding", func(t *testing.T) {
		rep, stderr, code := lint(nil, "-n", ns)
		files := byFile(rep)
		if code != 1 || len(files) != 1 || files[legacyLabel] == nil || !strings.Contains(stderr, "3 deployed release(s)") {
			t.Fatalf("exit %d, findings %v\nstderr: %s", code, files, stderr)
		}
		rep, _, code = lint(nil, "--release", "migrated", "-n", ns)
		if code != 0 || len(rep.Findings) != 0 {
			t.Fatalf("the migrated release: exit %d, %v", code, rep.Findings)
		}
	})
	t.Run("as a Helm plugin: the namespace from HELM_NAMESPACE", func(t *testing.T) {
		rep, _, code := lint([]string{"HELM_NAMESPACE=" + other}, "--deployed")
		got := byFile(rep)[externalLabel]
		if code != 1 || len(byFile(rep)) != 1 || !contains(got, "RM007 error manifest: Deployment "+other+"/external-gitlab-runner Secret my-runner-secret") {
			t.Fatalf("exit %d, findings %v", code, byFile(rep))
		}
		for _, f := range rep.Findings {
			if f.RuleID == "RM004" {
				t.Errorf("the Secret was read from the cluster, yet lint says it cannot tell: %+v", f)
			}
		}
	})
	t.Run("all namespaces", func(t *testing.T) {
		rep, _, code := lint(nil, "--all-namespaces")
		files := byFile(rep)
		if code != 1 || files[legacyLabel] == nil || files[externalLabel] == nil {
			t.Fatalf("exit %d, findings %v", code, files)
		}
		for file := range files {
			if strings.Contains(file, "/migrated ") || strings.Contains(file, "/quiet ") {
				t.Errorf("findings for %s", file)
			}
		}
	})
	t.Run("mistakes", func(t *testing.T) {
		if _, stderr, code := lint(nil, "--release", "nope", "-n", ns); code != 2 || !strings.Contains(stderr, `no deployed release "nope"`) {
			t.Errorf("an unknown release: exit %d, %s", code, stderr)
		}
		if _, stderr, code := lint(nil, "--all-namespaces", "-n", ns); code != 2 || !strings.Contains(stderr, "leave out -n") {
			t.Errorf("-A with -n: exit %d, %s", code, stderr)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
