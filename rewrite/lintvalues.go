package rewrite

import (
	"fmt"
	"strconv"
	"strings"
)

// runnerContext is one gitlab-runner chart's values inside a values tree: the root (the
// gitlab-runner chart itself), a subchart or alias (`runner-a:`), or the GitLab chart's bundled
// runner (`gitlab-runner:`).
type runnerContext struct {
	values  *Values // nil when the GitLab chart's bundled runner has no values at all
	prefix  string  // "" or "gitlab-runner."
	bundled bool    // the GitLab chart's bundled runner
	nested  bool    // a subchart: Helm keeps explicit nulls there
}

// LintValues checks one release's values (one file, or several merged with MergeValues) for what
// still depends on legacy runner registration, with severities for the target GitLab version.
func LintValues(root *Values, target GitLabVersion) []Finding {
	l := &valuesLinter{root: root, target: target}
	for _, ctx := range runnerContexts(root) {
		l.lint(ctx)
	}
	return l.findings
}

// runnerContexts finds the gitlab-runner charts a values tree configures.
func runnerContexts(root *Values) []runnerContext {
	var out []runnerContext
	if isRunnerValues(root) {
		out = append(out, runnerContext{values: root})
	}
	gitlabChart := isGitLabChartValues(root)
	for _, f := range root.fields {
		switch {
		case f.Name() == "gitlab-runner" && gitlabChart:
			out = append(out, runnerContext{values: f, prefix: "gitlab-runner.", bundled: true, nested: true})
		case f.IsMap() && isRunnerValues(f):
			out = append(out, runnerContext{values: f, prefix: f.Name() + ".", nested: true})
		}
	}
	if gitlabChart && root.Field("gitlab-runner") == nil {
		out = append(out, runnerContext{prefix: "gitlab-runner.", bundled: true, nested: true})
	}
	return out
}

// isRunnerValues recognises the gitlab-runner chart's values by the keys only it has.
func isRunnerValues(v *Values) bool {
	if v.Field("runnerRegistrationToken") != nil || v.Field("runnerToken") != nil || v.Field("gitlabUrl") != nil {
		return true
	}
	runners := v.Field("runners")
	for _, k := range []string{"tags", "locked", "runUntagged", "protected", "maximumTimeout", "secret"} {
		if runners.Field(k) != nil {
			return true
		}
	}
	return false
}

// isGitLabChartValues recognises the GitLab chart's values (gitlab/gitlab), whose bundled runner is
// installed unless gitlab-runner.install is false.
func isGitLabChartValues(root *Values) bool {
	return root.Lookup("gitlab-runner", "install") != nil || root.Lookup("global", "hosts") != nil ||
		root.Lookup("global", "runner") != nil || root.Field("certmanager-issuer") != nil ||
		(root.Field("gitlab") != nil && root.Field("global") != nil)
}

type valuesLinter struct {
	root     *Values
	target   GitLabVersion
	findings []Finding
}

func (l *valuesLinter) add(rule *Rule, sev Severity, at *Values, path, message, fix string) {
	if sev == SeverityNone {
		return
	}
	f := Finding{Rule: rule, Severity: sev, Path: path, Message: message, Fix: fix}
	if fix == "" {
		f.Fix = rule.Fix
	}
	if at != nil {
		f.File = at.File
		f.Line, f.Column = at.Position()
	} else {
		f.File = l.root.File
	}
	l.findings = append(l.findings, f)
}

func (l *valuesLinter) lint(ctx runnerContext) {
	v, p := ctx.values, ctx.prefix
	registration := v.Field("runnerRegistrationToken")
	runnerToken := v.Field("runnerToken")
	hasAuth := strings.HasPrefix(runnerToken.String(), "glrt-") || strings.HasPrefix(registration.String(), "glrt-")

	switch reg := registration.String(); {
	case strings.HasPrefix(reg, "glrt-"):
		l.add(RuleInlineAuthToken, SeverityError, registration, p+"runnerRegistrationToken",
			"runnerRegistrationToken holds a runner authentication token: a secret committed to the values, in the slot meant for registration tokens "+
				"(it works there only through gitlab-runner's legacy-compatible path, announced for removal)", "")
	case reg != "":
		l.add(RuleLegacyToken, legacySeverity(l.target), registration, p+"runnerRegistrationToken",
			"runnerRegistrationToken registers the runner with a legacy registration token: "+legacyWhy(l.target), "")
	}
	if strings.HasPrefix(runnerToken.String(), "glrt-") {
		l.add(RuleInlineAuthToken, SeverityError, runnerToken, p+"runnerToken",
			"runnerToken holds a runner authentication token in the values: anyone who can read them can run jobs as this runner", "")
	}

	l.registrationSettings(ctx, hasAuth)

	switch {
	case ctx.bundled:
		l.bundledRunner(ctx, registration, runnerToken)
	case v.Lookup("runners", "secret").String() != "" && runnerToken.String() == "" && registration.String() == "":
		secret := v.Lookup("runners", "secret")
		l.add(RuleUnprovenSecret, unprovenSeverity(l.target), secret, p+"runners.secret",
			fmt.Sprintf("the runner reads its token from Secret %q, which the values do not show; if it holds a registration token (runner-registration-token) rather than runner-token = glrt-..., %s",
				secret.String(), lowerFirst(legacyWhy(l.target))), "")
	}

	if locked := v.Lookup("runners", "locked"); ctx.nested && locked.IsNull() && l.target.AtLeast(16, 0) {
		l.add(RuleLockedNullWorkaround, SeverityWarning, locked, p+"runners.locked",
			"runners.locked: null does not remove the key in a subchart with Helm 3.22 or 4.x: the chart still sees it and renders REGISTER_LOCKED=\"false\", "+
				"which gitlab-runner refuses with an authentication token on charts before 0.74 (FATAL: Runner configuration ... is reserved)", "")
	}
}

