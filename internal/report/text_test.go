package report

import (
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

func TestTextColor(t *testing.T) {
	for _, color := range []bool{false, true} {
		opts := sampleOptions("text")
		opts.Color = color
		out := string(render(t, sampleFindings(), opts))
		if got := strings.Contains(out, "\x1b["); got != color {
			t.Errorf("Color=%v: output has ANSI escapes = %v\n%s", color, got, out)
		}
		if !color {
			continue
		}
		for _, want := range []string{
			ansiRed + "error" + ansiReset, ansiYellow + "warning" + ansiReset, ansiCyan + "info" + ansiReset,
			ansiBold + "RM001" + ansiReset,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("coloured output lacks %q", want)
			}
		}
	}
}

func TestTextLines(t *testing.T) {
	v := rules.GitLabVersion{Major: 17, Minor: 0}
	f := func(file string, line, col int) rules.Finding {
		return rules.Finding{Rule: rules.LegacyToken, Severity: rules.SeverityError, File: file, Line: line, Column: col,
			Message: "m", Fix: "do x"}
	}
	tests := []struct {
		name     string
		findings []rules.Finding
		want     string
	}{
		{"none", nil, "no findings (GitLab 17.0)\n"},
		{"line and column", []rules.Finding{f("v.yaml", 3, 7)},
			"v.yaml:3:7: error RM001 m\n    fix: do x\n1 error, 0 warnings, 0 info (GitLab 17.0)\n"},
		{"no column", []rules.Finding{f("v.yaml", 3, 0)},
			"v.yaml:3: error RM001 m\n    fix: do x\n1 error, 0 warnings, 0 info (GitLab 17.0)\n"},
		{"whole file", []rules.Finding{f("v.yaml", 0, 0)},
			"v.yaml: error RM001 m\n    fix: do x\n1 error, 0 warnings, 0 info (GitLab 17.0)\n"},
		{"stdin", []rules.Finding{f("-", 1, 1)},
			"<stdin>:1:1: error RM001 m\n    fix: do x\n1 error, 0 warnings, 0 info (GitLab 17.0)\n"},
		{"rule fix when none given", []rules.Finding{{Rule: rules.LockedNullWorkaround, Severity: rules.SeverityWarning, File: "v.yaml", Line: 2, Column: 1, Message: "m"}},
			"v.yaml:2:1: warning RM005 m\n    fix: " + rules.LockedNullWorkaround.Fix + "\n0 errors, 1 warning, 0 info (GitLab 17.0)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(render(t, tt.findings, Options{Format: "text", GitLabVersion: v}))
			if got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
