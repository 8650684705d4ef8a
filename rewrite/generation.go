package rewrite

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Generation is a range of gitlab-runner chart versions that render the token handling the same way.
// The table below is the one place that knows how the chart changed (../shared/docs/runner-chart.md).
type Generation struct {
	Name string
	from Version // inclusive

	// InitContainerCopy: an init container copies the projected Secret from /init-secrets to /secrets
	// (<= 0.40); later charts project the Secret straight into /secrets.
	InitContainerCopy bool
	// ReplicasGuard: the entrypoint exits when a runner token meets replicas != 1 (0.34 - 0.53).
	ReplicasGuard bool
	// TemplateDetection: the templates drop the refused settings when the values hold a glrt- token
	// (0.53 - 0.73). A post-renderer sees the legacy render, so this never helps it.
	TemplateDetection bool
	// RuntimeDetection names the variable the register script tests for a glrt- token at run time, then
	// blanks RUN_UNTAGGED and ACCESS_LEVEL and unsets REGISTER_LOCKED and RUNNER_TAG_LIST:
	// REGISTRATION_TOKEN (0.53.2 - 0.58) or CI_SERVER_TOKEN (0.74 and later).
	RuntimeDetection string
}

var generations = []Generation{
	{Name: "<0.34", from: Version{0, 0, 0}, InitContainerCopy: true},
	{Name: "0.34-0.40", from: Version{0, 34, 0}, InitContainerCopy: true, ReplicasGuard: true},
	{Name: "0.41-0.52", from: Version{0, 41, 0}, ReplicasGuard: true},
	{Name: "0.53.0-0.53.1", from: Version{0, 53, 0}, ReplicasGuard: true, TemplateDetection: true},
	{Name: "0.53.2-0.53.x", from: Version{0, 53, 2}, ReplicasGuard: true, TemplateDetection: true, RuntimeDetection: "REGISTRATION_TOKEN"},
	{Name: "0.54-0.58", from: Version{0, 54, 0}, TemplateDetection: true, RuntimeDetection: "REGISTRATION_TOKEN"},
	{Name: "0.59-0.73", from: Version{0, 59, 0}, TemplateDetection: true},
	{Name: ">=0.74", from: Version{0, 74, 0}, RuntimeDetection: "CI_SERVER_TOKEN"},
}

// GenerationOf returns the generation a chart version belongs to.
func GenerationOf(v Version) Generation {
	g := generations[0]
	for _, c := range generations {
		if !v.Less(c.from) {
			g = c
		}
	}
	return g
}

// generationFromStructure infers the generation of a render that carries no chart label, from the
// shapes the generations leave in the scripts and the pod.
func generationFromStructure(register, entrypoint string, initCopy bool) Generation {
	g := Generation{Name: "unlabelled", InitContainerCopy: initCopy}
	switch {
	case strings.Contains(register, runtimeCheck("CI_SERVER_TOKEN")):
		g.RuntimeDetection = "CI_SERVER_TOKEN"
	case strings.Contains(register, runtimeCheck("REGISTRATION_TOKEN")):
		g.RuntimeDetection = "REGISTRATION_TOKEN"
	}
	g.ReplicasGuard = strings.Contains(entrypoint, replicasGuardMessage)
	return g
}

// runtimeCheck is the shell expansion the chart's run-time glrt- test is built on.
func runtimeCheck(variable string) string { return "${" + variable + "#glrt-}" }

// Version is a chart version, major.minor.patch; pre-release and build suffixes (Big Bang's
// 0.73.0-bb.0) are ignored, as they do not change the templates that matter here.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Less orders versions.
func (v Version) Less(o Version) bool {
	if v.Major != o.Major {
		return v.Major < o.Major
	}
	if v.Minor != o.Minor {
		return v.Minor < o.Minor
	}
	return v.Patch < o.Patch
}

var chartLabel = regexp.MustCompile(`^gitlab-runner-v?(\d+)\.(\d+)\.(\d+)`)

// ParseChartLabel reads the version from a `chart` or `helm.sh/chart` label value such as
// gitlab-runner-0.86.0 or gitlab-runner-0.73.0-bb.0.
func ParseChartLabel(label string) (Version, bool) {
	m := chartLabel.FindStringSubmatch(label)
	if m == nil {
		return Version{}, false
	}
	var v Version
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	v.Patch, _ = strconv.Atoi(m[3])
	return v, true
}
