package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

// TestWalk: which files a directory walk lints, and that it reports every file it cannot read.
func TestWalk(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	legacy := "gitlabUrl: https://gitlab.example.com/\nrunnerRegistrationToken: GR1348941walk\n"
	write("chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n")
	write("chart/values.yaml", legacy)
	write("chart/templates/secret.yaml", "{{- if .Values.x }}\nrunnerRegistrationToken: {{ .Values.t }}\n{{- end }}\n") // a template: skipped
	write("chart/charts/sub/values.yaml", legacy)                                                                       // a subchart
	write(".git/values.yaml", legacy)                                                                                   // hidden: skipped
	write("deploy/values-prod.yml", legacy)
	write("deploy/broken-values.yaml", "a: [\n") // named like values: its error is reported
	write("ci/pipeline.yaml", "stages: [test\n") // any other YAML that does not parse: reported too
	write("ci/list.yaml", "- a\n- b\n")          // valid YAML but no mapping: no values, passed over
	write("rendered/all.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")

	res := Run(Options{Paths: []string{root}, Target: rules.DefaultGitLabVersion})
	var files []string
	for _, f := range res.Findings {
		files = append(files, strings.TrimPrefix(f.File, root+"/"))
	}
	if got, want := strings.Join(files, ","), "chart/charts/sub/values.yaml,chart/values.yaml,deploy/values-prod.yml"; got != want {
		t.Errorf("findings in %s, want %s", got, want)
	}
	var errs []string
	for _, e := range res.Errors {
		errs = append(errs, strings.TrimPrefix(e.Error(), root+"/"))
	}
	if got, want := strings.Join(errs, "\n"), "ci/pipeline.yaml:1: did not find expected ',' or ']'\ndeploy/broken-values.yaml:1: did not find expected node content"; got != want {
		t.Errorf("errors\n%s\nwant\n%s", got, want)
	}
	if res.Files != 4 {
		t.Errorf("linted %d files, want 4 (3 values files, 1 rendered; the broken ones are not linted)", res.Files)
	}
}

func TestStdinAndMerge(t *testing.T) {
	res := Run(Options{Paths: []string{"-"}, Stdin: strings.NewReader("runnerRegistrationToken: GR1348941x\n"), Target: rules.DefaultGitLabVersion})
	if len(res.Findings) != 1 || res.Findings[0].File != "-" || res.Findings[0].Line != 1 {
		t.Fatalf("stdin findings %+v", res.Findings)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	os.WriteFile(a, []byte("gitlabUrl: https://gitlab.example.com/\nrunnerRegistrationToken: GR1348941x\n"), 0o644)
	os.WriteFile(b, []byte("runnerRegistrationToken: \"\"\nrunners:\n  secret: s\n"), 0o644)
	res = Run(Options{ValuesFiles: []string{a, b}, Target: rules.DefaultGitLabVersion})
	if len(res.Findings) != 1 || res.Findings[0].Rule != rules.UnprovenSecret || res.Findings[0].File != b {
		t.Fatalf("the later file's empty token must win: %+v", res.Findings)
	}
}
