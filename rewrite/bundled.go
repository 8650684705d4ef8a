package rewrite

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// BundledMode is what runner-migrate does with the GitLab chart's bundled runner.
type BundledMode string

const (
	// BundledMint adds a Job that creates the runner on the Rails side (no access token needed) and
	// writes its token into the runner's Secret.
	BundledMint BundledMode = "mint"
	// BundledAPI creates the runner through the GitLab API, as for any other runner.
	BundledAPI BundledMode = "api"
	// BundledSkip leaves the bundled runner as the chart rendered it.
	BundledSkip BundledMode = "skip"
)

// ParseBundledMode reads a --bundled-runner value; "" means the default, chosen by the caller.
func ParseBundledMode(v string) (BundledMode, error) {
	switch m := BundledMode(v); m {
	case "", BundledMint, BundledAPI, BundledSkip:
		return m, nil
	}
	return "", fmt.Errorf("--bundled-runner %q: give mint, api or skip", v)
}

// Bundled marks the runner the GitLab chart bundles (its gitlab-runner subchart): it reads its token
// from the Secret the chart's shared-secrets hook job makes (`<release>-gitlab-runner-secret`, or the
// name global.runner.registrationToken.secret sets), which never appears in a Helm 3 post-renderer's
// stream and holds a registration token and an empty runner-token.
type Bundled struct {
	// Toolbox is the chart's toolbox Deployment, whose pod the minting Job is built from; nil when the
	// stream does not hold it.
	Toolbox *Object
	// Mode is what to do with the runner; the caller sets it before MintTokens runs.
	Mode BundledMode
	// Prepared: the stream already went through MintTokens (its register script waits for the
	// minted token), so a second post-render leaves it as it is.
	Prepared bool
}

// Labels the GitLab chart puts on the objects of its own components.
const (
	labelApp     = "app"
	labelRelease = "release"
)

// RecogniseBundled finds, among the sites Detect found, the GitLab chart's bundled runner and treats
// its Secret as holding a registration token (the shared-secrets job fills it with one). It runs after
// Detect. A runner is the bundled one when its token Secret is not in the stream, is named as the chart
// names it (`<release>-gitlab-runner-secret`, or the Secret the chart's migrations Job reads the shared
// registration token from), and the chart's toolbox, webservice or migrations objects of the same
// release are in the stream.
type RecogniseBundled struct{}

// Filter implements Filter.
func (RecogniseBundled) Filter(s *Stream) error {
	var candidates []*Site
	for _, site := range s.Sites {
		if site.Carrier == CarrierExternalSecret && site.Release != "" && !site.Kept { // a Kept Secret holds a migrated token
			candidates = append(candidates, site)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	// The chart's own components carry no token strings, so Read left them unparsed (the migrations
	// Job excepted: it reads the registration token). Their names say what they are, at the top of
	// the document. The webservice is looked for only when neither the toolbox nor the migrations Job
	// is there.
	s.parseWhere(func(raw []byte) bool { return bytes.Contains(documentHead(raw), []byte("toolbox")) })
	webserviceParsed := false
	for _, site := range candidates {
		toolbox := s.component("Deployment", "toolbox", site)
		migrations := s.component("Job", "migrations", site)
		if toolbox == nil && migrations == nil {
			if !webserviceParsed {
				s.parseWhere(func(raw []byte) bool { return bytes.Contains(documentHead(raw), []byte("webservice")) })
				webserviceParsed = true
			}
			if s.component("Deployment", "webservice", site) == nil {
				continue
			}
		}
		if site.SecretName != site.Release+"-gitlab-runner-secret" && !projectsRegistrationToken(migrations, site.SecretName) {
			continue
		}
		site.Bundled = &Bundled{Toolbox: toolbox, Prepared: strings.Contains(site.registerScript(), waitForTokenMarker)}
		site.State = TokenLegacy
	}
	return nil
}

// component finds an object of the GitLab chart's component app (its `app` label) in the site's
// release and namespace.
func (s *Stream) component(kind, app string, site *Site) *Object {
	for _, o := range s.objects {
		labels := lookup(o.node, "metadata", "labels")
		if o.Kind == kind && scalar(field(labels, labelApp)) == app && scalar(field(labels, labelRelease)) == site.Release &&
			sameNamespace(o.Namespace, site.Workload.Namespace) {
			return o
		}
	}
	return nil
}

// projectsRegistrationToken reports whether a Job's pod reads runner-registration-token from the named
// Secret, as the GitLab chart's migrations Job does to seed the shared registration token.
func projectsRegistrationToken(job *Object, secret string) bool {
	if job == nil {
		return false
	}
	for _, v := range items(lookup(job.node, "spec", "template", "spec", "volumes")) {
		sources := []*yaml.Node{v}
		sources = append(sources, items(lookup(v, "projected", "sources"))...)
		for _, src := range sources {
			sec := field(src, "secret")
			name := scalar(field(sec, "name"))
			if name == "" {
				name = scalar(field(sec, "secretName"))
			}
			if name != secret {
				continue
			}
			for _, it := range items(field(sec, "items")) {
				if scalar(field(it, "key")) == KeyRegistrationToken {
					return true
				}
			}
		}
	}
	return false
}

// documentHead is the start of a document, where its kind, name and labels are: a scan for a name
// reads that, not a whole 2 MB stream.
func documentHead(raw []byte) []byte {
	const head = 2048
	if len(raw) > head {
		return raw[:head]
	}
	return raw
}

// parseWhere parses the documents Read left unparsed whose bytes match, and adds their objects. A
// document that does not parse is left alone: it was not a runner part, and stays byte for byte.
func (s *Stream) parseWhere(match func(raw []byte) bool) {
	for _, d := range s.docs {
		if d.root != nil || d.generated || !match(d.raw) {
			continue
		}
		if err := d.parse(); err != nil {
			d.root, d.header = nil, nil
			continue
		}
		s.objects = append(s.objects, objectsOf(d)...)
	}
}
