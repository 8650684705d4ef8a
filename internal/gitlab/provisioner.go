package gitlab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// LegacyTokenReader can read a site's registration token from where the manifests do not show it
// (the live Secret a release mounts but does not render).
type LegacyTokenReader interface {
	LegacyToken(ctx context.Context, site *rewrite.Site, namespace string) (token.Token, error)
}

// Config configures a Provisioner.
type Config struct {
	// Destination is where the access token may be sent.
	Destination Destination
	Client      ClientConfig // Token, CAFile, Insecure; BaseURL comes from Destination
	Scope       ScopeConfig
	Stores      []Store
	// LegacyTokens, when set, reads registration tokens the manifests do not show.
	LegacyTokens LegacyTokenReader
	// Release names the Helm release when the manifests' labels do not; Namespace is the namespace
	// of workloads the manifests leave without one.
	Release, Namespace string
	// DryRun reads only: nothing is created, changed or reset, and every token is a placeholder.
	DryRun bool
	// MayReset allows resetting a runner's token (rotation near expiry, adoption). A reset revokes
	// the token the running pods hold, so it is done only when the output will be deployed;
	// ResetRefusal says why not otherwise ("helm template does not deploy its output").
	MayReset     bool
	ResetRefusal string
	// RotateBefore resets a token that expires within this window (GitLab's token expiry).
	RotateBefore time.Duration
	// AdoptWindow: a runner that carries this run's marker but whose token no store kept is adopted
	// only when it never contacted GitLab and was created within this window (a run that died
	// between the create and keeping the token). Anything else is in use somewhere.
	AdoptWindow time.Duration
	// Attempts bounds how often an unclear create is tried (default 3).
	Attempts int
	// Warn reports what the user should know but that does not fail the run.
	Warn func(string)
}

// Action is one thing the provisioner did, or in a dry run would do, for a spec.
type Action struct {
	Fingerprint string
	Sites       []string
	Verb        string // reuse, update, rotate, adopt, create, skip, lost, retire, defer
	RunnerID    int64  // 0 for a create in a dry run
	Detail      string
}

func (a Action) String() string {
	id := "new runner"
	if a.RunnerID > 0 {
		id = fmt.Sprintf("runner %d", a.RunnerID)
	}
	return fmt.Sprintf("%s %s for spec %s (%s): %s", a.Verb, id, a.Fingerprint, strings.Join(a.Sites, ", "), a.Detail)
}

// Provisioner is the token source that creates runners through the GitLab API, reusing what exists.
type Provisioner struct {
	cfg Config

	mu      sync.Mutex
	clients map[string]*gl.Client
	scopes  map[string]Scope // by registration token digest or "config"
	place   *string
	claimed map[int64]string // runner id -> the spec fingerprint that uses it in this run
	actions []Action
}

// New validates the configuration; clients are made on first use, one per GitLab address.
func New(cfg Config) (*Provisioner, error) {
	if cfg.Client.Token.IsZero() {
		return nil, errors.New("no GitLab access token: set GITLAB_TOKEN or --gitlab-token-file")
	}
	if cfg.Attempts == 0 {
		cfg.Attempts = 3
	}
	if cfg.RotateBefore == 0 {
		cfg.RotateBefore = 24 * time.Hour
	}
	if cfg.AdoptWindow == 0 {
		cfg.AdoptWindow = 15 * time.Minute
	}
	if cfg.Warn == nil {
		cfg.Warn = func(string) {}
	}
	if cfg.ResetRefusal == "" {
		cfg.ResetRefusal = "this run's output is not deployed"
	}
	return &Provisioner{cfg: cfg, clients: map[string]*gl.Client{}, scopes: map[string]Scope{}, claimed: map[int64]string{}}, nil
}

// Actions lists what the provisioner did (or would do, in a dry run), in order.
func (p *Provisioner) Actions() []Action {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.actions)
}

func (p *Provisioner) record(req tokensource.Request, verb string, id int64, detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.actions = append(p.actions, Action{Fingerprint: req.Fingerprint(), Sites: siteNames(req), Verb: verb, RunnerID: id, Detail: detail})
}

// run is the state of one Credential call.
type run struct {
	req     tokensource.Request
	release Release
	base    string // the API address
	c       *gl.Client
	place   string
	desired settings
	// settingsOwner carries Record.SettingsOwner of a reused runner into what is saved for it.
	settingsOwner string
}

// Credential implements tokensource.Source: reuse a runner a store knows, else adopt one a crashed
// run of this place left behind, else create one.
func (p *Provisioner) Credential(ctx context.Context, req tokensource.Request) (tokensource.Credential, error) {
	if len(p.cfg.Stores) == 0 && !p.cfg.DryRun {
		return tokensource.Credential{}, errors.New("runner-migrate would create runners through the GitLab API but has nowhere to keep their tokens " +
			"between runs, so every run would make new ones: no cluster is configured (KUBECONFIG) to hold them. " +
			"Fix: run against the cluster, or keep tokens with --state-file")
	}
	r := &run{req: req, release: p.release(req)}
	var err error
	if r.base, err = p.apiBase(req); err != nil {
		return tokensource.Credential{}, err
	}
	if r.c, err = p.client(r.base); err != nil {
		return tokensource.Credential{}, err
	}
	if r.place, err = p.storePlace(ctx); err != nil {
		return tokensource.Credential{}, err
	}
	if !p.cfg.DryRun {
		unlock, err := p.lock(ctx, r)
		if err != nil {
			return tokensource.Credential{}, err
		}
		defer unlock()
	}
	r.desired = p.desired(req, Marker(r.release, req.Fingerprint(), r.place))

	for _, store := range p.cfg.Stores {
		rec, ok, err := store.Lookup(ctx, req, r.release)
		if err != nil {
			return tokensource.Credential{}, err
		}
		if !ok {
			continue
		}
		if rec.GitLabURL != "" && !sameBase(rec.GitLabURL, r.base) {
			p.record(req, "skip", rec.RunnerID, fmt.Sprintf("%s names runner %d on the GitLab at %s, not %s: a runner id means nothing on another GitLab, so it is not reused",
				rec.Where, rec.RunnerID, rec.GitLabURL, r.base))
			continue
		}
		if owner := p.claim(rec.RunnerID, req.Fingerprint()); owner != req.Fingerprint() {
			p.record(req, "skip", rec.RunnerID, fmt.Sprintf("%s names runner %d, which spec %s uses in this run; the specs no longer match, so this one gets a runner of its own",
				rec.Where, rec.RunnerID, owner))
			continue
		}
		cred, ok, err := p.reuse(ctx, r, store, rec)
		if err != nil || ok {
			return cred, err
		}
		p.unclaim(rec.RunnerID)
	}

	scope, err := p.resolveScope(ctx, r.c, p.legacyToken(ctx, r))
	if err != nil {
		return tokensource.Credential{}, err
	}
	found, err := p.findAdoptable(ctx, r, scope)
	if err != nil {
		return tokensource.Credential{}, err
	}
	if found != nil {
		return p.adopt(ctx, r, found.ID, "found by its description marker: a run that kept tokens in the same place created it and died before keeping its token")
	}
	return p.create(ctx, r, scope)
}

