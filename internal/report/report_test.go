package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/rewrite"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// sampleFindings cover every severity, a whole-file finding (line 0), a finding without column,
// standard input, a file name and a path with a comma and a colon, and a message with a newline
// and a percent sign.
func sampleFindings() []rewrite.Finding {
	return []rewrite.Finding{
		{Rule: rewrite.RuleLegacyToken, Severity: rewrite.SeverityError, File: "-", Line: 20, Column: 5,
			Path: "runnerRegistrationToken", Message: "the runner registers with a registration token"},
		{Rule: rewrite.RuleRegistrationSettings, Severity: rewrite.SeverityInfo, File: "charts/runner/values.yaml", Line: 7, Column: 3,
			Path: "runners.name", Message: "name is set at registration", Fix: "set the runner's description in GitLab"},
		{Rule: rewrite.RuleLegacySecret, Severity: rewrite.SeverityError, File: "prod,eu:west.yaml", Line: 4, Column: 3,
			Path: "Secret ci/runner,a:b data.runner-registration-token", Message: "the Secret carries a registration token",
			Fix: "post-render with runner-migrate"},
		{Rule: rewrite.RuleBundledRunnerSharedSecret, Severity: rewrite.SeverityError, File: "values-gitlab.yaml",
			Path: "gitlab-runner.install", Message: "the bundled runner registers with the shared-secrets token"},
		{Rule: rewrite.RuleLegacyToken, Severity: rewrite.SeverityError, File: "values.yaml", Line: 3, Column: 1,
			Path: "runnerRegistrationToken", Message: "GitLab 17.0 and later disable registration tokens", Fix: "use an authentication token"},
		{Rule: rewrite.RuleInlineAuthToken, Severity: rewrite.SeverityWarning, File: "values.yaml", Line: 9, Column: 14,
			Path: "runnerToken", Message: "100% exposed: the token is in git\nrotate it first (literal %0A stays)\r\nthen move it",
			Fix: "keep it in a Secret, 50%, then: remove it"},
		{Rule: rewrite.RuleLockedNullWorkaround, Severity: rewrite.SeverityWarning, File: "values.yaml", Line: 12,
			Path: "runners.locked", Message: "runners.locked: null does not work with Helm 3.22"},
	}
}

func sampleOptions(format string) Options {
	return Options{Format: format, ToolVersion: "1.2.3", GitLabVersion: rewrite.GitLabVersion{Major: 18, Minor: 99}}
}

func render(t *testing.T, findings []rewrite.Finding, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, findings, opts); err != nil {
		t.Fatalf("Write(%s): %v", opts.Format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"text", sampleOptions("text")},
		{"text-color", func() Options { o := sampleOptions("text"); o.Color = true; return o }()},
		{"json", sampleOptions("json")},
		{"sarif", sampleOptions("sarif")},
		{"codequality", sampleOptions("codequality")},
		{"github", sampleOptions("github")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, sampleFindings(), tt.opts)
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	want := []string{"text", "json", "sarif", "codequality", "github"}
	if strings.Join(Formats, ",") != strings.Join(want, ",") {
		t.Fatalf("Formats = %v, want %v", Formats, want)
	}
	for _, f := range Formats {
		for _, fs := range [][]rewrite.Finding{nil, sampleFindings()} {
			if err := Write(&bytes.Buffer{}, fs, sampleOptions(f)); err != nil {
				t.Errorf("Write(%s, %d findings): %v", f, len(fs), err)
			}
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	for _, format := range []string{"", "xml", "TEXT"} {
		var buf bytes.Buffer
		err := Write(&buf, sampleFindings(), Options{Format: format})
		if err == nil {
			t.Fatalf("Write(%q): no error", format)
		}
		for _, f := range Formats {
			if !strings.Contains(err.Error(), f) {
				t.Errorf("Write(%q) error %q does not name %s", format, err, f)
			}
		}
		if buf.Len() != 0 {
			t.Errorf("Write(%q) wrote %q", format, buf.String())
		}
	}
}
