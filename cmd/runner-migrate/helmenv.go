package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/token"
)

// Helm runs a CLI plugin with its global flags taken out of the arguments and passed in the
// environment instead: --debug as HELM_DEBUG, -n as HELM_NAMESPACE (resolved: the flag, else the
// kubeconfig context's, else "default"), --kube-context as HELM_KUBECONTEXT, --kubeconfig as
// KUBECONFIG (only when given), --kube-apiserver, --kube-token, ... as HELM_KUBE*, and its own path as
// HELM_BIN. Everything here reads them, so `helm runner-migrate CMD -n ns --kube-context ctx` means
// what it says.

// debugLog receives debug messages: stderr with --debug or HELM_DEBUG=true, else nothing.
var debugLog = io.Discard

func debugf(format string, args ...any) {
	fmt.Fprintf(debugLog, "runner-migrate: debug: "+format+"\n", args...)
}

// addDebugFlag gives root a persistent --debug (default HELM_DEBUG) that turns on debugLog.
func addDebugFlag(root *cobra.Command) {
	on, _ := strconv.ParseBool(os.Getenv("HELM_DEBUG"))
	root.PersistentFlags().BoolVar(&on, "debug", on, "print debug messages on stderr (env HELM_DEBUG, which helm --debug sets)")
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		if !on {
			return
		}
		debugLog = cmd.ErrOrStderr()
		b := currentBuild()
		debugf("runner-migrate %s (commit %s, %s %s)", b.Version, b.Commit, b.Go, b.Platform)
		if name := os.Getenv("HELM_PLUGIN_NAME"); name != "" {
			debugf("run by Helm (HELM_BIN=%s) as plugin %s from %s", os.Getenv("HELM_BIN"), name, os.Getenv("HELM_PLUGIN_DIR"))
		}
		debugf("cluster defaults: %s", newClusterOptions())
	}
}

// clusterOptions select the cluster and namespace of every command that talks to Kubernetes, with
// Helm's defaults (see above). Use: o.cluster = newClusterOptions(); o.cluster.addFlags(cmd.Flags());
// then o.cluster.target().Config().
type clusterOptions struct {
	kubeconfig  string
	kubeContext string
	namespace   string
}

func newClusterOptions() *clusterOptions {
	return &clusterOptions{kubeContext: os.Getenv("HELM_KUBECONTEXT"), namespace: os.Getenv("HELM_NAMESPACE")}
}

func (c *clusterOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&c.kubeconfig, "kubeconfig", c.kubeconfig, "kubeconfig file (default KUBECONFIG, else ~/.kube/config)")
	f.StringVar(&c.kubeContext, "kube-context", c.kubeContext, "kubeconfig context (default HELM_KUBECONTEXT, else the current one)")
	f.StringVarP(&c.namespace, "namespace", "n", c.namespace, "namespace (default HELM_NAMESPACE, else the context's)")
}

// target is the cluster to talk to: the flags, plus the --kube-* settings Helm passes to a plugin.
func (c *clusterOptions) target() kube.Target {
	insecure, _ := strconv.ParseBool(os.Getenv("HELM_KUBEINSECURE_SKIP_TLS_VERIFY"))
	var groups []string
	if g := os.Getenv("HELM_KUBEASGROUPS"); g != "" {
		groups = strings.Split(g, ",")
	}
	return kube.Target{
		Kubeconfig:    c.kubeconfig,
		Context:       c.kubeContext,
		Namespace:     c.namespace,
		APIServer:     os.Getenv("HELM_KUBEAPISERVER"),
		Token:         token.New(os.Getenv("HELM_KUBETOKEN")),
		CAFile:        os.Getenv("HELM_KUBECAFILE"),
		TLSServerName: os.Getenv("HELM_KUBETLS_SERVER_NAME"),
		Insecure:      insecure,
		AsUser:        os.Getenv("HELM_KUBEASUSER"),
		AsGroups:      groups,
	}
}

func (c *clusterOptions) String() string {
	or := func(v, dflt string) string {
		if v == "" {
			return dflt
		}
		return v
	}
	kubeconfig := c.kubeconfig
	if kubeconfig == "" {
		kubeconfig = or(os.Getenv("KUBECONFIG"), "~/.kube/config")
	}
	return fmt.Sprintf("kubeconfig %s, context %s, namespace %s", kubeconfig, or(c.kubeContext, "(current)"), or(c.namespace, "(the context's)"))
}
