package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/lint"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// sampleFindings cover every severity, a whole-file finding (line 0), a finding without column,
// standard input, a file name and a path with a comma and a colon, and a message with a newline
// and a percent sign.
func sampleFindings() []rules.Finding {
	return []rules.Finding{
		{Rule: rules.LegacyToken, Severity: rules.SeverityError, File: "-", Line: 20, Column: 5,
			Path: "runnerRegistrationToken", Message: "the runner registers with a registration token"},
		{Rule: rules.RegistrationSettings, Severity: rules.SeverityInfo, File: "charts/runner/values.yaml", Line: 7, Column: 3,
			Path: "runners.name", Message: "name is set at registration", Fix: "set the runner's description in GitLab"},
		{Rule: rules.LegacySecret, Severity: rules.SeverityError, File: "prod,eu:west.yaml", Line: 4, Column: 3,
			Path: "Secret ci/runner,a:b data.runner-registration-token", Message: "the Secret carries a registration token",
			Fix: "post-render with runner-migrate"},
		{Rule: rules.BundledRunnerSharedSecret, Severity: rules.SeverityError, File: "values-gitlab.yaml",
			Path: "gitlab-runner.install", Message: "the bundled runner registers with the shared-secrets token"},
		{Rule: rules.LegacyToken, Severity: rules.SeverityError, File: "values.yaml", Line: 3, Column: 1,
			Path: "runnerRegistrationToken", Message: "GitLab 17.0 and later disable registration tokens", Fix: "use an authentication token"},
		{Rule: rules.InlineAuthToken, Severity: rules.SeverityWarning, File: "values.yaml", Line: 9, Column: 14,
			Path: "runnerToken", Message: "100% exposed: the token is in git\nrotate it first (literal %0A stays)\r\nthen move it",
			Fix: "keep it in a Secret, 50%, then: remove it"},
		{Rule: rules.LockedNullWorkaround, Severity: rules.SeverityWarning, File: "values.yaml", Line: 12,
			Path: "runners.locked", Message: "runners.locked: null does not work with Helm 3.22"},
	}
}

// sampleErrors are files lint could not read: one with the line of the problem, one as a whole.
func sampleErrors() []*lint.FileError {
	return []*lint.FileError{
		{File: "deploy/broken.yaml", Line: 3, Message: "did not find expected ',' or ']'"},
		{File: "deploy/unreadable.yaml", Message: "permission denied"},
	}
}

func sampleOptions(format string) Options {
	return Options{Format: format, ToolVersion: "1.2.3", GitLabVersion: rules.GitLabVersion{Major: 18, Minor: 99}}
}

func render(t *testing.T, findings []rules.Finding, opts Options) []byte {
	t.Helper()
	return renderResult(t, lint.Result{Findings: findings}, opts)
}

func renderResult(t *testing.T, res lint.Result, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, res, opts); err != nil {
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
			got := renderResult(t, lint.Result{Findings: sampleFindings(), Errors: sampleErrors()}, tt.opts)
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
		for _, fs := range [][]rules.Finding{nil, sampleFindings()} {
			if err := Write(&bytes.Buffer{}, lint.Result{Findings: fs}, sampleOptions(f)); err != nil {
				t.Errorf("Write(%s, %d findings): %v", f, len(fs), err)
			}
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	for _, format := range []string{"", "xml", "TEXT"} {
		var buf bytes.Buffer
		err := Write(&buf, lint.Result{Findings: sampleFindings()}, Options{Format: format})
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

// TestReportsCarryErrors: a file lint could not read is in every report, never a clean one.
func TestReportsCarryErrors(t *testing.T) {
	res := lint.Result{Errors: sampleErrors()[:1]}
	tests := []struct {
		format string
		check  func(t *testing.T, out []byte)
	}{
		{"text", func(t *testing.T, out []byte) {
			want := "deploy/broken.yaml:3: cannot lint: did not find expected ',' or ']'\nno findings, 1 file not linted (GitLab 18.x)\n"
			if string(out) != want {
				t.Errorf("got %q, want %q", out, want)
			}
		}},
		{"json", func(t *testing.T, out []byte) {
			d := decodeJSONDoc(t, out)
			if len(d.Errors) != 1 || d.Errors[0].File != "deploy/broken.yaml" || d.Errors[0].Line != 3 || d.Summary.NotLinted != 1 || len(d.Findings) != 0 {
				t.Errorf("errors %+v, summary %+v", d.Errors, d.Summary)
			}
		}},
		{"sarif", func(t *testing.T, out []byte) {
			var log sarifLog
			if err := json.Unmarshal(out, &log); err != nil {
				t.Fatal(err)
			}
			inv := log.Runs[0].Invocations
			if len(inv) != 1 || inv[0].ExecutionSuccessful || len(inv[0].ToolExecutionNotifications) != 1 {
				t.Fatalf("invocations %+v", inv)
			}
			n := inv[0].ToolExecutionNotifications[0]
			if n.Level != "error" || !strings.Contains(n.Message.Text, "did not find expected") ||
				n.Locations[0].PhysicalLocation.ArtifactLocation.URI != "deploy/broken.yaml" || n.Locations[0].PhysicalLocation.Region.StartLine != 3 {
				t.Errorf("notification %+v", n)
			}
		}},
		{"codequality", func(t *testing.T, out []byte) {
			var issues []cqDoc
			if err := json.Unmarshal(out, &issues); err != nil {
				t.Fatal(err)
			}
			if len(issues) != 1 || issues[0].Severity != "blocker" || issues[0].Location.Path != "deploy/broken.yaml" ||
				*issues[0].Location.Lines.Begin != 3 || issues[0].CheckName != "unreadable-file" || issues[0].Fingerprint == "" {
				t.Errorf("issues %+v", issues)
			}
		}},
		{"github", func(t *testing.T, out []byte) {
			want := "::error file=deploy/broken.yaml,line=3,title=unreadable-file::runner-migrate could not lint this file: did not find expected ',' or ']'\n"
			if string(out) != want {
				t.Errorf("got %q, want %q", out, want)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			tt.check(t, renderResult(t, res, sampleOptions(tt.format)))
		})
	}
	if len(tests) != len(Formats) {
		t.Errorf("%d formats checked, %d exist", len(tests), len(Formats))
	}
}
