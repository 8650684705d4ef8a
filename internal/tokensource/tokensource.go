// Package tokensource supplies the runner authentication tokens the post-renderer migrates sites to.
// Each way of getting a token (given by the user, a state file, the live Secret, the GitLab API) is a
// Source; a Chain asks them in turn, so tokens that exist are reused and created only at the end.
package tokensource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Request asks for the authentication token of one runner spec; Sites are the workloads sharing it.
type Request struct {
	Spec  rewrite.Spec
	Sites []*rewrite.Site
}

// Credential is a runner authentication token and what is known about it.
type Credential struct {
	Token     token.Token
	RunnerID  int64      // the GitLab runner's id; 0 when unknown (a token the user gave)
	ExpiresAt *time.Time // when GitLab expires the token; nil when it does not
	GitLabURL string     // the GitLab API address the runner lives on; "" when unknown
	// Placeholder marks a token that is not real (a dry run): the output must not be deployed.
	Placeholder bool
}

// Fingerprint names the requested spec.
func (r Request) Fingerprint() string { return r.Spec.Fingerprint() }

// Source supplies authentication tokens.
type Source interface {
	Credential(ctx context.Context, req Request) (Credential, error)
}

// ErrNoToken means a source has no token for a request; a Chain then asks the next one.
var ErrNoToken = errors.New("no authentication token")

// Chain asks each source in turn until one has a token.
type Chain []Source

// Credential implements Source.
func (c Chain) Credential(ctx context.Context, req Request) (Credential, error) {
	for _, s := range c {
		cred, err := s.Credential(ctx, req)
		if !errors.Is(err, ErrNoToken) {
			return cred, err
		}
	}
	return Credential{}, ErrNoToken
}

// Single hands one token to one runner spec: the first asked for. A second, different spec is an
// error, since a runner's token registers the pod as that runner.
type Single struct {
	token  token.Token
	origin string // where the token came from, for messages

	mu     sync.Mutex
	served string
}

// NewSingle validates a token given by the user.
func NewSingle(t token.Token, origin string) (*Single, error) {
	if err := validate(t, origin); err != nil {
		return nil, err
	}
	return &Single{token: t, origin: origin}, nil
}

// Credential implements Source.
func (s *Single) Credential(_ context.Context, req Request) (Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fp := req.Fingerprint()
	if s.served != "" && s.served != fp {
		return Credential{}, fmt.Errorf("%s holds the token of one runner, but the manifests need a second runner (specs %s and %s differ); "+
			"give a token per spec in a file mapping fingerprints to tokens (--auth-token-map)", s.origin, s.served, fp)
	}
	s.served = fp
	return Credential{Token: s.token}, nil
}

// Map hands out tokens by spec fingerprint.
type Map struct {
	tokens map[string]token.Token
	origin string
}

// LoadMap reads a YAML (or JSON) file mapping fingerprints to tokens:
//
//	rm-1a2b3c4d5e6f: glrt-...
func LoadMap(path string) (*Map, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the token map: %w", err)
	}
	var raw map[string]string
	if err := yaml.Unmarshal(data, &raw); err != nil {
		// The YAML error quotes the offending text, which may be a token: say where, not what.
		return nil, fmt.Errorf("token map %s is not a YAML mapping of fingerprint: token (%s)", path, lineOf(err))
	}
	m := &Map{tokens: map[string]token.Token{}, origin: "token map " + path}
	for fp, v := range raw {
		t := token.New(v)
		if err := validate(t, fmt.Sprintf("%s, key %s,", m.origin, fp)); err != nil {
			return nil, err
		}
		m.tokens[fp] = t
	}
	return m, nil
}

// Credential implements Source.
func (m *Map) Credential(_ context.Context, req Request) (Credential, error) {
	if t, ok := m.tokens[req.Fingerprint()]; ok {
		return Credential{Token: t}, nil
	}
	return Credential{}, ErrNoToken
}

// Fingerprints lists the specs the map has tokens for.
func (m *Map) Fingerprints() []string {
	fps := make([]string, 0, len(m.tokens))
	for fp := range m.tokens {
		fps = append(fps, fp)
	}
	sort.Strings(fps)
	return fps
}

// ReadTokenFile reads a file holding one token.
func ReadTokenFile(path string) (token.Token, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return token.Token{}, fmt.Errorf("reading the token file: %w", err)
	}
	return token.New(string(data)), nil
}

func validate(t token.Token, origin string) error {
	switch {
	case t.IsZero():
		return fmt.Errorf("%s is empty", origin)
	case !t.IsAuthentication():
		return fmt.Errorf("%s does not hold a runner authentication token (they start with %s); "+
			"create the runner in GitLab (Settings > CI/CD > Runners, or POST /user/runners) and use the token it shows", origin, token.AuthenticationPrefix)
	case strings.ContainsAny(t.Reveal(), " \t\r\n"):
		return fmt.Errorf("%s holds more than one word", origin)
	}
	return nil
}

// lineOf keeps the line number of a YAML error and drops its quote of the input.
func lineOf(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		end := i + len("line ")
		for end < len(msg) && msg[end] >= '0' && msg[end] <= '9' {
			end++
		}
		return msg[i:end]
	}
	return "unreadable"
}

// Placeholders stands a placeholder in for whatever token the wrapped source has, for dry runs: their
// output shows the shape of the migration, never a token (a dry run's output is read on terminals and
// in CI logs). A placeholder carries no runner id, so no later run takes it for a runner's token.
type Placeholders struct{ Source Source }

// Credential implements Source.
func (p Placeholders) Credential(ctx context.Context, req Request) (Credential, error) {
	if _, err := p.Source.Credential(ctx, req); err != nil {
		return Credential{}, err
	}
	return Credential{Token: token.Placeholder(req.Fingerprint()), Placeholder: true}, nil
}
