package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Formats are the names --format accepts, in this order: text, json, sarif, codequality, github.
var Formats = []string{"text", "json", "sarif", "codequality", "github"}

// Options control how Write prints.
type Options struct {
	Format        string                // one of Formats
	Color         bool                  // text only: ANSI colours (the caller decides: a terminal and no NO_COLOR)
	ToolVersion   string                // runner-migrate's version
	GitLabVersion rewrite.GitLabVersion // the version the severities were computed for
}

// toolName is the tool's name in every machine-readable report.
const toolName = "runner-migrate"

// Write writes the findings (already sorted by the caller) in the chosen format. Unknown format: error
// naming the valid ones.
func Write(w io.Writer, findings []rewrite.Finding, opts Options) error {
	switch opts.Format {
	case "text":
		return writeText(w, findings, opts)
	case "json":
		return writeJSON(w, findings, opts)
	case "sarif":
		return writeSARIF(w, findings, opts)
	case "codequality":
		return writeCodeQuality(w, findings)
	case "github":
		return writeGitHub(w, findings)
	}
	return fmt.Errorf("unknown report format %q (valid: %s)", opts.Format, strings.Join(Formats, ", "))
}

// stdinName is File for findings read from standard input.
const stdinName = "-"

func isStdin(file string) bool { return file == stdinName }

// counts is the number of findings per severity.
type counts struct{ errors, warnings, infos int }

func countFindings(fs []rewrite.Finding) counts {
	var c counts
	for _, f := range fs {
		switch f.Severity {
		case rewrite.SeverityError:
			c.errors++
		case rewrite.SeverityWarning:
			c.warnings++
		case rewrite.SeverityInfo:
			c.infos++
		}
	}
	return c
}

func ruleID(f rewrite.Finding) string {
	if f.Rule == nil {
		return ""
	}
	return f.Rule.ID
}

func ruleName(f rewrite.Finding) string {
	if f.Rule == nil {
		return ""
	}
	return f.Rule.Name
}

func helpURI(f rewrite.Finding) string {
	if f.Rule == nil {
		return ""
	}
	return f.Rule.HelpURI()
}

// checkName is "RM001 legacy-registration-token": the title of annotations and Code Quality issues.
func checkName(f rewrite.Finding) string {
	return strings.TrimSpace(ruleID(f) + " " + ruleName(f))
}

// fix is the finding's fix, else the rule's general one.
func fix(f rewrite.Finding) string {
	if f.Fix != "" || f.Rule == nil {
		return f.Fix
	}
	return f.Rule.Fix
}

// messageWithFix is "<message> Fix: <fix>", for formats with a single text field.
func messageWithFix(f rewrite.Finding) string {
	if x := fix(f); x != "" {
		return f.Message + " Fix: " + x
	}
	return f.Message
}

// slashPath is the file with forward slashes, or "stdin".
func slashPath(file string) string {
	if isStdin(file) {
		return "stdin"
	}
	return filepath.ToSlash(file)
}

// fingerprint is the sha256 hex of the parts joined with NUL bytes.
func fingerprint(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}
