package lint

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/golden"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	golden.Compare(t, path, got, *update)
}

func lintFiles(t *testing.T, target rules.GitLabVersion, paths ...string) Result {
	t.Helper()
	return Run(Options{Paths: paths, Target: target})
}

// TestRules runs every fixture under testdata/rules: rmNNN-pos-*.yaml must yield a finding of rule
// RMNNN, rmNNN-neg-*.yaml none of it. All findings are compared with the golden .findings file.
func TestRules(t *testing.T) {
	files, _ := filepath.Glob("testdata/rules/*.yaml")
	if len(files) == 0 {
		t.Fatal("no rule fixtures")
	}
	seen := map[string][2]bool{} // rule -> has positive, has negative
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		parts := strings.SplitN(name, "-", 3)
		rule, kind := strings.ToUpper(parts[0]), parts[1]
		t.Run(name, func(t *testing.T) {
			res := lintFiles(t, rules.DefaultGitLabVersion, path)
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %v", res.Errors)
			}
			fired := false
			for _, f := range res.Findings {
				fired = fired || f.Rule.ID == rule
				if f.Line == 0 && !strings.HasPrefix(name, "rm003-pos-default") {
					t.Errorf("finding without a line: %+v", f)
				}
			}
			if want := kind == "pos"; fired != want {
				t.Errorf("%s fired = %v, want %v:\n%s", rule, fired, want, describeFindings(res.Findings))
			}
			compareGolden(t, strings.TrimSuffix(path, ".yaml")+".findings", []byte(describeFindings(res.Findings)))
			s := seen[rule]
			s[0], s[1] = s[0] || kind == "pos", s[1] || kind == "neg"
			seen[rule] = s
		})
	}
	for _, r := range rules.All {
		if s := seen[r.ID]; !s[0] || !s[1] {
			t.Errorf("rule %s needs positive and negative fixtures (have %v)", r.ID, s)
		}
	}
}

func describeFindings(fs []rules.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%d:%d %s %s %s\n  %s\n  fix: %s\n", f.Line, f.Column, f.Severity, f.Rule.ID, f.Path, f.Message, f.Fix)
	}
	return b.String()
}

func TestSeverityFollowsGitLabVersion(t *testing.T) {
	tests := []struct {
		version string
		want    rules.Severity // of RM001
		removal bool           // the message mentions the deferred removal
	}{
		{"15.5", rules.SeverityNone, false},
		{"15.6", rules.SeverityWarning, false},
		{"16.11", rules.SeverityWarning, false},
		{"17.0", rules.SeverityError, true},
		{"18.x", rules.SeverityError, true},
	}
	for _, tt := range tests {
		target, err := rules.ParseGitLabVersion(tt.version)
		if err != nil {
			t.Fatal(err)
		}
		got := rules.SeverityNone
		msg := ""
		for _, f := range lintFiles(t, target, "testdata/rules/rm001-pos-runner-chart.yaml").Findings {
			if f.Rule == rules.LegacyToken {
				got, msg = f.Severity, f.Message
			}
		}
		if got != tt.want || strings.Contains(msg, "20.0") != tt.removal {
			t.Errorf("GitLab %s: RM001 %s (message %q), want %s", tt.version, got, msg, tt.want)
		}
	}
	for _, bad := range []string{"", "x", "0", "17.y"} {
		if _, err := rules.ParseGitLabVersion(bad); err == nil {
			t.Errorf("ParseGitLabVersion(%q) accepted", bad)
		}
	}
}

// TestMergedValuesPointAtTheFileThatSetIt: with several -f files, each finding names the file and
// line that set the value Helm uses.
func TestMergedValuesPointAtTheFileThatSetIt(t *testing.T) {
	res := Run(Options{ValuesFiles: []string{"testdata/multi_a.yaml", "testdata/multi_b.yaml"}, Target: rules.DefaultGitLabVersion})
	got := map[string]string{}
	for _, f := range res.Findings {
		got[f.Path] = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	want := map[string]string{"runnerRegistrationToken": "testdata/multi_b.yaml:2", "runners.tags": "testdata/multi_b.yaml:4"}
	for path, loc := range want {
		if got[path] != loc {
			t.Errorf("%s found at %q, want %s (all: %v)", path, got[path], loc, got)
		}
	}
}

// TestRulesAreDocumented: every rule's help link lands on a README section (GitHub's anchor of the
// heading "RMnnn name").
func TestRulesAreDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.All {
		heading := "#### " + r.ID + " " + r.Name
		if !strings.Contains(string(readme), heading+"\n") {
			t.Errorf("README lacks the heading %q", heading)
		}
		if want := strings.ToLower(r.ID) + "-" + r.Name; r.Anchor != want {
			t.Errorf("%s anchor %q, want %q (GitHub's anchor of its heading)", r.ID, r.Anchor, want)
		}
	}
}
