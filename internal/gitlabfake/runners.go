package gitlabfake

import (
	"net/http"
	"strings"
	"time"
)

// The PAT-authenticated runner endpoints: create (POST /user/runners), read, update,
// delete, reset the token, list managers.

// POST /user/runners (API::UserRunners).
func (c *call) createUserRunner() *response {
	s, p := c.s, c.params
	var errs paramErrors

	runnerType, st := p.str("runner_type")
	switch {
	case st == absent || st == null:
		errs.add("runner_type", "is missing")
		errs.add("runner_type", "does not have a valid value")
	case st == invalid:
		errs.add("runner_type", "is invalid")
	case !isRunnerType(runnerType):
		errs.add("runner_type", "does not have a valid value")
	}
	// group_id and project_id are declared in `given runner_type: ...` blocks, so they are
	// validated, and used, only for the matching runner type.
	var scopeID int64
	for _, dep := range []struct{ typ, param string }{{groupType, "group_id"}, {projectType, "project_id"}} {
		if runnerType != dep.typ {
			continue
		}
		switch id, st := p.integer(dep.param); st {
		case absent, null:
			errs.add(dep.param, "is missing")
		case invalid:
			errs.add(dep.param, "is invalid")
		default:
			scopeID = id
		}
	}
	attrs := runnerAttrs{
		description:     readString(p, &errs, "description"),
		maintenanceNote: readString(p, &errs, "maintenance_note"),
		paused:          readBool(p, &errs, "paused"),
		locked:          readBool(p, &errs, "locked"),
		accessLevel:     readEnum(p, &errs, "access_level", accessLevels...),
		runUntagged:     readBool(p, &errs, "run_untagged"),
	}
	attrs.tags, attrs.tagsSet = p.optList(&errs, "tag_list")
	attrs.maximumTimeout = readInt(p, &errs, "maximum_timeout")
	if resp := errs.response(); resp != nil {
		return resp
	}

	// Lookup: the endpoint resolves the scope with find_by_id, so an unknown ID is a 400.
	r := &runner{runnerType: runnerType}
	switch runnerType {
	case groupType:
		g := s.groups[scopeID]
		if g == nil {
			return badRequest("Missing/invalid group")
		}
		r.groupID = g.id
	case projectType:
		pr := s.projects[scopeID]
		if pr == nil {
			return badRequest("Missing/invalid project")
		}
		r.projectID = pr.id
	}

	// Permission (CreateRunnerService strategies).
	allowed := c.actor.admin
	switch runnerType {
	case groupType:
		allowed = allowed || s.groupAccess(c.actor.user, s.groups[r.groupID]) >= accessOwner
	case projectType:
		allowed = allowed || s.projectAccess(c.actor.user, s.projects[r.projectID]) >= accessMaintainer
	}
	if !allowed {
		return forbidden("Insufficient permissions")
	}

	// Model defaults, then the request's attributes, then validation.
	r.runUntagged = true
	r.accessLevel = "not_protected"
	r.tags = []string{}
	attrs.apply(r)
	if verrs := validateRunner(r); len(verrs) > 0 {
		return fullMessagesResponse(verrs)
	}

	s.commitNewRunner(r, c.actor.user.id, "authenticated_user", s.newRunnerToken(runnerType))
	return jsonResponse(http.StatusCreated, registrationDetails(r))
}

func (s *Server) commitNewRunner(r *runner, creatorID int64, registrationType, token string) {
	now := s.now()
	r.id = s.nextRunnerID
	s.nextRunnerID++
	r.creatorID = creatorID
	r.registrationType = registrationType
	r.token = token
	r.tokenExpiresAt = s.tokenExpiresAt(r.runnerType)
	r.createdAt, r.updatedAt = now, now
	s.runners[r.id] = r
}

// lookupRunner reads the :id parameter (Grape type Integer) and finds the runner with
// Ci::Runner.find, whose RecordNotFound GitLab renders as 404 "Not found".
func (c *call) lookupRunner() (*runner, *response) {
	id, st := params{"id": c.vars["id"]}.integer("id")
	if st != valid {
		return nil, paramError("id is invalid")
	}
	r := c.s.runners[id]
	if r == nil {
		return nil, recordNotFound()
	}
	return r, nil
}

