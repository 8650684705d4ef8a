package gitlabfake

import (
	"net/http"
	"time"
)

// The endpoints of API::Ci::Runner, which a gitlab-runner process calls with its own
// runner token (or a registration token) in the parameters rather than a PAT.

// requireToken is Grape's `requires :token`.
func (c *call) requireToken() (string, *response) {
	t, st := c.params.str("token")
	switch st {
	case absent, null:
		return "", paramError("token is missing")
	case invalid:
		return "", paramError("token is invalid")
	}
	return t, nil
}

// POST /runners/verify. Like GitLab's authenticate_runner!, it is not a harmless probe:
// it heartbeats the runner (contacted_at, status online) and records a runner manager for
// system_id, or "<legacy>" when none is sent.
func (c *call) verifyRunner() *response {
	token, resp := c.requireToken()
	if resp != nil {
		return resp
	}
	var errs paramErrors
	systemID, _ := c.params.optString(&errs, "system_id")
	if resp := errs.response(); resp != nil {
		return resp
	}
	r := c.s.runnerForToken(token)
	if r == nil {
		return forbidden("")
	}
	id := "<legacy>"
	if systemID != nil && *systemID != "" {
		id = *systemID
	}
	c.s.heartbeat(r, id)
	return jsonResponse(http.StatusOK, registrationDetails(r))
}

func (s *Server) heartbeat(r *runner, systemID string) {
	now := s.now()
	r.contactedAt = &now
	s.ensureManager(r, systemID, now)
}

func (s *Server) ensureManager(r *runner, systemID string, now time.Time) {
	for _, m := range r.managers {
		if m.systemID == systemID {
			m.contactedAt = now
			return
		}
	}
	r.managers = append(r.managers, &runnerManager{id: s.nextManagerID, systemID: systemID, createdAt: now, contactedAt: now})
	s.nextManagerID++
}

// POST /runners: the legacy registration workflow with a registration token.
func (c *call) registerLegacyRunner() *response {
	s, p := c.s, c.params
	token, resp := c.requireToken()
	if resp != nil {
		return resp
	}
	var errs paramErrors
	attrs := runnerAttrs{description: readString(p, &errs, "description")}
	maintainerNote := readString(p, &errs, "maintainer_note")
	attrs.maintenanceNote = readString(p, &errs, "maintenance_note")
	active := readBool(p, &errs, "active")
	attrs.paused = readBool(p, &errs, "paused")
	attrs.locked = readBool(p, &errs, "locked")
	attrs.runUntagged = readBool(p, &errs, "run_untagged")
	attrs.tags, attrs.tagsSet = p.optList(&errs, "tag_list")
	attrs.accessLevel = readEnum(p, &errs, "access_level", accessLevels...)
	attrs.maximumTimeout = readInt(p, &errs, "maximum_timeout")
	if p.has("active") && p.has("paused") {
		errs = append(errs, "active, paused are mutually exclusive")
	}
	if resp := errs.response(); resp != nil {
		return resp
	}
	attrs.applyDeprecated(active, maintainerNote)

	// With registration tokens disabled GitLab refuses every registration with 410, even for
	// a token it does not know.
	if !s.registrationTokens {
		return messageError(http.StatusGone, "410 Gone - runner registration disallowed")
	}
	r := &runner{runUntagged: true, accessLevel: "not_protected", tags: []string{}}
	switch {
	case token == s.instanceRegistrationToken:
		r.runnerType = instanceType
	default:
		if g := s.groupByRegistrationToken(token); g != nil {
			r.runnerType, r.groupID = groupType, g.id
		} else if pr := s.projectByRegistrationToken(token); pr != nil {
			r.runnerType, r.projectID = projectType, pr.id
		} else {
			return forbidden("invalid token supplied")
		}
	}
	attrs.apply(r)
	info := p.hash("info")
	for name, field := range map[string]**string{"name": &r.name, "version": &r.version, "revision": &r.revision,
		"platform": &r.platform, "architecture": &r.architecture} {
		if v, st := info.str(name); st == valid {
			*field = &v
		}
	}
	if verrs := validateRunner(r); len(verrs) > 0 {
		return validationHashResponse(verrs)
	}
	s.commitNewRunner(r, 0, "registration_token", s.newLegacyRunnerToken(r.runnerType))
	return jsonResponse(http.StatusCreated, registrationDetails(r))
}

func (s *Server) groupByRegistrationToken(token string) *group {
	for _, g := range s.groups {
		if g.runnersToken == token {
			return g
		}
	}
	return nil
}

func (s *Server) projectByRegistrationToken(token string) *project {
	for _, p := range s.projects {
		if p.runnersToken == token {
			return p
		}
	}
	return nil
}

// runnerFromToken authenticates a runner-token call (no PAT): the runner whose current token the
// request carries, or 403 Forbidden.
func (c *call) runnerFromToken() (*runner, *response) {
	token, resp := c.requireToken()
	if resp != nil {
		return nil, resp
	}
	r := c.s.runnerForToken(token)
	if r == nil {
		return nil, forbidden("")
	}
	return r, nil
}

// DELETE /runners with the runner's own token. It does not heartbeat.
func (c *call) deleteRunnerByToken() *response {
	r, resp := c.runnerFromToken()
	if resp != nil {
		return resp
	}
	delete(c.s.runners, r.id)
	return noContent()
}

// POST /runners/reset_authentication_token with the runner's own token (what gitlab-runner
// uses to rotate before expiry).
func (c *call) resetTokenWithRunnerToken() *response {
	r, resp := c.runnerFromToken()
	if resp != nil {
		return resp
	}
	c.s.rotateRunnerToken(r)
	return jsonResponse(http.StatusCreated, resetTokenResult(r))
}
