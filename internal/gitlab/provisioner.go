package gitlab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Record is what a store remembers about the GitLab runner of a spec.
type Record struct {
	RunnerID    int64
	Token       token.Token
	Fingerprint string
	ExpiresAt   *time.Time
	Where       string // where the store found it, for plans: "live Secret ns/name", "state file x"
}

// Store is a place where runners' tokens live between runs: the live Kubernetes Secret the pod reads
// (written by Helm from the post-renderer's output, so Save does nothing there) or a state file.
type Store interface {
	// Name says where a record came from, for plans and errors.
	Name() string
	// Lookup finds the record of the runner serving the request's spec or sites. It reports false
	// when the store holds none; an error means the store could not be read.
	Lookup(ctx context.Context, req tokensource.Request) (Record, bool, error)
	// Save keeps a record as soon as a token exists, before any output is written.
	Save(ctx context.Context, req tokensource.Request, rec Record) error
}

// LegacyTokenReader can read a site's registration token from where the manifests do not show it
// (the live Secret a release mounts but does not render).
type LegacyTokenReader interface {
	LegacyToken(ctx context.Context, site *rewrite.Site) (token.Token, error)
}

// Config configures a Provisioner.
type Config struct {
	// GitLabURL overrides the URL the runners register with (CI_SERVER_URL) as the API's address.
	GitLabURL string
	Client    ClientConfig // Token, CAFile, Insecure; BaseURL comes from each spec unless GitLabURL is set
	Scope     ScopeConfig
	Stores    []Store
	// LegacyTokens, when set, reads registration tokens the manifests do not show.
	LegacyTokens LegacyTokenReader
	// Release and Namespace name the Helm release when the manifests' labels do not.
	Release, Namespace string
	DryRun             bool
	// RotateBefore resets a token that expires within this window (GitLab's token expiry).
	RotateBefore time.Duration
	// Attempts bounds how often an unclear create is tried (default 3).
	Attempts int
}

// Action is one thing the provisioner did, or in a dry run would do, for a spec.
type Action struct {
	Fingerprint string
	Sites       []string
	Verb        string // reuse, update, rotate, adopt, create
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
	scopes  map[string]Scope // by registration token digest
	actions []Action
}

// New validates the configuration; clients are made on first use, one per GitLab URL.
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
	return &Provisioner{cfg: cfg, clients: map[string]*gl.Client{}, scopes: map[string]Scope{}}, nil
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

// Credential implements tokensource.Source: reuse a runner a store knows, else adopt one a crashed
// run left behind, else create one.
func (p *Provisioner) Credential(ctx context.Context, req tokensource.Request) (tokensource.Credential, error) {
	if len(p.cfg.Stores) == 0 && !p.cfg.DryRun {
		return tokensource.Credential{}, errors.New("runner-migrate would create runners through the GitLab API but has nowhere to keep their tokens " +
			"between runs, so every run would make new ones: no cluster is configured (KUBECONFIG) to hold the live Secret. " +
			"Fix: run against the cluster, or keep tokens with --state-file")
	}
	c, err := p.client(req.Spec.URL)
	if err != nil {
		return tokensource.Credential{}, err
	}
	release := p.release(req)
	desired := p.desired(req, release)

	for _, store := range p.cfg.Stores {
		rec, ok, err := store.Lookup(ctx, req)
		if err != nil {
			return tokensource.Credential{}, err
		}
		if !ok {
			continue
		}
		cred, ok, err := p.reuse(ctx, c, req, store, rec, desired)
		if err != nil || ok {
			return cred, err
		}
	}

	scope, err := p.resolveScope(ctx, c, p.legacyToken(ctx, req))
	if err != nil {
		return tokensource.Credential{}, fmt.Errorf("runner spec %s (%s): %w", req.Fingerprint(), strings.Join(siteNames(req), ", "), err)
	}
	if found, err := p.findMarked(ctx, c, scope, release, req.Fingerprint()); err != nil {
		return tokensource.Credential{}, err
	} else if found != nil {
		return p.adopt(ctx, c, req, found.ID, desired, "found by its description marker (a previous run created it but did not keep its token)")
	}
	return p.create(ctx, c, req, scope, release, desired)
}

