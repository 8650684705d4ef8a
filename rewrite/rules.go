package rewrite

// The linter's rules. IDs are stable: reports, suppressions and CI rules refer to them.
var (
	RuleLegacyToken = &Rule{ID: "RM001", Name: "legacy-registration-token", Anchor: "rm001-legacy-registration-token",
		Summary: "the runner registers with a legacy registration token (runnerRegistrationToken)",
		Fix:     "create the runner in GitLab (or let `runner-migrate` create it) and give its glrt- token through a Secret (runners.secret with runner-token); remove runnerRegistrationToken"}
	RuleRegistrationSettings = &Rule{ID: "RM002", Name: "registration-settings", Anchor: "rm002-registration-settings",
		Summary: "values set runner settings at registration that GitLab now owns (tags, run-untagged, locked, protected, maximum timeout, name)",
		Fix:     "set these on the runner in GitLab (runner-migrate does it when it creates the runner) and remove them from the values"}
	RuleBundledRunnerSharedSecret = &Rule{ID: "RM003", Name: "bundled-runner-shared-secrets", Anchor: "rm003-bundled-runner-shared-secrets",
		Summary: "the GitLab chart's bundled runner registers with the registration token its shared-secrets job generates",
		Fix:     "give the bundled runner an authentication token (runner-migrate post-render, or a Secret named by global.runner.registrationToken.secret holding runner-token), or set gitlab-runner.install: false"}
	RuleUnprovenSecret = &Rule{ID: "RM004", Name: "unproven-runner-secret", Anchor: "rm004-unproven-runner-secret",
		Summary: "the runner reads its token from a Secret the values do not show, so nothing proves it holds an authentication token",
		Fix:     "make sure the Secret holds runner-token = glrt-... and runner-registration-token = \"\" (both keys must exist)"}
	RuleLockedNullWorkaround = &Rule{ID: "RM005", Name: "locked-null-workaround", Anchor: "rm005-locked-null-workaround",
		Summary: "runners.locked: null, the GitLab chart's documented workaround, does not work with Helm 3.22 and 4.x",
		Fix:     "use runners.locked: true, or set gitlab-runner.runnerRegistrationToken: \"\""}
	RuleInlineAuthToken = &Rule{ID: "RM006", Name: "inline-authentication-token", Anchor: "rm006-inline-authentication-token",
		Summary: "a runner authentication token is written in the values: a secret in git",
		Fix:     "rotate the token (it is exposed), keep it in a Secret (runners.secret) or a secrets manager, and remove it from the values"}
	RuleLegacySecret = &Rule{ID: "RM007", Name: "legacy-token-secret", Anchor: "rm007-legacy-token-secret",
		Summary: "rendered manifests: the runner's Secret carries a registration token and no runner-token",
		Fix:     "post-render with runner-migrate (helm upgrade --post-renderer runner-migrate), or put an authentication token in runner-token"}
)

// Rules lists every rule, by ID.
var Rules = []*Rule{RuleLegacyToken, RuleRegistrationSettings, RuleBundledRunnerSharedSecret, RuleUnprovenSecret,
	RuleLockedNullWorkaround, RuleInlineAuthToken, RuleLegacySecret}

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

// legacyWhy says why a legacy registration token breaks, for the target version.
func legacyWhy(v GitLabVersion) string {
	if v.AtLeast(17, 0) {
		return "GitLab 17.0 and later disable runner registration tokens by default, so the pod crash-loops with " +
			"\"410 Gone - runner registration disallowed\" (their removal, once announced for 18.0, is deferred; GitLab now plans it for 20.0)"
	}
	return "GitLab deprecated runner registration tokens in 15.6 and disables them by default from 17.0 " +
		"(the pod then crash-loops with \"410 Gone - runner registration disallowed\")"
}
