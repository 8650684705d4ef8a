package helmcall

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		argv   []string
		ok     bool
		want   Call
		deploy bool
	}{
		{"upgrade with context and namespace",
			[]string{"/usr/local/bin/helm", "upgrade", "--install", "--kube-context", "prod", "-n", "ci", "rel", "gitlab/gitlab-runner", "-f", "v.yaml", "--post-renderer", "runner-migrate"},
			true, Call{Command: "upgrade", Release: "rel", Kube: KubeFlags{Context: "prod", Namespace: "ci"}}, true},
		{"flags with = and attached short values",
			[]string{"helm", "install", "--kube-context=b", "-nci", "--kubeconfig=/k", "--kube-apiserver", "https://x:6443", "--kube-token", "secret",
				"--kube-as-user", "me", "--kube-as-group", "g1", "--kube-as-group", "g2", "--kube-ca-file", "/ca", "--kube-insecure-skip-tls-verify",
				"--kube-tls-server-name", "n", "rel", "./chart"},
			true, Call{Command: "install", Release: "rel", Kube: KubeFlags{Kubeconfig: "/k", Context: "b", Namespace: "ci", APIServer: "https://x:6443",
				Token: "secret", AsUser: "me", AsGroups: []string{"g1", "g2"}, CAFile: "/ca", Insecure: true, TLSServerName: "n"}}, true},
		{"global flags before the command", []string{"helm", "--namespace", "ci", "--debug", "upgrade", "rel", "chart", "--wait", "--atomic"},
			true, Call{Command: "upgrade", Release: "rel", Kube: KubeFlags{Namespace: "ci"}}, true},
		{"dry run", []string{"helm", "upgrade", "rel", "chart", "--dry-run"}, true, Call{Command: "upgrade", Release: "rel", DryRun: true}, false},
		{"dry run server", []string{"helm", "install", "rel", "chart", "--dry-run=server"}, true, Call{Command: "install", Release: "rel", DryRun: true}, false},
		{"template", []string{"helm", "template", "rel", "chart", "--set", "a=b"}, true, Call{Command: "template", Release: "rel"}, false},
		{"template without a name", []string{"helm", "template", "chart"}, true, Call{Command: "template"}, false},
		{"install --generate-name", []string{"helm", "install", "-g", "chart"}, true, Call{Command: "install"}, true},
		{"helm3 binary", []string{"/opt/helm3", "upgrade", "r", "c"}, true, Call{Command: "upgrade", Release: "r"}, true},
		{"not helm", []string{"/bin/bash", "upgrade", "r", "c"}, false, Call{}, false},
		{"helmfile is not helm", []string{"helmfile", "apply"}, false, Call{}, false},
		{"no command", []string{"helm"}, false, Call{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse(tt.argv)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse = %+v, want %+v", got, tt.want)
			}
			if got.Deploys() != tt.deploy {
				t.Fatalf("Deploys = %v, want %v", got.Deploys(), tt.deploy)
			}
		})
	}
}

// TestParent: run under a test binary, the parent is go test, not Helm; HELM_PLUGIN_NAME of a
// plugin such as helm-diff says the command does not deploy.
func TestParent(t *testing.T) {
	t.Setenv("HELM_PLUGIN_NAME", "")
	if c, ok := Parent(); ok {
		t.Fatalf("the test's parent was read as Helm: %+v", c)
	}
	t.Setenv("HELM_PLUGIN_NAME", "diff")
	c, ok := Parent()
	if !ok || c.Command != "diff" || c.Deploys() {
		t.Fatalf("under helm diff: %+v %v", c, ok)
	}
	t.Setenv("HELM_PLUGIN_NAME", "runner-migrate-postrender")
	if _, ok := Parent(); ok {
		t.Fatal("runner-migrate's own plugin name is not a plugin running it")
	}
}
