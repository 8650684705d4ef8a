package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/runner-migrate/runner-migrate/internal/testenv"
)

// lintCmd runs runner-migrate lint from the repository root and returns stdout, stderr and the exit
// status.
func lintCmd(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t), append([]string{"lint"}, args...)...)
	cmd.Dir, cmd.Env = testenv.Root(), append(cleanEnv(), "NO_COLOR=1")
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := exitCode(err)
	if code < 0 {
		t.Fatal(err)
	}
	for _, secret := range []string{registrationToken, "GR1348941lintRegistrationToken", "glrt-lintAuthenticationToken000", "glrt-fixtureAuthenticationToken0001",
		"glrt-t1_q8ZxV3mNk2LpRw7Ys4Hd", "GR1348941walkRegistrationToken"} {
		if strings.Contains(stdout.String()+stderr.String(), secret) {
			t.Errorf("lint printed a token from the values")
		}
	}
	return stdout.String(), stderr.String(), code
}

func TestLintCLI(t *testing.T) {
	helm := testenv.NewHelm(t, 3)
	legacyRender := helm.Run(nil, "template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "-n", "ns")
	if legacyRender.Err != nil {
		t.Fatal(legacyRender.Err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin []byte
		code  int
		want  []string // in stdout
		err   string   // in stderr
	}{
		{name: "legacy values", args: []string{"testdata/values/legacy.yaml"}, code: 1,
			want: []string{"testdata/values/legacy.yaml:3:1: error RM001", "testdata/values/legacy.yaml:11:3: warning RM002 runners.maximumTimeout", "fix:"}},
		{name: "before GitLab 15.6 nothing applies", args: []string{"--gitlab-version", "15.5", "testdata/values/legacy.yaml"}, code: 0, want: []string{"no findings (GitLab 15.5)"}},
		{name: "16.x warns", args: []string{"--gitlab-version", "16.11", "testdata/values/legacy.yaml"}, code: 0, want: []string{"warning RM001"}},
		{name: "fail on warning", args: []string{"--fail-on", "warning", "--gitlab-version", "16.11", "testdata/values/legacy.yaml"}, code: 1},
		{name: "rendered manifests on stdin", args: []string{"-"}, stdin: legacyRender.Stdout, code: 1, want: []string{"<stdin>:27:3: error RM007 Deployment ns/rel-gitlab-runner registers with the registration token in this Secret"}},
		{name: "a directory of charts", args: []string{"testdata/charts"}, code: 1, want: []string{"testdata/charts/gitlab-9.9.1/values.yaml:", "RM003"}},
		{name: "values merged onto a chart", args: []string{"testdata/charts/gitlab-runner-0.86.0", "-f", "testdata/values/legacy.yaml", "-f", "testdata/values/legacy-envvars.yaml"}, code: 1,
			want: []string{"testdata/values/legacy-envvars.yaml:3:1: error RM001", "testdata/values/legacy.yaml:7:3: warning RM002 runners.tags"}},
		{name: "a broken values file", args: []string{"internal/e2e/testdata/broken.yaml"}, code: 2,
			want: []string{"internal/e2e/testdata/broken.yaml:3: cannot lint: ", "no findings, 1 file not linted (GitLab 18.x)"}},
		{name: "a broken file in a walk, beside files with findings", args: []string{"internal/lint/testdata/issue9/1-walk"}, code: 2,
			want: []string{"internal/lint/testdata/issue9/1-walk/gitlab-runner.yaml:3: cannot lint: ", "values-prod.yaml:2:1: error RM001", "1 file not linted"}},
		{name: "GitOps manifests", args: []string{"internal/lint/testdata/rules/rm006-pos-argo-values-string.yaml", "internal/lint/testdata/rules/rm010-pos-flux-values-from.yaml"}, code: 1,
			want: []string{"rm006-pos-argo-values-string.yaml:21:9: error RM006", "rm010-pos-flux-values-from.yaml:17:7: info RM010"}},
		{name: "a missing file", args: []string{"no/such/values.yaml"}, code: 2, want: []string{"no/such/values.yaml: cannot lint: no such file or directory"}},
		{name: "an unknown format", args: []string{"--format", "xml", "."}, code: 2, err: "--format"},
		{name: "a bad GitLab version", args: []string{"--gitlab-version", "seventeen", "."}, code: 2, err: "--gitlab-version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := lintCmd(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			if !strings.Contains(stderr, tt.err) {
				t.Errorf("stderr lacks %q:\n%s", tt.err, stderr)
			}
		})
	}
}

