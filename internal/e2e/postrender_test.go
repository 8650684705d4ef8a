// Package e2e drives runner-migrate the way users do: through the real Helm CLIs (and, for
// provisioning, a real kube-apiserver), with the fixture charts under testdata/charts.
package e2e

import (
	"bytes"
	"encoding/base64"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"

	goldenfile "github.com/runner-migrate/runner-migrate/internal/golden"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// The token the tests hand runner-migrate, and the registration token the fixture values carry.
const (
	authToken         = "glrt-e2eFixtureToken0000000000"
	registrationToken = "GR1348941fixtureRegistrationTok"
)

var (
	runnerCharts = []string{"gitlab-runner-0.28.0", "gitlab-runner-0.40.0", "gitlab-runner-0.47.0", "gitlab-runner-0.53.0",
		"gitlab-runner-0.55.0", "gitlab-runner-0.71.0", "gitlab-runner-0.86.0"}
	valuesFiles = []string{"legacy", "legacy-minimal", "legacy-replicas", "legacy-envvars", "external-secret", "authenticated"}
)

func chartPath(name string) string  { return filepath.Join("testdata", "charts", name) }
func valuesPath(name string) string { return filepath.Join("testdata", "values", name+".yaml") }

// TestHelm3PostRenderer renders every fixture chart with every values file through Helm 3 with
// runner-migrate as the post-renderer, and checks that the pod would register with the token.
func TestHelm3PostRenderer(t *testing.T) {
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)
	withToken := []string{"RUNNER_MIGRATE_AUTH_TOKEN=" + authToken}
	for _, chart := range runnerCharts {
		for _, values := range valuesFiles {
			t.Run(chart+"/"+values, func(t *testing.T) {
				args := []string{"template", "rel", chartPath(chart), "-f", valuesPath(values), "-n", "ns"}
				plain := helm.Run(nil, args...)
				if plain.Err != nil {
					t.Fatalf("helm template without post-renderer: %v\n%s", plain.Err, plain.Stderr)
				}
				res := helm.Run(withToken, append(args, "--post-renderer", bin)...)
				noLeaks(t, res.Stderr)
				if res.Err != nil {
					t.Fatalf("helm template --post-renderer: %v\n%s", res.Err, res.Stderr)
				}
				golden(t, filepath.Join("helm3", chart, values+".yaml"), res.Stdout)
				onlyMigrationChanges(t, plain.Stdout, res.Stdout)

				if values == "authenticated" {
					if !bytes.Equal(res.Stdout, plain.Stdout) {
						t.Fatal("a release that already uses an authentication token must pass through byte for byte")
					}
					return
				}
				if bytes.Equal(res.Stdout, plain.Stdout) {
					t.Fatal("a legacy release passed through unchanged")
				}
				pod := readRunnerPod(t, res.Stdout)
				if pod.secrets["runner-token"] != authToken || pod.secrets["runner-registration-token"] != "" {
					t.Fatalf("the pod's /secrets would hold runner-token %q and runner-registration-token %q",
						redact(pod.secrets["runner-token"]), redact(pod.secrets["runner-registration-token"]))
				}
				for _, name := range []string{"entrypoint", "register-the-runner"} {
					shellCheck(t, name, pod.scripts[name])
				}
				reg := pod.start(t)
				if reg.exit != nil || !reg.ranRun {
					t.Fatalf("the entrypoint did not reach `gitlab-runner run` (exit %v)", reg.exit)
				}
				if reg.env["CI_SERVER_TOKEN"] != authToken || reg.env["REGISTRATION_TOKEN"] != "" {
					t.Fatal("register did not get the authentication token in CI_SERVER_TOKEN and an empty REGISTRATION_TOKEN")
				}
				if bad := reg.refused(); len(bad) > 0 {
					t.Fatalf("gitlab-runner would refuse to register: %v reach register (args %q)", bad, reg.args)
				}

				again := run(t, bin, withToken, res.Stdout)
				if !bytes.Equal(again, res.Stdout) {
					t.Fatal("post-rendering the output again changed it")
				}

				show := helm.Run(withToken, append(args, "--post-renderer", bin, "--show-only", "templates/deployment.yaml")...)
				noLeaks(t, show.Stderr)
				if show.Err != nil || !bytes.Contains(show.Stdout, []byte("kind: Deployment")) {
					t.Fatalf("--show-only templates/deployment.yaml broke: %v\n%s", show.Err, show.Stderr)
				}
				if values == "external-secret" && !bytes.Contains(show.Stdout, []byte("rel-gitlab-runner-auth-token")) {
					t.Fatal("the Secret runner-migrate adds must show with the Deployment's template")
				}
			})
		}
	}
}

