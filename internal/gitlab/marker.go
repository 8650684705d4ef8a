package gitlab

import (
	"fmt"
	"regexp"
	"strings"
)

// The marker ends the description of every runner runner-migrate creates. It names the release and
// the spec fingerprint, so a runner created by a run that died before its token was stored can be
// found again (the list API returns descriptions, nothing else that could carry it) and adopted.
var markerPattern = regexp.MustCompile(`\[runner-migrate (\S+) (rm-[0-9a-f]{12})\]$`)

// maxDescription is GitLab's limit on a runner description.
const maxDescription = 1024

func marker(release, fingerprint string) string {
	return fmt.Sprintf("[runner-migrate %s %s]", release, fingerprint)
}

// describe builds a runner's description: the user's name for it, then the marker.
func describe(base, release, fingerprint string) string {
	m := marker(release, fingerprint)
	base = strings.TrimSpace(markerPattern.ReplaceAllString(base, ""))
	if limit := maxDescription - len(m) - 1; len(base) > limit {
		base = base[:limit]
	}
	if base == "" {
		return m
	}
	return base + " " + m
}

// hasMarker reports whether a description carries the marker of release and fingerprint.
func hasMarker(description, release, fingerprint string) bool {
	m := markerPattern.FindStringSubmatch(description)
	return m != nil && m[1] == release && m[2] == fingerprint
}
