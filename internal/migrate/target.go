package migrate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
	"github.com/runner-migrate/runner-migrate/internal/lint/values"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// What migrate does to one runner.
type action int

const (
	actNone    action = iota // no token anywhere: it cannot register as configured, and is left alone
	actMigrate               // registers with a registration token: a runner is created, the values point at its token
	actRepair                // keeps a token of its own: only the settings GitLab refuses with it are removed
	actDone                  // already reads the Secret migrate keeps: only leftover settings are removed
)

// target is one runner of a release: a gitlab-runner chart its values configure.
type target struct {
	rel     *release
	ctx     rules.Context
	prefix  []string // the key path of its values in the release's ([] or [gitlab-runner])
	act     action
	why     string
	v       *values.Values // its merged values (nil: the chart's defaults)
	legacy  token.Token    // the registration token it registers with, where known
	mounted string         // the Secret its pod reads the token from now; "" for the chart's own or env
	fromEnv bool           // its token comes as a REGISTRATION_TOKEN env var

	deployment, namespace string
	ours                  string // the Secret migrate keeps its token in
	site                  *rewrite.Site
	rendered              bool // site and spec come from a render of the chart

	// Outcome.
	removed, set []string
	secretVerb   string
}

func (t *target) path(keys ...string) []string {
	return append(append([]string{}, t.prefix...), keys...)
}

func (t *target) String() string {
	return fmt.Sprintf("Deployment %s/%s", t.namespace, t.deployment)
}

// registrationSettings are the runners.* values that set at registration what GitLab owns now.
var registrationSettings = []string{"tags", "runUntagged", "locked", "protected", "maximumTimeout"}

// refusedEnv are the env vars that feed register options GitLab refuses with an authentication token.
var refusedEnv = []string{"REGISTER_LOCKED", "RUNNER_TAG_LIST", "REGISTER_RUN_UNTAGGED", "REGISTER_ACCESS_LEVEL",
	"REGISTER_MAXIMUM_TIMEOUT", "REGISTER_PAUSED", "REGISTER_MAINTENANCE_NOTE"}

// targets are the installed runners of a release, with their names as the chart makes them.
func (r *release) targets() []*target {
	var views []*values.Values
	for _, l := range r.layers {
		if v := l.view(); v != nil {
			views = append(views, v)
		}
	}
	merged := values.MergeValues(views...)
	var out []*target
	for _, c := range rules.RunnerContexts(rules.Release{Values: merged, Chart: r.chart, Subcharts: r.subcharts}) {
		if !c.Installed {
			continue
		}
		t := &target{rel: r, ctx: c, v: c.Values}
		if c.Key != "" {
			t.prefix = []string{c.Key}
		}
		chartName := "gitlab-runner"
		if c.Key != "" {
			chartName = c.Key // Helm names an aliased subchart by its alias
		}
		t.deployment = fullname(r.name, chartName, c.Values)
		t.namespace = firstOf(c.Values.Field("namespace").String(), r.namespace)
		t.ours = rewrite.AddedSecretName(t.deployment)
		out = append(out, t)
	}
	return out
}

// fullname is the gitlab-runner chart's name for its objects: fullnameOverride, else the release
// name when it contains the chart's name, else <release>-<name>, cut to 63 characters.
func fullname(release, chart string, v *values.Values) string {
	name := v.Field("fullnameOverride").String()
	if name == "" {
		n := firstOf(v.Field("nameOverride").String(), chart)
		name = release + "-" + n
		if strings.Contains(release, n) {
			name = release
		}
	}
	if len(name) > 63 {
		name = name[:63]
	}
	return strings.TrimSuffix(name, "-")
}

// bundledSecret is the Secret the GitLab chart's bundled runner reads: global.runner.registrationToken.secret,
// else the one its shared-secrets job makes.
func (t *target) bundledSecret(root *values.Values) string {
	return firstOf(root.Lookup("global", "runner", "registrationToken", "secret").String(), t.rel.name+"-gitlab-runner-secret")
}

