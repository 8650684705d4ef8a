package rules

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/lint/values"
)

// Chart says which chart a release's values are for.
type Chart int

const (
	ChartUnknown Chart = iota // values on their own: the runner and the GitLab chart are recognised by their keys
	ChartRunner               // gitlab/gitlab-runner: the values are one runner's
	ChartGitLab               // gitlab/gitlab: its bundled runner is the subchart under gitlab-runner:
	ChartOther                // any other chart: runners only in its gitlab-runner subcharts
)

var chartVersionSuffix = regexp.MustCompile(`-v?[0-9]+\.[0-9]+\.[0-9]+.*$`)

// ChartOf tells the chart from its name as a chart reference gives it: gitlab-runner,
// gitlab/gitlab-runner, ./charts/gitlab, oci://registry.example.com/charts/gitlab-runner,
// gitlab-runner-0.86.0.tgz. nested is true for a chart inside another chart's charts/ directory: the
// GitLab chart's own charts/gitlab subchart is no GitLab umbrella chart.
func ChartOf(ref string, nested bool) Chart {
	name := strings.TrimSuffix(path.Base(strings.TrimRight(ref, "/")), ".tgz")
	name = chartVersionSuffix.ReplaceAllString(name, "")
	switch {
	case ref == "":
		return ChartUnknown
	case name == "gitlab-runner":
		return ChartRunner
	case name == "gitlab" && !nested:
		return ChartGitLab
	}
	return ChartOther
}

// Subchart is a gitlab-runner dependency of a chart (from its Chart.yaml).
type Subchart struct {
	Key       string   // the alias, else the name: where its values sit
	Condition []string // Helm's condition paths; the first that holds a boolean decides
}

// Release is one Helm release's values and what is known of its chart.
type Release struct {
	Values    *values.Values // nil: the chart's defaults only
	Chart     Chart
	Subcharts []Subchart // the chart's gitlab-runner dependencies, when its Chart.yaml is known
	// File, Line and Column are where the release is declared, for findings about it as a whole:
	// its values file (line 0), or the chart reference of a GitOps manifest.
	File         string
	Line, Column int
	// PathPrefix starts the values path of every finding (a GitOps source: "Application argocd/ci spec.source.helm: ").
	PathPrefix string
	// Unread are values the release takes from places lint does not read.
	Unread []Unread
}

// Unread is a source of a release's values that lint does not follow.
type Unread struct {
	What         string // "valuesFrom ConfigMap runner-values"
	Path         string // in full: "HelmRelease ci/runner spec.valuesFrom[0]"
	File         string
	Line, Column int
}

// runnerContext is one gitlab-runner chart's values inside a release: the root (the gitlab-runner
// chart itself), a subchart or alias (runner-a:), or the GitLab chart's bundled runner.
type runnerContext struct {
	values    *values.Values // nil when the GitLab chart's bundled runner has no values at all
	prefix    string         // "" or "gitlab-runner."
	bundled   bool           // the GitLab chart's bundled runner
	nested    bool           // a subchart: Helm keeps explicit nulls there
	installed bool           // its condition (gitlab-runner.install) does not turn it off
}

// LintRelease checks one release's values (one file, several merged with values.MergeValues, or
// those a GitOps manifest declares) for what still depends on legacy runner registration, with
// severities for the target GitLab version.
func LintRelease(r Release, target GitLabVersion) []Finding {
	root := r.Values
	if root == nil {
		root = values.Empty(r.File)
	}
	if r.File == "" {
		r.File = root.File()
	}
	l := &linter{r: r, root: root, target: target, reported: map[string]bool{}, record: true}
	contexts := l.contexts()
	for _, ctx := range contexts {
		l.lint(ctx)
	}
	if len(contexts) > 0 || r.Chart == ChartRunner || r.Chart == ChartGitLab {
		for _, u := range r.Unread {
			l.findings = append(l.findings, Finding{Rule: UnreadValues, Severity: SeverityInfo, File: u.File, Line: u.Line, Column: u.Column,
				Path: u.Path, Fix: UnreadValues.Fix,
				Message: u.What + ": lint does not read these values, so it cannot tell whether they register the runner with a legacy token"})
		}
	}
	return l.findings
}

