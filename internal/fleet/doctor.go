package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/token"
)

// Check statuses.
const (
	CheckOK      = "ok"
	CheckInfo    = "info"
	CheckWarning = "warning"
	CheckError   = "error"
)

// Check is one finding of doctor.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// DoctorOptions configure Doctor.
type DoctorOptions struct {
	// Namespace is where the releases live (rights are checked there); "" for every namespace.
	Namespace string
	// Cluster describes the cluster and namespace in use and why ("" without a cluster); NoCluster
	// says why there is none (kube.ErrNoCluster, or the error resolving the kubeconfig).
	Cluster   string
	NoCluster error
	// Scope is what --runner-type, --group and --project say.
	Scope gitlab.ScopeConfig
	// TokenExpiry: an access token that expires within it is a warning (default 30 days).
	TokenExpiry time.Duration
}

// DoctorReport is every check doctor made, in order.
type DoctorReport struct{ Checks []Check }

// Failed reports whether a check found an error.
func (r *DoctorReport) Failed() bool {
	return slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Status == CheckError })
}

// neededScopes are what runner-migrate's calls need; api covers them all.
var neededScopes = []string{"create_runner", "manage_runner", "read_api"}

// Doctor checks, read-only, what migration and the commands after it need: GitLab answering, its
// version and whether it still allows registration tokens; the access token's scopes, expiry and
// role in the scope each release would use; the cluster answering and the rights runner-migrate
// needs there.
func (f *Fleet) Doctor(ctx context.Context, opts DoctorOptions) *DoctorReport {
	if opts.TokenExpiry <= 0 {
		opts.TokenExpiry = 30 * 24 * time.Hour
	}
	r := &DoctorReport{}
	add := func(name, status, detail, fix string) { r.Checks = append(r.Checks, Check{name, status, detail, fix}) }
	api, user := f.doctorGitLab(ctx, opts, add)
	var runners []*Runner
	if f.Kube != nil {
		runners = f.doctorCluster(ctx, opts, add)
	} else if errors.Is(opts.NoCluster, kube.ErrNoCluster) || opts.NoCluster == nil {
		add("cluster", CheckWarning, "no Kubernetes cluster is configured: post-render keeps runner tokens only with --state-file, and status, rotate and prune need a cluster",
			"point KUBECONFIG (or --kubeconfig, --kube-context) at the cluster the runners are deployed to")
	} else {
		add("cluster", CheckError, opts.NoCluster.Error(), "fix the kubeconfig, or choose a context with --kube-context")
	}
	if api != nil {
		f.doctorScopes(ctx, opts, api, user, runners, add)
	}
	return r
}

// doctorGitLab checks GitLab and the access token. It returns the client when GitLab answers.
func (f *Fleet) doctorGitLab(ctx context.Context, opts DoctorOptions, add func(string, string, string, string)) (*gitlab.API, *gitlab.User) {
	if f.GitLab == nil {
		add("access token", CheckError, "no GitLab access token was given", "export GITLAB_TOKEN (or --gitlab-token-file) with the scopes create_runner, manage_runner and read_api")
		return nil, nil
	}
	api, err := f.GitLab.For("", "doctor")
	if err != nil {
		add("gitlab", CheckError, err.Error(), "set --gitlab-url (RUNNER_MIGRATE_GITLAB_URL) to the address GitLab serves its API on")
		return nil, nil
	}
	version, err := api.Version(ctx)
	switch {
	case err == nil:
		add("gitlab", CheckOK, fmt.Sprintf("GitLab %s answers at %s", version, api.Base), "")
	case gitlab.IsInsufficientScope(err):
		add("gitlab", CheckOK, fmt.Sprintf("GitLab answers at %s (its version needs the read_api or read_user scope to read)", api.Base), "")
	case gitlab.StatusOf(err) == http.StatusUnauthorized:
		add("access token", CheckError, gitlab.Explain(err, "GitLab at "+api.Base).Error(), "")
		return nil, nil
	default:
		add("gitlab", CheckError, gitlab.Explain(err, "reaching GitLab").Error(),
			"check --gitlab-url, and --ca-file for a GitLab behind a private CA")
		return nil, nil
	}

	if self, err := api.Self(ctx); err != nil {
		add("access token", CheckWarning, gitlab.Explain(err, "reading the access token's scopes (GET /personal_access_tokens/self)").Error()+"; its scopes are unknown", "")
	} else {
		f.doctorToken(self, opts, add)
	}

	switch allowed, err := api.RegistrationTokensAllowed(ctx); {
	case err != nil:
		add("registration tokens", CheckInfo, "unknown: "+gitlab.Explain(err, "reading the application settings").Error(), "")
	case allowed == nil:
		add("registration tokens", CheckInfo, "unknown: only an administrator's token reads the application setting allow_runner_registration_token", "")
	case *allowed:
		add("registration tokens", CheckInfo, "still allowed (allow_runner_registration_token): legacy runners register until an administrator turns them off (GitLab 17.0 and later default to off)", "")
	default:
		add("registration tokens", CheckWarning, "disallowed (allow_runner_registration_token is false): runners that register with a registration token fail with 410 Gone until migrated",
			"migrate them: helm upgrade ... --post-renderer runner-migrate")
	}

	user, err := api.CurrentUser(ctx)
	if err != nil {
		add("user", CheckWarning, gitlab.Explain(err, "reading the access token's user").Error()+"; its roles are not checked", "")
		return api, nil
	}
	return api, user
}

