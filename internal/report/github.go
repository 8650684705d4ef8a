package report

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/runner-migrate/runner-migrate/rewrite"
)

// writeGitHub writes GitHub Actions workflow commands, one annotation per finding:
// ::error file=F,line=L,col=C,title=RM001 legacy-registration-token::message Fix: fix
func writeGitHub(w io.Writer, findings []rewrite.Finding) error {
	bw := bufio.NewWriter(w)
	for _, f := range findings {
		var props []string
		if !isStdin(f.File) { // standard input is no file of the repository
			props = append(props, "file="+escapeProperty(slashPath(f.File)))
		}
		if f.Line > 0 {
			props = append(props, "line="+strconv.Itoa(f.Line))
			if f.Column > 0 {
				props = append(props, "col="+strconv.Itoa(f.Column))
			}
		}
		if t := checkName(f); t != "" {
			props = append(props, "title="+escapeProperty(t))
		}
		bw.WriteString("::" + githubCommand[f.Severity])
		if len(props) > 0 {
			bw.WriteString(" " + strings.Join(props, ","))
		}
		bw.WriteString("::" + escapeData(messageWithFix(f)) + "\n")
	}
	return bw.Flush()
}

// githubCommand maps severities to workflow commands.
var githubCommand = map[rewrite.Severity]string{rewrite.SeverityError: "error", rewrite.SeverityWarning: "warning", rewrite.SeverityInfo: "notice"}

var dataEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")

// escapeData escapes a workflow command's message (as @actions/core's escapeData).
func escapeData(s string) string { return dataEscaper.Replace(s) }

var propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")

// escapeProperty escapes a workflow command's property value (as @actions/core's escapeProperty).
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }
