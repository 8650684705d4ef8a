package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/runner-migrate/runner-migrate/internal/kube"
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
		debugf("cluster settings from Helm: %s", describeHelmCluster())
	}
}

// helmEnvLayer is what Helm passes a plugin for its --kube-context, -n and --kube-* flags. KUBECONFIG
// (its --kubeconfig) needs no layer: client-go's loading rules read it.
func helmEnvLayer() kube.Layer {
	insecure, _ := strconv.ParseBool(os.Getenv("HELM_KUBEINSECURE_SKIP_TLS_VERIFY"))
	var groups []string
	if g := os.Getenv("HELM_KUBEASGROUPS"); g != "" {
		groups = strings.Split(g, ",")
	}
	return kube.Layer{Name: "Helm's environment (HELM_KUBECONTEXT, HELM_NAMESPACE, HELM_KUBE*)", Settings: kube.Settings{
		Context:       os.Getenv("HELM_KUBECONTEXT"),
		Namespace:     os.Getenv("HELM_NAMESPACE"),
		APIServer:     os.Getenv("HELM_KUBEAPISERVER"),
		Token:         os.Getenv("HELM_KUBETOKEN"),
		AsUser:        os.Getenv("HELM_KUBEASUSER"),
		AsGroups:      groups,
		CAFile:        os.Getenv("HELM_KUBECAFILE"),
		Insecure:      insecure,
		TLSServerName: os.Getenv("HELM_KUBETLS_SERVER_NAME"),
	}}
}

// describeHelmCluster says which cluster settings Helm passed, for debug messages; loading nothing.
func describeHelmCluster() string {
	or := func(v, dflt string) string {
		if v == "" {
			return dflt
		}
		return v
	}
	s := helmEnvLayer().Settings
	d := fmt.Sprintf("kubeconfig %s, context %s, namespace %s", or(os.Getenv("KUBECONFIG"), "~/.kube/config"), or(s.Context, "(current)"), or(s.Namespace, "(the context's)"))
	if s.APIServer != "" {
		d += ", API server " + s.APIServer
	}
	return d
}
