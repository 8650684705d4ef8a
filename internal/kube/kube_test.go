package kube

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
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
