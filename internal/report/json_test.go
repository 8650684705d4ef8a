package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

// jsonDoc is the documented JSON schema (package comment), version 1.
type jsonDoc struct {
	Version int `json:"version"`
	Tool    struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"tool"`
	GitLabVersion string `json:"gitlabVersion"`
	Findings      []struct {
		RuleID   string `json:"ruleId"`
		RuleName string `json:"ruleName"`
		Severity string `json:"severity"`
		File     string `json:"file"`
		Line     int    `json:"line"`
		Column   int    `json:"column"`
		Path     string `json:"path"`
		Message  string `json:"message"`
		Fix      string `json:"fix"`
		HelpURI  string `json:"helpUri"`
	} `json:"findings"`
	Errors []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Message string `json:"message"`
	} `json:"errors"`
	Summary struct {
		Error     int `json:"error"`
		Warning   int `json:"warning"`
		Info      int `json:"info"`
		NotLinted int `json:"notLinted"`
	} `json:"summary"`
}

func decodeJSONDoc(t *testing.T, out []byte) jsonDoc {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	var d jsonDoc
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	return d
}

func TestJSON(t *testing.T) {
	in := sampleFindings()
	out := render(t, in, sampleOptions("json"))
	if !bytes.HasPrefix(out, []byte("{\n  \"version\": 1,\n")) || !bytes.HasSuffix(out, []byte("}\n")) {
		t.Errorf("version must come first, two-space indent, trailing newline:\n%s", out)
	}
	d := decodeJSONDoc(t, out)
	if d.Version != 1 || d.Tool.Name != "runner-migrate" || d.Tool.Version != "1.2.3" || d.GitLabVersion != "18.x" {
		t.Errorf("header = %+v", d)
	}
	if len(d.Findings) != len(in) {
		t.Fatalf("%d findings, want %d", len(d.Findings), len(in))
	}
	var errs, warns, infos int
	for i, f := range in {
		g := d.Findings[i]
		wantFix := f.Fix
		if wantFix == "" {
			wantFix = f.Rule.Fix
		}
		if g.RuleID != f.Rule.ID || g.RuleName != f.Rule.Name || g.Severity != f.Severity.String() || g.File != f.File ||
			g.Line != f.Line || g.Column != f.Column || g.Path != f.Path || g.Message != f.Message || g.Fix != wantFix ||
			g.HelpURI != f.Rule.HelpURI() {
			t.Errorf("finding %d = %+v, from %+v", i, g, f)
		}
		switch f.Severity {
		case rules.SeverityError:
			errs++
		case rules.SeverityWarning:
			warns++
		case rules.SeverityInfo:
			infos++
		}
	}
	if d.Summary.Error != errs || d.Summary.Warning != warns || d.Summary.Info != infos {
		t.Errorf("summary = %+v, want %d/%d/%d", d.Summary, errs, warns, infos)
	}
	// Line and column 0 are written, not omitted.
	if !strings.Contains(string(out), `"line": 0,`) || !strings.Contains(string(out), `"column": 0,`) {
		t.Errorf("line/column 0 must be kept:\n%s", out)
	}
}

func TestJSONEmpty(t *testing.T) {
	for _, in := range [][]rules.Finding{nil, {}} {
		out := render(t, in, sampleOptions("json"))
		if !strings.Contains(string(out), `"findings": [],`) {
			t.Errorf("findings must be [] when empty:\n%s", out)
		}
		d := decodeJSONDoc(t, out)
		if d.Findings == nil || len(d.Findings) != 0 {
			t.Errorf("findings = %#v, want empty non-nil", d.Findings)
		}
		if d.Summary.Error+d.Summary.Warning+d.Summary.Info != 0 {
			t.Errorf("summary = %+v", d.Summary)
		}
	}
}