// TestNaiveTokenSwapIsRefused is the control for the check above: putting the token in the Secret
// without removing what GitLab refuses leaves a pod that gitlab-runner stops (or that exits on the
// replicas guard), on every chart generation.
func TestNaiveTokenSwapIsRefused(t *testing.T) {
	helm := testenv.NewHelm(t, 3)
	for _, chart := range runnerCharts {
		t.Run(chart, func(t *testing.T) {
			for _, values := range []string{"legacy", "legacy-replicas"} {
				res := helm.Run(nil, "template", "rel", chartPath(chart), "-f", valuesPath(values), "-n", "ns")
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				pod := readRunnerPod(t, res.Stdout)
				pod.secrets["runner-token"], pod.secrets["runner-registration-token"] = authToken, ""
				reg := pod.start(t)
				refused := len(reg.refused()) > 0 || !reg.ranRun
				guarded := chart == "gitlab-runner-0.40.0" || chart == "gitlab-runner-0.47.0" || chart == "gitlab-runner-0.53.0"
				if want := values == "legacy" || guarded; refused != want {
					t.Errorf("%s: naive swap refused=%v, want %v (refused %v, ran %v)", values, refused, want, reg.refused(), reg.ranRun)
				}
			}
		})
	}
}

// TestHelm3FailsLoudly: a legacy release without a token stops Helm with the document, the field and
// the fix, and nothing of the registration token.
func TestHelm3FailsLoudly(t *testing.T) {
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)
	args := []string{"template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "-n", "ns", "--post-renderer", bin}
	res := helm.Run(nil, args...)
	noLeaks(t, res.Stderr)
	if res.Err == nil {
		t.Fatal("helm template succeeded without a token")
	}
	if len(bytes.TrimSpace(res.Stdout)) != 0 {
		t.Fatalf("helm printed manifests after the post-renderer failed:\n%s", res.Stdout)
	}
	for _, want := range []string{"Deployment ns/rel-gitlab-runner", "runner-registration-token", "410 Gone", "fix:"} {
		if !bytes.Contains(res.Stderr, []byte(want)) {
			t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
		}
	}

	allowed := helm.Run(nil, append(args, "--post-renderer-args", "--allow-legacy")...)
	noLeaks(t, allowed.Stderr)
	plain := helm.Run(nil, args[:len(args)-2]...)
	if allowed.Err != nil || !bytes.Equal(allowed.Stdout, plain.Stdout) {
		t.Fatalf("--allow-legacy must pass the release through unchanged (err %v)", allowed.Err)
	}
}

// TestHelm3Umbrella: the GitLab chart's bundled runner reads its token from the Secret the
// shared-secrets hook creates, which no post-renderer sees. runner-migrate renders a Secret of its own
// and repoints the runner's projected source, keeping the cache Secret.
func TestHelm3Umbrella(t *testing.T) {
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)
	withToken := []string{"RUNNER_MIGRATE_AUTH_TOKEN=" + authToken}
	args := []string{"template", "gl", chartPath("gitlab-9.9.1"), "-n", "ns", "--post-renderer", bin}
	res := helm.Run(withToken, args...)
	noLeaks(t, res.Stderr)
	if res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Stderr)
	}
	golden(t, filepath.Join("helm3", "gitlab-9.9.1", "default.yaml"), res.Stdout)
	plain := helm.Run(nil, args[:len(args)-2]...)
	if plain.Err != nil {
		t.Fatal(plain.Err)
	}
	onlyMigrationChanges(t, plain.Stdout, res.Stdout)
	pod := readRunnerPod(t, res.Stdout)
	if pod.secrets["runner-token"] != authToken {
		t.Fatal("the bundled runner would not read the authentication token")
	}
	if !bytes.Contains(res.Stdout, []byte("gl-minio-secret")) {
		t.Fatal("the cache Secret source of the projected volume was lost")
	}
	reg := pod.start(t)
	if bad := reg.refused(); len(bad) > 0 || !reg.ranRun {
		t.Fatalf("gitlab-runner would refuse: %v (ran %v)", bad, reg.ranRun)
	}
	show := helm.Run(withToken, append(args, "--show-only", "charts/gitlab-runner/templates/deployment.yaml")...)
	if show.Err != nil || !bytes.Contains(show.Stdout, []byte("name: gl-gitlab-runner-auth-token")) {
		t.Fatalf("--show-only of the subchart's deployment lost the added Secret: %v\n%s", show.Err, show.Stderr)
	}
}