// reuse confirms a stored runner is this release's and still exists (GET /runners/:id), moves it
// when its scope changed, reconciles its settings and rotates a token about to expire. It reports
// false when the runner cannot be used.
func (p *Provisioner) reuse(ctx context.Context, r *run, store Store, rec Record) (tokensource.Credential, bool, error) {
	req := r.req
	details, err := getRunner(ctx, r.c, rec.RunnerID)
	if statusOf(err) == 404 {
		p.record(req, "lost", rec.RunnerID, fmt.Sprintf("%s names runner %d, which GitLab does not have (any more)", rec.Where, rec.RunnerID))
		return tokensource.Credential{}, false, nil
	}
	if err != nil {
		return tokensource.Credential{}, false, explain(err, fmt.Sprintf("reading runner %d (from %s)", rec.RunnerID, rec.Where))
	}
	if !ownedBy(details.Description, r.release) {
		p.record(req, "skip", rec.RunnerID, fmt.Sprintf("%s names runner %d, but that runner does not carry release %s's marker, so runner-migrate neither changes nor reuses it",
			rec.Where, rec.RunnerID, r.release))
		return tokensource.Credential{}, false, nil
	}
	if moved, cred, err := p.moveIfScopeChanged(ctx, r, rec, details); moved || err != nil {
		return cred, err == nil, err
	}
	r.settingsOwner = rec.SettingsOwner
	if rec.SettingsOwner == SettingsOwnedByGitLab {
		// The values no longer carry the settings (runner-migrate migrate moved them to GitLab):
		// what this spec says is the chart's defaults, not what the runner should have.
		p.record(req, "reuse", rec.RunnerID, "token from "+rec.Where+"; its settings are GitLab's since the values were migrated, so they are left as they are")
	} else if err := p.reconcile(ctx, r, details, "reuse", "token from "+rec.Where); err != nil {
		return tokensource.Credential{}, false, err
	}
	cred := tokensource.Credential{Token: rec.Token, RunnerID: rec.RunnerID, ExpiresAt: rec.ExpiresAt, GitLabURL: r.base}
	if rec.ExpiresAt != nil && time.Until(*rec.ExpiresAt) < p.cfg.RotateBefore {
		why := fmt.Sprintf("the token expires at %s", rec.ExpiresAt.UTC().Format(time.RFC3339))
		if time.Now().After(*rec.ExpiresAt) {
			why = fmt.Sprintf("the token expired at %s", rec.ExpiresAt.UTC().Format(time.RFC3339))
		}
		if p.cfg.MayReset || p.cfg.DryRun {
			cred, err := p.resetToken(ctx, r, rec.RunnerID, "rotate", why)
			return cred, err == nil, err
		}
		p.record(req, "defer", rec.RunnerID, why+"; not rotated now because "+p.cfg.ResetRefusal+" (the next helm upgrade, or runner-migrate rotate, rotates it)")
		p.cfg.Warn(fmt.Sprintf("runner %d: %s; not rotated because %s", rec.RunnerID, why, p.cfg.ResetRefusal))
	}
	if p.cfg.DryRun {
		return placeholder(req), true, nil
	}
	rec.Supersedes = ""
	if rec.Fingerprint != "" && rec.Fingerprint != req.Fingerprint() {
		rec.Supersedes = rec.Fingerprint
	}
	return cred, true, p.save(ctx, r, cred, rec.Supersedes)
}

// adopt takes over a runner whose token is unknown: reset its token (the old one stops working) and
// reconcile its settings. A reset at render time revokes the token running pods hold, so it happens
// only when the output is deployed; otherwise the output carries a placeholder and the plan says so.
func (p *Provisioner) adopt(ctx context.Context, r *run, id int64, why string) (tokensource.Credential, error) {
	details, err := getRunner(ctx, r.c, id)
	if err != nil {
		return tokensource.Credential{}, explain(err, fmt.Sprintf("reading runner %d", id))
	}
	if !p.cfg.MayReset && !p.cfg.DryRun {
		p.record(r.req, "defer", id, why+"; adopting it resets its token, which runner-migrate does only when the output is deployed, and "+p.cfg.ResetRefusal)
		p.cfg.Warn(fmt.Sprintf("runner %d of spec %s would be adopted by resetting its token, but %s: the output holds a placeholder token (do not deploy it); run helm upgrade, or pass --deploys=true if this output is applied",
			id, r.req.Fingerprint(), p.cfg.ResetRefusal))
		return placeholder(r.req), nil
	}
	p.claim(id, r.req.Fingerprint())
	if err := p.reconcile(ctx, r, details, "", ""); err != nil {
		return tokensource.Credential{}, err
	}
	return p.resetToken(ctx, r, id, "adopt", why)
}

func (p *Provisioner) resetToken(ctx context.Context, r *run, id int64, verb, why string) (tokensource.Credential, error) {
	p.record(r.req, verb, id, why+"; its token is reset")
	if p.cfg.DryRun {
		return placeholder(r.req), nil
	}
	t, _, err := r.c.Runners.ResetRunnerAuthenticationToken(id, gl.WithContext(ctx))
	if err != nil {
		return tokensource.Credential{}, explain(err, fmt.Sprintf("resetting the token of runner %d", id))
	}
	cred := tokensource.Credential{Token: token.New(deref(t.Token)), RunnerID: id, ExpiresAt: t.TokenExpiresAt, GitLabURL: r.base}
	return cred, p.save(ctx, r, cred, "")
}

