package gitlab

import (
	"context"
	"time"

	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
)

// Release names a Helm release: the namespace its runner workloads live in and its name. Markers,
// live Secrets, token Secrets and Leases all use this one namespace.
type Release struct{ Namespace, Name string }

func (r Release) String() string { return r.Namespace + "/" + r.Name }

// Record is what a store remembers about the GitLab runner of a spec.
type Record struct {
	RunnerID    int64
	Token       token.Token
	Fingerprint string
	ExpiresAt   *time.Time
	// GitLabURL is the API address the runner lives on; "" in records written before it was kept.
	GitLabURL string
	// Registration is the digest of the registration token the spec was derived with (the scope's
	// identity), "" when unknown.
	Registration string
	Where        string // where the store found it, for plans: "live Secret ns/name", "state file x"
	// Supersedes, on Save, names an older fingerprint of the same runner (its spec changed): the
	// store drops what it kept under it.
	Supersedes string
	// SettingsOwner is SettingsOwnedByGitLab when the runner's settings are no longer in the values
	// (`runner-migrate migrate` removed them): reusing the runner then leaves its settings alone
	// instead of turning them back to what the values (now the chart's defaults) say.
	SettingsOwner string
}

// SettingsOwnedByGitLab marks a record whose runner's settings GitLab owns (Record.SettingsOwner).
const SettingsOwnedByGitLab = "gitlab"

// Store is a place where runners' tokens live between runs: the cluster (the live Secret the pod
// reads, and a Secret runner-migrate writes the moment GitLab hands out a token) or a state file.
type Store interface {
	// Name says where a record came from, for plans and errors.
	Name() string
	// Place names where the store keeps tokens (k8s-<cluster id>, file-<state file id>), for markers.
	Place(ctx context.Context) (string, error)
	// Lock serialises runs that provision the same spec of the same release (two pipelines, a retry),
	// until unlock is called. It waits a bounded time for a holder, and takes over a dead one's lock.
	Lock(ctx context.Context, release Release, fingerprint string) (unlock func(), err error)
	// Lookup finds the record of the runner serving the request's spec or sites. It reports false
	// when the store holds none; an error means the store could not be read.
	Lookup(ctx context.Context, req tokensource.Request, release Release) (Record, bool, error)
	// Save keeps a record the moment a token exists, before any output is written, so a run that dies
	// before Helm applies its output (or one that waits on the lock) finds the token, not an orphan.
	Save(ctx context.Context, req tokensource.Request, release Release, rec Record) error
}