func (f *Fleet) doctorToken(self *gitlab.AccessToken, opts DoctorOptions, add func(string, string, string, string)) {
	scopes := strings.Join(self.Scopes, ", ")
	var missing []string
	if !slices.Contains(self.Scopes, "api") {
		for _, s := range neededScopes {
			if !slices.Contains(self.Scopes, s) {
				missing = append(missing, s)
			}
		}
	}
	switch {
	case len(missing) > 0:
		add("access token", CheckError, fmt.Sprintf("the access token %q lacks the scope %s (it has %s)", self.Name, strings.Join(missing, " and "), scopes),
			"create a token with the scopes create_runner, manage_runner and read_api (nothing more is needed) and give it in GITLAB_TOKEN")
	case slices.Contains(self.Scopes, "api"):
		add("access token", CheckWarning, fmt.Sprintf("the access token %q has the api scope, full read and write access to the API: more than runner-migrate needs", self.Name),
			"use a token with only create_runner, manage_runner and read_api")
	default:
		add("access token", CheckOK, fmt.Sprintf("the access token %q has the scopes runner-migrate needs (%s)", self.Name, scopes), "")
	}
	switch at := self.ExpiresAt; {
	case at == nil:
		add("access token expiry", CheckOK, "the access token does not expire", "")
	case at.Sub(f.now()) < opts.TokenExpiry:
		add("access token expiry", CheckWarning, fmt.Sprintf("the access token expires on %s, in %s", at.Format("2006-01-02"), roundDuration(at.Sub(f.now()))),
			"rotate it (GitLab: Settings > Access tokens) before it expires, and update GITLAB_TOKEN wherever runner-migrate runs")
	default:
		add("access token expiry", CheckOK, "the access token expires on "+at.Format("2006-01-02"), "")
	}
}

// doctorScopes checks the role the token holds in the scope each release would use: the one
// --runner-type names (post-render uses it for every release), else the scope of each release's
// registration token; and the scope of every runner already migrated (rotate and prune manage them).
func (f *Fleet) doctorScopes(ctx context.Context, opts DoctorOptions, api *gitlab.API, user *gitlab.User, runners []*Runner, add func(string, string, string, string)) {
	type target struct {
		what  string
		scope gitlab.Scope
	}
	var targets []target
	resolve := func(what string, legacy token.Token) {
		s, err := api.ResolveScope(ctx, opts.Scope, legacy)
		if err != nil {
			add("scope of "+what, CheckError, err.Error(), "")
			return
		}
		targets = append(targets, target{what, s})
	}
	if opts.Scope.RunnerType != "" {
		resolve("new runners (--runner-type)", token.Token{})
	} else if f.Kube != nil {
		legacy, err := f.Kube.LegacySecrets(ctx, opts.Namespace)
		if err != nil {
			add("releases to migrate", CheckWarning, err.Error()+"; their scopes are not checked", "")
		}
		for _, l := range legacy {
			resolve(fmt.Sprintf("release %s (Secret %s)", l.Release, l.Ref()), l.Registration)
		}
	}
	for _, r := range runners {
		who := fmt.Sprintf("runner %d of release %s", r.ID, r.Release)
		a, err := f.GitLab.For(r.GitLabURL, who)
		if err != nil {
			add(who, CheckInfo, err.Error(), "")
			continue
		}
		d, err := a.Runner(ctx, r.ID)
		if err != nil {
			add(who, CheckWarning, gitlab.Explain(err, "reading "+who).Error(), "status explains; helm upgrade recreates a runner GitLab no longer has")
			continue
		}
		targets = append(targets, target{who, d.Scope()})
	}
	if len(targets) == 0 {
		where := "namespace " + opts.Namespace
		if opts.Namespace == "" {
			where = "any namespace"
		}
		add("role", CheckInfo, "no scope to check: no --runner-type was given, and no release in "+where+" registers with a registration token or has a migrated runner", "")
		return
	}
	if user == nil {
		return
	}
	for _, t := range targets {
		role, err := api.RoleIn(ctx, t.scope, user)
		switch {
		case err != nil:
			add("role for "+t.what, CheckWarning, err.Error(), "")
		case role.Enough:
			add("role for "+t.what, CheckOK, fmt.Sprintf("%s: %s is %s there", t.scope, user.Username, role.Name), "")
		default:
			add("role for "+t.what, CheckError, fmt.Sprintf("%s: %s is %s there; creating and managing its runners takes %s", t.scope, user.Username, role.Name, role.Need),
				"use an access token of a user with that role, or grant it")
		}
	}
}