// registrationSettings flags the runners.* values that set, at registration, what GitLab now owns.
func (l *valuesLinter) registrationSettings(ctx runnerContext, hasAuth bool) {
	if !l.target.AtLeast(15, 6) {
		return
	}
	runners, p := ctx.values.Field("runners"), ctx.prefix+"runners."
	owned := "GitLab owns this setting since 15.6: with an authentication token it is set on the runner in GitLab, and passing it at registration "
	refused := owned + "makes gitlab-runner stop with FATAL (\"Runner configuration other than name and executor configuration is reserved\")"
	dropped := refused + " on charts before 0.74 (later charts drop it themselves)"
	sev := SeverityWarning
	if tags := runners.Field("tags"); strings.TrimSpace(tags.String()) != "" {
		l.add(RuleRegistrationSettings, sev, tags, p+"tags", "runners.tags: "+dropped, "")
	}
	if ru := runners.Field("runUntagged"); isTrue(ru) {
		l.add(RuleRegistrationSettings, sev, ru, p+"runUntagged", "runners.runUntagged: "+dropped, "")
	}
	if locked := runners.Field("locked"); isFalse(locked) {
		l.add(RuleRegistrationSettings, sev, locked, p+"locked", "runners.locked: false: "+dropped, "")
	}
	if prot := runners.Field("protected"); isTrue(prot) {
		l.add(RuleRegistrationSettings, sev, prot, p+"protected", "runners.protected: "+dropped, "")
	}
	if mt := runners.Field("maximumTimeout"); mt != nil && !mt.IsNull() && mt.String() != "" && mt.String() != "0" {
		msg := "runners.maximumTimeout: " + refused + " on every chart version (no chart drops --maximum-timeout)"
		mtSev := sev
		if hasAuth {
			mtSev = SeverityError
			msg += "; these values already use an authentication token, so the runner cannot register"
		}
		l.add(RuleRegistrationSettings, mtSev, mt, p+"maximumTimeout", msg, "")
	}
	if name := runners.Field("name"); name.String() != "" && !hasAuth {
		l.add(RuleRegistrationSettings, SeverityInfo, name, p+"name",
			"runners.name set the runner's description in GitLab at registration; with an authentication token it only names the runner in config.toml, "+
				"and GitLab shows the description the runner has there", "set the description on the runner in GitLab (runner-migrate uses runners.name for it when it creates the runner)")
	}
}

// bundledRunner checks the GitLab chart's bundled runner: installed unless install is false, and
// then reading the Secret the shared-secrets job fills with a registration token.
func (l *valuesLinter) bundledRunner(ctx runnerContext, registration, runnerToken *Values) {
	install := ctx.values.Field("install")
	if on, ok := install.Bool(); ok && !on {
		return
	}
	if runnerToken.String() != "" || registration.String() != "" {
		return // RM001 / RM006 say what there is to say
	}
	if secret := l.root.Lookup("global", "runner", "registrationToken", "secret"); secret.String() != "" {
		l.add(RuleUnprovenSecret, unprovenSeverity(l.target), secret, "global.runner.registrationToken.secret",
			fmt.Sprintf("the bundled runner reads its token from Secret %q; the shared-secrets job fills runner-registration-token there when it is missing, "+
				"so unless runner-token holds an authentication token, %s", secret.String(), lowerFirst(legacyWhy(l.target))), "")
		return
	}
	at := install
	if at == nil {
		at = ctx.values
	}
	l.add(RuleBundledRunnerSharedSecret, legacySeverity(l.target), at, strings.TrimSuffix(ctx.prefix, ".")+".install",
		"the GitLab chart installs its bundled runner (gitlab-runner.install defaults to true), which registers with the registration token the shared-secrets job writes into "+
			"<release>-gitlab-runner-secret: "+legacyWhy(l.target), "")
}

func isTrue(v *Values) bool {
	if b, ok := v.Bool(); ok {
		return b
	}
	b, err := strconv.ParseBool(v.String())
	return err == nil && b
}

func isFalse(v *Values) bool {
	if b, ok := v.Bool(); ok {
		return !b
	}
	b, err := strconv.ParseBool(v.String())
	return err == nil && !b && v.String() != ""
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