// Context is one gitlab-runner chart a release's values configure: the chart itself, a subchart
// or alias, or the GitLab chart's bundled runner.
type Context struct {
	Values *values.Values // its values; nil for the GitLab chart's bundled runner when the values set none
	// Key is where its values sit in the release's ("" for the chart itself, else the subchart's
	// name or alias: gitlab-runner, runner-a).
	Key       string
	Bundled   bool // the GitLab chart's bundled runner
	Installed bool // its condition (gitlab-runner.install, an alias's enabled) does not turn it off
}

// RunnerContexts lists the gitlab-runner charts a release's values configure, found as lint finds
// them (by the chart, its gitlab-runner dependencies, and the keys only runner values have).
func RunnerContexts(r Release) []Context {
	root := r.Values
	if root == nil {
		root = values.Empty(r.File)
	}
	l := &linter{r: r, root: root, reported: map[string]bool{}}
	var out []Context
	for _, c := range l.contexts() {
		out = append(out, Context{Values: c.values, Key: strings.TrimSuffix(c.prefix, "."), Bundled: c.bundled, Installed: c.installed})
	}
	return out
}

type linter struct {
	r        Release
	root     *values.Values
	target   GitLabVersion
	findings []Finding
	reported map[string]bool // duplicate keys already reported, by position
	record   bool            // report duplicates of what is read
}

// get reads a value the rules depend on, reporting a key set twice in one mapping (RM009). base is
// the path of v, with its trailing dot.
func (l *linter) get(v *values.Values, base string, keys ...string) *values.Values {
	for i, k := range keys {
		v = v.Field(k)
		l.duplicate(v, base+strings.Join(keys[:i+1], "."))
	}
	return v
}

func (l *linter) duplicate(v *values.Values, path string) {
	earlier := v.Shadowed()
	if !l.record || len(earlier) == 0 {
		return
	}
	line, col := v.Position()
	where := fmt.Sprintf("%s:%d:%d", v.File(), line, col)
	if l.reported[where] {
		return
	}
	l.reported[where] = true
	var lines []string
	for _, e := range earlier {
		lines = append(lines, strconv.Itoa(e))
	}
	l.add(DuplicateKey, SeverityInfo, v, path, fmt.Sprintf("%s is set %d times in this mapping (lines %s and %d): Helm takes the last, line %d, and ignores the others without a word",
		path, len(earlier)+1, strings.Join(lines, ", "), line, line), "")
}

func (l *linter) add(rule *Rule, sev Severity, at *values.Values, path, message, fix string) {
	if sev == SeverityNone {
		return
	}
	f := Finding{Rule: rule, Severity: sev, Path: l.r.PathPrefix + path, Message: message, Fix: fix}
	if fix == "" {
		f.Fix = rule.Fix
	}
	if at != nil {
		f.File = at.File()
		f.Line, f.Column = at.Position()
	} else {
		f.File, f.Line, f.Column = l.r.File, l.r.Line, l.r.Column
	}
	l.findings = append(l.findings, f)
}

// contexts finds the gitlab-runner charts the release configures.
func (l *linter) contexts() []runnerContext {
	root := l.root
	if l.r.Chart == ChartRunner {
		return []runnerContext{{values: root, installed: true}}
	}
	var out []runnerContext
	known := map[string]bool{}
	subchart := func(key string, condition []string, bundled bool) {
		known[key] = true
		v := l.get(root, "", key)
		if v != nil && !v.IsMap() {
			v = nil // null or a scalar: the subchart's defaults
		}
		if v == nil && !bundled {
			return // the runner chart's defaults register nothing
		}
		out = append(out, runnerContext{values: v, prefix: key + ".", bundled: bundled, nested: true, installed: l.installed(condition)})
	}
	bundled := Subchart{Key: "gitlab-runner", Condition: []string{"gitlab-runner.install"}}
	for _, s := range l.r.Subcharts {
		if s.Key == bundled.Key {
			bundled = s
		}
	}
	if l.r.Chart == ChartGitLab {
		subchart(bundled.Key, bundled.Condition, true)
		return out
	}
	if isRunnerValues(root) {
		out = append(out, runnerContext{values: root, installed: true})
	}
	for _, s := range l.r.Subcharts {
		subchart(s.Key, s.Condition, false)
	}
	if l.r.Chart == ChartUnknown && !known[bundled.Key] && isGitLabChartValues(root) {
		subchart(bundled.Key, bundled.Condition, true)
	}
	for _, m := range root.Maps() {
		if known[m.Name()] || !isRunnerValues(m) {
			continue
		}
		l.duplicate(m, m.Name())
		out = append(out, runnerContext{values: m, prefix: m.Name() + ".", nested: true,
			installed: l.installed([]string{m.Name() + ".enabled", m.Name() + ".install"})})
	}
	return out
}

