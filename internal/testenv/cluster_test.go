package testenv_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/testenv"
)

func TestClusterHelmInstall(t *testing.T) {
	c, ns := testenv.Cluster(t)
	helm := testenv.NewHelm(t, 3)
	env := []string{"KUBECONFIG=" + c.Kubeconfig}
	args := []string{"upgrade", "--install", "rel", "testdata/charts/gitlab-runner-0.86.0",
		"-f", "testdata/values/authenticated.yaml", "-n", ns, "--wait=false"}

	begin := time.Now()
	if r := helm.Run(env, args...); r.Err != nil {
		t.Fatalf("helm upgrade --install: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	t.Logf("helm install took %v", time.Since(begin).Round(time.Millisecond))

	cs, err := c.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.AppsV1().Deployments(ns).Get(ctx, "rel-gitlab-runner", metav1.GetOptions{}); err != nil {
		t.Errorf("deployment: %v", err)
	}
	secret, err := cs.CoreV1().Secrets(ns).Get(ctx, "rel-gitlab-runner", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("secret: %v", err)
	}
	if got := string(secret.Data["runner-token"]); got != "glrt-fixtureAuthenticationToken0001" {
		t.Errorf("runner-token = %q, want the fixture's authentication token", got)
	}

	begin = time.Now()
	if r := helm.Run(env, args...); r.Err != nil {
		t.Fatalf("second helm upgrade: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	t.Logf("helm upgrade took %v", time.Since(begin).Round(time.Millisecond))
	if _, err := cs.CoreV1().Secrets(ns).Get(ctx, "sh.helm.release.v1.rel.v2", metav1.GetOptions{}); err != nil {
		t.Errorf("release secret of revision 2: %v", err)
	}
	r := helm.Run(env, "history", "rel", "-n", ns, "-o", "json")
	if r.Err != nil {
		t.Fatalf("helm history: %v\n%s", r.Err, r.Stderr)
	}
	if !strings.Contains(string(r.Stdout), `"revision":2`) {
		t.Errorf("helm history has no revision 2: %s", r.Stdout)
	}
}

// TestClusterShared checks that a second test gets the same cluster and a namespace of its own.
func TestClusterShared(t *testing.T) {
	c1, ns1 := testenv.Cluster(t)
	var c2 = c1
	var ns2 string
	t.Run("sub", func(t *testing.T) { c2, ns2 = testenv.Cluster(t) })
	if c1 != c2 {
		t.Error("a second call started another cluster")
	}
	if ns1 == ns2 {
		t.Errorf("both calls got namespace %s", ns1)
	}
	if !strings.HasPrefix(ns2, "testclustershared-sub-") {
		t.Errorf("namespace %q is not named after the test", ns2)
	}
}
