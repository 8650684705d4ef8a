package kube

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

// Target names the cluster and namespace to talk to, with the settings Helm's global flags give
// (--kubeconfig, --kube-context, -n, --kube-apiserver, --kube-token, ...).
type Target struct {
	// Kubeconfig is one kubeconfig file; empty means KUBECONFIG (a path list) or ~/.kube/config.
	Kubeconfig string
	// Context is the kubeconfig context; empty means the current one.
	Context string
	// Namespace overrides the context's namespace.
	Namespace string

	APIServer     string
	Token         token.Token
	CAFile        string
	TLSServerName string
	Insecure      bool
	AsUser        string
	AsGroups      []string
}

// Config loads the client configuration the way Helm and kubectl do: the kubeconfig with t's
// overrides, or the in-cluster service account when there is no kubeconfig. It returns the namespace
// too: t.Namespace, else the context's (empty when neither says one).
func (t Target) Config() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = t.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: t.Context}
	overrides.Context.Namespace = t.Namespace
	overrides.ClusterInfo.Server = t.APIServer
	overrides.ClusterInfo.CertificateAuthority = t.CAFile
	overrides.ClusterInfo.TLSServerName = t.TLSServerName
	overrides.ClusterInfo.InsecureSkipTLSVerify = t.Insecure
	overrides.AuthInfo.Token = t.Token.Reveal()
	overrides.AuthInfo.Impersonate = t.AsUser
	overrides.AuthInfo.ImpersonateGroups = t.AsGroups
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		if in, ierr := rest.InClusterConfig(); ierr == nil {
			return in, t.Namespace, nil
		}
		return nil, "", ErrNoCluster
	}
	if err != nil {
		return nil, "", fmt.Errorf("loading the kubeconfig: %w", err)
	}
	ns, _, _ := cc.Namespace()
	return cfg, ns, nil
}
