package kube

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "https://a.example:6443"}}
- {name: b, cluster: {server: "https://b.example:6443"}}
users:
- {name: u, user: {token: not-a-real-token}}
contexts:
- {name: a, context: {cluster: a, user: u, namespace: team-a}}
- {name: b, context: {cluster: b, user: u, namespace: team-b}}
current-context: a
`

func TestConfigHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", path)
	tests := []struct{ context, host, namespace string }{
		{"", "https://a.example:6443", "team-a"},
		{"b", "https://b.example:6443", "team-b"},
	}
	for _, tt := range tests {
		cfg, ns, err := Config(tt.context)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Host != tt.host || ns != tt.namespace {
			t.Errorf("context %q: host %s namespace %s, want %s %s", tt.context, cfg.Host, ns, tt.host, tt.namespace)
		}
	}
	if _, _, err := Config("missing"); err == nil {
		t.Error("an unknown context must be an error")
	}
}

func TestNoCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if _, _, err := Config(""); !errors.Is(err, ErrNoCluster) {
		t.Fatalf("want ErrNoCluster, got %v", err)
	}
}

// TestLookupSharedSpec: of two workloads sharing a runner spec, the first not deployed yet, the
// second's live Secret holds the token: it is found.
func TestLookupSharedSpec(t *testing.T) {
	manifest := `kind: Deployment
metadata: {name: a, namespace: ci}
spec: {template: {spec: {containers: [{name: r, command: [/configmaps/entrypoint]}], volumes: [{name: s, projected: {sources: [{secret: {name: a-secret, items: [{key: runner-token, path: runner-token}]}}]}}]}}}
---
kind: Deployment
metadata: {name: b, namespace: ci}
spec: {template: {spec: {containers: [{name: r, command: [/configmaps/entrypoint]}], volumes: [{name: s, projected: {sources: [{secret: {name: b-secret, items: [{key: runner-token, path: runner-token}]}}]}}]}}}
`
	s, err := rewrite.Read([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if err := (rewrite.Detect{}).Filter(s); err != nil || len(s.Sites) != 2 {
		t.Fatalf("detect: %v, %d sites", err, len(s.Sites))
	}
	live := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "b-auth-token", Namespace: "ci", Annotations: map[string]string{rewrite.AnnotationRunnerID: "42"}},
		Data:       map[string][]byte{rewrite.KeyRunnerToken: []byte("glrt-live"), rewrite.KeyRegistrationToken: nil},
	}
	store := &LiveSecrets{Client: fake.NewSimpleClientset(live)}
	rec, ok, err := store.Lookup(context.Background(), tokensource.Request{Sites: s.Sites})
	if err != nil || !ok || rec.RunnerID != 42 || rec.Token.Reveal() != "glrt-live" {
		t.Fatalf("Lookup = %+v, %v, %v; want runner 42 from b's Secret", rec, ok, err)
	}
}