// TestHelm4PostRendererPlugin runs the shipped postrenderer/v1 plugin under Helm 4, whose stream
// carries a filename annotation on every document instead of `# Source:` comments. The plugin is
// installed from a checkout, as the README says (its hook builds the binary).
func TestHelm4PostRendererPlugin(t *testing.T) {
	helm := testenv.NewHelm(t, 4)
	installPostRenderPlugin(t, helm)
	capture := installCapturePlugin(t, helm)
	withToken := []string{"RUNNER_MIGRATE_AUTH_TOKEN=" + authToken}
	for _, values := range []string{"legacy", "external-secret"} {
		t.Run(values, func(t *testing.T) {
			args := []string{"template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath(values), "-n", "ns", "--post-renderer", "runner-migrate-postrender"}
			res := helm.Run(withToken, args...)
			noLeaks(t, res.Stderr)
			if res.Err != nil {
				t.Fatalf("%v\n%s", res.Err, res.Stderr)
			}
			golden(t, filepath.Join("helm4", "gitlab-runner-0.86.0", values+".yaml"), res.Stdout)
			// Helm 4 formats the output itself; what runner-migrate wrote shows on the stream Helm fed it.
			in := capture(append(append([]string{}, args[:len(args)-1]...), "capture-input")...)
			onlyMigrationChanges(t, in, run(t, testenv.Binary(t), withToken, in))
			if bytes.Contains(res.Stdout, []byte("postrender-filename")) {
				t.Fatal("Helm 4 keeps its filename annotation only inside the post-render; it leaked into the output")
			}
			reg := readRunnerPod(t, res.Stdout).start(t)
			if bad := reg.refused(); len(bad) > 0 || !reg.ranRun || reg.env["CI_SERVER_TOKEN"] != authToken {
				t.Fatalf("gitlab-runner would refuse: %v (ran %v)", bad, reg.ranRun)
			}
			show := helm.Run(withToken, append(args, "--show-only", "templates/deployment.yaml")...)
			if show.Err != nil || !bytes.Contains(show.Stdout, []byte("kind: Deployment")) {
				t.Fatalf("--show-only broke under Helm 4: %v\n%s", show.Err, show.Stderr)
			}
		})
	}
	failed := helm.Run(nil, "template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "--post-renderer", "runner-migrate-postrender")
	if failed.Err == nil || len(bytes.TrimSpace(failed.Stdout)) != 0 {
		t.Fatalf("Helm 4 must fail with no output when the plugin fails (err %v)", failed.Err)
	}
}

// installCapturePlugin installs a Helm 4 post-renderer plugin, capture-input, that passes its input
// through and keeps a copy; the returned function runs helm with it and returns that input.
func installCapturePlugin(t *testing.T, helm *testenv.Helm) func(args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "plugin.yaml"), []byte("apiVersion: v1\ntype: postrenderer/v1\nname: capture-input\nversion: 0.1.0\n"+
		"runtime: subprocess\nruntimeConfig:\n  platformCommand:\n    - command: ${HELM_PLUGIN_DIR}/capture.sh\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "capture.sh"), []byte("#!/bin/sh\ntee \"$CAPTURE_FILE\"\n"), 0o755)
	if res := helm.Run(nil, "plugin", "install", dir); res.Err != nil {
		t.Fatalf("helm plugin install: %v\n%s", res.Err, res.Stderr)
	}
	return func(args ...string) []byte {
		t.Helper()
		file := filepath.Join(t.TempDir(), "input.yaml")
		if res := helm.Run([]string{"CAPTURE_FILE=" + file}, args...); res.Err != nil {
			t.Fatalf("helm %v: %v\n%s", args, res.Err, res.Stderr)
		}
		in, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
}

// TestHelm3EmptyRender: a chart whose templates all render to nothing hands the post-renderer an
// empty stream; runner-migrate passes it back as `--post-renderer cat` does, and Helm succeeds.
func TestHelm3EmptyRender(t *testing.T) {
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"template", "rel", chartPath("switched-off"), "-n", "ns", "--post-renderer"}
	want := helm.Run(nil, append(args, cat)...)
	if want.Err != nil {
		t.Fatalf("helm template --post-renderer cat: %v\n%s", want.Err, want.Stderr)
	}
	got := helm.Run([]string{"RUNNER_MIGRATE_AUTH_TOKEN=" + authToken}, append(args, bin)...)
	if got.Err != nil {
		t.Fatalf("helm template --post-renderer runner-migrate of an empty render: %v\n%s", got.Err, got.Stderr)
	}
	if !bytes.Equal(got.Stdout, want.Stdout) {
		t.Fatalf("output %q, want %q as with --post-renderer cat", got.Stdout, want.Stdout)
	}
	// --output-dir sends the post-renderer nothing either.
	dir := t.TempDir()
	if res := helm.Run(nil, "template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy-minimal"), "--output-dir", dir, "--post-renderer", bin); res.Err != nil {
		t.Fatalf("helm template --output-dir --post-renderer: %v\n%s", res.Err, res.Stderr)
	}
	for _, stdin := range []string{"", "\n \n"} {
		cmd := exec.Command(bin, "post-render")
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stdout.String() != stdin || !strings.Contains(stderr.String(), "--output-dir") {
			t.Errorf("stdin %q: err %v, stdout %q, stderr %q; want the input back, exit 0 and a note on --output-dir", stdin, err, stdout.String(), stderr.String())
		}
	}
}

// TestHelm3TokenReleases renders, with the real charts, releases runner-migrate must not give a new
// token: a runner with no token at all passes through; releases that keep their own token lose only
// the settings gitlab-runner refuses with it. And a registration token given as an env var leaves no
// trace once migrated.
func TestHelm3TokenReleases(t *testing.T) {
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)
	withToken := []string{"RUNNER_MIGRATE_AUTH_TOKEN=" + authToken}
	tests := []struct {
		chart, values string
		want          string // "unchanged", "repaired" or "migrated"
		pipelineToken bool   // the Secret holds a placeholder a pipeline replaces with the token
	}{
		{chart: "gitlab-runner-0.71.0", values: "no-token", want: "unchanged"},
		{chart: "gitlab-runner-0.86.0", values: "no-token", want: "unchanged"},
		{chart: "gitlab-runner-0.47.0", values: "authenticated-settings", want: "repaired"},
		{chart: "gitlab-runner-0.86.0", values: "authenticated-settings", want: "repaired"},
		{chart: "gitlab-runner-0.47.0", values: "placeholder-settings", want: "repaired", pipelineToken: true},
		{chart: "gitlab-runner-0.55.0", values: "registration-slot-glrt", want: "repaired"},
		{chart: "gitlab-runner-0.47.0", values: "legacy-envvars-token", want: "migrated"},
		{chart: "gitlab-runner-0.55.0", values: "legacy-envvars-token", want: "migrated"},
		{chart: "gitlab-runner-0.71.0", values: "legacy-envvars-token", want: "migrated"},
		{chart: "gitlab-runner-0.86.0", values: "legacy-envvars-token", want: "migrated"},
	}
	for _, tt := range tests {
		t.Run(tt.chart+"/"+tt.values, func(t *testing.T) {
			args := []string{"template", "rel", chartPath(tt.chart), "-f", valuesPath(tt.values), "-n", "ns"}
			plain := helm.Run(nil, args...)
			if plain.Err != nil {
				t.Fatalf("%v\n%s", plain.Err, plain.Stderr)
			}
			res := helm.Run(withToken, append(args, "--post-renderer", bin)...)
			noLeaks(t, res.Stderr)
			if res.Err != nil {
				t.Fatalf("%v\n%s", res.Err, res.Stderr)
			}
			golden(t, filepath.Join("helm3", tt.chart, tt.values+".yaml"), res.Stdout)
			onlyMigrationChanges(t, plain.Stdout, res.Stdout)
			if tt.want == "unchanged" {
				if !bytes.Equal(res.Stdout, plain.Stdout) {
					t.Fatal("a runner without any token was changed")
				}
				return
			}
			if bytes.Equal(res.Stdout, plain.Stdout) {
				t.Fatal("passed through unchanged")
			}
			start := func(manifests []byte) registration {
				pod := readRunnerPod(t, manifests)
				if tt.pipelineToken {
					pod.secrets["runner-token"] = authToken
				}
				return pod.start(t)
			}
			if tt.want == "repaired" {
				if bad := start(plain.Stdout).refused(); len(bad) == 0 {
					t.Fatal("control: the release as rendered should pass settings gitlab-runner refuses")
				}
				if bytes.Contains(res.Stdout, []byte("-auth-token")) || bytes.Contains(res.Stdout, []byte("token-digest")) {
					t.Fatal("a release that keeps its token got a new token Secret or a token digest")
				}
				if secret := document(plain.Stdout, "kind: Secret"); !bytes.Contains(res.Stdout, secret) {
					t.Fatalf("the token Secret changed; it must pass byte for byte:\n%s", secret)
				}
				if !bytes.Contains(res.Stdout, []byte("runner-migrate.io/removed-settings:")) {
					t.Fatal("the pod template does not record the removed settings (pods would not roll)")
				}
			}
			if tt.want == "migrated" {
				for _, form := range []string{registrationToken, base64.StdEncoding.EncodeToString([]byte(registrationToken))} {
					if bytes.Contains(res.Stdout, []byte(form)) {
						t.Fatal("the registration token is still in the migrated manifests")
					}
				}
			}
			reg := start(res.Stdout)
			if bad := reg.refused(); len(bad) > 0 || !reg.ranRun {
				t.Fatalf("gitlab-runner would refuse: %v (ran %v, args %q)", bad, reg.ranRun, reg.args)
			}
			if again := run(t, bin, withToken, res.Stdout); !bytes.Equal(again, res.Stdout) {
				t.Fatal("post-rendering the output again changed it")
			}
		})
	}
}

