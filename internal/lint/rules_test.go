package rewrite

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintRules runs every fixture under testdata/lint: rmNNN-pos-*.yaml must yield a finding of rule
// RMNNN, rmNNN-neg-*.yaml none of it. All findings are compared with the golden .findings file.
func TestLintRules(t *testing.T) {
	files, _ := filepath.Glob("testdata/lint/*.yaml")
	if len(files) == 0 {
		t.Fatal("no lint fixtures")
	}
	seen := map[string][2]bool{} // rule -> has positive, has negative
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		parts := strings.SplitN(name, "-", 3)
		rule, kind := strings.ToUpper(parts[0]), parts[1]
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var findings []Finding
			if LooksLikeManifests(data) {
				findings, err = LintManifests(path, data, DefaultGitLabVersion)
			} else {
				var v *Values
				if v, err = ParseValues(path, data); err == nil {
					findings = LintValues(v, DefaultGitLabVersion)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			SortFindings(findings)
			fired := false
			for _, f := range findings {
				fired = fired || f.Rule.ID == rule
				if f.Line == 0 && !strings.HasPrefix(name, "rm003-pos-default") {
					t.Errorf("finding without a line: %+v", f)
				}
			}
			if want := kind == "pos"; fired != want {
				t.Errorf("%s fired = %v, want %v:\n%s", rule, fired, want, describeFindings(findings))
			}
			compareGolden(t, strings.TrimSuffix(path, ".yaml")+".findings", []byte(describeFindings(findings)))
			s := seen[rule]
			s[0], s[1] = s[0] || kind == "pos", s[1] || kind == "neg"
			seen[rule] = s
		})
	}
	for _, r := range Rules {
		if s := seen[r.ID]; !s[0] || !s[1] {
			t.Errorf("rule %s needs positive and negative fixtures (have %v)", r.ID, s)
		}
	}
}

func describeFindings(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%d:%d %s %s %s\n  %s\n  fix: %s\n", f.Line, f.Column, f.Severity, f.Rule.ID, f.Path, f.Message, f.Fix)
	}
	return b.String()
}

func TestSeverityFollowsGitLabVersion(t *testing.T) {
	data, _ := os.ReadFile("testdata/lint/rm001-pos-runner-chart.yaml")
	v, err := ParseValues("v.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		version string
		want    Severity // of RM001
		removal bool     // the message mentions the deferred removal
	}{
		{"15.5", SeverityNone, false},
		{"15.6", SeverityWarning, false},
		{"16.11", SeverityWarning, false},
		{"17.0", SeverityError, true},
		{"18.x", SeverityError, true},
	}
	for _, tt := range tests {
		target, err := ParseGitLabVersion(tt.version)
		if err != nil {
			t.Fatal(err)
		}
		got := SeverityNone
		msg := ""
		for _, f := range LintValues(v, target) {
			if f.Rule == RuleLegacyToken {
				got, msg = f.Severity, f.Message
			}
		}
		if got != tt.want || strings.Contains(msg, "20.0") != tt.removal {
			t.Errorf("GitLab %s: RM001 %s (message %q), want %s", tt.version, got, msg, tt.want)
		}
	}
	for _, bad := range []string{"", "x", "0", "17.y"} {
		if _, err := ParseGitLabVersion(bad); err == nil {
			t.Errorf("ParseGitLabVersion(%q) accepted", bad)
		}
	}
}

// TestMergedValuesPointAtTheFileThatSetIt: with several -f files, each finding names the file and
// line that set the value Helm uses.
func TestMergedValuesPointAtTheFileThatSetIt(t *testing.T) {
	var layers []*Values
	for _, name := range []string{"testdata/lint_multi_a.yaml", "testdata/lint_multi_b.yaml"} {
		data, _ := os.ReadFile(name)
		v, err := ParseValues(name, data)
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, v)
	}
	got := map[string]string{}
	for _, f := range LintValues(MergeValues(layers...), DefaultGitLabVersion) {
		got[f.Path] = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	want := map[string]string{"runnerRegistrationToken": "testdata/lint_multi_b.yaml:2", "runners.tags": "testdata/lint_multi_b.yaml:4"}
	for path, loc := range want {
		if got[path] != loc {
			t.Errorf("%s found at %q, want %s (all: %v)", path, got[path], loc, got)
		}
	}
}

func TestParseValuesErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a: b: c\n", "v.yaml:1: mapping values are not allowed in this context"},
		{"- a\n- b\n", "v.yaml:1: a values file must be a mapping"},
		{"a: [1,\n", "v.yaml:"},
	}
	for _, tt := range tests {
		_, err := ParseValues("v.yaml", []byte(tt.in))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseValues(%q) = %v, want %q...", tt.in, err, tt.want)
		}
	}
	for _, ok := range []string{"", "# only a comment\n", "~\n"} {
		if _, err := ParseValues("v.yaml", []byte(ok)); err != nil {
			t.Errorf("ParseValues(%q) = %v; an empty file is empty values", ok, err)
		}
	}
}

// TestRulesAreDocumented: every rule's help link lands on a README section (GitHub's anchor of the
// heading "RMnnn name").
func TestRulesAreDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Rules {
		heading := "#### " + r.ID + " " + r.Name
		if !strings.Contains(string(readme), heading+"\n") {
			t.Errorf("README lacks the heading %q", heading)
		}
		if want := strings.ToLower(r.ID) + "-" + r.Name; r.Anchor != want {
			t.Errorf("%s anchor %q, want %q (GitHub's anchor of its heading)", r.ID, r.Anchor, want)
		}
	}
}
