package lint_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/lint"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
	"github.com/runner-migrate/runner-migrate/internal/report"
)

// TestIssue9Reports: the findings and errors of issue 9's regression fixtures, in every report
// format, against golden files (go test ./internal/lint -update rewrites them).
func TestIssue9Reports(t *testing.T) {
	update := flag.Lookup("update").Value.(flag.Getter).Get().(bool)
	res := lint.Run(lint.Options{Paths: lint.Issue9Paths, Target: rules.DefaultGitLabVersion})
	if len(res.Errors) == 0 || len(res.Findings) == 0 {
		t.Fatalf("the fixtures give %d errors and %d findings; the reports must show both", len(res.Errors), len(res.Findings))
	}
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.Write(&buf, res, report.Options{Format: format, ToolVersion: "test", GitLabVersion: rules.DefaultGitLabVersion}); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "issue9."+format+".golden")
			if update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./internal/lint -update creates it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs:\n%s", golden, buf.Bytes())
			}
		})
	}
}
