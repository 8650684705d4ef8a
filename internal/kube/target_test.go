package kube

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

func TestTargetConfig(t *testing.T) {
	dir := t.TempDir()
	fromEnv, explicit := filepath.Join(dir, "env"), filepath.Join(dir, "explicit")
	os.WriteFile(fromEnv, []byte(kubeconfig), 0o600)
	other := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://explicit.example:6443"}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: team-c}}]
current-context: c
`
	os.WriteFile(explicit, []byte(other), 0o600)
	t.Setenv("KUBECONFIG", fromEnv)
	t.Setenv("HOME", dir)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")

	tests := []struct {
		name       string
		target     Target
		host, ns   string
		bearer     string
		insecure   bool
		serverName string
		asUser     string
		asGroups   []string
	}{
		{name: "KUBECONFIG, current context", host: "https://a.example:6443", ns: "team-a", bearer: "not-a-real-token"},
		{name: "context", target: Target{Context: "b"}, host: "https://b.example:6443", ns: "team-b", bearer: "not-a-real-token"},
		{name: "namespace wins over the context's", target: Target{Context: "b", Namespace: "ci"}, host: "https://b.example:6443", ns: "ci", bearer: "not-a-real-token"},
		{name: "--kubeconfig wins over KUBECONFIG", target: Target{Kubeconfig: explicit}, host: "https://explicit.example:6443", ns: "team-c", bearer: "not-a-real-token"},
		{
			name:   "Helm's --kube-* flags",
			target: Target{APIServer: "https://api.example", Token: token.New("kube-bearer"), TLSServerName: "api.internal", Insecure: true, AsUser: "alice", AsGroups: []string{"ops", "dev"}},
			host:   "https://api.example", ns: "team-a", bearer: "kube-bearer", insecure: true, serverName: "api.internal", asUser: "alice", asGroups: []string{"ops", "dev"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ns, err := tt.target.Config()
			if err != nil {
				t.Fatal(err)
			}
			got := []any{cfg.Host, ns, cfg.BearerToken, cfg.Insecure, cfg.ServerName, cfg.Impersonate.UserName, cfg.Impersonate.Groups}
			want := []any{tt.host, tt.ns, tt.bearer, tt.insecure, tt.serverName, tt.asUser, tt.asGroups}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("host, namespace, token, insecure, server name, user, groups = %v, want %v", got, want)
			}
		})
	}

	t.Run("API server without a kubeconfig", func(t *testing.T) {
		t.Setenv("KUBECONFIG", filepath.Join(dir, "none"))
		cfg, _, err := Target{APIServer: "https://api.example", Token: token.New("kube-bearer")}.Config()
		if err != nil || cfg.Host != "https://api.example" {
			t.Fatalf("got %v, %v; want the API server of --kube-apiserver", cfg, err)
		}
	})
	t.Run("missing --kubeconfig file", func(t *testing.T) {
		if _, _, err := (Target{Kubeconfig: filepath.Join(dir, "missing")}).Config(); err == nil {
			t.Fatal("a --kubeconfig that does not exist must be an error")
		}
	})
}
