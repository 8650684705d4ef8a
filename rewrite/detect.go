package rewrite

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

// Secret keys the gitlab-runner chart projects into /secrets; the entrypoint exports them as
// REGISTRATION_TOKEN and CI_SERVER_TOKEN.
const (
	KeyRegistrationToken = "runner-registration-token"
	KeyRunnerToken       = "runner-token"
)

// Env vars that feed refused register options (gitlab-runner reads them as the options' defaults).
var refusedEnv = []string{"REGISTER_LOCKED", "RUNNER_TAG_LIST", "REGISTER_RUN_UNTAGGED", "REGISTER_ACCESS_LEVEL",
	"REGISTER_MAXIMUM_TIMEOUT", "REGISTER_PAUSED", "REGISTER_MAINTENANCE_NOTE"}

// droppedAtRuntime are the refused env vars that the 0.74+ register script unsets itself once
// CI_SERVER_TOKEN holds an authentication token.
var droppedAtRuntime = map[string]bool{"REGISTER_LOCKED": true, "RUNNER_TAG_LIST": true}

// TokenState is what the manifests show about a runner's token.
type TokenState int

const (
	TokenUnknown        TokenState = iota // the token lives where the manifests do not show it
	TokenMissing                          // the pod's token source holds no token at all: left alone
	TokenLegacy                           // a registration token: GitLab 17.0+ answers 410 Gone
	TokenRunner                           // a runner token from an earlier legacy registration (no glrt- prefix): still accepted
	TokenAuthentication                   // a runner authentication token (glrt-)
)

func (t TokenState) String() string {
	return [...]string{"unknown", "missing", "legacy registration token", "legacy runner token", "authentication token"}[t]
}

// Carrier is where a runner's token reaches its pod from.
type Carrier int

const (
	CarrierSecret         Carrier = iota // a Secret in the stream, projected into /secrets
	CarrierExternalSecret                // a Secret the pod mounts that the stream does not hold (runners.secret)
	CarrierEnv                           // env vars of the runner container, no Secret mounted
)

func (c Carrier) String() string {
	return [...]string{"secret", "external secret", "env"}[c]
}

// Site is one runner workload of the gitlab-runner chart and the parts of the stream that configure it.
type Site struct {
	Workload     *Object
	Scripts      *Object // the ConfigMap with entrypoint and register-the-runner; nil when not in the stream
	Secret       *Object // the token Secret (CarrierSecret only)
	SecretName   string  // the Secret the pod mounts its token from
	Carrier      Carrier
	State        TokenState
	ChartVersion string // from the chart label; "" when the render carries none
	Generation   Generation
	Spec         Spec
	LegacyToken  token.Token // the registration token the manifests show, if any
	Refused      []string    // register settings GitLab refuses with an authentication token, as rendered

	Release string // the Helm release, from the chart's labels; "" when they do not say

	// Kept: the pod reads its token from the Secret runner-migrate adds for it (AddedSecretName), which
	// the stream does not hold: `runner-migrate migrate` moved the release's values to it and keeps it
	// outside the release, with an authentication token. Nothing is migrated again; rendering that
	// Secret would collide with the one in the cluster.
	Kept bool

	// registrationSlot: the release's glrt- token sits in runner-registration-token only, so it reaches
	// register as REGISTRATION_TOKEN.
	registrationSlot bool
	// Bundled is set on the GitLab chart's bundled runner (RecogniseBundled).
	Bundled *Bundled

	// AuthToken is the authentication token the site is migrated to; the patch filters act on sites
	// that have one. RunnerID and TokenExpiresAt are recorded with it when known; Placeholder marks a
	// dry run's stand-in token.
	AuthToken      token.Token
	RunnerID       int64
	TokenExpiresAt *time.Time
	GitLabURL      string // the GitLab API address the runner lives on, when known
	Placeholder    bool

	pod         *yaml.Node
	container   *yaml.Node
	secretRef   *yaml.Node // the mapping naming the token Secret (a projected source's or a volume's `secret`)
	secretField string     // "name" or "secretName"
}