// clusterNeeds are the rights runner-migrate uses in a release namespace, by what uses them.
var clusterNeeds = []struct {
	who, group, resource string
	verbs                []string
	status               string
	without              string
}{
	{"post-render", "", "secrets", []string{"get", "create", "update", "delete"}, CheckError, "post-render cannot keep runner tokens in the cluster"},
	{"post-render", "coordination.k8s.io", "leases", []string{"get", "create", "update"}, CheckWarning, "runs of one release at once are not serialised (two may create a runner each)"},
	{"status, rotate, prune", "", "secrets", []string{"list", "patch"}, CheckWarning, "status, rotate and prune cannot find or rewrite runner Secrets"},
	{"rotate", "apps", "deployments", []string{"list", "patch"}, CheckWarning, "rotate cannot roll runner Deployments"},
	{"rotate", "apps", "statefulsets", []string{"list", "patch"}, CheckWarning, "rotate cannot roll runner StatefulSets"},
}

// doctorCluster checks the cluster answers and grants what runner-migrate needs, and returns the
// runners it holds tokens for.
func (f *Fleet) doctorCluster(ctx context.Context, opts DoctorOptions, add func(string, string, string, string)) []*Runner {
	version, err := f.Kube.ServerVersion(ctx)
	if err != nil {
		add("cluster", CheckError, fmt.Sprintf("the cluster does not answer: %v", err), "check the kubeconfig and context (--kube-context)")
		return nil
	}
	add("cluster", CheckOK, fmt.Sprintf("Kubernetes %s: %s", version, opts.Cluster), "")
	ns := opts.Namespace
	for _, need := range clusterNeeds {
		var denied []string
		for _, verb := range need.verbs {
			ok, _, err := f.Kube.Can(ctx, kube.Access{Verb: verb, Group: need.group, Resource: need.resource, Namespace: ns})
			if err != nil {
				add("cluster rights", CheckError, err.Error(), "")
				return nil
			}
			if !ok {
				denied = append(denied, verb)
			}
		}
		what := need.resource
		if need.group != "" {
			what += "." + need.group
		}
		name := fmt.Sprintf("cluster rights for %s: %s", need.who, what)
		where := "in namespace " + ns
		if ns == "" {
			where = "in every namespace"
		}
		if len(denied) == 0 {
			add(name, CheckOK, strings.Join(need.verbs, ", ")+" "+where, "")
			continue
		}
		add(name, need.status, fmt.Sprintf("%s %s not allowed %s: %s", strings.Join(denied, ", "), what, where, need.without),
			fmt.Sprintf("grant them, e.g. kubectl create role runner-migrate-%s --verb=%s --resource=%s -n NAMESPACE, bound to the user runner-migrate runs as",
				need.resource, strings.Join(need.verbs, ","), what))
	}
	if ok, _, err := f.Kube.Can(ctx, kube.Access{Verb: "get", Resource: "namespaces", Name: "kube-system"}); err == nil && !ok {
		add("cluster identity", CheckInfo, "the user cannot read namespace kube-system, so runner markers name the cluster by the release namespace's UID (prune recognises both)", "")
	}
	runners, err := f.Inventory(ctx, ns)
	if err != nil {
		add("migrated runners", CheckWarning, err.Error(), "")
		return nil
	}
	add("migrated runners", CheckInfo, fmt.Sprintf("%s in %s", plural(len(runners), "runner"), map[bool]string{true: "every namespace", false: "namespace " + ns}[ns == ""]), "")
	return runners
}

// WriteText writes the checks for people, then a summary line.
func (r *DoctorReport) WriteText(w io.Writer) error {
	var b strings.Builder
	counts := map[string]int{}
	for _, c := range r.Checks {
		counts[c.Status]++
		fmt.Fprintf(&b, "%-7s %s: %s\n", c.Status, c.Name, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(&b, "        fix: %s\n", c.Fix)
		}
	}
	fmt.Fprintf(&b, "doctor: %s, %s\n", plural(counts[CheckError], "error"), plural(counts[CheckWarning], "warning"))
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the checks as JSON.
func (r *DoctorReport) WriteJSON(w io.Writer, toolVersion string) error {
	out := struct {
		Version int     `json:"version"`
		Tool    Tool    `json:"tool"`
		Checks  []Check `json:"checks"`
		Summary struct {
			Errors   int `json:"errors"`
			Warnings int `json:"warnings"`
		} `json:"summary"`
	}{Version: SchemaVersion, Tool: Tool{Name: "runner-migrate", Version: toolVersion}, Checks: r.Checks}
	if out.Checks == nil {
		out.Checks = []Check{}
	}
	for _, c := range r.Checks {
		switch c.Status {
		case CheckError:
			out.Summary.Errors++
		case CheckWarning:
			out.Summary.Warnings++
		}
	}
	return encodeJSON(w, out)
}
