package e2e

import (
	"bufio"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// runnerPod is what the runner container of a rendered release would see: its env, its ConfigMap
// scripts and the files of its token Secret. The test reads it with kyaml, independently of the code
// under test.
type runnerPod struct {
	env     map[string]string
	scripts map[string]string
	secrets map[string]string // files in /secrets
}

func readRunnerPod(t *testing.T, manifests []byte) runnerPod {
	t.Helper()
	nodes, err := kio.FromBytes(manifests)
	if err != nil {
		t.Fatalf("the manifests do not parse: %v", err)
	}
	byKindName := map[string]*yaml.RNode{}
	var deployment *yaml.RNode
	for _, n := range nodes {
		byKindName[n.GetKind()+"/"+n.GetName()] = n
		if n.GetKind() == "Deployment" && strings.Contains(n.MustString(), "/configmaps/entrypoint") {
			deployment = n
		}
	}
	if deployment == nil {
		t.Fatal("no runner Deployment in the manifests")
	}
	secretData := func(name string) map[string]string {
		s := byKindName["Secret/"+name]
		if s == nil {
			return nil
		}
		out := map[string]string{}
		for k, v := range s.GetDataMap() {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatalf("Secret %s key %s: %v", name, k, err)
			}
			out[k] = string(b)
		}
		return out
	}
	pod := runnerPod{env: map[string]string{}, scripts: map[string]string{}, secrets: map[string]string{}}
	containers, _ := deployment.Pipe(yaml.Lookup("spec", "template", "spec", "containers"))
	for _, c := range containers.Content() {
		cn := yaml.NewRNode(c)
		if !strings.Contains(cn.MustString(), "/configmaps/entrypoint") {
			continue
		}
		env, _ := cn.Pipe(yaml.Lookup("env"))
		for _, e := range env.Content() {
			en := yaml.NewRNode(e)
			name := yaml.GetValue(en.Field("name").Value)
			if v := en.Field("value"); v != nil {
				pod.env[name] = yaml.GetValue(v.Value)
			} else if ref, _ := en.Pipe(yaml.Lookup("valueFrom", "secretKeyRef")); ref != nil {
				pod.env[name] = secretData(yaml.GetValue(ref.Field("name").Value))[yaml.GetValue(ref.Field("key").Value)]
			}
		}
	}
	volumes, _ := deployment.Pipe(yaml.Lookup("spec", "template", "spec", "volumes"))
	for _, v := range volumes.Content() {
		vn := yaml.NewRNode(v)
		if cm, _ := vn.Pipe(yaml.Lookup("configMap", "name")); cm != nil {
			if c := byKindName["ConfigMap/"+yaml.GetValue(cm)]; c != nil {
				pod.scripts = c.GetDataMap()
			}
		}
		sources, _ := vn.Pipe(yaml.Lookup("projected", "sources"))
		if sources == nil {
			continue
		}
		for _, src := range sources.Content() {
			name, _ := yaml.NewRNode(src).Pipe(yaml.Lookup("secret", "name"))
			if name == nil {
				continue
			}
			data := secretData(yaml.GetValue(name))
			for _, key := range []string{"runner-token", "runner-registration-token"} {
				if v, ok := data[key]; ok {
					pod.secrets[key] = v
				}
			}
		}
	}
	return pod
}

var absPath = regexp.MustCompile(`(^|[\s"'=(])(/configmaps/|/secrets/|/home/gitlab-runner|/entrypoint\b)`)

// registration is what the pod passed to `gitlab-runner register`.
type registration struct {
	args   []string
	env    map[string]string
	ranRun bool // the entrypoint went on to `gitlab-runner run`
	exit   error
}

// start runs the pod's entrypoint in a temporary root, with a fake /entrypoint (the gitlab-runner
// binary) that records its arguments and the registration env.
func (p runnerPod) start(t *testing.T) registration {
	t.Helper()
	return p.launch(t).wait(t)
}

// podRun is an entrypoint started by launch, running in root.
type podRun struct {
	root, calls string
	cmd         *exec.Cmd
	log         *os.File // the entrypoint's output
}

// output is what the entrypoint printed so far.
func (r *podRun) output() string {
	data, _ := os.ReadFile(r.log.Name())
	return string(data)
}

