package gitlab

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/runner-migrate/runner-migrate/internal/tokensource"
)

// The marker ends the description of every runner runner-migrate creates:
//
//	[runner-migrate <namespace>/<release> <fingerprint> <place>]
//
// It names the release, the runner spec and the place the runner's token is kept (a cluster or a
// state file). A runner whose token a crashed run lost can be found again by it (the list API
// returns descriptions, nothing else that could carry it) and adopted, but only by runs that keep
// tokens in the same place: the same release installed in a second cluster must never take over the
// first cluster's runner. Markers written before places existed have three fields.
var markerPattern = regexp.MustCompile(`\[runner-migrate (\S+) (rm-[0-9a-f]{12})(?: (\S+))?\]$`)

// maxDescription is GitLab's limit on a runner description, in characters.
const maxDescription = 1024

// Marker is the marker of a release's runner for one spec, kept in one place.
func Marker(release Release, fingerprint, place string) string {
	if place == "" {
		return fmt.Sprintf("[runner-migrate %s %s]", release, fingerprint)
	}
	return fmt.Sprintf("[runner-migrate %s %s %s]", release, fingerprint, place)
}

// RunnerNaming is how runner-migrate names the GitLab runner of a request, whichever way it is made
// (the API, or the Job that mints the GitLab chart's bundled runner): its description (the user's
// name for the runner, then the marker) and the marker. release and namespace name the Helm release
// where the manifests' labels and metadata do not (--release, --namespace, Helm's command line).
// place names where the token is kept; the minting Job keeps it in the cluster it runs in, whose
// identity the render does not know, so its marker names none.
func RunnerNaming(req tokensource.Request, release, namespace, place string) (description, marker string) {
	rel := Release{Namespace: ReleaseNamespace(req.Sites[0], namespace), Name: ReleaseName(req.Sites[0], release)}
	m := Marker(rel, req.Fingerprint(), place)
	return Describe(descriptionBase(req), m), m
}

// descriptionBase is the user's name for the runner: the register command's --name, else the
// workload's name.
func descriptionBase(req tokensource.Request) string {
	if req.Spec.Description != "" {
		return req.Spec.Description
	}
	return req.Sites[0].Workload.Name
}

// Describe builds a runner's description: the user's name for it, then the marker, cut to GitLab's
// limit at a character boundary.
func Describe(base, marker string) string {
	base = strings.TrimSpace(markerPattern.ReplaceAllString(base, ""))
	limit := maxDescription - utf8.RuneCountInString(marker) - 1
	if utf8.RuneCountInString(base) > limit {
		base = strings.TrimSpace(string([]rune(base)[:max(limit, 0)]))
	}
	if base == "" {
		return marker
	}
	return base + " " + marker
}

// parsedMarker is what a description's marker says.
type parsedMarker struct {
	release, fingerprint, place string
}

func parseMarker(description string) (parsedMarker, bool) {
	m := markerPattern.FindStringSubmatch(description)
	if m == nil {
		return parsedMarker{}, false
	}
	return parsedMarker{release: m[1], fingerprint: m[2], place: m[3]}, true
}

// ownedBy reports whether a description carries a marker of the release, whatever spec or place:
// the runner is this release's, so runner-migrate may change its settings.
func ownedBy(description string, release Release) bool {
	m, ok := parseMarker(description)
	return ok && m.release == release.String()
}
