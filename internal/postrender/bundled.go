package postrender

import (
	"context"
	"errors"
	"fmt"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// bundledRunners decides what happens to the GitLab chart's bundled runner (--bundled-runner): a token
// the user gave wins as for any runner; otherwise the mint path adds the Job that creates the runner in
// the cluster (the default without a GitLab access token), the API path leaves it to the provisioner
// (the default with one), and skip leaves it alone, saying so.
type bundledRunners struct {
	ctx  context.Context
	opts Options
}

func (b bundledRunners) Filter(s *rewrite.Stream) error {
	mode, err := rewrite.ParseBundledMode(string(b.opts.BundledRunner))
	if err != nil {
		return err
	}
	if mode == "" {
		mode = rewrite.BundledMint
		if hasProvisioner(b.opts.Source) {
			mode = rewrite.BundledAPI
		}
	}
	given := userTokens(b.opts.Source)
	var errs []error
	for _, site := range s.Sites {
		if site.Bundled == nil {
			continue
		}
		site.Bundled.Mode = mode
		switch mode {
		case rewrite.BundledSkip:
			b.opts.Warn(fmt.Sprintf("%s is the GitLab chart's bundled runner; it registers with the registration token in Secret %s, "+
				"which GitLab 17.0 and later refuse (410 Gone), and was left as it is (--bundled-runner=skip)", site.Workload.Ref, site.SecretName))
		case rewrite.BundledMint:
			if given == nil || site.Bundled.Prepared {
				continue
			}
			cred, err := given.Credential(b.ctx, tokensource.Request{Spec: site.Spec, Sites: []*rewrite.Site{site}})
			switch {
			case errors.Is(err, tokensource.ErrNoToken):
			case err != nil:
				errs = append(errs, fmt.Errorf("getting the token for runner spec %s (%s): %w", site.Spec.Fingerprint(), site.Workload.Ref, err))
			default:
				// A token the user gave wins: the site is migrated to it, as any runner is.
				site.Bundled.Mode = rewrite.BundledAPI
				site.AuthToken, site.RunnerID, site.TokenExpiresAt, site.Placeholder = cred.Token, cred.RunnerID, cred.ExpiresAt, cred.Placeholder
			}
		}
	}
	return errors.Join(errs...)
}

// handledAsBundled reports whether resolveTokens leaves a site to bundledRunners: a bundled runner that
// is minted, skipped, or already has the token the user gave.
func handledAsBundled(site *rewrite.Site) bool {
	return site.Bundled != nil && (site.Bundled.Mode != rewrite.BundledAPI || !site.AuthToken.IsZero())
}

// mintNames names the runners the Job mints exactly as the API path names the runners it creates.
func (o Options) mintNames(site *rewrite.Site) rewrite.RunnerName {
	description, marker := gitlab.RunnerNaming(tokensource.Request{Spec: site.Spec, Sites: []*rewrite.Site{site}}, o.Release, o.Namespace, "")
	return rewrite.RunnerName{Description: description, Marker: marker}
}

// hasProvisioner reports whether the token source creates runners through the GitLab API.
func hasProvisioner(src tokensource.Source) bool {
	switch s := src.(type) {
	case *gitlab.Provisioner:
		return true
	case tokensource.Chain:
		for _, x := range s {
			if hasProvisioner(x) {
				return true
			}
		}
	}
	return false
}

// userTokens is the part of the token source that hands out tokens the user gave: everything but the
// GitLab API. nil when there is none.
func userTokens(src tokensource.Source) tokensource.Source {
	switch s := src.(type) {
	case nil, *gitlab.Provisioner:
		return nil
	case tokensource.Chain:
		var out tokensource.Chain
		for _, x := range s {
			if u := userTokens(x); u != nil {
				out = append(out, u)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return src
}

// bundledFix adds the bundled runner's own way out to a fix.
func bundledFix(site *rewrite.Site) string {
	if site.Bundled == nil {
		return ""
	}
	return "; for the GitLab chart's bundled runner, --bundled-runner=mint creates the runner with a Job in the cluster, no access token needed"
}
