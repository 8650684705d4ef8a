package main

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/token"
)

// TestClusterOptions: what Helm passes a plugin in the environment is the default, flags win.
func TestClusterOptions(t *testing.T) {
	helmEnv := map[string]string{
		"HELM_NAMESPACE": "team-a", "HELM_KUBECONTEXT": "ctx-a",
		"HELM_KUBEAPISERVER": "https://api.example", "HELM_KUBETOKEN": "kube-bearer", "HELM_KUBECAFILE": "/ca.pem",
		"HELM_KUBETLS_SERVER_NAME": "api.internal", "HELM_KUBEINSECURE_SKIP_TLS_VERIFY": "true",
		"HELM_KUBEASUSER": "alice", "HELM_KUBEASGROUPS": "ops,dev",
	}
	fromHelm := kube.Target{Context: "ctx-a", Namespace: "team-a", APIServer: "https://api.example", Token: token.New("kube-bearer"),
		CAFile: "/ca.pem", TLSServerName: "api.internal", Insecure: true, AsUser: "alice", AsGroups: []string{"ops", "dev"}}
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		want  kube.Target
	}{
		{name: "nothing set"},
		{name: "Helm's environment", env: helmEnv, want: fromHelm},
		{name: "flags win", env: helmEnv, flags: []string{"--kubeconfig", "/kc", "--kube-context", "ctx-b", "-n", "ci"},
			want: func() kube.Target {
				w := fromHelm
				w.Kubeconfig, w.Context, w.Namespace = "/kc", "ctx-b", "ci"
				return w
			}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"HELM_NAMESPACE", "HELM_KUBECONTEXT", "HELM_KUBEAPISERVER", "HELM_KUBETOKEN", "HELM_KUBECAFILE",
				"HELM_KUBETLS_SERVER_NAME", "HELM_KUBEINSECURE_SKIP_TLS_VERIFY", "HELM_KUBEASUSER", "HELM_KUBEASGROUPS"} {
				t.Setenv(k, tt.env[k])
			}
			c := newClusterOptions()
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			c.addFlags(fs)
			if err := fs.Parse(tt.flags); err != nil {
				t.Fatal(err)
			}
			if got := c.target(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("target %#v, want %#v", got, tt.want)
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