// create makes the runner. A create is never repeated blindly: after an unclear failure (5xx, broken
// connection, timeout) GitLab may have made the runner, so look for its marker first and adopt it.
func (p *Provisioner) create(ctx context.Context, r *run, scope Scope) (tokensource.Credential, error) {
	req := r.req
	p.record(req, "create", 0, scope.String()+", because "+scope.Reason+"; "+r.desired.summary())
	if p.cfg.DryRun {
		return placeholder(req), nil
	}
	opts := r.desired.createOptions()
	scope.createOptions(opts)
	var lastErr error
	for attempt := 1; attempt <= p.cfg.Attempts; attempt++ {
		created, _, err := r.c.Users.CreateUserRunner(opts, gl.WithContext(ctx))
		if err == nil {
			cred := tokensource.Credential{Token: token.New(created.Token), RunnerID: created.ID, ExpiresAt: created.TokenExpiresAt, GitLabURL: r.base}
			p.setLastID(created.ID)
			p.claim(created.ID, req.Fingerprint())
			return cred, p.save(ctx, r, cred, "")
		}
		if !unclear(err) || ctx.Err() != nil {
			if statusOf(err) == 403 && !strings.Contains(err.Error(), "insufficient_scope") {
				return tokensource.Credential{}, fmt.Errorf("%w. Fix: %s", explain(err, "creating the "+scope.String()), scope.forbiddenFix())
			}
			return tokensource.Credential{}, explain(err, "creating the "+scope.String())
		}
		lastErr = err
		found, ferr := p.findAdoptable(ctx, r, scope)
		if ferr != nil {
			return tokensource.Credential{}, fmt.Errorf("%w (after the create failed unclearly: %v)", ferr, explain(err, "creating the runner"))
		}
		if found != nil {
			return p.adopt(ctx, r, found.ID, "the create failed unclearly, but GitLab had made the runner")
		}
	}
	return tokensource.Credential{}, explain(lastErr, fmt.Sprintf("creating the %s (%d attempts, none made a runner)", scope.String(), p.cfg.Attempts))
}

// setLastID fixes up the action of the create that just succeeded with the new runner's id.
func (p *Provisioner) setLastID(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.actions); n > 0 && p.actions[n-1].Verb == "create" {
		p.actions[n-1].RunnerID = id
	}
}

// claim records that spec fingerprint uses runner id in this run and returns the spec that holds
// it: fingerprint itself, or the spec that claimed it first. A runner serves one spec: two specs
// reconciling one runner would turn its settings back and forth on every run.
func (p *Provisioner) claim(id int64, fingerprint string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if owner, ok := p.claimed[id]; ok {
		return owner
	}
	p.claimed[id] = fingerprint
	return fingerprint
}

func (p *Provisioner) unclaim(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.claimed, id)
}

func (p *Provisioner) save(ctx context.Context, r *run, cred tokensource.Credential, supersedes string) error {
	if p.cfg.DryRun {
		return nil
	}
	rec := Record{RunnerID: cred.RunnerID, Token: cred.Token, Fingerprint: r.req.Fingerprint(), ExpiresAt: cred.ExpiresAt,
		GitLabURL: r.base, Registration: r.req.Spec.Registration, Supersedes: supersedes, SettingsOwner: r.settingsOwner}
	for _, s := range p.cfg.Stores {
		if err := s.Save(ctx, r.req, r.release, rec); err != nil {
			return fmt.Errorf("keeping the token of runner %d in %s: %w", cred.RunnerID, s.Name(), err)
		}
	}
	return nil
}

