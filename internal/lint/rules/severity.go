package rules

import (
	"fmt"
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

// step is where a rule's severity changes, by GitLab version.
type step struct {
	major, minor int
	severity     Severity
}

// scheduled returns the severity of the last step the target version has reached (None before
// the first).
func scheduled(v GitLabVersion, steps ...step) Severity {
	sev := SeverityNone
	for _, s := range steps {
		if v.AtLeast(s.major, s.minor) {
			sev = s.severity
		}
	}
	return sev
}

// legacySeverity is how much a legacy registration token hurts on a GitLab version: deprecated
// from 15.6, disabled by default from 17.0 (pods crash-loop with 410 Gone).
func legacySeverity(v GitLabVersion) Severity {
	return scheduled(v, step{15, 6, SeverityWarning}, step{17, 0, SeverityError})
}

// unprovenSeverity is for tokens the linter cannot see: a note while registration tokens still
// work, a warning once they stop.
func unprovenSeverity(v GitLabVersion) Severity {
	return scheduled(v, step{15, 6, SeverityInfo}, step{17, 0, SeverityWarning})
}

// legacyWhy says why a legacy registration token breaks, for the target version. It is a sentence
// of its own: it starts with GitLab, capitalised.
func legacyWhy(v GitLabVersion) string {
	if v.AtLeast(17, 0) {
		return "GitLab 17.0 and later disable runner registration tokens by default, so the pod crash-loops with " +
			"\"410 Gone - runner registration disallowed\" (their removal, once announced for 18.0, is deferred; GitLab now plans it for 20.0)"
	}
	return "GitLab deprecated runner registration tokens in 15.6 and disables them by default from 17.0 " +
		"(the pod then crash-loops with \"410 Gone - runner registration disallowed\")"
}
