package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/lint"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

// Formats are the names --format accepts, in this order: text, json, sarif, codequality, github.
var Formats = []string{"text", "json", "sarif", "codequality", "github"}

// Options control how Write prints.
type Options struct {
	Format        string              // one of Formats
	Color         bool                // text only: ANSI colours (the caller decides: a terminal and no NO_COLOR)
	ToolVersion   string              // runner-migrate's version
	GitLabVersion rules.GitLabVersion // the version the severities were computed for
}

// toolName is the tool's name in every machine-readable report.
const toolName = "runner-migrate"

// Write writes a lint result in the chosen format: its findings (already sorted by the caller) and
// the files it could not read, which every format carries (a report that left them out would pass
// a broken file as clean). Unknown format: error naming the valid ones.
func Write(w io.Writer, res lint.Result, opts Options) error {
	switch opts.Format {
	case "text":
		return writeText(w, res, opts)
	case "json":
		return writeJSON(w, res, opts)
	case "sarif":
		return writeSARIF(w, res, opts)
	case "codequality":
		return writeCodeQuality(w, res)
	case "github":
		return writeGitHub(w, res)
	}
	return fmt.Errorf("unknown report format %q (valid: %s)", opts.Format, strings.Join(Formats, ", "))
}

// stdinName is File for findings read from standard input.
const stdinName = "-"

func isStdin(file string) bool { return file == stdinName }

// counts is the number of findings per severity.
type counts struct{ errors, warnings, infos int }

func countFindings(fs []rules.Finding) counts {
	var c counts
	for _, f := range fs {
		switch f.Severity {
		case rules.SeverityError:
			c.errors++
		case rules.SeverityWarning:
			c.warnings++
		case rules.SeverityInfo:
			c.infos++
		}
	}
	return c
}

func ruleID(f rules.Finding) string {
	if f.Rule == nil {
		return ""
	}
	return f.Rule.ID
}

func ruleName(f rules.Finding) string {
	if f.Rule == nil {
		return ""
	}
	return f.Rule.Name
}

func helpURI(f rules.Finding) string {
	if f.Rule == nil {
		return ""
	}
	return f.Rule.HelpURI()
}

// checkName is "RM001 legacy-registration-token": the title of annotations and Code Quality issues.
func checkName(f rules.Finding) string {
	return strings.TrimSpace(ruleID(f) + " " + ruleName(f))
}

// fix is the finding's fix, else the rule's general one.
func fix(f rules.Finding) string {
	if f.Fix != "" || f.Rule == nil {
		return f.Fix
	}
	return f.Rule.Fix
}

// notLinted is the message of a file lint could not read, for formats with a single text field.
func notLinted(e *lint.FileError) string {
	return "runner-migrate could not lint this file: " + e.Message
}

// messageWithFix is "<message> Fix: <fix>", for formats with a single text field.
func messageWithFix(f rules.Finding) string {
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
