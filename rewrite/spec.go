package rewrite

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Access levels of a runner, as the GitLab API names them.
const (
	AccessNotProtected = "not_protected"
	AccessRefProtected = "ref_protected"
)

// Spec is what GitLab owns about a runner once it registers with an authentication token: the
// settings the legacy `register` call used to send. Runners with equal specs can share one GitLab
// runner (and one token); the Fingerprint names that identity.
type Spec struct {
	URL             string   `json:"url"`
	Tags            []string `json:"tags"`
	RunUntagged     bool     `json:"runUntagged"`
	Locked          bool     `json:"locked"`
	AccessLevel     string   `json:"accessLevel"`
	MaximumTimeout  int      `json:"maximumTimeout,omitempty"` // seconds; 0 means unset
	Paused          bool     `json:"paused,omitempty"`
	Description     string   `json:"description,omitempty"`     // --name; not part of the identity
	MaintenanceNote string   `json:"maintenanceNote,omitempty"` // not part of the identity
	// Registration is a digest of the legacy registration token, empty when the manifests do not show
	// it. The registration token decides the runner's scope (instance, group or project), so two
	// deployments registering with different tokens need different runners even with equal settings.
	Registration string `json:"registration,omitempty"`
}

// Fingerprint is a short stable name for the spec's identity: URL, scope (through Registration),
// tags, run-untagged, locked, access level, maximum timeout and paused.
func (s Spec) Fingerprint() string {
	var b strings.Builder
	fmt.Fprintf(&b, "v1\nurl=%s\nregistration=%s\ntags=%s\nrun_untagged=%t\nlocked=%t\naccess_level=%s\nmaximum_timeout=%d\npaused=%t\n",
		normalizeURL(s.URL), s.Registration, strings.Join(s.Tags, ","), s.RunUntagged, s.Locked, s.AccessLevel, s.MaximumTimeout, s.Paused)
	sum := sha256.Sum256([]byte(b.String()))
	return "rm-" + hex.EncodeToString(sum[:])[:12]
}

// Summary describes the spec in one line for plans and error messages.
func (s Spec) Summary() string {
	tags := "no tags"
	if len(s.Tags) > 0 {
		tags = "tags " + strings.Join(s.Tags, ",")
	}
	parts := []string{s.URL, tags, "run-untagged=" + strconv.FormatBool(s.RunUntagged), "locked=" + strconv.FormatBool(s.Locked), s.AccessLevel}
	if s.MaximumTimeout > 0 {
		parts = append(parts, "maximum-timeout="+strconv.Itoa(s.MaximumTimeout)+"s")
	}
	if s.Paused {
		parts = append(parts, "paused")
	}
	return strings.Join(parts, ", ")
}

// normalizeURL makes URLs that name the same GitLab compare equal (case of scheme and host, trailing
// slash).
func normalizeURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return strings.TrimRight(strings.TrimSpace(raw), "/")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	return u.String()
}

// ParseTags reads a runner tag list the way GitLab does: comma-separated, blanks trimmed, empties
// dropped. The result is sorted and unique, since tag order means nothing to GitLab.
func ParseTags(list string) []string {
	seen := map[string]bool{}
	tags := []string{}
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	sort.Strings(tags)
	return tags
}
