package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

// cqDoc is what GitLab reads from a Code Quality report.
type cqDoc struct {
	Type        string   `json:"type"`
	CheckName   string   `json:"check_name"`
	Description string   `json:"description"`
	Categories  []string `json:"categories"`
	Fingerprint string   `json:"fingerprint"`
	Severity    string   `json:"severity"`
	Location    struct {
		Path  string `json:"path"`
		Lines struct {
			Begin *int `json:"begin"`
		} `json:"lines"`
	} `json:"location"`
}

func decodeCodeQuality(t *testing.T, findings []rules.Finding) []cqDoc {
	t.Helper()
	out := render(t, findings, sampleOptions("codequality"))
	var issues []cqDoc
	if err := json.Unmarshal(out, &issues); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, out)
	}
	return issues
}

func TestCodeQuality(t *testing.T) {
	// A duplicate of a finding at the same rule, file, path and line still gets its own fingerprint.
	in := append(sampleFindings(), sampleFindings()[4])
	issues := decodeCodeQuality(t, in)
	if len(issues) != len(in) {
		t.Fatalf("%d issues, want %d", len(issues), len(in))
	}
	allowed := map[string]bool{"info": true, "minor": true, "major": true, "critical": true, "blocker": true}
	want := map[rules.Severity]string{rules.SeverityError: "critical", rules.SeverityWarning: "major", rules.SeverityInfo: "info"}
	seen := map[string]bool{}
	for i, is := range issues {
		f := in[i]
		if is.Description == "" || is.CheckName == "" || is.Fingerprint == "" || is.Location.Path == "" {
			t.Errorf("issue %d lacks a required field: %+v", i, is)
		}
		if !allowed[is.Severity] || is.Severity != want[f.Severity] {
			t.Errorf("issue %d severity %q", i, is.Severity)
		}
		if is.Location.Lines.Begin == nil || *is.Location.Lines.Begin < 1 || (f.Line > 0 && *is.Location.Lines.Begin != f.Line) {
			t.Errorf("issue %d lines.begin %v (line %d)", i, is.Location.Lines.Begin, f.Line)
		}
		if seen[is.Fingerprint] {
			t.Errorf("issue %d: fingerprint %s repeats", i, is.Fingerprint)
		}
		seen[is.Fingerprint] = true
		if is.Type != "issue" || is.CheckName != f.Rule.ID+" "+f.Rule.Name || len(is.Categories) != 1 || is.Categories[0] != "Compatibility" {
			t.Errorf("issue %d = %+v", i, is)
		}
		if !strings.HasPrefix(is.Description, f.Message+" Fix: ") {
			t.Errorf("issue %d description %q", i, is.Description)
		}
		wantPath := f.File
		if f.File == "-" {
			wantPath = "stdin"
		}
		if is.Location.Path != wantPath {
			t.Errorf("issue %d path %q, want %q", i, is.Location.Path, wantPath)
		}
	}
}

func TestCodeQualityEmpty(t *testing.T) {
	out := string(render(t, nil, sampleOptions("codequality")))
	if out != "[]\n" {
		t.Errorf("no findings: %q, want []", out)
	}
}
