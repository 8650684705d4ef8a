// Package testenv gives tests the real programs users run runner-migrate with: the runner-migrate
// binary itself, Helm v3 and v4, kube-apiserver and etcd. The programs are built from the Go module
// proxy by hack/tools.sh and cached; a test never downloads or builds them itself beyond calling it.
package testenv

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	toolsMu sync.Mutex
	tools   = map[string]string{}
)

// toolTargets maps the names Tool takes to hack/tools.sh's targets, so a test that needs only Helm
// does not wait for kube-apiserver to build.
var toolTargets = map[string]string{"HELM3": "helm3", "HELM4": "helm4", "KUBE_APISERVER": "kube-apiserver", "ETCD": "etcd"}

// Tool returns the path of a program hack/tools.sh provides: HELM3, HELM4, KUBE_APISERVER or ETCD.
// An env var of that name wins (the Makefile sets them).
func Tool(t testing.TB, name string) string {
	t.Helper()
	if p := os.Getenv(name); p != "" {
		return p
	}
	target, ok := toolTargets[name]
	if !ok {
		t.Fatalf("hack/tools.sh does not provide %s", name)
	}
	toolsMu.Lock()
	defer toolsMu.Unlock()
	if p, ok := tools[name]; ok {
		return p
	}
	cmd := exec.Command(filepath.Join(Root(), "hack", "tools.sh"), target)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the real %s is needed: hack/tools.sh %s: %v\n%s", name, target, err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			tools[k] = v
		}
	}
	p, ok := tools[name]
	if !ok {
		t.Fatalf("hack/tools.sh %s did not print %s=PATH", target, name)
	}
	return p
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary builds cmd/runner-migrate once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "runner-migrate-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "runner-migrate")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/runner-migrate")
		// Static, as make build and the plugin install build it: no dynamic loader at every start.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Dir = Root()
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// Helm runs one Helm CLI with its own empty data, config and cache homes.
type Helm struct {
	Bin string
	Env []string
	Dir string // working directory
}

// NewHelm returns a hermetic Helm (major 3 or 4).
func NewHelm(t testing.TB, major int) *Helm {
	t.Helper()
	home := t.TempDir()
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HELM_") && !strings.HasPrefix(kv, "RUNNER_MIGRATE_") && !strings.HasPrefix(kv, "KUBECONFIG=") {
			env = append(env, kv)
		}
	}
	env = append(env, "HELM_DATA_HOME="+filepath.Join(home, "data"), "HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"))
	return &Helm{Bin: Tool(t, fmt.Sprintf("HELM%d", major)), Env: env, Dir: Root()}
}

// Result is what a command did.
type Result struct {
	Stdout, Stderr []byte
	Err            error
}

// Run runs helm with extra environment variables.
func (h *Helm) Run(extraEnv []string, args ...string) Result {
	cmd := exec.Command(h.Bin, args...)
	cmd.Env = append(append([]string{}, h.Env...), extraEnv...)
	cmd.Dir = h.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return Result{Stdout: stdout.Bytes(), Stderr: withoutSymlinkNotes(stderr.Bytes()), Err: err}
}

// withoutSymlinkNotes drops the note Helm prints for every symlinked subchart (the umbrella fixture
// links its runner subchart), so tests can read stderr.
func withoutSymlinkNotes(b []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if !bytes.Contains(line, []byte("found symbolic link in path")) {
			out = append(out, line...)
		}
	}
	return out
}
