// Package kube is runner-migrate's view of the Kubernetes cluster that holds runner tokens: which
// cluster and namespace (the way Helm chooses them), the live Secrets runner pods read, the Secrets
// runner-migrate keeps tokens in between runs, and the Leases that serialise runs of one release.
package kube

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ErrNoCluster means no kubeconfig (nor in-cluster service account) names a cluster.
var ErrNoCluster = errors.New("no Kubernetes cluster is configured (KUBECONFIG, ~/.kube/config or in-cluster)")

// Settings choose a cluster and namespace, as Helm's global flags do. Empty fields are unset.
type Settings struct {
	Kubeconfig    string
	Context       string
	Namespace     string
	APIServer     string
	Token         string // never printed
	AsUser        string
	AsGroups      []string
	CAFile        string
	Insecure      bool
	TLSServerName string
}

// Layer is one source of settings ("--kube-context", "helm upgrade (pid 12)", "HELM_KUBECONTEXT").
type Layer struct {
	Name     string
	Settings Settings
}

// Target is the cluster and namespace runner-migrate talks to, and where each came from.
type Target struct {
	Config *rest.Config
	// Namespace is the namespace of objects the manifests leave without one: the first layer's that
	// sets one, else the kube context's, else "default".
	Namespace       string
	NamespaceSource string
	Context         string // the kubeconfig context used; "" for in-cluster or an explicit server
	ClusterSource   string // which layer chose the cluster ("the current kube context" when none did)
	// FromCurrentContext: nothing but the kubeconfig's current context chose the cluster.
	FromCurrentContext bool
}

// Describe says which cluster and namespace are used and why, for stderr.
func (t *Target) Describe() string {
	cluster := t.Config.Host
	if t.Context != "" {
		cluster += " (kube context " + t.Context + ")"
	}
	return fmt.Sprintf("cluster %s from %s; namespace %s from %s", cluster, t.ClusterSource, t.Namespace, t.NamespaceSource)
}

// merge fills each unset setting from the first layer that sets it, and records which layer chose
// the cluster and the namespace.
func merge(layers []Layer) (s Settings, clusterFrom, namespaceFrom string) {
	pick := func(dst *string, v, from string, src *string) {
		if *dst == "" && v != "" {
			*dst = v
			if src != nil && *src == "" {
				*src = from
			}
		}
	}
	for _, l := range layers {
		v := l.Settings
		pick(&s.Kubeconfig, v.Kubeconfig, l.Name, &clusterFrom)
		pick(&s.Context, v.Context, l.Name, &clusterFrom)
		pick(&s.APIServer, v.APIServer, l.Name, &clusterFrom)
		pick(&s.Namespace, v.Namespace, l.Name, &namespaceFrom)
		pick(&s.Token, v.Token, l.Name, nil)
		pick(&s.AsUser, v.AsUser, l.Name, nil)
		pick(&s.CAFile, v.CAFile, l.Name, nil)
		pick(&s.TLSServerName, v.TLSServerName, l.Name, nil)
		if len(s.AsGroups) == 0 {
			s.AsGroups = v.AsGroups
		}
		s.Insecure = s.Insecure || v.Insecure
	}
	return s, clusterFrom, namespaceFrom
}

// Resolve loads the client configuration the way Helm and kubectl do, from the layers in order of
// precedence: an explicit kubeconfig or KUBECONFIG or ~/.kube/config, the context the layers name
// (else the current one), overrides for server, credentials and TLS, or the in-cluster service
// account when no kubeconfig exists.
func Resolve(layers ...Layer) (*Target, error) {
	s, clusterFrom, namespaceFrom := merge(layers)
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = s.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{
		CurrentContext: s.Context,
		AuthInfo:       clientcmdapi.AuthInfo{Token: s.Token, Impersonate: s.AsUser, ImpersonateGroups: s.AsGroups},
		ClusterInfo: clientcmdapi.Cluster{Server: s.APIServer, CertificateAuthority: s.CAFile,
			InsecureSkipTLSVerify: s.Insecure, TLSServerName: s.TLSServerName},
		Context: clientcmdapi.Context{Namespace: s.Namespace},
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	t := &Target{ClusterSource: clusterFrom, Namespace: s.Namespace, NamespaceSource: namespaceFrom}
	cfg, err := cc.ClientConfig()
	switch {
	case clientcmd.IsEmptyConfig(err) && s.APIServer == "":
		in, ierr := rest.InClusterConfig()
		if ierr != nil {
			return nil, ErrNoCluster
		}
		t.Config, t.ClusterSource = in, "the pod's service account (in-cluster)"
		if t.Namespace == "" {
			t.Namespace, t.NamespaceSource = inClusterNamespace()
		}
	case err != nil:
		return nil, fmt.Errorf("loading the kubeconfig: %w", err)
	default:
		t.Config = cfg
		raw, _ := cc.RawConfig()
		t.Context = s.Context
		if t.Context == "" {
			t.Context = raw.CurrentContext
		}
		if t.ClusterSource == "" {
			t.ClusterSource, t.FromCurrentContext = "the current kube context", true
		}
		if t.Namespace == "" {
			if ns, _, err := cc.Namespace(); err == nil && ns != "" && ns != "default" {
				t.Namespace, t.NamespaceSource = ns, "kube context "+t.Context
			}
		}
	}
	if t.Namespace == "" {
		t.Namespace, t.NamespaceSource = "default", "Helm's default"
	}
	return t, nil
}

// inClusterNamespace is the namespace of the pod runner-migrate runs in (a CI job on a Kubernetes
// executor), as client-go reads it.
func inClusterNamespace() (string, string) {
	ns, _, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(&clientcmd.ClientConfigLoadingRules{}, &clientcmd.ConfigOverrides{}).Namespace()
	if err != nil || strings.TrimSpace(ns) == "" {
		return "", ""
	}
	return ns, "the pod's namespace (in-cluster)"
}