// reuse confirms a stored runner still exists (GET /runners/:id), reconciles its settings and
// rotates a token about to expire. It reports false when the runner is gone.
func (p *Provisioner) reuse(ctx context.Context, c *gl.Client, req tokensource.Request, store Store, rec Record, desired settings) (tokensource.Credential, bool, error) {
	details, _, err := c.Runners.GetRunnerDetails(rec.RunnerID, gl.WithContext(ctx))
	if statusOf(err) == 404 {
		p.record(req, "lost", rec.RunnerID, fmt.Sprintf("%s names runner %d, which GitLab does not have (any more)", store.Name(), rec.RunnerID))
		return tokensource.Credential{}, false, nil
	}
	if err != nil {
		return tokensource.Credential{}, false, explain(err, fmt.Sprintf("reading runner %d (from %s)", rec.RunnerID, store.Name()))
	}
	where := rec.Where
	if where == "" {
		where = store.Name()
	}
	if err := p.reconcile(ctx, c, req, details, desired, "reuse", "token from "+where); err != nil {
		return tokensource.Credential{}, false, err
	}
	cred := tokensource.Credential{Token: rec.Token, RunnerID: rec.RunnerID, ExpiresAt: rec.ExpiresAt}
	if rec.ExpiresAt != nil && time.Until(*rec.ExpiresAt) < p.cfg.RotateBefore {
		return p.resetToken(ctx, c, req, rec.RunnerID, "rotate", fmt.Sprintf("the token expires at %s", rec.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	return cred, true, p.save(ctx, req, cred)
}

// adopt takes over a runner whose token is unknown: reset its token (the old one stops working) and
// reconcile its settings.
func (p *Provisioner) adopt(ctx context.Context, c *gl.Client, req tokensource.Request, id int64, desired settings, why string) (tokensource.Credential, error) {
	details, _, err := c.Runners.GetRunnerDetails(id, gl.WithContext(ctx))
	if err != nil {
		return tokensource.Credential{}, explain(err, fmt.Sprintf("reading runner %d", id))
	}
	if err := p.reconcile(ctx, c, req, details, desired, "", ""); err != nil {
		return tokensource.Credential{}, err
	}
	cred, _, err := p.resetToken(ctx, c, req, id, "adopt", why)
	return cred, err
}

func (p *Provisioner) resetToken(ctx context.Context, c *gl.Client, req tokensource.Request, id int64, verb, why string) (tokensource.Credential, bool, error) {
	p.record(req, verb, id, why+"; its token is reset")
	if p.cfg.DryRun {
		return placeholder(req, id), true, nil
	}
	t, _, err := c.Runners.ResetRunnerAuthenticationToken(id, gl.WithContext(ctx))
	if err != nil {
		return tokensource.Credential{}, false, explain(err, fmt.Sprintf("resetting the token of runner %d", id))
	}
	cred := tokensource.Credential{Token: token.New(deref(t.Token)), RunnerID: id, ExpiresAt: t.TokenExpiresAt}
	return cred, true, p.save(ctx, req, cred)
}

// create makes the runner. A create is never repeated blindly: after an unclear failure (5xx, broken
// connection, timeout) GitLab may have made the runner, so look for its marker first and adopt it.
func (p *Provisioner) create(ctx context.Context, c *gl.Client, req tokensource.Request, scope Scope, release string, desired settings) (tokensource.Credential, error) {
	p.record(req, "create", 0, scope.String()+", because "+scope.Reason+"; "+desired.summary())
	if p.cfg.DryRun {
		return placeholder(req, 0), nil
	}
	opts := desired.createOptions()
	scope.createOptions(opts)
	var lastErr error
	for attempt := 1; attempt <= p.cfg.Attempts; attempt++ {
		r, _, err := c.Users.CreateUserRunner(opts, gl.WithContext(ctx))
		if err == nil {
			cred := tokensource.Credential{Token: token.New(r.Token), RunnerID: r.ID, ExpiresAt: r.TokenExpiresAt}
			p.setLastID(r.ID)
			return cred, p.save(ctx, req, cred)
		}
		if !unclear(err) || ctx.Err() != nil {
			if statusOf(err) == 403 && !strings.Contains(err.Error(), "insufficient_scope") {
				return tokensource.Credential{}, fmt.Errorf("%w. Fix: %s", explain(err, "creating the "+scope.String()), scope.forbiddenFix())
			}
			return tokensource.Credential{}, explain(err, "creating the "+scope.String())
		}
		lastErr = err
		found, ferr := p.findMarked(ctx, c, scope, release, req.Fingerprint())
		if ferr != nil {
			return tokensource.Credential{}, fmt.Errorf("%w (after the create failed unclearly: %v)", ferr, explain(err, "creating the runner"))
		}
		if found != nil {
			return p.adopt(ctx, c, req, found.ID, desired, "the create failed unclearly, but GitLab had made the runner")
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

// findMarked lists the runners of a scope, over all pages, for one carrying the release's marker for
// the spec. There is no description filter in the API.
func (p *Provisioner) findMarked(ctx context.Context, c *gl.Client, scope Scope, release, fingerprint string) (*gl.Runner, error) {
	var found []*gl.Runner
	page := int64(1)
	for page != 0 {
		lo := gl.ListOptions{PerPage: 100, Page: page}
		var (
			runners []*gl.Runner
			resp    *gl.Response
			err     error
		)
		switch scope.Type {
		case GroupType:
			runners, resp, err = c.Runners.ListGroupsRunners(scope.GroupID, &gl.ListGroupsRunnersOptions{ListOptions: lo, Type: gl.Ptr(GroupType)}, gl.WithContext(ctx))
		case ProjectType:
			runners, resp, err = c.Runners.ListProjectRunners(scope.ProjectID, &gl.ListProjectRunnersOptions{ListOptions: lo, Type: gl.Ptr(ProjectType)}, gl.WithContext(ctx))
		default:
			runners, resp, err = c.Runners.ListAllRunners(&gl.ListRunnersOptions{ListOptions: lo, Type: gl.Ptr(InstanceType)}, gl.WithContext(ctx))
		}
		if err != nil {
			return nil, explain(err, "listing the runners of the "+scope.String())
		}
		for _, r := range runners {
			if hasMarker(r.Description, release, fingerprint) {
				found = append(found, r)
			}
		}
		page = resp.NextPage
	}
	if len(found) == 0 {
		return nil, nil
	}
	sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	return found[0], nil
}

func (p *Provisioner) save(ctx context.Context, req tokensource.Request, cred tokensource.Credential) error {
	if p.cfg.DryRun {
		return nil
	}
	rec := Record{RunnerID: cred.RunnerID, Token: cred.Token, Fingerprint: req.Fingerprint(), ExpiresAt: cred.ExpiresAt}
	for _, s := range p.cfg.Stores {
		if err := s.Save(ctx, req, rec); err != nil {
			return fmt.Errorf("keeping the token of runner %d in %s: %w", cred.RunnerID, s.Name(), err)
		}
	}
	return nil
}

func (p *Provisioner) client(specURL string) (*gl.Client, error) {
	base := p.cfg.GitLabURL
	if base == "" {
		base = specURL
	}
	if base == "" {
		return nil, errors.New("the runner has no CI_SERVER_URL in the manifests; give the GitLab address with --gitlab-url")
	}
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

// release names the Helm release for markers: namespace/release from the workload's labels.
func (p *Provisioner) release(req tokensource.Request) string {
	ns, rel := releaseOf(req.Sites[0], p.cfg.Release, p.cfg.Namespace)
	return ns + "/" + rel
}

// legacyToken is the registration token the sites carry, from the manifests or, failing that, from
// where they mount it.
func (p *Provisioner) legacyToken(ctx context.Context, req tokensource.Request) token.Token {
	for _, s := range req.Sites {
		if !s.LegacyToken.IsZero() {
			return s.LegacyToken
		}
	}
	if p.cfg.LegacyTokens != nil {
		for _, s := range req.Sites {
			if t, err := p.cfg.LegacyTokens.LegacyToken(ctx, s); err == nil && !t.IsZero() {
				return t
			}
		}
	}
	return token.Token{}
}

// placeholder stands in for a token in a dry run: a glrt- value (so the output has the shape it will
// have) that says what it is, and an annotation saying not to deploy it.
func placeholder(req tokensource.Request, id int64) tokensource.Credential {
	return tokensource.Credential{Token: token.New("glrt-DRY-RUN-PLACEHOLDER-" + req.Fingerprint()), RunnerID: id, Placeholder: true}
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