// installed evaluates a Helm dependency condition: the first path that holds a boolean decides.
func (l *linter) installed(condition []string) bool {
	for _, c := range condition {
		if on, ok := l.get(l.root, "", strings.Split(strings.TrimSpace(c), ".")...).Bool(); ok {
			return on
		}
	}
	return true
}

// isRunnerValues recognises the gitlab-runner chart's values by the keys only it has.
func isRunnerValues(v *values.Values) bool {
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
func isGitLabChartValues(root *values.Values) bool {
	return root.Lookup("gitlab-runner", "install") != nil || root.Lookup("global", "hosts") != nil ||
		root.Lookup("global", "runner") != nil || root.Field("certmanager-issuer") != nil ||
		(root.Field("gitlab") != nil && root.Field("global") != nil)
}

// keptSecretSuffix ends the name of the Secret runner-migrate keeps a runner's token in
// (<deployment>-auth-token, rewrite.AddedSecretName).
const keptSecretSuffix = "-auth-token"

// sharedSecretName is the GitLab chart's runner Secret, <release>-gitlab-runner-secret, which its
// shared-secrets job fills with a generated registration token.
var sharedSecretName = regexp.MustCompile(`-gitlab-runner-secret$`)

func (l *linter) lint(ctx runnerContext) {
	v, p := ctx.values, ctx.prefix
	if !ctx.installed {
		// Not installed: nothing registers. A token written in git is exposed all the same.
		l.record = false
		l.inlineToken(l.get(v, p, "runnerRegistrationToken"), p+"runnerRegistrationToken", "runnerRegistrationToken")
		l.inlineToken(l.get(v, p, "runnerToken"), p+"runnerToken", "runnerToken")
		for _, e := range l.env(v, p) {
			if e.value != nil && (e.name == "REGISTRATION_TOKEN" || e.name == "CI_SERVER_TOKEN") {
				l.inlineToken(e.value, e.path, "env "+e.name)
			}
		}
		l.record = true
		return
	}
	registration := l.get(v, p, "runnerRegistrationToken")
	runnerToken := l.get(v, p, "runnerToken")
	secret := l.get(v, p, "runners", "secret")
	env := l.env(v, p)
	regEnv, ciEnv := findEnv(env, "REGISTRATION_TOKEN"), findEnv(env, "CI_SERVER_TOKEN")
	// Without a token Secret the chart mounts nothing on /secrets, and gitlab-runner reads its
	// tokens from the env.
	fromEnv := registration.String() == "" && runnerToken.String() == "" && secret.String() == "" && !ctx.bundled
	hasAuth := isAuthToken(runnerToken.String()) || isAuthToken(registration.String()) ||
		(fromEnv && (isAuthToken(regEnv.plain()) || isAuthToken(ciEnv.plain())))

	switch reg := registration.String(); {
	case isAuthToken(reg):
		l.inlineToken(registration, p+"runnerRegistrationToken", "runnerRegistrationToken")
	case reg != "":
		l.add(LegacyToken, legacySeverity(l.target), registration, p+"runnerRegistrationToken",
			"runnerRegistrationToken registers the runner with a legacy registration token. "+legacyWhy(l.target), "")
	}
	l.inlineToken(runnerToken, p+"runnerToken", "runnerToken")
	if fromEnv {
		l.envTokens(regEnv, ciEnv)
	}

	l.registrationSettings(ctx, hasAuth)
	l.envSettings(env, hasAuth)

	switch {
	case ctx.bundled:
		l.bundledRunner(ctx, registration, runnerToken)
	case secret.String() != "" && runnerToken.String() == "" && registration.String() == "" && sharedSecretName.MatchString(secret.String()):
		l.add(SharedRunnerSecret, legacySeverity(l.target), secret, p+"runners.secret",
			fmt.Sprintf("the runner reads its token from Secret %q, named like the GitLab chart's shared runner Secret (<release>-gitlab-runner-secret): "+
				"the chart's shared-secrets job fills it with a generated registration token (runner-registration-token) and an empty runner-token, "+
				"so this runner registers with a legacy registration token. %s", secret.String(), legacyWhy(l.target)), "")
	case secret.String() != "" && runnerToken.String() == "" && registration.String() == "" && strings.HasSuffix(secret.String(), keptSecretSuffix):
		if sev := unprovenSeverity(l.target); sev != SeverityNone {
			l.add(UnprovenSecret, SeverityInfo, secret, p+"runners.secret",
				fmt.Sprintf("the runner reads its token from Secret %q, by its name the one runner-migrate migrate keeps with the runner's authentication token; "+
					"the values cannot show what it holds (runner-migrate lint --release NAME reads it in the cluster)", secret.String()),
				"nothing, if runner-migrate migrate made it; otherwise make sure it holds runner-token = glrt-... and runner-registration-token = \"\"")
		}
	case secret.String() != "" && runnerToken.String() == "" && registration.String() == "":
		l.add(UnprovenSecret, unprovenSeverity(l.target), secret, p+"runners.secret",
			fmt.Sprintf("the runner reads its token from Secret %q, which the values do not show. If it holds a registration token "+
				"(runner-registration-token) rather than runner-token = glrt-...: %s", secret.String(), legacyWhy(l.target)), "")
	}

	if locked := l.get(v, p, "runners", "locked"); ctx.nested && locked.IsNull() && l.target.AtLeast(16, 0) {
		l.add(LockedNullWorkaround, SeverityWarning, locked, p+"runners.locked",
			"runners.locked: null does not remove the key in a subchart with Helm 3.22 or 4.x: the chart still sees it and renders REGISTER_LOCKED=\"false\", "+
				"which gitlab-runner refuses with an authentication token on charts before 0.74 (FATAL: Runner configuration ... is reserved)", "")
	}
}

// inlineToken reports a glrt- token written in the values (RM006); a stand-in is only a note.
func (l *linter) inlineToken(v *values.Values, path, slot string) {
	s := v.String()
	if !isAuthToken(s) {
		return
	}
	if isPlaceholder(s) {
		l.add(InlineAuthToken, SeverityInfo, v, path,
			slot+" holds a placeholder (glrt- and a stand-in), not a token: nothing secret is committed, but the values expect the token to be written here",
			"give the token through a Secret (runners.secret holding runner-token) or a secrets manager, not in the values")
		return
	}
	var msg string
	switch slot {
	case "runnerRegistrationToken":
		msg = "runnerRegistrationToken holds a runner authentication token: a secret committed to the values, in the slot meant for registration tokens " +
			"(it works there only through gitlab-runner's legacy-compatible path, announced for removal)"
	default:
		msg = slot + " holds a runner authentication token in the values: anyone who can read them can run jobs as this runner"
	}
	l.add(InlineAuthToken, SeverityError, v, path, msg, "")
}

// registrationSettings flags the runners.* values that set, at registration, what GitLab now owns.
func (l *linter) registrationSettings(ctx runnerContext, hasAuth bool) {
	if !l.target.AtLeast(15, 6) {
		return
	}
	v, p := ctx.values, ctx.prefix+"runners."
	owned := "GitLab owns this setting since 15.6: with an authentication token it is set on the runner in GitLab, and passing it at registration "
	refused := owned + "makes gitlab-runner stop with FATAL (\"Runner configuration other than name and executor configuration is reserved\")"
	dropped := refused + " on charts before 0.74 (later charts drop it themselves)"
	sev := SeverityWarning
	if tags := l.get(v, ctx.prefix, "runners", "tags"); strings.TrimSpace(tags.String()) != "" {
		l.add(RegistrationSettings, sev, tags, p+"tags", "runners.tags: "+dropped, "")
	}
	if ru := l.get(v, ctx.prefix, "runners", "runUntagged"); isTrue(ru) {
		l.add(RegistrationSettings, sev, ru, p+"runUntagged", "runners.runUntagged: "+dropped, "")
	}
	if locked := l.get(v, ctx.prefix, "runners", "locked"); isFalse(locked) {
		l.add(RegistrationSettings, sev, locked, p+"locked", "runners.locked: false: "+dropped, "")
	}
	if prot := l.get(v, ctx.prefix, "runners", "protected"); isTrue(prot) {
		l.add(RegistrationSettings, sev, prot, p+"protected", "runners.protected: "+dropped, "")
	}
	if mt := l.get(v, ctx.prefix, "runners", "maximumTimeout"); mt != nil && !mt.IsNull() && mt.String() != "" && mt.String() != "0" {
		msg := "runners.maximumTimeout: " + refused + " on every chart version (no chart drops --maximum-timeout)"
		mtSev := sev
		if hasAuth {
			mtSev = SeverityError
			msg += "; these values already use an authentication token, so the runner cannot register"
		}
		l.add(RegistrationSettings, mtSev, mt, p+"maximumTimeout", msg, "")
	}
	if name := l.get(v, ctx.prefix, "runners", "name"); name.String() != "" && !hasAuth {
		l.add(RegistrationSettings, SeverityInfo, name, p+"name",
			"runners.name set the runner's description in GitLab at registration; with an authentication token it only names the runner in config.toml, "+
				"and GitLab shows the description the runner has there", "set the description on the runner in GitLab (runner-migrate uses runners.name for it when it creates the runner)")
	}
}

// bundledRunner checks the GitLab chart's bundled runner, which reads the Secret the shared-secrets
// job fills with a registration token.
func (l *linter) bundledRunner(ctx runnerContext, registration, runnerToken *values.Values) {
	if runnerToken.String() != "" || registration.String() != "" {
		return // RM001 / RM006 say what there is to say
	}
	if secret := l.get(l.root, "", "global", "runner", "registrationToken", "secret"); strings.HasSuffix(secret.String(), keptSecretSuffix) {
		if unprovenSeverity(l.target) != SeverityNone {
			l.add(UnprovenSecret, SeverityInfo, secret, "global.runner.registrationToken.secret",
				fmt.Sprintf("the bundled runner reads its token from Secret %q, by its name the one runner-migrate migrate keeps with the runner's authentication token; "+
					"the values cannot show what it holds (runner-migrate lint --release NAME reads it in the cluster)", secret.String()),
				"nothing, if runner-migrate migrate made it; otherwise make sure it holds runner-token = glrt-... and runner-registration-token = \"\"")
		}
		return
	} else if secret.String() != "" {
		l.add(UnprovenSecret, unprovenSeverity(l.target), secret, "global.runner.registrationToken.secret",
			fmt.Sprintf("the bundled runner reads its token from Secret %q; the shared-secrets job fills runner-registration-token there when it is missing, "+
				"so unless runner-token holds an authentication token, the runner registers with a registration token. %s", secret.String(), legacyWhy(l.target)), "")
		return
	}
	at := ctx.values.Field("install")
	if at == nil {
		at = ctx.values
	}
	l.add(BundledRunnerSharedSecret, legacySeverity(l.target), at, strings.TrimSuffix(ctx.prefix, ".")+".install",
		"the GitLab chart installs its bundled runner (gitlab-runner.install defaults to true), which registers with the registration token the shared-secrets job writes into "+
			"<release>-gitlab-runner-secret. "+legacyWhy(l.target), "")
}

func isTrue(v *values.Values) bool {
	if b, ok := v.Bool(); ok {
		return b
	}
	b, err := strconv.ParseBool(v.String())
	return err == nil && b
}

func isFalse(v *values.Values) bool {
	if b, ok := v.Bool(); ok {
		return !b
	}
	b, err := strconv.ParseBool(v.String())
	return err == nil && !b && v.String() != ""
}
