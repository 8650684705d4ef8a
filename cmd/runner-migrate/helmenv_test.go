package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/runner-migrate/runner-migrate/internal/kube"
)

// TestClusterOptions: what Helm passes a plugin in the environment chooses the cluster, and the
// command's own flags win over it.
func TestClusterOptions(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "https://a.example:6443"}}
- {name: b, cluster: {server: "https://b.example:6443"}}
users: [{name: u, user: {token: not-a-real-token}}]
contexts:
- {name: ctx-a, context: {cluster: a, user: u, namespace: team-a}}
- {name: ctx-b, context: {cluster: b, user: u, namespace: team-b}}
current-context: ctx-a
`), 0o600)
	t.Setenv("KUBECONFIG", kubeconfig) // what helm --kubeconfig sets
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	helmEnv := map[string]string{"HELM_NAMESPACE": "ci", "HELM_KUBECONTEXT": "ctx-b"}
	kubeFlags := map[string]string{"HELM_KUBEAPISERVER": "https://api.example", "HELM_KUBETOKEN": "kube-bearer",
		"HELM_KUBETLS_SERVER_NAME": "api.internal", "HELM_KUBEINSECURE_SKIP_TLS_VERIFY": "true", "HELM_KUBEASUSER": "alice", "HELM_KUBEASGROUPS": "ops,dev"}
	type result struct {
		Host, Context, Namespace, Token, ServerName, AsUser string
		Insecure                                            bool
		AsGroups                                            []string
	}
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		want  result
	}{
		{name: "the current context", want: result{Host: "https://a.example:6443", Context: "ctx-a", Namespace: "team-a", Token: "not-a-real-token"}},
		{name: "helm --kube-context -n", env: helmEnv, want: result{Host: "https://b.example:6443", Context: "ctx-b", Namespace: "ci", Token: "not-a-real-token"}},
		{name: "flags win", env: helmEnv, flags: []string{"--kube-context", "ctx-a", "-n", "build"},
			want: result{Host: "https://a.example:6443", Context: "ctx-a", Namespace: "build", Token: "not-a-real-token"}},
		{name: "helm --kube-apiserver --kube-token ...", env: kubeFlags, want: result{Host: "https://api.example", Context: "ctx-a", Namespace: "team-a",
			Token: "kube-bearer", ServerName: "api.internal", Insecure: true, AsUser: "alice", AsGroups: []string{"ops", "dev"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"HELM_NAMESPACE", "HELM_KUBECONTEXT", "HELM_KUBEAPISERVER", "HELM_KUBETOKEN", "HELM_KUBECAFILE",
				"HELM_KUBETLS_SERVER_NAME", "HELM_KUBEINSECURE_SKIP_TLS_VERIFY", "HELM_KUBEASUSER", "HELM_KUBEASGROUPS"} {
				t.Setenv(k, tt.env[k])
			}
			var c clusterFlags
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			c.bind(fs, "namespace")
			if err := fs.Parse(tt.flags); err != nil {
				t.Fatal(err)
			}
			target, err := kube.Resolve(c.layers()...)
			if err != nil {
				t.Fatal(err)
			}
			cfg := target.Config
			got := result{cfg.Host, target.Context, target.Namespace, cfg.BearerToken, cfg.ServerName, cfg.Impersonate.UserName, cfg.Insecure, cfg.Impersonate.Groups}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestDebugFlag: HELM_DEBUG (helm --debug) and --debug turn debug messages on, nothing else does.
func TestDebugFlag(t *testing.T) {
	tests := []struct {
		env   string
		args  []string
		debug bool
	}{
		{"", []string{"version"}, false},
		{"false", []string{"version"}, false}, // Helm 3 passes HELM_DEBUG=false to every plugin
		{"true", []string{"version"}, true},
		{"", []string{"version", "--debug"}, true},
	}
	for _, tt := range tests {
		t.Setenv("HELM_DEBUG", tt.env)
		t.Setenv("HELM_BIN", "")
		debugLog = io.Discard
		root := newRootCmd()
		var stdout, stderr bytes.Buffer
		root.SetOut(&stdout)
		root.SetErr(&stderr)
		root.SetArgs(tt.args)
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(stderr.String(), "runner-migrate: debug: "); got != tt.debug {
			t.Errorf("HELM_DEBUG=%q %q: debug output %v, want %v:\n%s", tt.env, tt.args, got, tt.debug, stderr.String())
		}
		if !strings.HasPrefix(stdout.String(), "version: "+version+"\ncommit: ") {
			t.Errorf("version printed:\n%s", stdout.String())
		}
	}
}
