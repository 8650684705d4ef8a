package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
)

// kubeFlags choose the cluster and namespace of a command that reads or writes the cluster itself
// (lint of deployed releases, migrate), run directly or as a Helm plugin.
type kubeFlags struct {
	kubeconfig, context, namespace string
}

func (k *kubeFlags) add(f *pflag.FlagSet) {
	f.StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig file (default: KUBECONFIG, which helm --kubeconfig sets for plugins, else ~/.kube/config)")
	f.StringVar(&k.context, "kube-context", "", "kube context (default: HELM_KUBECONTEXT, which helm --kube-context sets for plugins, else the current one)")
	f.StringVarP(&k.namespace, "namespace", "n", "", "namespace (default: HELM_NAMESPACE, which helm -n sets for plugins, else the kube context's)")
}

// layers are the cluster settings in order of precedence: the flags, then Helm's environment.
func (k *kubeFlags) layers() []kube.Layer {
	return []kube.Layer{
		{Name: "runner-migrate's flags", Settings: kube.Settings{Kubeconfig: k.kubeconfig, Context: k.context, Namespace: k.namespace}},
		helmEnvSettings(),
	}
}

// helmEnvSettings is what Helm passes a plugin for its --kube-context, -n and --kube-* flags (and what
// it reads as their defaults): HELM_KUBECONTEXT, HELM_NAMESPACE, HELM_KUBE*. KUBECONFIG (its
// --kubeconfig) needs no layer: client-go's loading rules read it.
func helmEnvSettings() kube.Layer {
	insecure, _ := strconv.ParseBool(os.Getenv("HELM_KUBEINSECURE_SKIP_TLS_VERIFY"))
	var groups []string
	if g := os.Getenv("HELM_KUBEASGROUPS"); g != "" {
		groups = strings.Split(g, ",")
	}
	return kube.Layer{Name: "HELM_KUBECONTEXT/HELM_NAMESPACE", Settings: kube.Settings{
		Context: os.Getenv("HELM_KUBECONTEXT"), Namespace: os.Getenv("HELM_NAMESPACE"),
		APIServer: os.Getenv("HELM_KUBEAPISERVER"), Token: os.Getenv("HELM_KUBETOKEN"), AsUser: os.Getenv("HELM_KUBEASUSER"),
		AsGroups: groups, CAFile: os.Getenv("HELM_KUBECAFILE"), Insecure: insecure, TLSServerName: os.Getenv("HELM_KUBETLS_SERVER_NAME"),
	}}
}

// accessToken is the GitLab access token: GITLAB_TOKEN, or the file --gitlab-token-file names (not
// both). Zero when neither is given.
func accessToken(file string) (token.Token, error) {
	pat := token.New(os.Getenv(envGitLabToken))
	if file == "" {
		return pat, nil
	}
	if !pat.IsZero() {
		return token.Token{}, fmt.Errorf("both %s and --gitlab-token-file are set; give the access token one way", envGitLabToken)
	}
	return tokensource.ReadTokenFile(file)
}