// Migratable reports whether the site registers with a legacy registration token, or reads its token
// from where the manifests do not show it, so a token would have to be supplied to migrate it. A runner
// whose manifests hold no token at all is not: it could not register as rendered, and giving it a
// token (or creating a runner in GitLab for it) is nothing its owner asked for.
func (s *Site) Migratable() bool {
	return s.State == TokenLegacy || s.State == TokenUnknown
}

// NeedsRepair reports whether the site keeps a token of its own (an authentication token, or a runner
// token that may be a placeholder a pipeline fills with one) but passes register settings that
// gitlab-runner refuses with an authentication token. The patches remove those settings, as for
// migrated runners, and leave the token alone.
func (s *Site) NeedsRepair() bool {
	return s.AuthToken.IsZero() && (s.State == TokenAuthentication || s.State == TokenRunner) && len(s.RefusedAtRegistration()) > 0
}

// TokenSecret names the Secret the pod reads its token from once migrated: the release's own token
// Secret, or the one runner-migrate adds when the token lived outside the release.
func (s *Site) TokenSecret() (namespace, name string) {
	if s.Carrier == CarrierSecret {
		return s.Workload.Namespace, s.SecretName
	}
	return s.Workload.Namespace, addedSecretName(s.Workload)
}

// ContainerName is the runner container's name.
func (s *Site) ContainerName() string { return scalar(field(s.container, "name")) }

func (s *Site) registerScript() string {
	return scalar(lookup(s.Scripts.nodeOrNil(), "data", "register-the-runner"))
}

// RefusedAtRegistration lists the refused settings that would reach `gitlab-runner register` with an
// authentication token: all of Refused, less what the chart's own run-time check drops (0.74 and
// later: run-untagged, access level, locked, tags; never the maximum timeout).
func (s *Site) RefusedAtRegistration() []string {
	if !s.dropsRefusedAtRuntime() {
		return s.Refused
	}
	var out []string
	for _, r := range s.Refused {
		switch r {
		case "--run-untagged", "--access-level", "env REGISTER_LOCKED", "env RUNNER_TAG_LIST":
			continue
		}
		out = append(out, r)
	}
	return out
}