// GET /runners/:id
func (c *call) getRunner() *response {
	r, resp := c.lookupRunner()
	if resp != nil {
		return resp
	}
	if !c.s.canReadRunner(c.actor, r) {
		return forbidden("No access granted")
	}
	return jsonResponse(http.StatusOK, c.runnerDetailsEntity(r))
}

// updatableParams is the at_least_one_of list of PUT /runners/:id, in declaration order.
var updatableParams = []string{"description", "active", "paused", "tag_list", "run_untagged", "locked",
	"access_level", "maximum_timeout", "maintainer_note", "maintenance_note"}

// PUT /runners/:id
func (c *call) updateRunner() *response {
	s, p := c.s, c.params
	if _, st := (params{"id": c.vars["id"]}).integer("id"); st != valid {
		return paramError("id is invalid")
	}
	var errs paramErrors
	attrs := runnerAttrs{description: readString(p, &errs, "description")}
	active := readBool(p, &errs, "active")
	attrs.paused = readBool(p, &errs, "paused")
	attrs.tags, attrs.tagsSet = p.optList(&errs, "tag_list")
	attrs.runUntagged = readBool(p, &errs, "run_untagged")
	attrs.locked = readBool(p, &errs, "locked")
	attrs.accessLevel = readEnum(p, &errs, "access_level", accessLevels...)
	attrs.maximumTimeout = readInt(p, &errs, "maximum_timeout")
	maintainerNote := readString(p, &errs, "maintainer_note")
	attrs.maintenanceNote = readString(p, &errs, "maintenance_note")

	sent := false
	for _, name := range updatableParams {
		sent = sent || p.has(name)
	}
	if !sent {
		errs = append(errs, strings.Join(updatableParams, ", ")+" are missing, at least one parameter must be provided")
	}
	if p.has("active") && p.has("paused") {
		errs = append(errs, "active, paused are mutually exclusive")
	}
	if resp := errs.response(); resp != nil {
		return resp
	}
	attrs.applyDeprecated(active, maintainerNote)

	r, resp := c.lookupRunner()
	if resp != nil {
		return resp
	}
	if !s.canUpdateRunner(c.actor, r) {
		return forbidden("No access granted")
	}
	updated := r.clone()
	attrs.apply(updated)
	if verrs := validateRunner(updated); len(verrs) > 0 {
		return validationHashResponse(verrs)
	}
	updated.updatedAt = s.now()
	s.runners[r.id] = updated
	return jsonResponse(http.StatusOK, c.runnerDetailsEntity(updated))
}

// DELETE /runners/:id
func (c *call) deleteRunner() *response {
	r, resp := c.lookupRunner()
	if resp != nil {
		return resp
	}
	if !c.s.canUpdateRunner(c.actor, r) {
		return forbidden("No access granted")
	}
	// destroy_conditionally! honours If-Unmodified-Since.
	if h := c.r.Header.Get("If-Unmodified-Since"); h != "" {
		if since, err := http.ParseTime(h); err == nil && r.updatedAt.Truncate(time.Second).After(since) {
			return messageError(http.StatusPreconditionFailed, "412 Precondition Failed")
		}
	}
	delete(c.s.runners, r.id)
	return noContent()
}

// POST /runners/:id/reset_authentication_token: the old token stops working at once.
func (c *call) resetRunnerToken() *response {
	r, resp := c.lookupRunner()
	if resp != nil {
		return resp
	}
	if !c.s.canUpdateRunner(c.actor, r) {
		return forbidden("No access granted")
	}
	c.s.rotateRunnerToken(r)
	return jsonResponse(http.StatusCreated, resetTokenResult(r))
}

func (s *Server) rotateRunnerToken(r *runner) {
	if r.registrationType == "registration_token" {
		r.token = s.newLegacyRunnerToken(r.runnerType)
	} else {
		r.token = s.newRunnerToken(r.runnerType)
	}
	r.tokenExpiresAt = s.tokenExpiresAt(r.runnerType)
	r.updatedAt = s.now()
}

// GET /runners/:id/managers
func (c *call) listRunnerManagers() *response {
	r, resp := c.lookupRunner()
	if resp != nil {
		return resp
	}
	if !c.s.canReadRunner(c.actor, r) {
		return forbidden("No access granted")
	}
	out := []any{}
	for _, m := range r.managers {
		out = append(out, c.managerEntity(r, m))
	}
	return jsonResponse(http.StatusOK, out)
}
