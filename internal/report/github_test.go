package report

import (
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

// unescapeGitHub undoes the workflow-command escaping, as the runner does.
func unescapeGitHub(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(s)
}

// parseCommand splits "::cmd k=v,k=v::data" the way the Actions runner does.
func parseCommand(t *testing.T, line string) (cmd string, props map[string]string, data string) {
	t.Helper()
	rest, ok := strings.CutPrefix(line, "::")
	if !ok {
		t.Fatalf("not a workflow command: %q", line)
	}
	head, data, ok := strings.Cut(rest, "::")
	if !ok {
		t.Fatalf("no data separator: %q", line)
	}
	cmd, list, _ := strings.Cut(head, " ")
	props = map[string]string{}
	if list != "" {
		for _, kv := range strings.Split(list, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("property %q in %q", kv, line)
			}
			props[k] = unescapeGitHub(v)
		}
	}
	return cmd, props, unescapeGitHub(data)
}

func TestGitHubRoundTrip(t *testing.T) {
	in := sampleFindings()
	out := string(render(t, in, sampleOptions("github")))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(in) {
		t.Fatalf("%d lines for %d findings (a newline escaped badly?):\n%s", len(lines), len(in), out)
	}
	cmds := map[rules.Severity]string{rules.SeverityError: "error", rules.SeverityWarning: "warning", rules.SeverityInfo: "notice"}
	for i, f := range in {
		cmd, props, data := parseCommand(t, lines[i])
		if cmd != cmds[f.Severity] {
			t.Errorf("line %d command %q", i, cmd)
		}
		if data != messageWithFix(f) {
			t.Errorf("line %d data round-trips to %q, want %q", i, data, messageWithFix(f))
		}
		if f.File == "-" {
			if _, ok := props["file"]; ok {
				t.Errorf("line %d: stdin has a file property", i)
			}
		} else if props["file"] != f.File {
			t.Errorf("line %d file %q, want %q", i, props["file"], f.File)
		}
		if props["title"] != f.Rule.ID+" "+f.Rule.Name {
			t.Errorf("line %d title %q", i, props["title"])
		}
		_, hasLine := props["line"]
		_, hasCol := props["col"]
		if hasLine != (f.Line > 0) || hasCol != (f.Line > 0 && f.Column > 0) {
			t.Errorf("line %d: line/col present %v/%v for %d:%d", i, hasLine, hasCol, f.Line, f.Column)
		}
	}
}

func TestGitHubEscaping(t *testing.T) {
	tests := []struct{ in, data, prop string }{
		{"plain", "plain", "plain"},
		{"100%", "100%25", "100%25"},
		{"a\nb\r\nc", "a%0Ab%0D%0Ac", "a%0Ab%0D%0Ac"},
		{"k:v,w", "k:v,w", "k%3Av%2Cw"},
		{"%0A", "%250A", "%250A"},
	}
	for _, tt := range tests {
		if got := escapeData(tt.in); got != tt.data {
			t.Errorf("escapeData(%q) = %q, want %q", tt.in, got, tt.data)
		}
		if got := escapeProperty(tt.in); got != tt.prop {
			t.Errorf("escapeProperty(%q) = %q, want %q", tt.in, got, tt.prop)
		}
		if unescapeGitHub(escapeData(tt.in)) != tt.in || unescapeGitHub(escapeProperty(tt.in)) != tt.in {
			t.Errorf("%q does not round-trip", tt.in)
		}
	}
}

func TestGitHubEmpty(t *testing.T) {
	if out := render(t, nil, sampleOptions("github")); len(out) != 0 {
		t.Errorf("no findings: %q, want nothing", out)
	}
}
