// Package postrender is the post-renderer: it composes reading the stream, finding the runner sites,
// getting their tokens and patching them, in one place.
package postrender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Options configure a post-render run.
type Options struct {
	// Source supplies authentication tokens; nil means none are available.
	Source tokensource.Source
	// AllowLegacy passes runners without a token through unchanged, with a warning, instead of failing.
	AllowLegacy bool
	// Warn reports what the user should know but that does not fail the run.
	Warn func(msg string)
	// BundledRunner is what to do with the GitLab chart's bundled runner (--bundled-runner): mint, api
	// or skip; "" means api when Source creates runners through the GitLab API, mint otherwise.
	BundledRunner rewrite.BundledMode
	// Release and Namespace name the Helm release where the manifests do not (--release, --namespace).
	Release, Namespace string
}

// Run post-renders a manifest stream. On error it returns no output at all: a post-renderer's output
// replaces the release, so partial output would be worse than none.
func Run(ctx context.Context, in []byte, opts Options) ([]byte, error) {
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	if len(bytes.TrimSpace(in)) == 0 {
		// A chart whose templates all render to nothing; Helm 3 accepts the empty stream back.
		opts.Warn("the manifest stream on stdin is empty; passed through. (helm template --output-dir writes its files " +
			"before post-rendering and sends nothing: those files are not migrated)")
		return in, nil
	}
	s, err := rewrite.Read(in)
	if err != nil {
		return nil, err
	}
	pipeline := rewrite.Pipeline{
		rewrite.Detect{},
		rewrite.RecogniseBundled{},
		bundledRunners{ctx: ctx, opts: opts},
		resolveTokens{ctx: ctx, opts: opts},
		rewrite.MintTokens{Name: opts.mintNames},
		rewrite.Patches,
	}
	if err := pipeline.Filter(s); err != nil {
		return nil, err
	}
	return s.Bytes()
}

// resolveTokens asks the token source once per distinct runner spec and hands the token to every site
// that shares the spec.
type resolveTokens struct {
	ctx  context.Context
	opts Options
}

func (r resolveTokens) Filter(s *rewrite.Stream) error {
	var order []string
	groups := map[string][]*rewrite.Site{}
	for _, site := range s.Sites {
		if handledAsBundled(site) {
			continue
		}
		if !site.Migratable() {
			r.unchanged(site)
			continue
		}
		fp := site.Spec.Fingerprint()
		if _, ok := groups[fp]; !ok {
			order = append(order, fp)
		}
		groups[fp] = append(groups[fp], site)
	}
	var errs []error
	for _, fp := range order {
		sites := groups[fp]
		cred, err := r.credential(tokensource.Request{Spec: sites[0].Spec, Sites: sites})
		switch {
		case errors.Is(err, tokensource.ErrNoToken):
			errs = append(errs, r.noToken(fp, sites)...)
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("getting the token for runner spec %s (%s): %w", fp, refs(sites), err))
			continue
		case !cred.Token.IsAuthentication():
			errs = append(errs, fmt.Errorf("the token for runner spec %s is not a runner authentication token (glrt-)", fp))
			continue
		}
		for _, site := range sites {
			site.AuthToken, site.RunnerID, site.TokenExpiresAt, site.Placeholder = cred.Token, cred.RunnerID, cred.ExpiresAt, cred.Placeholder
			site.GitLabURL = cred.GitLabURL
		}
	}
	return errors.Join(errs...)
}

// unchanged explains a runner that keeps its token: what the patches remove from a release whose own
// token GitLab would refuse the settings with, and why a runner without a token gets none.
func (r resolveTokens) unchanged(site *rewrite.Site) {
	switch {
	case site.NeedsRepair() && site.State == rewrite.TokenAuthentication:
		r.opts.Warn(fmt.Sprintf("%s registers with an authentication token but passes %s, which gitlab-runner refuses with one (FATAL); "+
			"removed them and left the token as it is. Set them on the runner in GitLab instead, and remove them from the values: %s",
			site.Workload.Ref, strings.Join(site.RefusedAtRegistration(), ", "), site.SettingsForGitLab()))
	case site.NeedsRepair():
		r.opts.Warn(fmt.Sprintf("%s registers with a runner token that is no authentication token (glrt-): a placeholder a pipeline fills "+
			"with one, or the token of a runner registered the legacy way. With an authentication token gitlab-runner refuses %s (FATAL), "+
			"so they were removed (a legacy runner token ignores them). Set them on the runner in GitLab instead, and remove them from the values: %s",
			site.Workload.Ref, strings.Join(site.RefusedAtRegistration(), ", "), site.SettingsForGitLab()))
	case site.State == rewrite.TokenMissing:
		r.opts.Warn(fmt.Sprintf("%s has no token in the manifests (%s holds neither a registration nor a runner token), so it cannot register "+
			"as rendered; passed through unchanged. runner-migrate migrates runners that register with a registration token: to run this one, "+
			"set runnerToken or runners.secret in its values", site.Workload.Ref, carrierName(site)))
	}
}

func (r resolveTokens) credential(req tokensource.Request) (tokensource.Credential, error) {
	if r.opts.Source == nil {
		return tokensource.Credential{}, tokensource.ErrNoToken
	}
	return r.opts.Source.Credential(r.ctx, req)
}

// noToken explains a runner left without a token: an error for a legacy registration token (it stops
// working on GitLab 17.0+), a warning where the manifests cannot show what the pod holds.
func (r resolveTokens) noToken(fp string, sites []*rewrite.Site) []error {
	var errs []error
	for _, site := range sites {
		switch {
		case site.State != rewrite.TokenLegacy:
			r.opts.Warn(fmt.Sprintf("%s reads its token from %s, which the manifests do not show (%s); passed through unchanged. "+
				"To migrate it, give an authentication token for runner spec %s", site.Workload.Ref, carrierName(site), site.State, fp))
		case r.opts.AllowLegacy:
			r.opts.Warn(fmt.Sprintf("%s registers with a legacy registration token and no authentication token was given for runner spec %s; passed through unchanged (--allow-legacy)",
				site.Workload.Ref, fp))
		default:
			errs = append(errs, &rewrite.Error{
				Object:  site.Workload.Ref,
				Line:    site.Workload.Line(nil),
				Field:   carrierName(site) + " " + rewrite.KeyRegistrationToken,
				Problem: fmt.Sprintf("the runner registers with a legacy registration token, which GitLab 17.0 and later refuse (410 Gone), and no authentication token was given for its runner spec %s (%s)", fp, site.Spec.Summary()),
				Fix:     "create the runner in GitLab and give its glrt- token in RUNNER_MIGRATE_AUTH_TOKEN or --auth-token-file, or map " + fp + " to it in --auth-token-map; --allow-legacy passes the runner through unchanged" + bundledFix(site),
			})
		}
	}
	return errs
}

func carrierName(site *rewrite.Site) string {
	switch site.Carrier {
	case rewrite.CarrierEnv:
		return "env of container " + site.ContainerName()
	default:
		return "Secret " + site.SecretName
	}
}

func refs(sites []*rewrite.Site) string {
	names := make([]string, len(sites))
	for i, s := range sites {
		names[i] = s.Workload.Ref.String()
	}
	return strings.Join(names, ", ")
}
