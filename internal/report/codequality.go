package report

import (
	"io"
	"strconv"

	"github.com/runner-migrate/runner-migrate/internal/lint"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
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

// writeCodeQuality writes a GitLab Code Quality report: a JSON array of issues, [] when empty. A file
// lint could not read is a blocker issue of its own, so the merge request shows it.
func writeCodeQuality(w io.Writer, res lint.Result) error {
	issues := make([]cqIssue, 0, len(res.Errors)+len(res.Findings))
	for _, e := range res.Errors {
		issues = append(issues, cqIssue{
			Type:        "issue",
			CheckName:   unreadableCheck,
			Description: notLinted(e),
			Categories:  []string{"Bug Risk"},
			Fingerprint: fingerprint(unreadableCheck, e.File, strconv.Itoa(e.Line)),
			Severity:    "blocker",
			Location:    cqLocation{Path: slashPath(e.File), Lines: cqLines{Begin: max(e.Line, 1)}},
		})
	}
	findings := res.Findings
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

// unreadableCheck is the check name of a file lint could not read.
const unreadableCheck = "unreadable-file"

// cqSeverity maps severities to Code Quality's info, minor, major, critical, blocker.
var cqSeverity = map[rules.Severity]string{rules.SeverityError: "critical", rules.SeverityWarning: "major", rules.SeverityInfo: "info"}
