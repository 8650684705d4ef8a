package gitlabfake

import (
	"net/http"
	"net/url"
	"strings"
)

// route is one API endpoint. pattern holds the path segments below /api/v4; a segment
// starting with ':' captures a (URL-decoded) variable.
type route struct {
	method  string
	pattern []string
	auth    authMode
	scopes  []string // PAT scopes accepted besides api (and read_api on GET)
	handle  func(*call) *response
}

// call is one request being answered, after authentication.
type call struct {
	s      *Server
	r      *http.Request
	method string // HEAD is served as GET, as Grape does
	actor  *actor
	params params
	vars   map[string]string
}

func (s *Server) routes() []route {
	manage := []string{"manage_runner"}
	return []route{
		{http.MethodPost, seg("user/runners"), authPAT, []string{"create_runner"}, (*call).createUserRunner},

		// Literal /runners/... routes come before /runners/:id.
		{http.MethodGet, seg("runners"), authPAT, nil, (*call).listOwnedRunners},
		{http.MethodGet, seg("runners/all"), authPAT, nil, (*call).listAllRunners},
		{http.MethodPost, seg("runners"), authRunnerToken, nil, (*call).registerLegacyRunner},
		{http.MethodDelete, seg("runners"), authRunnerToken, nil, (*call).deleteRunnerByToken},
		{http.MethodPost, seg("runners/verify"), authRunnerToken, nil, (*call).verifyRunner},
		{http.MethodPost, seg("runners/reset_authentication_token"), authRunnerToken, nil, (*call).resetTokenWithRunnerToken},

		{http.MethodGet, seg("runners/:id"), authPAT, manage, (*call).getRunner},
		{http.MethodPut, seg("runners/:id"), authPAT, manage, (*call).updateRunner},
		{http.MethodDelete, seg("runners/:id"), authPAT, manage, (*call).deleteRunner},
		{http.MethodPost, seg("runners/:id/reset_authentication_token"), authPAT, manage, (*call).resetRunnerToken},
		{http.MethodGet, seg("runners/:id/managers"), authPAT, manage, (*call).listRunnerManagers},

		{http.MethodGet, seg("groups"), authOptionalPAT, nil, (*call).listGroups},
		{http.MethodGet, seg("groups/:id"), authOptionalPAT, nil, (*call).getGroup},
		{http.MethodGet, seg("groups/:id/runners"), authPAT, nil, (*call).listGroupRunners},
		{http.MethodGet, seg("projects"), authOptionalPAT, nil, (*call).listProjects},
		{http.MethodGet, seg("projects/:id"), authOptionalPAT, nil, (*call).getProject},
		{http.MethodGet, seg("projects/:id/runners"), authPAT, nil, (*call).listProjectRunners},

		{http.MethodGet, seg("user"), authPAT, []string{"read_user"}, (*call).currentUser},
		{http.MethodGet, seg("personal_access_tokens/self"), authPAT, []string{anyScope}, (*call).personalAccessTokenSelf},
		{http.MethodGet, seg("version"), authPAT, []string{"read_user"}, (*call).metadata},
		{http.MethodGet, seg("metadata"), authPAT, []string{"read_user"}, (*call).metadata},
		{http.MethodGet, seg("application/settings"), authPAT, nil, (*call).applicationSettings},
	}
}

func seg(p string) []string { return strings.Split(p, "/") }

// route finds the endpoint and runs GitLab's evaluation order up to the handler:
// authentication and scopes, then body parsing; the handler does parameters, lookup,
// permission and model validation in that order.
func (s *Server) route(r *http.Request) *response {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	segments, ok := splitAPIPath(r.URL.EscapedPath())
	if !ok {
		return routeNotFound()
	}
	for _, rt := range s.routes() {
		vars, ok := matchPattern(rt.pattern, segments)
		if !ok || rt.method != method {
			continue
		}
		c := &call{s: s, r: r, method: method, vars: vars, actor: &actor{}}
		if rt.auth != authRunnerToken {
			a, failure := s.authenticate(r, rt.auth, allowedScopes(method, rt.scopes))
			if failure != nil {
				return failure
			}
			c.actor = a
		}
		p, err := readParams(r)
		if err != nil {
			return paramError(err.Error())
		}
		c.params = p
		return rt.handle(c)
	}
	// GitLab's catch-all route answers unknown paths, and known paths with a method they do
	// not serve, with the same 404.
	return routeNotFound()
}

// splitAPIPath splits the escaped path below /api/v4 into decoded segments, so that an
// encoded slash (groups/a%2Fb) stays inside its segment as in GitLab's router.
func splitAPIPath(escaped string) ([]string, bool) {
	rest, ok := strings.CutPrefix(escaped, apiPrefix+"/")
	if !ok || rest == "" {
		return nil, false
	}
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		if p == "" {
			return nil, false
		}
		d, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = d
	}
	return parts, true
}

func matchPattern(pattern, segments []string) (map[string]string, bool) {
	if len(pattern) != len(segments) {
		return nil, false
	}
	vars := map[string]string{}
	for i, p := range pattern {
		if name, ok := strings.CutPrefix(p, ":"); ok {
			vars[name] = segments[i]
			continue
		}
		if p != segments[i] {
			return nil, false
		}
	}
	return vars, true
}

// baseURL is the instance URL as the client addressed it, used for web_url and Link.
func (c *call) baseURL() string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}