// TestLintReportsCarryErrors: a file lint cannot read makes every report say so (issue 9, defect 2),
// the exit status 2, and stderr name the file when the report goes elsewhere.
func TestLintReportsCarryErrors(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []string{"json", "sarif", "codequality", "github", "text"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(dir, format+".out")
			stdout, stderr, code := lintCmd(t, nil, "--format", format, "-o", out, "internal/e2e/testdata/broken.yaml")
			if code != 2 || stdout != "" || !strings.Contains(stderr, "internal/e2e/testdata/broken.yaml:3: ") {
				t.Fatalf("exit %d (want 2), stdout %q, stderr %q", code, stdout, stderr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"json":        `"notLinted": 1`,
				"sarif":       `"executionSuccessful": false`,
				"codequality": `"severity": "blocker"`,
				"github":      "::error file=internal/e2e/testdata/broken.yaml,line=3,title=unreadable-file::",
				"text":        "1 file not linted",
			}[format]
			if !strings.Contains(string(data), want) || !strings.Contains(string(data), "broken.yaml") {
				t.Errorf("the report lacks the error (%q):\n%s", want, data)
			}
		})
	}
	// The text report on stdout shows the error; stderr does not repeat it.
	stdout, stderr, code := lintCmd(t, nil, "internal/e2e/testdata/broken.yaml")
	if code != 2 || !strings.Contains(stdout, "cannot lint") || stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestLintFormats(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []string{"json", "sarif", "codequality", "github"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(dir, format+".out")
			stdout, stderr, code := lintCmd(t, nil, "--format", format, "--output", out, "testdata/values/legacy.yaml")
			if code != 1 || stdout != "" {
				t.Fatalf("exit %d (want 1), stdout %q (want nothing: the report goes to --output), stderr %s", code, stdout, stderr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if format == "github" {
				if !bytes.HasPrefix(data, []byte("::error file=testdata/values/legacy.yaml,line=3,col=1,title=RM001")) {
					t.Fatalf("github annotations:\n%s", data)
				}
				return
			}
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				t.Fatalf("%s is not JSON: %v", format, err)
			}
		})
	}
}