// specFromValues derives the runner spec from the values with the chart's documented semantics, for
// when no chart can be rendered: the settings GitLab owns, as the chart passes them to register.
func (t *target) specFromValues(root *values.Values) (rewrite.Spec, error) {
	v := t.v
	runners := v.Field("runners")
	var spec rewrite.Spec
	spec.URL = v.Field("gitlabUrl").String()
	if t.ctx.Bundled && spec.URL == "" {
		spec.URL = gitlabChartURL(root)
	}
	tags := runners.Field("tags")
	if tags.IsList() {
		return spec, fmt.Errorf("%s: runners.tags is a list; the chart takes a comma-separated string", t.rel.label)
	}
	spec.Tags = rewrite.ParseTags(tags.String())
	// REGISTER_LOCKED is "false" only when runners.locked is set and false (null too, in a
	// subchart); the GitLab chart sets it false for its bundled runner.
	spec.Locked = true
	switch locked := runners.Field("locked"); {
	case locked != nil && locked.IsNull():
		spec.Locked = t.ctx.Key == "" // Helm drops a null at the top; a subchart keeps it, and it reads as false
	case locked != nil:
		spec.Locked = truthy(locked)
	case t.ctx.Bundled:
		spec.Locked = false
	}
	spec.RunUntagged = truthy(runners.Field("runUntagged"))
	spec.AccessLevel = rewrite.AccessNotProtected
	if truthy(runners.Field("protected")) {
		spec.AccessLevel = rewrite.AccessRefProtected
	}
	if mt := runners.Field("maximumTimeout").String(); mt != "" {
		n, err := strconv.Atoi(mt)
		if err != nil || n < 0 {
			return spec, fmt.Errorf("%s: runners.maximumTimeout %q is not a number of seconds", t.rel.label, mt)
		}
		spec.MaximumTimeout = n
	}
	spec.Description = v.Lookup("runners", "name").String()
	// The container's env comes after the chart's: the user's REGISTER_* win.
	for name, value := range t.plainEnv() {
		switch name {
		case "RUNNER_TAG_LIST":
			spec.Tags = rewrite.ParseTags(value)
		case "REGISTER_LOCKED":
			spec.Locked = isTrue(value)
		case "REGISTER_RUN_UNTAGGED":
			spec.RunUntagged = isTrue(value)
		case "REGISTER_ACCESS_LEVEL":
			if value != "" {
				spec.AccessLevel = value
			}
		case "REGISTER_MAXIMUM_TIMEOUT":
			if n, err := strconv.Atoi(value); err == nil {
				spec.MaximumTimeout = n
			}
		case "REGISTER_PAUSED":
			spec.Paused = isTrue(value)
		case "REGISTER_MAINTENANCE_NOTE":
			spec.MaintenanceNote = value
		case "RUNNER_NAME":
			if spec.Description == "" {
				spec.Description = value
			}
		}
	}
	spec.RunUntagged = spec.RunUntagged || len(spec.Tags) == 0
	if !t.legacy.IsZero() && t.mounted == "" {
		spec.Registration = t.legacy.Digest("registration")
	}
	return spec, nil
}

// gitlabChartURL is the address the GitLab chart gives its bundled runner: global.hosts.gitlab.name,
// else gitlab.<global.hosts.domain>, over https unless global.hosts.https is false.
func gitlabChartURL(root *values.Values) string {
	hosts := root.Lookup("global", "hosts")
	scheme := "https"
	if b, ok := hosts.Field("https").Bool(); ok && !b {
		scheme = "http"
	}
	host := hosts.Lookup("gitlab", "name").String()
	if host == "" {
		host = "gitlab." + firstOf(hosts.Field("domain").String(), "example.com")
	}
	return scheme + "://" + host
}

// plainEnv are the env vars with plain values the values give the runner container (envVars, then
// extraEnv; the last of a name wins, as in a container).
func (t *target) plainEnv() map[string]string {
	env := map[string]string{}
	for _, it := range t.v.Field("envVars").Items() {
		if it.Field("valueFrom") == nil {
			env[it.Field("name").String()] = it.Field("value").String()
		}
	}
	for _, e := range t.v.Field("extraEnv").Entries() {
		env[e.Name()] = e.String()
	}
	return env
}

// envFromRef names the env vars that come from references (valueFrom, extraEnvFrom): migrate cannot
// see what they set.
func (t *target) envFromRef() []string {
	var out []string
	for _, it := range t.v.Field("envVars").Items() {
		if it.Field("valueFrom") != nil {
			out = append(out, it.Field("name").String())
		}
	}
	for _, e := range t.v.Field("extraEnvFrom").Entries() {
		out = append(out, e.Name())
	}
	return out
}

func isTrue(s string) bool {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	return err == nil && b
}

// truthy is how a chart template reads a value in a condition: false, null, "" and 0 are false.
func truthy(v *values.Values) bool {
	if b, ok := v.Bool(); ok {
		return b
	}
	switch {
	case v == nil || v.IsNull():
		return false
	case v.IsMap() || v.IsList():
		return len(v.Entries()) > 0 || len(v.Items()) > 0
	}
	s := v.String()
	return s != "" && s != "0"
}
