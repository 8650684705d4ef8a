package gitlab

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
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

// Marker is the marker of the runner serving the spec with the given fingerprint in a release.
func Marker(namespace, release, fingerprint string) string {
	return marker(namespace+"/"+release, fingerprint)
}

// RunnerNaming is how runner-migrate names the GitLab runner of a request, whichever way it is made
// (the API, or the Job that mints the GitLab chart's bundled runner): its description (the user's
// name for the runner, then the marker) and the marker. release and namespace name the Helm release
// where the manifests' labels and metadata do not (--release, --namespace).
func RunnerNaming(req tokensource.Request, release, namespace string) (description, marker string) {
	ns, rel := releaseOf(req.Sites[0], release, namespace)
	m := Marker(ns, rel, req.Fingerprint())
	return describe(descriptionBase(req), ns+"/"+rel, req.Fingerprint()), m
}

// releaseOf names the Helm release of a site for markers: the configured release, else the
// workload's release label, else its name; the workload's namespace, else the configured one, else
// "default".
func releaseOf(site *rewrite.Site, release, namespace string) (ns, rel string) {
	rel = release
	if rel == "" {
		rel = site.Release
	}
	if rel == "" {
		rel = site.Workload.Name
	}
	ns = site.Workload.Namespace
	if ns == "" {
		ns = namespace
	}
	if ns == "" {
		ns = "default"
	}
	return ns, rel
}

// descriptionBase is the user's name for the runner: the register command's --name, else the
// workload's name.
func descriptionBase(req tokensource.Request) string {
	if req.Spec.Description != "" {
		return req.Spec.Description
	}
	return req.Sites[0].Workload.Name
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
