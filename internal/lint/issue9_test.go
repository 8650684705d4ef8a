package lint

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

// issue9 lists the regression fixtures of issue 9 ("lint on real repositories"): a walk, the GitLab
// chart's directory, and the rule fixtures of the other defects.
var issue9 = []string{
	"testdata/issue9/1-walk",
	"testdata/issue9/3-gitlab-chart",
	"testdata/rules/rm002-neg-not-installed.yaml",
	"testdata/rules/rm008-pos-shared-secret.yaml",
	"testdata/rules/rm001-pos-env-registration-token.yaml",
	"testdata/rules/rm004-pos-env-value-from.yaml",
	"testdata/rules/rm004-pos-extra-env-from.yaml",
	"testdata/rules/rm006-pos-placeholders.yaml",
	"testdata/rules/rm006-pos-argo-values-string.yaml",
	"testdata/rules/rm001-pos-argo-sources.yaml",
	"testdata/rules/rm003-pos-argo-gitlab-chart.yaml",
	"testdata/rules/rm006-pos-flux-values.yaml",
	"testdata/rules/rm010-pos-flux-values-from.yaml",
	"testdata/rules/rm009-pos-duplicate-token.yaml",
	"testdata/rules/rm004-pos-runners-secret.yaml",
}

// short is a finding as "file:line RULE severity", the file relative to testdata/.
func short(f rules.Finding) string {
	return fmt.Sprintf("%s:%d %s %s", strings.TrimPrefix(f.File, "testdata/"), f.Line, f.Rule.ID, f.Severity)
}

func findingsIn(res Result, file string) []string {
	var out []string
	for _, f := range res.Findings {
		if f.File == file {
			out = append(out, short(f))
		}
	}
	return out
}

func TestIssue9(t *testing.T) {
	target := rules.DefaultGitLabVersion
	t.Run("1 a walk reports every file it cannot read", func(t *testing.T) {
		res := lintFiles(t, target, "testdata/issue9/1-walk")
		if len(res.Errors) != 1 || res.Errors[0].File != filepath.Join("testdata/issue9/1-walk", "gitlab-runner.yaml") || res.Errors[0].Line != 3 {
			t.Errorf("errors %v, want the broken gitlab-runner.yaml at line 3 (and not the chart's templates, the list or the hidden directory)", res.Errors)
		}
		if res.Files != 2 {
			t.Errorf("linted %d files, want 2 (values-prod.yaml, chart/values.yaml)", res.Files)
		}
		if got := findingsIn(res, "testdata/issue9/1-walk/values-prod.yaml"); len(got) != 1 {
			t.Errorf("the other files are still linted: %v", got)
		}
	})
	t.Run("3 the GitLab chart's subcharts are not its bundled runner", func(t *testing.T) {
		res := lintFiles(t, target, "testdata/issue9/3-gitlab-chart")
		var rm003 []string
		for _, f := range res.Findings {
			if f.Rule == rules.BundledRunnerSharedSecret {
				rm003 = append(rm003, short(f))
			}
		}
		if strings.Join(rm003, ",") != "issue9/3-gitlab-chart/values.yaml:10 RM003 error" || len(res.Errors) != 0 {
			t.Errorf("RM003 %v (errors %v), want one, on the umbrella's gitlab-runner block", rm003, res.Errors)
		}
	})
	t.Run("4 a runner that is not installed has no finding", func(t *testing.T) {
		if res := lintFiles(t, target, "testdata/rules/rm002-neg-not-installed.yaml"); len(res.Findings) != 0 {
			t.Errorf("findings %v", res.Findings)
		}
	})
	t.Run("5 the GitLab chart's shared Secret is an error", func(t *testing.T) {
		res := lintFiles(t, target, "testdata/rules/rm008-pos-shared-secret.yaml")
		if len(res.Findings) != 1 || res.Findings[0].Rule != rules.SharedRunnerSecret || res.Findings[0].Severity != rules.SeverityError || res.Findings[0].Fix == "" {
			t.Errorf("findings %v", res.Findings)
		}
	})
	t.Run("6 legacy tokens in env vars", func(t *testing.T) {
		for file, want := range map[string]string{
			"rules/rm001-pos-env-registration-token.yaml": "RM001 error",
			"rules/rm004-pos-env-value-from.yaml":         "RM004 warning",
			"rules/rm004-pos-extra-env-from.yaml":         "RM004 warning",
		} {
			res := lintFiles(t, target, "testdata/"+file)
			if len(res.Findings) != 1 || !strings.HasSuffix(short(res.Findings[0]), want) {
				t.Errorf("%s: %v, want %s", file, res.Findings, want)
			}
		}
	})
	t.Run("7 placeholders are at most a note", func(t *testing.T) {
		res := lintFiles(t, target, "testdata/rules/rm006-pos-placeholders.yaml")
		for _, f := range res.Findings {
			real := strings.HasPrefix(f.Path, "runner-real.")
			if want := map[bool]rules.Severity{true: rules.SeverityError, false: rules.SeverityInfo}[real]; f.Severity != want {
				t.Errorf("%s: %s, want %s", f.Path, f.Severity, want)
			}
		}
		if len(res.Findings) != 6 {
			t.Errorf("%d findings, want 6", len(res.Findings))
		}
	})
	t.Run("8 GitOps manifests are linted as values, with lines in the manifest", func(t *testing.T) {
		for file, want := range map[string]string{
			"rules/rm006-pos-argo-values-string.yaml": "rules/rm006-pos-argo-values-string.yaml:21 RM006 error", // inside the block string
			"rules/rm001-pos-argo-sources.yaml":       "rules/rm001-pos-argo-sources.yaml:26 RM001 error",       // valuesObject of sources[1]
			"rules/rm003-pos-argo-gitlab-chart.yaml":  "rules/rm003-pos-argo-gitlab-chart.yaml:14 RM003 error",  // the chart line
			"rules/rm006-pos-flux-values.yaml":        "rules/rm006-pos-flux-values.yaml:16 RM006 error",
			"rules/rm010-pos-flux-values-from.yaml":   "rules/rm010-pos-flux-values-from.yaml:17 RM010 info", // valuesFrom noted
		} {
			res := lintFiles(t, target, "testdata/"+file)
			found := false
			for _, f := range res.Findings {
				found = found || short(f) == want
			}
			if !found || len(res.Errors) > 0 {
				t.Errorf("%s: want %s in %v (errors %v)", file, want, res.Findings, res.Errors)
			}
		}
	})
	t.Run("10 GitLab is spelled GitLab, duplicate keys are noted", func(t *testing.T) {
		res := lintFiles(t, target, "testdata/rules/rm004-pos-runners-secret.yaml", "testdata/rules/rm009-pos-duplicate-token.yaml")
		var dup bool
		for _, f := range res.Findings {
			if strings.Contains(f.Message, "gitLab") {
				t.Errorf("%s: %q", short(f), f.Message)
			}
			dup = dup || (f.Rule == rules.DuplicateKey && f.Severity == rules.SeverityInfo && f.Line == 6)
		}
		if !dup {
			t.Errorf("no RM009 note on the second runnerRegistrationToken: %v", res.Findings)
		}
	})
}