// document returns the first document of a stream that contains marker.
func document(stream []byte, marker string) []byte {
	for _, d := range bytes.Split(stream, []byte("\n---\n")) {
		if bytes.Contains(d, []byte(marker)) {
			return d
		}
	}
	return nil
}

// What migration may change in a document, line by line: the token keys, refused register options
// and the shell variables feeding them, the replicas guard, token and refused env entries, the token
// Secret's name, and the pod template annotations runner-migrate adds.
var (
	removable = regexp.MustCompile(`^\s*(runner-token|runner-registration-token):|--(run-untagged|access-level|maximum-timeout|tag-list|locked|paused|maintenance-note)\b|` +
		`^\s*(RUN_UNTAGGED|ACCESS_LEVEL)=|CI_SERVER_TOKEN" && |more than 1 replica|^\s*(exit 1|fi)$|` +
		`^\s*- name: (REGISTER_[A-Z_]+|RUNNER_TAG_LIST|REGISTRATION_TOKEN|CI_SERVER_TOKEN)$|^\s*- \{name: (REGISTER_[A-Z_]+|RUNNER_TAG_LIST|REGISTRATION_TOKEN|CI_SERVER_TOKEN),`)
	envValue = regexp.MustCompile(`^\s*value: `)
	addable  = regexp.MustCompile(`^\s*(metadata|annotations|valueFrom|secretKeyRef):$|^\s*runner-migrate\.io/[a-z-]+: |^\s*(runner-token|runner-registration-token): |` +
		`^\s*- name: CI_SERVER_TOKEN$|^\s*name: "?[a-z0-9.-]+-auth-token"?$|^\s*key: runner-token$|^\s*(RUN_UNTAGGED|ACCESS_LEVEL)=""$`)
	secretName = regexp.MustCompile(`^\s*name: "?[a-z0-9.-]+"?$`)
)

// onlyMigrationChanges checks that post-rendering changed only the lines migration is about: a diff
// of the input and the output (helm diff, a GitOps review) must show nothing else, no re-indented
// list, no re-quoted value, no reordered key. Documents runner-migrate adds are left out.
func onlyMigrationChanges(t *testing.T, in, out []byte) {
	t.Helper()
	a, b := documents(in), documents(out)
	kept := b[:0:0]
	for _, d := range b {
		if !(strings.Contains(d, "kind: Secret") && strings.Contains(d, "-auth-token\n") && !strings.Contains(string(in), d)) {
			kept = append(kept, d)
		}
	}
	if len(a) != len(kept) {
		t.Fatalf("%d documents in, %d out (less those runner-migrate adds)", len(a), len(kept))
	}
	changed := 0
	for i := range a {
		if a[i] == kept[i] {
			continue
		}
		changed++
		x, y := strings.Split(a[i], "\n"), strings.Split(kept[i], "\n")
		for _, op := range difflib.NewMatcher(x, y).GetOpCodes() {
			if op.Tag == 'e' {
				continue
			}
			old, added := x[op.I1:op.I2], y[op.J1:op.J2]
			if len(old) == 1 && len(added) == 1 && (secretName.MatchString(old[0]) && addable.MatchString(added[0]) ||
				strings.TrimSuffix(old[0], " \\") == added[0]) {
				continue // the token Secret's name, or a command line that lost its continuation
			}
			afterName := false
			for _, l := range old {
				ok := removable.MatchString(l) || afterName && envValue.MatchString(l)
				afterName = strings.Contains(l, "- name: ")
				if !ok {
					t.Errorf("document %d: line removed that migration does not touch: %q", i+1, l)
				}
			}
			for _, l := range added {
				if !addable.MatchString(l) {
					t.Errorf("document %d: line added that migration does not write: %q", i+1, l)
				}
			}
		}
	}
	if changed == 0 && len(a) > 0 && !bytes.Equal(in, out) {
		t.Errorf("the output differs from the input outside its documents")
	}
}

// documents splits a stream at its `---` lines.
func documents(stream []byte) []string {
	var docs []string
	for _, d := range strings.Split("\n"+string(stream), "\n---\n") {
		if strings.TrimSpace(d) != "" {
			docs = append(docs, strings.TrimRight(d, "\n"))
		}
	}
	return docs
}

// run runs the runner-migrate binary as Helm does: manifests on stdin, env inherited.
func run(t *testing.T, bin string, env []string, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	noLeaks(t, stderr.Bytes())
	if err != nil {
		t.Fatalf("runner-migrate: %v\n%s", err, stderr.Bytes())
	}
	return out
}

func shellCheck(t *testing.T, name, script string) {
	t.Helper()
	if script == "" {
		t.Fatalf("no %s script", name)
	}
	shell := "sh"
	if strings.HasPrefix(script, "#!/bin/bash") {
		shell = "bash"
	}
	cmd := exec.Command(shell, "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s -n %s: %v\n%s", shell, name, err, out)
	}
}

// noLeaks fails when stderr carries a token the test used, plain or base64.
func noLeaks(t testing.TB, stderr []byte, more ...string) {
	t.Helper()
	for _, secret := range append([]string{authToken, registrationToken, "glrt-fixtureAuthenticationToken0001"}, more...) {
		if secret == "" {
			continue
		}
		for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))} {
			if bytes.Contains(stderr, []byte(form)) {
				t.Errorf("a token leaked into stderr:\n%s", stderr)
			}
		}
	}
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "[REDACTED]"
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Compare(t, filepath.Join(testenv.Root(), "testdata", "golden", name), got, *update)
}
