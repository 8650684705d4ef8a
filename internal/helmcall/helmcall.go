// Package helmcall reads the Helm command a post-renderer runs under. Helm tells a post-renderer
// nothing (no kube context, namespace, release or command reaches it: checked on Helm 3.22 and 4.3),
// but its parent process's argv holds all of it: `helm upgrade --kube-context prod -n ci rel chart
// --post-renderer runner-migrate`. Without it the post-renderer would read the live Secrets of the
// current kube context, which may be another cluster.
package helmcall

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Call is a Helm command line, as far as runner-migrate cares.
type Call struct {
	// Source says where the call was read, for messages: "helm (pid 4242)".
	Source string
	// Command is Helm's subcommand: install, upgrade, template, ... ("diff" under the helm-diff plugin).
	Command string
	// Release is the release name the command names; "" when it does not (install --generate-name).
	Release string
	// DryRun is set by --dry-run in any form.
	DryRun bool
	Kube   KubeFlags
}

// KubeFlags are Helm's global flags that choose the cluster and namespace. Empty means not given.
type KubeFlags struct {
	Kubeconfig    string
	Context       string
	Namespace     string
	APIServer     string
	Token         string // --kube-token: never printed
	AsUser        string
	AsGroups      []string
	CAFile        string
	Insecure      bool
	TLSServerName string
}

// Deploys reports whether the command applies its output to a cluster: install and upgrade without
// --dry-run. It is false for template, for dry runs and for plugins such as helm-diff.
func (c Call) Deploys() bool {
	return (c.Command == "install" || c.Command == "upgrade") && !c.DryRun
}

// Describe names the command for messages: "helm upgrade", "helm template", "helm upgrade --dry-run".
func (c Call) Describe() string {
	s := "helm " + c.Command
	if c.DryRun {
		s += " --dry-run"
	}
	return s
}

// valueFlags are Helm's global flags that take a value, with the field each one sets.
var valueFlags = map[string]func(*KubeFlags, string){
	"--kubeconfig":           func(k *KubeFlags, v string) { k.Kubeconfig = v },
	"--kube-context":         func(k *KubeFlags, v string) { k.Context = v },
	"--namespace":            func(k *KubeFlags, v string) { k.Namespace = v },
	"-n":                     func(k *KubeFlags, v string) { k.Namespace = v },
	"--kube-apiserver":       func(k *KubeFlags, v string) { k.APIServer = v },
	"--kube-token":           func(k *KubeFlags, v string) { k.Token = v },
	"--kube-as-user":         func(k *KubeFlags, v string) { k.AsUser = v },
	"--kube-as-group":        func(k *KubeFlags, v string) { k.AsGroups = append(k.AsGroups, v) },
	"--kube-ca-file":         func(k *KubeFlags, v string) { k.CAFile = v },
	"--kube-tls-server-name": func(k *KubeFlags, v string) { k.TLSServerName = v },
}

// boolFlags are the flags of Helm 3.22 and 4.3 (global, install, upgrade, template) that take no
// separate value, so the word after them is a positional argument. Every other flag written without
// `=` takes the next word. Flags with an optional value (--dry-run, --wait, --server-side) only take
// one as `--flag=value`.
var boolFlags = map[string]bool{
	"--debug": true, "--kube-insecure-skip-tls-verify": true, "--atomic": true, "--rollback-on-failure": true,
	"--cleanup-on-fail": true, "--create-namespace": true, "--dependency-update": true, "--devel": true,
	"--disable-openapi-validation": true, "--dry-run": true, "--enable-dns": true, "--force": true,
	"--force-replace": true, "--force-conflicts": true, "--generate-name": true, "-g": true, "--hide-notes": true,
	"--hide-secret": true, "--include-crds": true, "--insecure-skip-tls-verify": true, "--install": true, "-i": true,
	"--is-upgrade": true, "--no-hooks": true, "--pass-credentials": true, "--plain-http": true,
	"--render-subchart-notes": true, "--replace": true, "--reset-then-reuse-values": true, "--reset-values": true,
	"--reuse-values": true, "--skip-crds": true, "--skip-schema-validation": true, "--skip-tests": true,
	"--take-ownership": true, "--validate": true, "--verify": true, "--wait": true, "--wait-for-jobs": true,
	"--server-side": true, "--help": true, "-h": true, "--no-color": true,
}

// Parse reads a Helm command line (argv[0] included). It reports false when argv is not Helm's.
func Parse(argv []string) (Call, bool) {
	if len(argv) < 2 || !isHelm(argv[0]) {
		return Call{}, false
	}
	var c Call
	var positional []string
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			positional = append(positional, argv[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		name, value, hasValue := strings.Cut(a, "=")
		if !hasValue && !strings.HasPrefix(a, "--") && len(a) > 2 {
			// -nci: a short flag with its value attached.
			name, value, hasValue = a[:2], a[2:], true
		}
		switch {
		case name == "--dry-run":
			c.DryRun = !hasValue || (value != "false" && value != "none")
			continue
		case name == "--kube-insecure-skip-tls-verify":
			c.Kube.Insecure = !hasValue || value == "true"
			continue
		case boolFlags[name]:
			continue
		}
		if !hasValue {
			if i+1 >= len(argv) {
				break
			}
			i++
			value = argv[i]
		}
		if set, ok := valueFlags[name]; ok {
			set(&c.Kube, value)
		}
	}
	if len(positional) == 0 {
		return Call{}, false
	}
	c.Command = positional[0]
	args := positional[1:]
	switch c.Command {
	case "install", "upgrade", "template":
		// NAME CHART, or just CHART (install --generate-name, template's "release-name").
		if len(args) >= 2 {
			c.Release = args[0]
		}
	}
	return c, true
}

func isHelm(arg0 string) bool {
	base := strings.ToLower(filepath.Base(arg0))
	base = strings.TrimSuffix(base, ".exe")
	return base == "helm" || (strings.HasPrefix(base, "helm") && !strings.ContainsAny(strings.TrimPrefix(base, "helm"), "abcdefghijklmnopqrstuvwxyz"))
}

// Parent reads the Helm command this process runs under: its parent's argv when the parent is Helm.
// Under a Helm plugin that post-renders (helm-diff), the parent is the plugin: Helm names it in
// HELM_PLUGIN_NAME, and the command is then the plugin's. It reports false when the parent is not
// Helm or cannot be read (a shell pipe, Argo CD's repo server, a platform without /proc or ps).
func Parent() (Call, bool) {
	ppid := os.Getppid()
	argv, err := processArgs(ppid)
	if err == nil {
		if c, ok := Parse(argv); ok {
			c.Source = fmt.Sprintf("%s (pid %d)", filepath.Base(argv[0]), ppid)
			return c, true
		}
	}
	if plugin := os.Getenv("HELM_PLUGIN_NAME"); plugin != "" && plugin != "runner-migrate" && plugin != "runner-migrate-postrender" {
		// A plugin runs us (helm diff upgrade ...): it never deploys what it renders.
		return Call{Source: "Helm plugin " + plugin, Command: plugin}, true
	}
	return Call{}, false
}

// processArgs returns a process's argv: /proc on Linux, ps elsewhere (where argv boundaries are
// blanks, which is good enough for Helm's flags).
func processArgs(pid int) ([]string, error) {
	if runtime.GOOS == "linux" {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			return nil, err
		}
		parts := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		return parts, nil
	}
	out, err := exec.Command("ps", "-o", "args=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(bytes.TrimSpace(out))), nil
}