// lock takes every store's lock for the spec, in order.
func (p *Provisioner) lock(ctx context.Context, r *run) (func(), error) {
	var unlocks []func()
	release := func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	for _, s := range p.cfg.Stores {
		u, err := s.Lock(ctx, r.release, r.req.Fingerprint())
		if err != nil {
			release()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return release, nil
}

// storePlace is the place of the first store that can name one: where this run keeps tokens.
func (p *Provisioner) storePlace(ctx context.Context) (string, error) {
	p.mu.Lock()
	if p.place != nil {
		defer p.mu.Unlock()
		return *p.place, nil
	}
	p.mu.Unlock()
	var place string
	var errs []error
	for _, s := range p.cfg.Stores {
		pl, err := s.Place(ctx)
		if err == nil && pl != "" {
			place = pl
			break
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if place == "" && len(errs) > 0 {
		p.cfg.Warn(fmt.Sprintf("%v; new runners' markers name no place, and a runner whose token a crashed run lost is not adopted (a new one is created instead)",
			errors.Join(errs...)))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.place = &place
	return place, nil
}

func (p *Provisioner) apiBase(req tokensource.Request) (string, error) {
	base := ""
	for _, s := range req.Sites {
		b, err := p.cfg.Destination.base(s.Spec.URL, s.Workload.Ref.String())
		if err != nil {
			return "", err
		}
		base = b
	}
	if base == "" {
		return p.cfg.Destination.base(req.Spec.URL, "runner spec "+req.Fingerprint())
	}
	return base, nil
}

func (p *Provisioner) client(base string) (*gl.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[base]; ok {
		return c, nil
	}
	cfg := p.cfg.Client
	cfg.BaseURL = base
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	p.clients[base] = c
	return c, nil
}

// release names the Helm release: the workload's namespace (or, when the manifests leave it out, the
// one the run resolved: --namespace, Helm's -n, HELM_NAMESPACE, the kube context's) and the release
// name (--release, Helm's command line, else the chart's labels, else the workload's name).
func (p *Provisioner) release(req tokensource.Request) Release {
	site := req.Sites[0]
	return Release{Namespace: ReleaseNamespace(site, p.cfg.Namespace), Name: ReleaseName(site, p.cfg.Release)}
}

// ReleaseNamespace is the one namespace rule: the workload's own, else the run's namespace, else
// "default". Markers, live Secrets, token Secrets and Leases all follow it.
func ReleaseNamespace(site *rewrite.Site, runNamespace string) string {
	switch {
	case site.Workload.Namespace != "":
		return site.Workload.Namespace
	case runNamespace != "":
		return runNamespace
	}
	return "default"
}

// ReleaseName is the release a site belongs to: the one given, else the chart's labels, else the
// workload's name.
func ReleaseName(site *rewrite.Site, given string) string {
	switch {
	case given != "":
		return given
	case site.Release != "":
		return site.Release
	}
	return site.Workload.Name
}

// legacyToken is the registration token the sites carry, from the manifests or, failing that, from
// where they mount it.
func (p *Provisioner) legacyToken(ctx context.Context, r *run) token.Token {
	for _, s := range r.req.Sites {
		if !s.LegacyToken.IsZero() {
			return s.LegacyToken
		}
	}
	if p.cfg.LegacyTokens != nil {
		for _, s := range r.req.Sites {
			if t, err := p.cfg.LegacyTokens.LegacyToken(ctx, s, r.release.Namespace); err == nil && !t.IsZero() {
				return t
			}
		}
	}
	return token.Token{}
}

// placeholder stands in for a token where no real one may be shown or deployed (a dry run, a reset
// put off): a glrt- value (so the output has the shape it will have) that says what it is, and no
// runner id, so no later run takes it for a runner's token.
func placeholder(req tokensource.Request) tokensource.Credential {
	return tokensource.Credential{Token: token.Placeholder(req.Fingerprint()), Placeholder: true}
}

func siteNames(req tokensource.Request) []string {
	names := make([]string, len(req.Sites))
	for i, s := range req.Sites {
		names[i] = s.Workload.Ref.String()
	}
	return names
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// sameBase compares two API addresses the way hosts are compared.
func sameBase(a, b string) bool {
	ha, erra := hostPort(a)
	hb, errb := hostPort(b)
	if erra != nil || errb != nil {
		return strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
	}
	return ha == hb
}
