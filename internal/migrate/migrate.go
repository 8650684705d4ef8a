// Package migrate moves a release's values files to runner authentication tokens for good, so that
// no post-renderer is needed any more: it creates each runner through the GitLab API (the
// provisioner the post-renderer uses, with the runner spec the post-renderer would derive), keeps its
// token in a Secret in the cluster, points the values at that Secret, and removes the registration
// token and the settings GitLab owns now. Values files, and the values Argo CD Applications and Flux
// HelmReleases carry inline, are edited in place: only the lines that change differ.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/lint/values"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Options say what to migrate and how.
type Options struct {
	// Files are values files (the layers of one release, in Helm's -f order) and manifests holding
	// Argo CD Applications and Flux HelmReleases (a release each).
	Files []string
	// Release and Namespace name the release of the values files; Namespace is also that of a GitOps
	// release whose manifest names none.
	Release, Namespace string
	// Chart renders the releases (the values files', and GitOps releases whose chart is not a local
	// directory) with Helm, the Helm CLI; without it the runner spec comes from the values.
	Chart, Helm string
	// InlineToken writes the token into the values (runnerToken) instead of a Secret.
	InlineToken bool
	// DryRun reads only: GitLab and the cluster are asked, nothing is created or changed.
	DryRun bool
	// Provisioner creates the runners (nil without a GitLab access token); Cluster keeps their tokens.
	Provisioner *gitlab.Provisioner
	Cluster     Cluster
	Warn, Note  func(string)
}

// Cluster reads and writes Secrets of the cluster (kube.Store).
type Cluster interface {
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	WriteSecret(ctx context.Context, s *corev1.Secret, dryRun bool) (string, error)
}

// Result is what a run changed.
type Result struct {
	Files []File
	// Report says per runner what was done (or, in a dry run, would be).
	Report []string
	// secrets are the tokens the files and runs hold, which no output may show.
	secrets []token.Token
}

// File is one file's content before and after.
type File struct {
	Path          string
	Before, After []byte
}

// Changed reports whether the file changes.
func (f File) Changed() bool { return string(f.Before) != string(f.After) }

// Run migrates.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	if opts.Note == nil {
		opts.Note = func(string) {}
	}
	m := &migration{opts: opts, res: &Result{}}
	if err := m.read(); err != nil {
		return nil, err
	}
	if err := m.plan(ctx); err != nil {
		return m.res, err
	}
	if err := m.provision(ctx); err != nil {
		return m.res, err
	}
	return m.res, m.finish()
}

type migration struct {
	opts     Options
	res      *Result
	files    []*file
	releases []*release
	targets  []*target
}

// read parses the files and finds their releases: the values files together, each GitOps release
// on its own. A file that is no YAML stops the run before anything is asked or changed.
func (m *migration) read() error {
	var valuesFiles []*file
	for _, path := range m.opts.Files {
		f, err := readFile(path)
		if err != nil {
			return err
		}
		m.files = append(m.files, f)
		if !f.isManifest() {
			valuesFiles = append(valuesFiles, f)
			continue
		}
		rels, notes, err := gitopsReleases(f, m.opts.Namespace, m.opts.Chart)
		if err != nil {
			return err
		}
		for _, n := range notes {
			m.opts.Note(n)
		}
		if len(rels) == 0 {
			return fmt.Errorf("%s holds Kubernetes objects but no Argo CD Application or Flux HelmRelease: migrate edits values "+
				"(rendered manifests are the post-renderer's: helm upgrade --post-renderer runner-migrate)", path)
		}
		m.releases = append(m.releases, rels...)
	}
	if len(valuesFiles) > 0 {
		if m.opts.Release == "" {
			return errors.New("--release is needed: the release name decides the runner's Deployment, the Secret of its token and its marker in GitLab")
		}
		r, err := valuesRelease(valuesFiles, m.opts.Release, m.opts.Namespace, m.opts.Chart)
		if err != nil {
			return err
		}
		m.releases = append([]*release{r}, m.releases...)
	}
	return nil
}

// plan decides what to do with every runner and makes the edits (tokens still placeholders),
// checking them by rendering where a chart is known. Nothing is created or written yet.
func (m *migration) plan(ctx context.Context) error {
	for _, r := range m.releases {
		if r.chartRef != "" && m.opts.Helm == "" {
			return fmt.Errorf("%s: rendering chart %s needs the Helm CLI (HELM_BIN, or helm on the PATH)", r.label, r.chartRef)
		}
		targets := r.targets()
		if len(targets) == 0 {
			m.report(r.label, "no runner in these values: nothing to do")
			continue
		}
		root := mergedValues(r)
		var sites []*rewrite.Site
		if r.chartRef != "" {
			var err error
			if sites, err = r.render(m.opts.Helm, false); err != nil {
				return err
			}
		}
		for _, t := range targets {
			if err := m.decide(ctx, t, root); err != nil {
				return err
			}
			if t.act == actMigrate {
				if err := m.spec(t, root, sites, len(targets)); err != nil {
					return err
				}
			}
			if err := m.edit(t); err != nil {
				return err
			}
			m.targets = append(m.targets, t)
		}
		if r.chartRef != "" {
			if err := r.verify(m.opts.Helm, targets); err != nil {
				return err
			}
		}
	}
	for _, t := range m.targets {
		if t.act == actMigrate && m.opts.Provisioner == nil {
			return fmt.Errorf("%s registers with a registration token, and migrate creates its runner through the GitLab API: "+
				"set GITLAB_TOKEN (or --gitlab-token-file) and --gitlab-url", t)
		}
		if t.act == actMigrate && m.opts.Cluster == nil && !m.opts.InlineToken {
			return fmt.Errorf("%s: migrate keeps the runner's token in a Secret of the cluster, and no cluster is configured "+
				"(KUBECONFIG, --kube-context); --inline-token writes it into the values instead", t)
		}
	}
	return nil
}

func mergedValues(r *release) *values.Values {
	var views []*values.Values
	for _, l := range r.layers {
		if v := l.view(); v != nil {
			views = append(views, v)
		}
	}
	return values.MergeValues(views...)
}

// decide works out how the runner registers now, reading the Secret it mounts where the values
// do not show its token.
func (m *migration) decide(ctx context.Context, t *target, root *values.Values) error {
	v := t.v
	reg := token.New(v.Field("runnerRegistrationToken").String())
	own := token.New(v.Field("runnerToken").String())
	secret := v.Lookup("runners", "secret").String()
	env := t.plainEnv()
	m.keepSecret(reg, own, token.New(env["REGISTRATION_TOKEN"]), token.New(env["CI_SERVER_TOKEN"]))
	switch {
	case !own.IsZero():
		t.act, t.why = actRepair, "it registers with its own runnerToken"
	case reg.IsAuthentication():
		t.act, t.why = actRepair, "its runnerRegistrationToken is an authentication token"
	case !reg.IsZero():
		t.act, t.why, t.legacy = actMigrate, "it registers with the registration token in runnerRegistrationToken", reg
	case t.ctx.Bundled:
		name := t.bundledSecret(root)
		if name == t.ours {
			t.act, t.why, t.mounted = actDone, "it reads Secret "+name+", which migrate keeps", name
			return m.checkKept(ctx, t)
		}
		return m.fromSecret(ctx, t, name, "the GitLab chart's runner Secret")
	case secret == t.ours:
		t.act, t.why, t.mounted = actDone, "it reads Secret "+secret+", which migrate keeps", secret
		return m.checkKept(ctx, t)
	case secret != "":
		return m.fromSecret(ctx, t, secret, "runners.secret")
	case env["CI_SERVER_TOKEN"] != "":
		t.act, t.why = actRepair, "it registers with its own CI_SERVER_TOKEN env var"
	case token.New(env["REGISTRATION_TOKEN"]).IsAuthentication():
		t.act, t.why = actRepair, "its REGISTRATION_TOKEN env var is an authentication token"
	case env["REGISTRATION_TOKEN"] != "":
		t.act, t.why, t.legacy, t.fromEnv = actMigrate, "it registers with the registration token in its REGISTRATION_TOKEN env var", token.New(env["REGISTRATION_TOKEN"]), true
	case len(t.envFromRef()) > 0 && containsAny(t.envFromRef(), "REGISTRATION_TOKEN", "CI_SERVER_TOKEN"):
		t.act, t.why = actNone, "its token comes from an env var reference migrate cannot read (give it through runners.secret instead)"
	default:
		t.act, t.why = actNone, "its values hold no token (no runnerRegistrationToken, runnerToken or runners.secret), so it cannot register as configured"
	}
	return nil
}

