// Package rules holds the linter's rules: what depends on legacy runner registration in a release's
// values (Release) and in rendered manifests (Manifests, on the post-renderer's own detection), with
// severities for the target GitLab version, and the findings they report.
package rules

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

// The rules. IDs are stable: reports, suppressions and CI rules refer to them.
var (
	LegacyToken = &Rule{ID: "RM001", Name: "legacy-registration-token", Anchor: "rm001-legacy-registration-token",
		Summary: "the runner registers with a legacy registration token (runnerRegistrationToken, or a REGISTRATION_TOKEN env var)",
		Fix:     "create the runner in GitLab (or let `runner-migrate` create it) and give its glrt- token through a Secret (runners.secret with runner-token); remove runnerRegistrationToken"}
	RegistrationSettings = &Rule{ID: "RM002", Name: "registration-settings", Anchor: "rm002-registration-settings",
		Summary: "values set runner settings at registration that GitLab now owns (tags, run-untagged, locked, protected, maximum timeout, paused, maintenance note, name)",
		Fix:     "set these on the runner in GitLab (runner-migrate does it when it creates the runner) and remove them from the values"}
	BundledRunnerSharedSecret = &Rule{ID: "RM003", Name: "bundled-runner-shared-secrets", Anchor: "rm003-bundled-runner-shared-secrets",
		Summary: "the GitLab chart's bundled runner registers with the registration token its shared-secrets job generates",
		Fix: "helm upgrade ... --post-renderer runner-migrate (--bundled-runner=mint, the default, mints the runner in GitLab with a Job; " +
			"--bundled-runner=api with GITLAB_TOKEN creates it through the GitLab API; --bundled-runner=skip leaves it alone), " +
			"or a Secret of your own named by global.runner.registrationToken.secret holding runner-token = glrt-..., or gitlab-runner.install: false"}
	UnprovenSecret = &Rule{ID: "RM004", Name: "unproven-runner-secret", Anchor: "rm004-unproven-runner-secret",
		Summary: "the runner reads its token from a Secret the values do not show, so nothing proves it holds an authentication token",
		Fix:     "make sure the Secret holds runner-token = glrt-... and runner-registration-token = \"\" (both keys must exist)"}
	LockedNullWorkaround = &Rule{ID: "RM005", Name: "locked-null-workaround", Anchor: "rm005-locked-null-workaround",
		Summary: "runners.locked: null, the GitLab chart's documented workaround, does not work with Helm 3.22 and 4.x",
		Fix:     "use runners.locked: true, or set gitlab-runner.runnerRegistrationToken: \"\""}
	InlineAuthToken = &Rule{ID: "RM006", Name: "inline-authentication-token", Anchor: "rm006-inline-authentication-token",
		Summary: "a runner authentication token is written in the values: a secret in git",
		Fix:     "rotate the token (it is exposed), keep it in a Secret (runners.secret) or a secrets manager, and remove it from the values"}
	LegacySecret = &Rule{ID: "RM007", Name: "legacy-token-secret", Anchor: "rm007-legacy-token-secret",
		Summary: "rendered manifests: the runner's Secret carries a registration token and no runner-token",
		Fix:     "post-render with runner-migrate (helm upgrade --post-renderer runner-migrate), or put an authentication token in runner-token"}
	SharedRunnerSecret = &Rule{ID: "RM008", Name: "gitlab-chart-runner-secret", Anchor: "rm008-gitlab-chart-runner-secret",
		Summary: "a runner reads the GitLab chart's shared runner Secret (<release>-gitlab-runner-secret), which holds the registration token the chart's shared-secrets job generates",
		Fix: "give the runner an authentication token: post-render its release with runner-migrate (it creates the runner and gives it a Secret of its own), " +
			"or point runners.secret at a Secret holding runner-token = glrt-... and runner-registration-token = \"\", " +
			"or write the glrt- token into runner-token of the shared Secret where the GitLab chart creates it (the shared-secrets job keeps keys that exist) and sync it again"}
	DuplicateKey = &Rule{ID: "RM009", Name: "duplicate-key", Anchor: "rm009-duplicate-key",
		Summary: "a key the rules read is set twice in one mapping of a values file: Helm silently takes the last",
		Fix:     "keep one of them (YAML forbids duplicate keys; Helm's reader takes the last without a word)"}
	UnreadValues = &Rule{ID: "RM010", Name: "unread-values", Anchor: "rm010-unread-values",
		Summary: "a GitOps release takes values from places lint does not read (Flux valuesFrom, Argo CD valueFiles)",
		Fix:     "lint those values as well: pass their files to runner-migrate lint, or lint the values the ConfigMap or Secret holds"}
)

// All lists every rule, by ID.
var All = []*Rule{LegacyToken, RegistrationSettings, BundledRunnerSharedSecret, UnprovenSecret,
	LockedNullWorkaround, InlineAuthToken, LegacySecret, SharedRunnerSecret, DuplicateKey, UnreadValues}
