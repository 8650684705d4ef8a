package rules

import (
	"fmt"
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/lint/values"
)

// envVar is an env var the values give the runner container: an item of envVars, a key of extraEnv
// (plain values) or of extraEnvFrom (references).
type envVar struct {
	name  string
	value *values.Values // the plain value; nil when it comes from a reference
	from  string         // the reference, when it does: Secret "x" (key "y")
	at    *values.Values // the entry, where a person looks
	path  string
}

func (e *envVar) plain() string {
	if e == nil {
		return ""
	}
	return e.value.String()
}

// refusedEnv are the env vars that feed register options GitLab refuses with an authentication
// token, with their option.
var refusedEnv = map[string]string{"REGISTER_LOCKED": "--locked", "RUNNER_TAG_LIST": "--tag-list", "REGISTER_RUN_UNTAGGED": "--run-untagged",
	"REGISTER_ACCESS_LEVEL": "--access-level", "REGISTER_MAXIMUM_TIMEOUT": "--maximum-timeout", "REGISTER_PAUSED": "--paused",
	"REGISTER_MAINTENANCE_NOTE": "--maintenance-note"}

// droppedEnv are the refused env vars the 0.74+ register script unsets itself with an authentication token.
var droppedEnv = map[string]bool{"REGISTER_LOCKED": true, "RUNNER_TAG_LIST": true}

func interesting(name string) bool {
	_, refused := refusedEnv[name]
	return refused || name == "REGISTRATION_TOKEN" || name == "CI_SERVER_TOKEN"
}

// env reads the env vars the rules care about.
func (l *linter) env(v *values.Values, p string) []*envVar {
	var out []*envVar
	for _, item := range v.Field("envVars").Items() {
		name := item.Field("name").String()
		if !interesting(name) {
			continue
		}
		base := p + "envVars[" + name + "]."
		e := &envVar{name: name, at: item, path: strings.TrimSuffix(base, ".")}
		if from := l.get(item, base, "valueFrom"); from != nil {
			e.from = describeRef(from)
		} else {
			e.value = l.get(item, base, "value")
		}
		out = append(out, e)
	}
	for _, entry := range v.Field("extraEnv").Entries() {
		if interesting(entry.Name()) {
			l.duplicate(entry, p+"extraEnv."+entry.Name())
			out = append(out, &envVar{name: entry.Name(), value: entry, at: entry, path: p + "extraEnv." + entry.Name()})
		}
	}
	for _, entry := range v.Field("extraEnvFrom").Entries() {
		if interesting(entry.Name()) {
			l.duplicate(entry, p+"extraEnvFrom."+entry.Name())
			out = append(out, &envVar{name: entry.Name(), from: describeRef(entry), at: entry, path: p + "extraEnvFrom." + entry.Name()})
		}
	}
	return out
}

func findEnv(env []*envVar, name string) *envVar {
	var found *envVar
	for _, e := range env {
		if e.name == name {
			found = e // the last wins, as in a container's env
		}
	}
	return found
}

// describeRef names where a valueFrom points.
func describeRef(from *values.Values) string {
	for _, kind := range []struct{ key, name string }{{"secretKeyRef", "Secret"}, {"configMapKeyRef", "ConfigMap"}} {
		if ref := from.Field(kind.key); ref != nil {
			return fmt.Sprintf("%s %q (key %q)", kind.name, ref.Field("name").String(), ref.Field("key").String())
		}
	}
	return "a valueFrom reference"
}

// envTokens checks the token env vars of a runner whose chart mounts no token Secret: gitlab-runner
// registers with what they hold.
func (l *linter) envTokens(reg, ci *envVar) {
	for _, e := range []*envVar{reg, ci} {
		if e != nil && e.value != nil {
			l.inlineToken(e.value, e.path, "env "+e.name)
		}
	}
	ciSet := ci != nil && (ci.value == nil || ci.plain() != "")
	switch {
	case reg == nil || ciSet:
		// No registration token, or a runner token that gitlab-runner uses instead.
	case reg.value != nil && reg.plain() != "" && !isAuthToken(reg.plain()):
		l.add(LegacyToken, legacySeverity(l.target), reg.at, reg.path,
			"env REGISTRATION_TOKEN registers the runner with a legacy registration token (no token Secret is mounted, so gitlab-runner takes it from the env). "+legacyWhy(l.target),
			"create the runner in GitLab (or let runner-migrate create it: it migrates this env var) and give its glrt- token through a Secret (runners.secret with runner-token); remove REGISTRATION_TOKEN from the env")
	case reg.value == nil:
		l.add(UnprovenSecret, unprovenSeverity(l.target), reg.at, reg.path,
			fmt.Sprintf("env REGISTRATION_TOKEN comes from %s, which the values do not show. If it holds a registration token rather than a glrt- token: %s", reg.from, legacyWhy(l.target)),
			"make sure it holds a runner authentication token (glrt-...), or better give that token as runner-token through runners.secret and drop REGISTRATION_TOKEN")
	}
}

// envSettings flags env vars that pass, at registration, settings GitLab now owns.
func (l *linter) envSettings(env []*envVar, hasAuth bool) {
	if !l.target.AtLeast(15, 6) {
		return
	}
	for _, e := range env {
		option, refused := refusedEnv[e.name]
		if !refused || (e.value != nil && harmlessEnv(e.name, e.value.String())) {
			continue
		}
		where := "on every chart version (no chart unsets it)"
		sev := SeverityWarning
		if droppedEnv[e.name] {
			where = "on charts before 0.74 (later charts unset it themselves)"
		} else if hasAuth {
			sev = SeverityError
			where += "; these values already use an authentication token, so the runner cannot register"
		}
		what := fmt.Sprintf("env %s passes %s at registration", e.name, option)
		if e.value == nil {
			what = fmt.Sprintf("env %s comes from %s and may pass %s at registration", e.name, e.from, option)
		}
		l.add(RegistrationSettings, sev, e.at, e.path, what+": GitLab owns this setting since 15.6, and with an authentication token gitlab-runner stops with FATAL "+
			"(\"Runner configuration other than name and executor configuration is reserved\") "+where,
			"set it on the runner in GitLab (runner-migrate does it when it creates the runner) and remove the env var")
	}
}

// harmlessEnv: values gitlab-runner's check lets through (the chart's REGISTER_LOCKED="true" and
// RUNNER_TAG_LIST="" included).
func harmlessEnv(name, v string) bool {
	switch name {
	case "REGISTER_LOCKED":
		return strings.EqualFold(v, "true")
	case "RUNNER_TAG_LIST", "REGISTER_ACCESS_LEVEL", "REGISTER_MAINTENANCE_NOTE":
		return v == ""
	case "REGISTER_RUN_UNTAGGED", "REGISTER_PAUSED":
		return v == "" || strings.EqualFold(v, "false")
	case "REGISTER_MAXIMUM_TIMEOUT":
		return v == "" || v == "0"
	}
	return false
}