// fromSecret decides for a runner that reads its token from a Secret the values only name: what
// that Secret holds in the cluster says whether it is migrated already.
func (m *migration) fromSecret(ctx context.Context, t *target, name, what string) error {
	t.mounted = name
	if m.opts.Cluster == nil {
		t.act, t.why = actMigrate, fmt.Sprintf("it reads its token from Secret %s (%s), which cannot be read without a cluster", name, what)
		return nil
	}
	s, err := m.opts.Cluster.Secret(ctx, t.namespace, name)
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	if s == nil {
		t.act, t.why = actMigrate, fmt.Sprintf("it reads its token from Secret %s (%s), which does not exist in namespace %s", name, what, t.namespace)
		return nil
	}
	reg, run := token.New(string(s.Data[rewrite.KeyRegistrationToken])), token.New(string(s.Data[rewrite.KeyRunnerToken]))
	m.keepSecret(reg, run)
	switch {
	case run.IsAuthentication():
		t.act, t.why = actRepair, fmt.Sprintf("Secret %s (%s) holds an authentication token", name, what)
	case !run.IsZero():
		t.act, t.why = actRepair, fmt.Sprintf("Secret %s (%s) holds a runner token of its own", name, what)
	case reg.IsAuthentication():
		t.act, t.why = actRepair, fmt.Sprintf("Secret %s (%s) holds an authentication token as its registration token", name, what)
	default:
		t.act, t.why, t.legacy = actMigrate, fmt.Sprintf("Secret %s (%s) holds a registration token", name, what), reg
	}
	return nil
}

// checkKept warns when the Secret the values already point at is not in the cluster.
func (m *migration) checkKept(ctx context.Context, t *target) error {
	if m.opts.Cluster == nil {
		return nil
	}
	s, err := m.opts.Cluster.Secret(ctx, t.namespace, t.ours)
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	if s == nil || !token.New(string(s.Data[rewrite.KeyRunnerToken])).IsAuthentication() {
		m.opts.Warn(fmt.Sprintf("%s: the values read the token from Secret %s/%s, which does not exist or holds no authentication token in this cluster: "+
			"run migrate on the values as they were before, against this cluster, or create the Secret (runner-token and an empty runner-registration-token)",
			t, t.namespace, t.ours))
	}
	return nil
}

// spec derives the runner spec: from the chart's render, as the post-renderer sees it (so both find
// the same runner), else from the values with the chart's documented semantics.
func (m *migration) spec(t *target, root *values.Values, sites []*rewrite.Site, targets int) error {
	if s := siteOf(sites, t, targets); s != nil && s.Migratable() {
		site := *s
		site.Workload = &rewrite.Object{Ref: rewrite.Ref{Kind: s.Workload.Kind, Namespace: firstOf(s.Workload.Namespace, t.namespace), Name: s.Workload.Name}}
		site.Carrier, site.Release = rewrite.CarrierExternalSecret, t.rel.name // once migrated, its token is in ours
		if site.LegacyToken.IsZero() {
			site.LegacyToken = t.legacy
		}
		t.site, t.rendered, t.deployment, t.namespace = &site, true, s.Workload.Name, site.Workload.Namespace
		t.ours = rewrite.AddedSecretName(t.deployment)
		return nil
	} else if t.rel.chartRef != "" {
		m.opts.Warn(fmt.Sprintf("%s: the render of chart %s shows no runner deployment %s to migrate; the runner spec comes from the values", t.rel.label, t.rel.chartRef, t.deployment))
	}
	spec, err := t.specFromValues(root)
	if err != nil {
		return err
	}
	state := rewrite.TokenLegacy
	if t.legacy.IsZero() {
		state = rewrite.TokenUnknown
	}
	t.site = &rewrite.Site{Workload: &rewrite.Object{Ref: rewrite.Ref{Kind: "Deployment", Namespace: t.namespace, Name: t.deployment}},
		SecretName: t.mounted, Carrier: rewrite.CarrierExternalSecret, State: state, Spec: spec, LegacyToken: t.legacy, Release: t.rel.name}
	return nil
}

