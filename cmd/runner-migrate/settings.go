package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
)

// gitlabFlags are the settings that reach a GitLab. Every command that calls GitLab takes them,
// so a setting written once (flag or RUNNER_MIGRATE_* variable) means the same everywhere.
type gitlabFlags struct {
	gitlabURL       string
	allowedHosts    []string
	allowHTTP       bool
	gitlabTokenFile string
	caFile          string
	insecure        bool
}

func (g *gitlabFlags) bind(f *pflag.FlagSet) {
	f.StringVar(&g.gitlabURL, "gitlab-url", "", "the GitLab the access token is sent to (its API address, e.g. https://gitlab.example.com)")
	f.StringSliceVar(&g.allowedHosts, "allowed-host", nil, "other names (host or host:port) of the same GitLab that runners may register with; repeat or comma-separate")
	f.BoolVar(&g.allowHTTP, "allow-http", false, "allow a plain-http GitLab address (the access token travels in clear text)")
	f.StringVar(&g.gitlabTokenFile, "gitlab-token-file", "", "file holding the GitLab access token (instead of "+envGitLabToken+")")
	f.StringVar(&g.caFile, "ca-file", "", "PEM file of CA certificates for a GitLab behind a private CA")
	f.BoolVar(&g.insecure, "insecure-skip-tls-verify", false, "do not verify GitLab's TLS certificate (unsafe)")
}

// accessToken is the GitLab access token from GITLAB_TOKEN or --gitlab-token-file; zero when
// neither is set.
func (g *gitlabFlags) accessToken() (token.Token, error) {
	pat := token.New(os.Getenv(envGitLabToken))
	if g.gitlabTokenFile == "" {
		return pat, nil
	}
	if !pat.IsZero() {
		return token.Token{}, fmt.Errorf("both %s and --gitlab-token-file are set; give the access token one way", envGitLabToken)
	}
	return tokensource.ReadTokenFile(g.gitlabTokenFile)
}

func (g *gitlabFlags) destination() gitlab.Destination {
	return gitlab.Destination{URL: g.gitlabURL, AllowedHosts: g.allowedHosts, AllowHTTP: g.allowHTTP}
}

func (g *gitlabFlags) clientConfig(pat token.Token) gitlab.ClientConfig {
	return gitlab.ClientConfig{Token: pat, CAFile: g.caFile, Insecure: g.insecure}
}

// scopeFlags say where new runners live in GitLab.
type scopeFlags struct {
	runnerType     string
	group, project string
}

func (s *scopeFlags) bind(f *pflag.FlagSet) {
	f.StringVar(&s.runnerType, "runner-type", "", "instance, group or project (default: from the registration token the release used)")
	f.StringVar(&s.group, "group", "", "group path or ID, with --runner-type group")
	f.StringVar(&s.project, "project", "", "project path or ID, with --runner-type project")
}

func (s *scopeFlags) scopeConfig() gitlab.ScopeConfig {
	return gitlab.ScopeConfig{RunnerType: s.runnerType, Group: s.group, Project: s.project}
}

// clusterFlags choose the cluster and namespace the way Helm's global flags do.
type clusterFlags struct {
	kubeconfig  string
	kubeContext string
	namespace   string
}

// bind adds the flags; namespaceUsage says what -n means to the command.
func (c *clusterFlags) bind(f *pflag.FlagSet, namespaceUsage string) {
	f.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster holding the runner tokens (default: helm's --kubeconfig, else KUBECONFIG)")
	f.StringVar(&c.kubeContext, "kube-context", "", "kube context of that cluster (default: helm's --kube-context, else HELM_KUBECONTEXT, else the current one)")
	f.StringVarP(&c.namespace, "namespace", "n", "", namespaceUsage)
}

// layers are the sources of cluster settings in order of precedence: runner-migrate's flags (and
// RUNNER_MIGRATE_* variables), then extra (the Helm command line a post-renderer runs under), then
// what Helm passes a plugin (HELM_KUBECONTEXT, HELM_NAMESPACE, HELM_KUBE*); kube.Resolve falls back
// to the kubeconfig's current context.
func (c *clusterFlags) layers(extra ...kube.Layer) []kube.Layer {
	layers := []kube.Layer{{Name: "runner-migrate's flags", Settings: kube.Settings{Kubeconfig: c.kubeconfig, Context: c.kubeContext, Namespace: c.namespace}}}
	layers = append(layers, extra...)
	return append(layers, helmEnvLayer())
}
