package rewrite

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Severity of a finding. None means the rule does not apply on the target GitLab version.
type Severity int

const (
	SeverityNone Severity = iota
	SeverityInfo
	SeverityWarning
	SeverityError
)

func (s Severity) String() string { return [...]string{"none", "info", "warning", "error"}[s] }

// ParseSeverity reads info, warning or error.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "info":
		return SeverityInfo, nil
	case "warning":
		return SeverityWarning, nil
	case "error":
		return SeverityError, nil
	}
	return SeverityNone, fmt.Errorf("%q is not a severity (info, warning, error)", s)
}

// GitLabVersion is the GitLab a lint targets: registration tokens were deprecated in 15.6 and
// disabled by default in 17.0.
type GitLabVersion struct{ Major, Minor int }

// DefaultGitLabVersion is the newest GitLab the rules know.
var DefaultGitLabVersion = GitLabVersion{18, 99}

func (v GitLabVersion) String() string {
	if v.Minor == 99 {
		return strconv.Itoa(v.Major) + ".x"
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// AtLeast compares versions.
func (v GitLabVersion) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// ParseGitLabVersion reads 17, 17.0, 17.11, 18.x or v17.3.1.
func ParseGitLabVersion(s string) (GitLabVersion, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.Split(t, ".")
	major, err := strconv.Atoi(parts[0])
	if err != nil || major <= 0 {
		return GitLabVersion{}, fmt.Errorf("%q is not a GitLab version (like 17.0 or 18.x)", s)
	}
	v := GitLabVersion{Major: major}
	if len(parts) > 1 {
		if parts[1] == "x" {
			v.Minor = 99
		} else if v.Minor, err = strconv.Atoi(parts[1]); err != nil {
			return GitLabVersion{}, fmt.Errorf("%q is not a GitLab version (like 17.0 or 18.x)", s)
		}
	}
	return v, nil
}

// Rule is one check of the linter, with a stable ID.
type Rule struct {
	ID      string // RM001
	Name    string // legacy-registration-token
	Summary string // one line: what it finds
	Fix     string // what to do, in general
	// Anchor is the rule's section in the README.
	Anchor string
}

// HelpURI is where the rule is documented.
func (r *Rule) HelpURI() string {
	return "https://github.com/runner-migrate/runner-migrate/blob/main/README.md#" + r.Anchor
}

// Finding is one place that depends on legacy runner registration.
type Finding struct {
	Rule     *Rule
	Severity Severity
	File     string // as the user named it; "-" for stdin
	Line     int    // 1-based; 0 when the file as a whole
	Column   int
	Path     string // the values key (gitlab-runner.runners.tags) or object field (Secret ci/x data.runner-token)
	Message  string // why this place breaks, on which GitLab version
	Fix      string // what to do here
}

// SortFindings orders findings by file, line, column and rule.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Rule.ID < b.Rule.ID
	})
}
