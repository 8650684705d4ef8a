package report

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/lint"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

// writeGitHub writes GitHub Actions workflow commands, one annotation per finding and per file lint
// could not read:
// ::error file=F,line=L,col=C,title=RM001 legacy-registration-token::message Fix: fix
func writeGitHub(w io.Writer, res lint.Result) error {
	bw := bufio.NewWriter(w)
	for _, e := range res.Errors {
		writeCommand(bw, "error", e.File, e.Line, 0, unreadableCheck, notLinted(e))
	}
	for _, f := range res.Findings {
		writeCommand(bw, githubCommand[f.Severity], f.File, f.Line, f.Column, checkName(f), messageWithFix(f))
	}
	return bw.Flush()
}

func writeCommand(bw *bufio.Writer, command, file string, line, col int, title, message string) {
	var props []string
	if !isStdin(file) { // standard input is no file of the repository
		props = append(props, "file="+escapeProperty(slashPath(file)))
	}
	if line > 0 {
		props = append(props, "line="+strconv.Itoa(line))
		if col > 0 {
			props = append(props, "col="+strconv.Itoa(col))
		}
	}
	if title != "" {
		props = append(props, "title="+escapeProperty(title))
	}
	bw.WriteString("::" + command)
	if len(props) > 0 {
		bw.WriteString(" " + strings.Join(props, ","))
	}
	bw.WriteString("::" + escapeData(message) + "\n")
}

// githubCommand maps severities to workflow commands.
var githubCommand = map[rules.Severity]string{rules.SeverityError: "error", rules.SeverityWarning: "warning", rules.SeverityInfo: "notice"}

var dataEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")

// escapeData escapes a workflow command's message (as @actions/core's escapeData).
func escapeData(s string) string { return dataEscaper.Replace(s) }

var propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")

// escapeProperty escapes a workflow command's property value (as @actions/core's escapeProperty).
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }
