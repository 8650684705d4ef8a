package report

import (
	"io"
	"strconv"

	"github.com/runner-migrate/runner-migrate/rewrite"
)

// A GitLab Code Quality issue (a subset of the Code Climate format that GitLab reads).
type (
	cqIssue struct {
		Type        string     `json:"type"`
		CheckName   string     `json:"check_name"`
		Description string     `json:"description"`
		Categories  []string   `json:"categories"`
		Fingerprint string     `json:"fingerprint"`
		Severity    string     `json:"severity"`
		Location    cqLocation `json:"location"`
	}
	cqLocation struct {
		Path  string  `json:"path"`
		Lines cqLines `json:"lines"`
	}
	cqLines struct {
		Begin int `json:"begin"`
	}
)

// writeCodeQuality writes a GitLab Code Quality report: a JSON array of issues, [] when empty.
func writeCodeQuality(w io.Writer, findings []rewrite.Finding) error {
	issues := make([]cqIssue, 0, len(findings))
	seen := make(map[string]int, len(findings))
	for _, f := range findings {
		line := max(f.Line, 1)
		// GitLab collapses issues with equal fingerprints: the occurrence number keeps two findings
		// of one rule at one place apart.
		key := fingerprint(ruleID(f), f.File, f.Path, strconv.Itoa(f.Line))
		seen[key]++
		fp := key
		if n := seen[key]; n > 1 {
			fp = fingerprint(ruleID(f), f.File, f.Path, strconv.Itoa(f.Line), strconv.Itoa(n))
		}
		issues = append(issues, cqIssue{
			Type:        "issue",
			CheckName:   checkName(f),
			Description: messageWithFix(f),
			Categories:  []string{"Compatibility"},
			Fingerprint: fp,
			Severity:    cqSeverity[f.Severity],
			Location:    cqLocation{Path: slashPath(f.File), Lines: cqLines{Begin: line}},
		})
	}
	return encodeJSON(w, issues)
}

// cqSeverity maps severities to Code Quality's info, minor, major, critical, blocker.
var cqSeverity = map[rewrite.Severity]string{rewrite.SeverityError: "critical", rewrite.SeverityWarning: "major", rewrite.SeverityInfo: "info"}