// TestPreCommitHook runs the hook the way pre-commit does: its entry, with the staged files that
// match `files` and not `exclude` appended.
func TestPreCommitHook(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.Root(), ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hooks []struct {
		ID, Entry, Files, Exclude, Language string
		PassFilenames                       bool `yaml:"pass_filenames"`
	}
	if err := yaml.Unmarshal(data, &hooks); err != nil || len(hooks) != 1 {
		t.Fatalf("hooks: %v (%d)", err, len(hooks))
	}
	h := hooks[0]
	files, exclude := regexp.MustCompile(h.Files), regexp.MustCompile(h.Exclude)
	staged := func(paths ...string) []string {
		var out []string
		for _, p := range paths {
			if files.MatchString(p) && !exclude.MatchString(p) && h.PassFilenames {
				out = append(out, p)
			}
		}
		return out
	}
	bin := filepath.Dir(testenv.Binary(t))
	run := func(paths ...string) int {
		entry := strings.Fields(h.Entry)
		cmd := exec.Command(filepath.Join(bin, entry[0]), append(entry[1:], staged(paths...)...)...)
		cmd.Dir = testenv.Root()
		cmd.Env = append(cleanEnv(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		if err := cmd.Run(); err != nil {
			if exit, ok := err.(*exec.ExitError); ok {
				return exit.ExitCode()
			}
			t.Fatal(err)
		}
		return 0
	}
	if code := run("testdata/values/legacy.yaml", "testdata/charts/gitlab-runner-0.86.0/templates/deployment.yaml", "README.md"); code != 1 {
		t.Errorf("the hook on a legacy values file exits %d, want 1", code)
	}
	if code := run("internal/lint/testdata/rules/rm004-neg-no-secret.yaml", "testdata/charts/gitlab-runner-0.86.0/templates/configmap.yaml"); code != 0 {
		t.Errorf("the hook on clean values (and an excluded template) exits %d, want 0", code)
	}
}

// TestGitLabCIExample runs the example job's lint command and checks the Code Quality report it
// leaves for GitLab.
func TestGitLabCIExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.Root(), "examples", "gitlab-ci", ".gitlab-ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var pipeline struct {
		Job struct {
			Script    []string
			Artifacts struct {
				Reports struct {
					CodeQuality string `yaml:"codequality"`
				}
			}
		} `yaml:"runner-migrate-lint"`
	}
	if err := yaml.Unmarshal(data, &pipeline); err != nil {
		t.Fatal(err)
	}
	job := pipeline.Job
	var line string
	for _, s := range job.Script {
		if strings.HasPrefix(s, "runner-migrate lint") {
			line = s
		}
	}
	if line == "" || job.Artifacts.Reports.CodeQuality == "" {
		t.Fatalf("the example has no lint step or no codequality report: %+v", job)
	}
	repo := t.TempDir()
	for _, f := range []string{"rm001-pos-runner-chart.yaml", "rm004-neg-no-secret.yaml"} {
		src, _ := os.ReadFile(filepath.Join(testenv.Root(), "internal", "lint", "testdata", "rules", f))
		os.MkdirAll(filepath.Join(repo, "deploy"), 0o755)
		os.WriteFile(filepath.Join(repo, "deploy", "values-"+f), src, 0o644)
	}
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = repo
	cmd.Env = append(cleanEnv(), "PATH="+filepath.Dir(testenv.Binary(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
	if err := cmd.Run(); err == nil {
		t.Fatal("the job passed although a values file registers with a legacy token")
	}
	report, err := os.ReadFile(filepath.Join(repo, job.Artifacts.Reports.CodeQuality))
	if err != nil {
		t.Fatalf("no Code Quality report: %v", err)
	}
	var issues []map[string]any
	if err := json.Unmarshal(report, &issues); err != nil || len(issues) == 0 {
		t.Fatalf("Code Quality report: %v\n%s", err, report)
	}
	loc, _ := issues[0]["location"].(map[string]any)
	if issues[0]["check_name"] != "RM001 legacy-registration-token" || loc["path"] != "deploy/values-rm001-pos-runner-chart.yaml" {
		t.Fatalf("first issue %v", issues[0])
	}
}

// TestPlanMatchesHelm: plan --chart renders with the Helm CLI it finds (HELM_BIN); what it finds
// must match what it finds in the real Helm CLI's render of the same chart and values.
func TestPlanMatchesHelm(t *testing.T) {
	helm := testenv.NewHelm(t, 3)
	render := helm.Run(nil, "template", "rel", chartPath("gitlab-runner-0.71.0"), "-f", valuesPath("legacy"), "-n", "ns")
	if render.Err != nil {
		t.Fatal(render.Err)
	}
	fingerprint := regexp.MustCompile(`(?m)^rm-[0-9a-f]{12} .*$`)
	run := func(stdin []byte, args ...string) string {
		cmd := exec.Command(testenv.Binary(t), append([]string{"plan"}, args...)...)
		cmd.Dir, cmd.Env, cmd.Stdin = testenv.Root(), append(cleanEnv(), "HELM_BIN="+helm.Bin), bytes.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("plan %v: %v", args, err)
		}
		return strings.Join(fingerprint.FindAllString(string(out), -1), "\n")
	}
	fromHelm := run(render.Stdout, "-")
	inProcess := run(nil, "--chart", chartPath("gitlab-runner-0.71.0"), "-f", valuesPath("legacy"), "--release", "rel", "-n", "ns")
	if fromHelm == "" || fromHelm != inProcess {
		t.Fatalf("plan of helm template's output:\n%s\nplan --chart:\n%s", fromHelm, inProcess)
	}
}