// edit changes the values: where the token comes from (tokens are placeholders until the runner
// exists), and the registration token and the settings GitLab owns removed. Keys are set before
// others are removed, so a mapping that keeps a key is never dropped and made anew.
func (m *migration) edit(t *target) error {
	r := t.rel
	set := func(path []string, node *yaml.Node) error {
		if err := r.set(path, node); err != nil {
			return err
		}
		shown := node.Value
		if path[len(path)-1] == "runnerToken" {
			shown = token.Redacted
		}
		t.set = append(t.set, strings.Join(path, ".")+": "+shown)
		return nil
	}
	remove := func(path []string) error {
		ok, err := r.remove(path)
		if ok {
			t.removed = append(t.removed, strings.Join(path, "."))
		}
		return err
	}
	if t.act == actNone {
		return nil
	}
	if t.act == actMigrate {
		switch {
		case m.opts.InlineToken && t.ctx.Bundled:
			return fmt.Errorf("%s: --inline-token does not work for the GitLab chart's bundled runner: gitlab-runner.runnerToken makes the runner chart render "+
				"its own Secret under the name of the one the GitLab chart's shared-secrets job made, which Helm refuses to take over. Leave out --inline-token", t)
		case m.opts.InlineToken:
			if err := set(t.path("runnerToken"), str(token.Placeholder("inline").Reveal())); err != nil {
				return err
			}
			// runners.secret beside a token makes the chart render a Secret of that name, which
			// would collide with the one in the cluster.
			if err := remove(t.path("runners", "secret")); err != nil {
				return err
			}
		case t.ctx.Bundled:
			if err := set([]string{"global", "runner", "registrationToken", "secret"}, str(t.ours)); err != nil {
				return err
			}
		default:
			if err := set(t.path("runners", "secret"), str(t.ours)); err != nil {
				return err
			}
		}
		if t.v.Field("runnerRegistrationToken").String() != "" {
			if err := remove(t.path("runnerRegistrationToken")); err != nil {
				return err
			}
		}
		if t.fromEnv {
			if err := m.removeEnv(t, "REGISTRATION_TOKEN"); err != nil {
				return err
			}
		}
	}
	gitlabOwned := t.describeSettings()
	for _, k := range registrationSettings {
		if t.ctx.Bundled && k == "locked" {
			continue
		}
		if err := remove(t.path("runners", k)); err != nil {
			return err
		}
	}
	if t.ctx.Bundled {
		// The GitLab chart sets runners.locked: false for its runner, which charts before 0.74 pass
		// as REGISTER_LOCKED="false", refused with an authentication token; null does not remove it
		// (Helm 3.22 and 4 keep a null in a subchart). true passes gitlab-runner's check.
		if l := t.v.Lookup("runners", "locked"); l == nil || !truthy(l) {
			if err := set(t.path("runners", "locked"), boolean(true)); err != nil {
				return err
			}
		}
	}
	for _, name := range refusedEnv {
		if err := m.removeEnv(t, name); err != nil {
			return err
		}
	}
	if t.act == actRepair && gitlabOwned != "" && len(t.removed) > 0 {
		m.opts.Warn(fmt.Sprintf("%s keeps its token (%s); removed %s from the values, which gitlab-runner refuses with an authentication token. "+
			"Set them on the runner in GitLab instead: %s", t, t.why, strings.Join(t.removed, ", "), gitlabOwned))
	}
	return nil
}

func (m *migration) removeEnv(t *target, name string) error {
	ok, err := t.rel.removeEnv(t.prefix, name)
	if ok {
		t.removed = append(t.removed, "env "+name)
	}
	return err
}

// describeSettings lists the settings GitLab owns that the values set, with their values.
func (t *target) describeSettings() string {
	var out []string
	for _, k := range registrationSettings {
		if v := t.v.Lookup("runners", k); v != nil && !v.IsNull() {
			out = append(out, fmt.Sprintf("%s=%s", k, v.String()))
		}
	}
	env := t.plainEnv()
	for _, name := range refusedEnv {
		if v, ok := env[name]; ok {
			out = append(out, fmt.Sprintf("%s=%s", name, v))
		}
	}
	return strings.Join(out, ", ")
}

func containsAny(list []string, names ...string) bool {
	for _, x := range list {
		for _, n := range names {
			if x == n {
				return true
			}
		}
	}
	return false
}

// keepSecret records tokens no output may show (not a pipeline's placeholder such as ${TOKEN}).
func (m *migration) keepSecret(ts ...token.Token) {
	for _, t := range ts {
		if v := t.Reveal(); v != "" && !strings.Contains(v, "${") && !strings.Contains(v, "{{") {
			m.res.secrets = append(m.res.secrets, t)
		}
	}
}

func (m *migration) report(what, line string) {
	m.res.Report = append(m.res.Report, what+": "+line)
}
