package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/lint"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

// ANSI escapes for --format text with colours.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// textIndent starts the fix line and continuation lines of a multi-line message.
const textIndent = "    "

// writeText prints the files lint could not read, "file:line: cannot lint: message", then one finding
// per line, "file:line:col: severity RULE message", its fix on the next line, and a summary.
func writeText(w io.Writer, res lint.Result, opts Options) error {
	bw := bufio.NewWriter(w)
	paint := func(s, code string) string {
		if !opts.Color || s == "" {
			return s
		}
		return code + s + ansiReset
	}
	for _, e := range res.Errors {
		loc := textFile(e.File)
		if e.Line > 0 {
			loc += ":" + strconv.Itoa(e.Line)
		}
		fmt.Fprintf(bw, "%s: %s %s\n", loc, paint("cannot lint:", ansiRed+ansiBold), indentLines(e.Message))
	}
	findings := res.Findings
	for _, f := range findings {
		loc := textFile(f.File)
		if f.Line > 0 {
			loc += ":" + strconv.Itoa(f.Line)
			if f.Column > 0 {
				loc += ":" + strconv.Itoa(f.Column)
			}
		}
		sev := paint(f.Severity.String(), severityColor(f.Severity))
		head := loc + ": " + sev
		if id := ruleID(f); id != "" {
			head += " " + paint(id, ansiBold)
		}
		fmt.Fprintf(bw, "%s %s\n", head, indentLines(f.Message))
		if x := fix(f); x != "" {
			fmt.Fprintf(bw, "%sfix: %s\n", textIndent, indentLines(x))
		}
	}
	fmt.Fprintln(bw, textSummary(findings, len(res.Errors), opts.GitLabVersion))
	return bw.Flush()
}

// textFile names standard input "<stdin>".
func textFile(file string) string {
	if isStdin(file) {
		return "<stdin>"
	}
	return file
}

func severityColor(s rules.Severity) string {
	switch s {
	case rules.SeverityError:
		return ansiRed
	case rules.SeverityWarning:
		return ansiYellow
	case rules.SeverityInfo:
		return ansiCyan
	}
	return ""
}

// indentLines keeps a multi-line text under its finding: every line after the first is indented.
func indentLines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\n"+textIndent)
}

// textSummary is "1 error, 2 warnings, 0 info (GitLab 18.x)" or "no findings (GitLab 18.x)", with
// ", 1 file not linted" before the version when files could not be read.
func textSummary(findings []rules.Finding, unread int, v rules.GitLabVersion) string {
	s := "no findings"
	if len(findings) > 0 {
		c := countFindings(findings)
		s = fmt.Sprintf("%s, %s, %d info", plural(c.errors, "error"), plural(c.warnings, "warning"), c.infos)
	}
	if unread > 0 {
		s += ", " + plural(unread, "file") + " not linted"
	}
	return fmt.Sprintf("%s (GitLab %s)", s, v)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