// launch starts the pod's entrypoint in a temporary root without waiting for it.
func (p runnerPod) launch(t *testing.T) *podRun {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{"configmaps", "secrets", "home/gitlab-runner/.gitlab-runner"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	relocate := func(s string) string { return absPath.ReplaceAllString(s, "${1}"+root+"${2}") }
	for k, v := range p.scripts {
		os.WriteFile(filepath.Join(root, "configmaps", k), []byte(relocate(v)), 0o755)
	}
	for k, v := range p.secrets {
		os.WriteFile(filepath.Join(root, "secrets", k), []byte(v), 0o600)
	}
	calls := filepath.Join(root, "calls.log")
	fake := "#!/bin/sh\n{ printf 'CALL'; for a in \"$@\"; do printf '\\t%s' \"$a\"; done; printf '\\n'\n" +
		"  env | grep -E '^(CI_SERVER_TOKEN|REGISTRATION_TOKEN|REGISTER_[A-Z_]+|RUNNER_TAG_LIST|RUNNER_NAME)=' | sed 's/^/ENV\\t/'; } >> " + calls + "\n"
	os.WriteFile(filepath.Join(root, "entrypoint"), []byte(fake), 0o755)

	r := &podRun{root: root, calls: calls, cmd: exec.Command("bash", filepath.Join(root, "configmaps", "entrypoint"))}
	r.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(root, "home", "gitlab-runner")}
	for k, v := range p.env {
		r.cmd.Env = append(r.cmd.Env, k+"="+v)
	}
	log, err := os.Create(filepath.Join(root, "entrypoint.log"))
	if err != nil {
		t.Fatal(err)
	}
	r.log, r.cmd.Stdout, r.cmd.Stderr = log, log, log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

// wait waits for the entrypoint to end and reads what it passed to `gitlab-runner register`.
func (r *podRun) wait(t *testing.T) registration {
	t.Helper()
	err := r.cmd.Wait()
	r.log.Close()
	reg := registration{env: map[string]string{}, exit: err}
	f, ferr := os.Open(r.calls)
	if ferr != nil {
		t.Logf("entrypoint output:\n%s", r.output())
		return reg
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	current := ""
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		switch {
		case fields[0] == "CALL" && len(fields) > 1:
			current = fields[1]
			if current == "register" {
				reg.args = fields[2:]
			}
			reg.ranRun = reg.ranRun || current == "run"
		case fields[0] == "ENV" && current == "register":
			k, v, _ := strings.Cut(strings.Join(fields[1:], "\t"), "=")
			reg.env[k] = v
		}
	}
	return reg
}

// refused applies gitlab-runner's own rule (commands/register.go, ensureServerConfigArgsEmpty): with
// an authentication token, locked must stay true and access level, run-untagged, maximum timeout,
// paused, tags and maintenance note must be unset. Options win over the env vars that default them.
func (r registration) refused() []string {
	opts := map[string]string{}
	for i := 0; i < len(r.args); i++ {
		name, value, ok := strings.Cut(r.args[i], "=")
		if !strings.HasPrefix(name, "--") {
			continue
		}
		if !ok {
			value = "true"
			switch name {
			case "--access-level", "--maximum-timeout", "--tag-list", "--maintenance-note":
				if i+1 < len(r.args) {
					value, i = r.args[i+1], i+1
				}
			}
		}
		opts[name] = value
	}
	get := func(opt, env string) string {
		if v, ok := opts[opt]; ok {
			return v
		}
		return r.env[env]
	}
	isTrue := func(v string) bool { b, _ := strconv.ParseBool(v); return b }
	var bad []string
	if v := get("--locked", "REGISTER_LOCKED"); v != "" && !isTrue(v) {
		bad = append(bad, "locked="+v)
	}
	for _, o := range [][2]string{{"--access-level", "REGISTER_ACCESS_LEVEL"}, {"--tag-list", "RUNNER_TAG_LIST"}, {"--maintenance-note", "REGISTER_MAINTENANCE_NOTE"}} {
		if v := get(o[0], o[1]); v != "" {
			bad = append(bad, o[0]+"="+v)
		}
	}
	for _, o := range [][2]string{{"--run-untagged", "REGISTER_RUN_UNTAGGED"}, {"--paused", "REGISTER_PAUSED"}} {
		if isTrue(get(o[0], o[1])) {
			bad = append(bad, o[0])
		}
	}
	if v := get("--maximum-timeout", "REGISTER_MAXIMUM_TIMEOUT"); v != "" && v != "0" {
		bad = append(bad, "--maximum-timeout="+v)
	}
	return bad
}