// SettingsForGitLab describes the refused settings that reach register as GitLab's runner settings
// name them, with the values the manifests give them: what to set on the runner in GitLab instead.
func (s *Site) SettingsForGitLab() string {
	var out []string
	for _, r := range s.RefusedAtRegistration() {
		var d string
		switch strings.TrimPrefix(r, "env ") {
		case "--tag-list", "RUNNER_TAG_LIST":
			d = "tags: " + strings.Join(s.Spec.Tags, ", ")
			if len(s.Spec.Tags) == 0 {
				d = "tags: none"
			}
		case "--run-untagged", "REGISTER_RUN_UNTAGGED":
			d = fmt.Sprintf("run untagged jobs: %t", s.Spec.RunUntagged)
		case "--locked", "REGISTER_LOCKED":
			d = fmt.Sprintf("lock to current projects: %t", s.Spec.Locked)
		case "--access-level", "REGISTER_ACCESS_LEVEL":
			d = fmt.Sprintf("protected: %t", s.Spec.AccessLevel == AccessRefProtected)
		case "--maximum-timeout", "REGISTER_MAXIMUM_TIMEOUT":
			d = fmt.Sprintf("maximum job timeout: %ds", s.Spec.MaximumTimeout)
		case "--paused", "REGISTER_PAUSED":
			d = fmt.Sprintf("paused: %t", s.Spec.Paused)
		case "--maintenance-note", "REGISTER_MAINTENANCE_NOTE":
			d = fmt.Sprintf("maintenance note: %q", s.Spec.MaintenanceNote)
		}
		if d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return strings.Join(out, "; ")
}

// dropsRefusedAtRuntime: the chart's own check removes run-untagged, access-level, locked and tags
// when the variable it tests holds the authentication token. Trust it only when the script really
// carries the check (a fork could lack it).
func (s *Site) dropsRefusedAtRuntime() bool {
	v := s.Generation.RuntimeDetection
	return v != "" && v == s.tokenVariable() && strings.Contains(s.registerScript(), runtimeCheck(v))
}

// tokenVariable names the env var that brings register the authentication token: CI_SERVER_TOKEN
// (runner-token) once migrated, REGISTRATION_TOKEN where the release put its own glrt- token in the
// registration slot only.
func (s *Site) tokenVariable() string {
	if s.AuthToken.IsZero() && s.registrationSlot {
		return "REGISTRATION_TOKEN"
	}
	return "CI_SERVER_TOKEN"
}

func (o *Object) nodeOrNil() *yaml.Node {
	if o == nil {
		return nil
	}
	return o.node
}

// Detect finds the runner sites of the stream.
type Detect struct{}

// Filter implements Filter.
func (Detect) Filter(s *Stream) error {
	var errs []error
	checked := map[*Object]bool{}
	for _, o := range s.objects {
		if o.Kind != "Deployment" && o.Kind != "StatefulSet" {
			continue
		}
		site, err := s.detect(o)
		if err != nil {
			errs = append(errs, err)
		}
		if site != nil {
			s.Sites = append(s.Sites, site)
			errs = append(errs, s.unambiguous(site, checked))
		}
	}
	return errors.Join(errs...)
}

func (s *Stream) detect(o *Object) (*Site, error) {
	pod := lookup(o.node, "spec", "template", "spec")
	if pod == nil || o.Name == "" {
		return nil, nil // not a workload Kubernetes would accept
	}
	site := &Site{Workload: o, pod: pod}
	volumes := items(field(pod, "volumes"))
	containers := mappings(items(field(pod, "containers")))
	inits := mappings(items(field(pod, "initContainers")))

	var scriptsVolume string
	for _, v := range volumes {
		name := scalar(lookup(v, "configMap", "name"))
		if name == "" {
			continue
		}
		if cm := s.find("ConfigMap", o.Namespace, name); cm != nil && lookup(cm.node, "data", "register-the-runner") != nil {
			site.Scripts, scriptsVolume = cm, scalar(field(v, "name"))
			break
		}
	}
	tokenVolume := site.findSecretSource(volumes, append(append([]*yaml.Node{}, containers...), inits...))

	label := chartLabelOf(o)
	site.Release = releaseOf(o)
	for _, c := range containers {
		if runsEntrypoint(c) || mounts(c, scriptsVolume) || (tokenVolume != "" && mounts(c, tokenVolume)) {
			site.container = c
			break
		}
	}
	isRunner := site.Scripts != nil || tokenVolume != "" || (strings.HasPrefix(label, "gitlab-runner-") && site.container != nil && runsEntrypoint(site.container))
	if !isRunner {
		return nil, nil
	}
	if site.container == nil && len(containers) > 0 {
		site.container = containers[0]
	}
	if site.container == nil {
		return nil, nil
	}

	initCopy := false
	for _, c := range inits {
		initCopy = initCopy || (tokenVolume != "" && mounts(c, tokenVolume))
	}
	if v, ok := ParseChartLabel(label); ok {
		site.ChartVersion = v.String()
		site.Generation = GenerationOf(v)
	} else {
		entry := scalar(lookup(site.Scripts.nodeOrNil(), "data", "entrypoint"))
		site.Generation = generationFromStructure(site.registerScript(), entry, initCopy)
	}

	if err := s.readToken(site); err != nil {
		return site, err
	}
	site.Refused = site.refusedSettings()
	spec, err := site.deriveSpec()
	switch {
	case site.Migratable():
		site.Spec = spec
		return site, err
	case site.NeedsRepair():
		site.Spec = spec // what to set in GitLab; a setting read from a reference is removed all the same
	}
	return site, nil
}

// findSecretSource finds the Secret the pod reads its tokens from and returns its volume's name: a
// projected source or secret volume listing the token keys, or else one that projects every key into
// /secrets (or the old /init-secrets). Sources listing the keys win: a projected volume also carries
// other Secrets (the cache's) without items.
func (site *Site) findSecretSource(volumes, containers []*yaml.Node) string {
	for _, wholeOnly := range []bool{false, true} {
		for _, v := range volumes {
			vname := scalar(field(v, "name"))
			matches := func(sec *yaml.Node) bool {
				if sec.Kind != yaml.MappingNode || (scalar(field(sec, "name")) == "" && scalar(field(sec, "secretName")) == "") {
					return false // no Secret named: nothing to read a token from
				}
				if !wholeOnly {
					return hasTokenItems(sec)
				}
				return field(sec, "items") == nil && (mountedAt(containers, vname, "/secrets") || mountedAt(containers, vname, "/init-secrets"))
			}
			if sec := field(v, "secret"); sec != nil && matches(sec) {
				site.secretRef, site.secretField, site.SecretName = sec, "secretName", scalar(field(sec, "secretName"))
				return vname
			}
			for _, src := range items(lookup(v, "projected", "sources")) {
				if sec := field(src, "secret"); sec != nil && matches(sec) {
					site.secretRef, site.secretField, site.SecretName = sec, "name", scalar(field(sec, "name"))
					return vname
				}
			}
		}
	}
	return ""
}

func hasTokenItems(secret *yaml.Node) bool {
	for _, it := range items(field(secret, "items")) {
		if k := scalar(field(it, "key")); k == KeyRunnerToken || k == KeyRegistrationToken {
			return true
		}
	}
	return false
}

func mountedAt(containers []*yaml.Node, volume, path string) bool {
	for _, c := range containers {
		for _, m := range items(field(c, "volumeMounts")) {
			if scalar(field(m, "name")) == volume && strings.TrimRight(scalar(field(m, "mountPath")), "/") == path {
				return true
			}
		}
	}
	return false
}

func mounts(c *yaml.Node, volume string) bool {
	if volume == "" {
		return false
	}
	for _, m := range items(field(c, "volumeMounts")) {
		if scalar(field(m, "name")) == volume {
			return true
		}
	}
	return false
}

func runsEntrypoint(c *yaml.Node) bool {
	for _, key := range []string{"command", "args"} {
		for _, w := range items(field(c, key)) {
			if strings.Contains(w.Value, "/configmaps/entrypoint") {
				return true
			}
		}
	}
	return false
}

// chartLabelOf returns the workload's `chart` (or `helm.sh/chart`) label, from the object or its pods.
func chartLabelOf(o *Object) string {
	for _, labels := range []*yaml.Node{lookup(o.node, "metadata", "labels"), lookup(o.node, "spec", "template", "metadata", "labels")} {
		for _, k := range []string{"chart", "helm.sh/chart"} {
			if v := scalar(field(labels, k)); v != "" {
				return v
			}
		}
	}
	return ""
}

// releaseOf reads the Helm release from the labels the chart puts on the workload.
func releaseOf(o *Object) string {
	labels := lookup(o.node, "metadata", "labels")
	for _, k := range []string{"release", "app.kubernetes.io/instance"} {
		if v := scalar(field(labels, k)); v != "" {
			return v
		}
	}
	return ""
}

// readToken works out where the site's token comes from and what kind it is.
func (s *Stream) readToken(site *Site) error {
	o := site.Workload
	if site.secretRef == nil {
		site.Carrier = CarrierEnv
		env := envOf(site.container)
		reg, regKnown := s.envToken(o, env["REGISTRATION_TOKEN"])
		run, runKnown := s.envToken(o, env["CI_SERVER_TOKEN"])
		if !regKnown || !runKnown {
			site.State = TokenUnknown
			return nil
		}
		site.setState(reg, run)
		if site.State == TokenMissing && field(site.container, "envFrom") != nil {
			site.State = TokenUnknown // envFrom may bring the token from a Secret or ConfigMap the manifests do not show
		}
		return nil
	}
	secret := s.find("Secret", o.Namespace, site.SecretName)
	if secret == nil {
		site.Carrier, site.State = CarrierExternalSecret, TokenUnknown
		if site.SecretName == AddedSecretName(o.Name) {
			site.State, site.Kept = TokenAuthentication, true
		}
		return nil
	}
	site.Carrier, site.Secret = CarrierSecret, secret
	reg, err := secretValue(secret, KeyRegistrationToken)
	if err != nil {
		return err
	}
	run, err := secretValue(secret, KeyRunnerToken)
	if err != nil {
		return err
	}
	site.setState(reg, run)
	return nil
}

// setState classifies the tokens of the two slots.
func (site *Site) setState(registration, runner token.Token) {
	site.State = classify(registration, runner)
	switch site.State {
	case TokenLegacy:
		site.LegacyToken = registration
	case TokenAuthentication:
		site.registrationSlot = !runner.IsAuthentication()
	}
}

// envSettings are the env vars runner-migrate reads or removes: the tokens and the register settings.
var envSettings = append([]string{"REGISTRATION_TOKEN", "CI_SERVER_TOKEN", "CI_SERVER_URL", "RUNNER_NAME"}, refusedEnv...)

// unambiguous fails on what a runner's manifests say twice: a key repeated in a mapping of its
// workload, ConfigMap or token Secret (YAML leaves the winner to the reader, so runner-migrate, Helm and
// the API server may each read another value, and a legacy token could survive the migration), or a
// token or register setting repeated in the runner container's env. Objects shared by several sites
// are checked once.
func (s *Stream) unambiguous(site *Site, checked map[*Object]bool) error {
	objs := []*Object{site.Workload, site.Scripts, site.Secret}
	env := items(field(site.container, "env"))
	for _, e := range env {
		if ref := lookup(e, "valueFrom", "secretKeyRef"); ref != nil {
			objs = append(objs, s.find("Secret", site.Workload.Namespace, scalar(field(ref, "name"))))
		}
	}
	var errs []error
	for _, o := range objs {
		if o != nil && !checked[o] {
			checked[o] = true
			errs = append(errs, duplicateKeys(o, o.node, ""))
		}
	}
	first := map[string]*yaml.Node{}
	for _, e := range env {
		name := scalar(field(e, "name"))
		if !slices.Contains(envSettings, name) {
			continue
		}
		if prev, ok := first[name]; ok {
			errs = append(errs, &Error{Object: site.Workload.Ref, Line: site.Workload.Line(e),
				Field:   fmt.Sprintf("spec.template.spec.containers[%s].env[%s]", site.ContainerName(), name),
				Problem: fmt.Sprintf("%s is set twice (lines %d and %d): Kubernetes takes the last, and which one runner-migrate should migrate is a guess", name, site.Workload.Line(prev), site.Workload.Line(e)),
				Fix:     "set it once: the chart's own setting and envVars or extraEnv can both render it"})
			continue
		}
		first[name] = e
	}
	return errors.Join(errs...)
}

// duplicateKeys reports the keys that a mapping inside n repeats.
func duplicateKeys(o *Object, n *yaml.Node, path string) error {
	var errs []error
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if prev, ok := seen[k.Value]; ok && k.Value != "<<" {
				errs = append(errs, &Error{Object: o.Ref, Line: o.Line(k), Field: p,
					Problem: fmt.Sprintf("the key appears twice (lines %d and %d), so which value counts depends on who reads it", o.Line(prev), o.Line(k)),
					Fix:     "remove one of them from the chart template or the values that render it"})
				continue
			}
			seen[k.Value] = k
			errs = append(errs, duplicateKeys(o, n.Content[i+1], p))
		}
	case yaml.SequenceNode:
		for i, it := range n.Content {
			name := scalar(field(it, "name"))
			if name == "" {
				name = fmt.Sprint(i)
			}
			errs = append(errs, duplicateKeys(o, it, fmt.Sprintf("%s[%s]", path, name)))
		}
	}
	return errors.Join(errs...)
}

