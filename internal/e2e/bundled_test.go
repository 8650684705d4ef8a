package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/runner-migrate/runner-migrate/internal/testenv"
)

// The GitLab chart fixtures: 8.6.2 bundles the 0.71 runner generation (REGISTER_LOCKED="false" reaches
// register), 9.9.1 the 0.86 one (its script unsets it).
var gitlabCharts = []string{"gitlab-8.6.2", "gitlab-9.9.1"}

// The bundled runner's Secret as the chart's shared-secrets hook job makes it: a random registration
// token and an empty runner-token.
const sharedRegistrationToken = "sharedSecretsRandomRegistrationToken0000000000000000000000000000"

var mintJobName = regexp.MustCompile(`^gl-gitlab-runner-mint-[0-9a-f]{10}$`)

// TestBundledMintRenders: `helm upgrade --install gitlab gitlab/gitlab --post-renderer runner-migrate`
// with nothing else, on Helm 3 and Helm 4: the bundled runner gets the minting Job (no access token,
// no error), the result is the same on both (Helm 4 also hands over the hooks, which pass untouched),
// and the runner pod waits for the minted token instead of trying the registration token.
func TestBundledMintRenders(t *testing.T) {
	helm3 := testenv.NewHelm(t, 3)
	helm4 := testenv.NewHelm(t, 4)
	installPostRenderPlugin(t, helm4)
	bin := testenv.Binary(t)
	for _, chart := range gitlabCharts {
		t.Run(chart, func(t *testing.T) {
			args := []string{"template", "gl", chartPath(chart), "-n", "ns"}
			plain := helm3.Run(nil, args...)
			if plain.Err != nil {
				t.Fatalf("%v\n%s", plain.Err, plain.Stderr)
			}
			v3 := helm3.Run(nil, append(args, "--post-renderer", bin)...)
			v4 := helm4.Run(nil, append(args, "--post-renderer", "runner-migrate-postrender")...)
			for _, r := range []testenv.Result{v3, v4} {
				noLeaks(t, r.Stderr, sharedRegistrationToken)
				if r.Err != nil {
					t.Fatalf("%v\n%s", r.Err, r.Stderr)
				}
			}
			golden(t, filepath.Join("helm3", chart, "mint.yaml"), v3.Stdout)
			golden(t, filepath.Join("helm4", chart, "mint.yaml"), v4.Stdout)

			objs3, objs4 := objectsOf(t, v3.Stdout), objectsOf(t, v4.Stdout)
			if !sameObjects(t, objs3, objs4) {
				t.Error("Helm 3 and Helm 4 give different releases")
			}
			var job string
			for k := range objs3 {
				if name, ok := strings.CutPrefix(k, "Job/"); ok && mintJobName.MatchString(name) {
					job = name
				}
			}
			for _, want := range []string{"Job/" + job, "ConfigMap/" + job, "ServiceAccount/gl-gitlab-runner-mint", "Role/gl-gitlab-runner-mint", "RoleBinding/gl-gitlab-runner-mint"} {
				if job == "" || objs3[want] == nil {
					t.Errorf("the release lacks %s", want)
				}
			}
			for k := range objectsOf(t, plain.Stdout) {
				if objs4[k] == nil {
					t.Errorf("%s is missing from Helm 4's release", k)
				}
			}
			hooks := regexp.MustCompile(`helm\.sh/hook"?: "?pre-install,pre-upgrade`)
			if n3, n4 := len(hooks.FindAll(v3.Stdout, -1)), len(hooks.FindAll(v4.Stdout, -1)); n3 != 5 || n4 != 5 {
				t.Errorf("hooks in the output: Helm 3 %d, Helm 4 %d; want the 5 shared-secrets hooks", n3, n4)
			}

			again := run(t, bin, nil, stripHooks(v3.Stdout))
			if !bytes.Equal(again, stripHooks(v3.Stdout)) {
				t.Error("post-rendering the output again changed it")
			}

			pod := readRunnerPod(t, v3.Stdout)
			shellCheck(t, "register-the-runner", pod.scripts["register-the-runner"])
			pod.secrets = map[string]string{"runner-registration-token": sharedRegistrationToken, "runner-token": ""}
			waitsThenRegisters(t, pod)
		})
	}
}

// waitsThenRegisters starts the runner pod with the Secret as the shared-secrets job leaves it: the
// pod must not register (with the registration token GitLab 17.0+ refuses) until runner-token holds
// the minted token, then register with that token alone and nothing GitLab refuses.
func waitsThenRegisters(t *testing.T, pod runnerPod) {
	t.Helper()
	r := pod.launch(t)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(r.output(), "Waiting for the runner authentication token") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if _, err := os.Stat(r.calls); err == nil {
		r.cmd.Process.Kill()
		t.Fatalf("the pod called gitlab-runner before runner-token held a token:\n%s", r.output())
	}
	if r.cmd.ProcessState != nil {
		t.Fatalf("the pod stopped instead of waiting:\n%s", r.output())
	}
	if err := os.WriteFile(filepath.Join(r.root, "secrets", "runner-token"), []byte(authToken), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan registration, 1)
	go func() { done <- r.wait(t) }()
	var reg registration
	select {
	case reg = <-done:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		t.Fatalf("the pod did not register once the token arrived:\n%s", r.output())
	}
	if reg.exit != nil || !reg.ranRun {
		t.Fatalf("the entrypoint did not reach `gitlab-runner run` (exit %v):\n%s", reg.exit, r.output())
	}
	if reg.env["CI_SERVER_TOKEN"] != authToken || reg.env["REGISTRATION_TOKEN"] != "" {
		t.Error("register must get the minted token in CI_SERVER_TOKEN and no registration token")
	}
	if bad := reg.refused(); len(bad) > 0 {
		t.Errorf("gitlab-runner would refuse to register: %v (args %q)", bad, reg.args)
	}
	noLeaks(t, []byte(r.output()), sharedRegistrationToken)
}

// objectsOf decodes a manifest stream into its objects by kind and name, comments and layout aside.
func objectsOf(t *testing.T, manifests []byte) map[string]any {
	t.Helper()
	nodes, err := kio.FromBytes(manifests)
	if err != nil {
		t.Fatalf("the manifests do not parse: %v", err)
	}
	out := map[string]any{}
	for _, n := range nodes {
		var v any
		if err := yaml.Unmarshal([]byte(n.MustString()), &v); err != nil {
			t.Fatal(err)
		}
		out[n.GetKind()+"/"+n.GetName()] = v
	}
	return out
}

func sameObjects(t *testing.T, a, b map[string]any) bool {
	t.Helper()
	same := len(a) == len(b)
	for k, v := range a {
		x, _ := json.Marshal(v)
		y, _ := json.Marshal(b[k])
		if !bytes.Equal(x, y) {
			t.Logf("%s differs:\n%s\n%s", k, x, y)
			same = false
		}
	}
	return same
}

// stripHooks keeps what Helm 3 hands a post-renderer: `helm template` appends the hooks after the
// post-rendered output.
func stripHooks(manifests []byte) []byte {
	first := bytes.Index(manifests, []byte("helm.sh/hook"))
	if first < 0 {
		return manifests
	}
	return manifests[:bytes.LastIndex(manifests[:first], []byte("\n---"))+1]
}
