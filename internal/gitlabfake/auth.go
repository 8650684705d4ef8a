package gitlabfake

import (
	"crypto/rand"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// actor is who a request acts as. user is nil for an anonymous request.
type actor struct {
	user  *user
	token *accessToken
	// admin is true when the user may use administrator rights on this request: an
	// administrator, and, when Admin Mode is on, with a token that has the admin_mode scope.
	admin bool
}

// authMode says how a route authenticates.
type authMode int

const (
	// authPAT requires a personal access token (GitLab's authenticate!).
	authPAT authMode = iota
	// authOptionalPAT serves anonymous requests too (GET /groups, /projects): a missing
	// token means anonymous, a bad one still gets 401.
	authOptionalPAT
	// authRunnerToken routes authenticate with a runner or registration token in the
	// parameters; PAT headers are ignored.
	authRunnerToken
)

// The OAuth-style bodies GitLab's APIGuard produces through Rack::OAuth2.
const (
	expiredTokenDescription = "Token is expired. You can either do re-authorization or token refresh."
	revokedTokenDescription = "Token was revoked. You have to re-authorize from the user."
	insufficientScopeText   = "The request requires higher privileges than provided by the access token."
)

// presentedToken finds the PAT in the places GitLab looks: the PRIVATE-TOKEN header, an
// Authorization: Bearer header, and the private_token parameter.
func presentedToken(r *http.Request) (string, bool) {
	if t := strings.TrimSpace(r.Header.Get("Private-Token")); t != "" {
		return t, true
	}
	if scheme, t, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if t = strings.TrimSpace(t); t != "" {
			return t, true
		}
	}
	if t := r.URL.Query().Get("private_token"); t != "" {
		return t, true
	}
	return "", false
}

// authenticate runs GitLab's find_current_user! followed by the access-token validation:
// unknown or missing token, then expiry, then revocation, then scopes. It returns the
// actor, or the error response to send.
func (s *Server) authenticate(r *http.Request, mode authMode, allowedScopes []string) (*actor, *response) {
	secret, present := presentedToken(r)
	if !present {
		if mode == authOptionalPAT {
			return &actor{}, nil
		}
		return nil, unauthorized()
	}
	tok := s.tokens[secret]
	if tok == nil || s.users[tok.userID] == nil {
		return nil, unauthorized()
	}
	if tok.expiresAt != nil && !tok.expiresAt.After(s.now()) {
		return nil, oauthError(http.StatusUnauthorized, "invalid_token", expiredTokenDescription, "")
	}
	if tok.revoked {
		return nil, oauthError(http.StatusUnauthorized, "invalid_token", revokedTokenDescription, "")
	}
	if !hasAnyScope(tok, allowedScopes) {
		return nil, oauthError(http.StatusForbidden, "insufficient_scope", insufficientScopeText, strings.Join(allowedScopes, " "))
	}
	s.recordTokenUse(tok, r)
	u := s.users[tok.userID]
	return &actor{user: u, token: tok, admin: u.admin && (!s.adminMode || tok.hasScope("admin_mode"))}, nil
}

// recordTokenUse keeps last_used_at and the address the token was used from, as GitLab's
// PersonalAccessTokens::LastUsedService does (GitLab throttles the write; the fake need not).
func (s *Server) recordTokenUse(tok *accessToken, r *http.Request) {
	now := s.now()
	tok.lastUsedAt = &now
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	if ip != "" && !slices.Contains(tok.lastUsedIPs, ip) {
		tok.lastUsedIPs = append(tok.lastUsedIPs, ip)
	}
}

// anyScope in a route's scopes lets a token with any scope call it, as GitLab's
// allow_access_with_scope(Gitlab::Auth.all_available_scopes) does for a token's self-inspection.
const anyScope = "*"

func hasAnyScope(tok *accessToken, allowed []string) bool {
	for _, sc := range allowed {
		if sc == anyScope || tok.hasScope(sc) {
			return true
		}
	}
	return false
}

// oauthError renders Rack::OAuth2's bearer errors, including the WWW-Authenticate header.
func oauthError(status int, code, description, scope string) *response {
	body := obj{{"error", code}, {"error_description", description}}
	challenge := `Bearer realm="Protected by OAuth 2.0", error="` + code + `", error_description="` + description + `"`
	if scope != "" {
		body = append(body, kv{"scope", scope})
		challenge += `, scope="` + scope + `"`
	}
	resp := jsonResponse(status, body)
	resp.header.Set("WWW-Authenticate", challenge)
	return resp
}

// allowedScopes lists the PAT scopes that may call a route: api everywhere, read_api on
// GET/HEAD (API::API registers both), then the route's own scopes (create_runner on
// POST /user/runners, manage_runner on /runners/:id..., read_user on GET /user).
func allowedScopes(method string, extra []string) []string {
	scopes := []string{"api"}
	if method == http.MethodGet || method == http.MethodHead {
		scopes = append(scopes, "read_api")
	}
	return append(scopes, extra...)
}

// tokenAlphabet is the URL-safe alphabet GitLab's token generators draw from. It has 64
// characters, so masking a random byte with 63 keeps the draw uniform.
const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = tokenAlphabet[b[i]&63]
	}
	return string(b)
}

// runnerTypeDigit is the partition prefix Ci::Runner puts into its tokens (t1_, t2_, t3_).
func runnerTypeDigit(runnerType string) string {
	switch runnerType {
	case instanceType:
		return "1"
	case groupType:
		return "2"
	default:
		return "3"
	}
}

// newRunnerToken issues a runner authentication token as the new creation workflow does:
// "glrt-t<type>_" and 24 random characters.
func (s *Server) newRunnerToken(runnerType string) string {
	return runnerToken("glrt-t" + runnerTypeDigit(runnerType) + "_")
}

// newLegacyRunnerToken issues the token of a runner registered with a registration token,
// which has the partition prefix but no glrt- prefix.
func (s *Server) newLegacyRunnerToken(runnerType string) string {
	return runnerToken("t" + runnerTypeDigit(runnerType) + "_")
}

// runnerToken draws 24 characters (144 random bits), so a collision with an existing token
// is not a practical concern and is not checked for.
func runnerToken(prefix string) string {
	return prefix + randomToken(24)
}

// tokenExpiresAt is when a runner token of the given type created or reset now expires,
// or nil when no expiration interval is configured.
func (s *Server) tokenExpiresAt(runnerType string) *time.Time {
	d, ok := s.tokenExpiration[runnerType]
	if !ok || d <= 0 {
		return nil
	}
	t := s.now().Add(d)
	return &t
}

// runnerForToken is GitLab's find_by_token plus the expiry check authenticate_runner! does.
func (s *Server) runnerForToken(token string) *runner {
	r := s.runnerByToken(token)
	if r == nil || (r.tokenExpiresAt != nil && !r.tokenExpiresAt.After(s.now())) {
		return nil
	}
	return r
}