// TokenValues lists the tokens the runner sites' carriers hold (registration and runner tokens, in
// Secrets and env vars), so output meant for people can redact them.
func (s *Stream) TokenValues() []token.Token {
	var out []token.Token
	for _, site := range s.Sites {
		switch {
		case site.Secret != nil:
			for _, k := range []string{KeyRegistrationToken, KeyRunnerToken} {
				if t, err := secretValue(site.Secret, k); err == nil && !t.IsZero() {
					out = append(out, t)
				}
			}
		case site.Carrier == CarrierEnv:
			env := envOf(site.container)
			for _, k := range []string{"REGISTRATION_TOKEN", "CI_SERVER_TOKEN"} {
				if t, ok := s.envToken(site.Workload, env[k]); ok && !t.IsZero() {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// envToken reads a token env var: a plain value, or a secretKeyRef to a Secret in the stream.
func (s *Stream) envToken(o *Object, e envVar) (token.Token, bool) {
	if !e.fromRef {
		return token.New(e.value), true
	}
	ref := lookup(e.node, "valueFrom", "secretKeyRef")
	secret := s.find("Secret", o.Namespace, scalar(field(ref, "name")))
	if secret == nil {
		return token.Token{}, false
	}
	t, err := secretValue(secret, scalar(field(ref, "key")))
	return t, err == nil
}

// classify follows gitlab-runner's choice between the two token slots: a glrt- token in either
// registers the new way; otherwise a runner token is used as is, and a registration token registers
// the legacy way.
func classify(registration, runner token.Token) TokenState {
	switch {
	case runner.IsAuthentication(), registration.IsAuthentication() && (runner.IsZero() || runner.Equal(registration)):
		return TokenAuthentication
	case !runner.IsZero():
		return TokenRunner
	case !registration.IsZero():
		return TokenLegacy
	}
	return TokenMissing
}

// secretValue reads a key of a Secret from stringData (plain) or data (base64).
func secretValue(secret *Object, key string) (token.Token, error) {
	if v := lookup(secret.node, "stringData", key); v != nil {
		return token.New(v.Value), nil
	}
	v := lookup(secret.node, "data", key)
	if v == nil {
		return token.Token{}, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v.Value))
	if err != nil {
		return token.Token{}, &Error{Object: secret.Ref, Line: secret.Line(v), Field: "data." + key,
			Problem: "the value is not valid base64", Fix: "put the plain value under stringData, or base64-encode it under data"}
	}
	return token.New(string(raw)), nil
}

// envVar is one entry of a container's env.
type envVar struct {
	value   string
	fromRef bool // valueFrom: the manifests do not show the value
	node    *yaml.Node
}

func envOf(c *yaml.Node) map[string]envVar {
	env := map[string]envVar{}
	for _, e := range items(field(c, "env")) {
		env[scalar(field(e, "name"))] = envVar{value: scalar(field(e, "value")), fromRef: field(e, "valueFrom") != nil, node: e}
	}
	return env
}

// refusedSettings lists the register settings, as rendered, that GitLab refuses with an
// authentication token: options of the register command and env vars that feed them.
func (site *Site) refusedSettings() []string {
	var found []string
	if site.Scripts != nil {
		opts := parseScript(site.registerScript()).registerOptions()
		for _, name := range slices.Sorted(maps.Keys(refusedOptions)) {
			if _, ok := opts[name]; ok {
				found = append(found, name)
			}
		}
	}
	env := envOf(site.container)
	for _, name := range refusedEnv {
		e, ok := env[name]
		if !ok || harmlessEnv(name, e) {
			continue
		}
		found = append(found, "env "+name)
	}
	return found
}

// harmlessEnv: the chart's defaults REGISTER_LOCKED="true" and RUNNER_TAG_LIST="" pass gitlab-runner's
// check, so they need no change.
func harmlessEnv(name string, e envVar) bool {
	if e.fromRef {
		return false
	}
	switch name {
	case "REGISTER_LOCKED":
		return strings.EqualFold(e.value, "true")
	case "RUNNER_TAG_LIST", "REGISTER_ACCESS_LEVEL", "REGISTER_MAINTENANCE_NOTE":
		return e.value == ""
	case "REGISTER_RUN_UNTAGGED", "REGISTER_PAUSED":
		return e.value == "" || strings.EqualFold(e.value, "false")
	case "REGISTER_MAXIMUM_TIMEOUT":
		return e.value == "" || e.value == "0"
	}
	return false
}

// deriveSpec reads what GitLab must own from the render: the register command's options win over the
// env vars that default them, as in gitlab-runner.
func (site *Site) deriveSpec() (Spec, error) {
	opts := map[string]string{}
	if site.Scripts != nil {
		opts = parseScript(site.registerScript()).registerOptions()
	}
	env := envOf(site.container)
	var errs []error
	setting := func(option, envName string) (string, bool) {
		if v, ok := opts[option]; ok {
			return v, true
		}
		e, ok := env[envName]
		if ok && e.fromRef {
			errs = append(errs, &Error{Object: site.Workload.Ref, Line: site.Workload.Line(e.node),
				Field:   fmt.Sprintf("spec.template.spec.containers[%s].env[%s]", site.ContainerName(), envName),
				Problem: "the value comes from a reference (valueFrom), so runner-migrate cannot see the setting GitLab must now own",
				Fix:     "set it as a plain value in the chart values (for example runners.tags or runners.locked)"})
		}
		return e.value, ok && !e.fromRef
	}
	boolean := func(option, envName string, def bool) bool {
		v, ok := setting(option, envName)
		if !ok || v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, &Error{Object: site.Workload.Ref, Field: option + " / env " + envName,
				Problem: fmt.Sprintf("%q is not true or false", v), Fix: "give true or false"})
		}
		return b
	}

	var spec Spec
	spec.URL, _ = setting("--url", "CI_SERVER_URL")
	tags, _ := setting("--tag-list", "RUNNER_TAG_LIST")
	spec.Tags = ParseTags(tags)
	spec.Locked = boolean("--locked", "REGISTER_LOCKED", true)
	spec.RunUntagged = boolean("--run-untagged", "REGISTER_RUN_UNTAGGED", false) || len(spec.Tags) == 0
	spec.Paused = boolean("--paused", "REGISTER_PAUSED", false)
	spec.AccessLevel = AccessNotProtected
	if v, ok := setting("--access-level", "REGISTER_ACCESS_LEVEL"); ok && v != "" {
		if v != AccessNotProtected && v != AccessRefProtected {
			errs = append(errs, &Error{Object: site.Workload.Ref, Field: "--access-level / env REGISTER_ACCESS_LEVEL",
				Problem: fmt.Sprintf("%q is not an access level GitLab knows", v), Fix: "use not_protected or ref_protected"})
		}
		spec.AccessLevel = v
	}
	if v, ok := setting("--maximum-timeout", "REGISTER_MAXIMUM_TIMEOUT"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, &Error{Object: site.Workload.Ref, Field: "--maximum-timeout / env REGISTER_MAXIMUM_TIMEOUT",
				Problem: fmt.Sprintf("%q is not a number of seconds", v), Fix: "give the timeout in seconds (runners.maximumTimeout)"})
		}
		spec.MaximumTimeout = n
	}
	spec.MaintenanceNote, _ = setting("--maintenance-note", "REGISTER_MAINTENANCE_NOTE")
	if v, ok := opts["--name"]; ok {
		spec.Description = v
	} else if v, ok := opts["--description"]; ok {
		spec.Description = v
	} else {
		spec.Description, _ = setting("", "RUNNER_NAME")
	}
	if !site.LegacyToken.IsZero() {
		spec.Registration = site.LegacyToken.Digest("registration")
	}
	return spec, errors.Join(errs...)
}
