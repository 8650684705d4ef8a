package gitlabfake

import (
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// The runner model: the attributes clients set, Ci::Runner's validations, and who may do
// what with a runner.

var accessLevels = []string{"not_protected", "ref_protected"}

// Limits from Ci::Runner's validations.
const (
	maxDescriptionLength = 1024
	maxNoteLength        = 1024
	maxTags              = 50
	minMaximumTimeout    = 600
)

// runnerAttrs are the runner attributes a create, legacy registration or update sets.
// A nil pointer means "not sent".
type runnerAttrs struct {
	description     **string
	maintenanceNote **string
	paused          *bool
	locked          *bool
	runUntagged     *bool
	tags            []string
	tagsSet         bool
	accessLevel     *string
	maximumTimeout  **int64
}

// applyDeprecated folds the deprecated parameters into their successors when those were not sent:
// active (the inverse of paused) and maintainer_note (now maintenance_note).
func (a *runnerAttrs) applyDeprecated(active *bool, maintainerNote **string) {
	if active != nil && a.paused == nil {
		paused := !*active
		a.paused = &paused
	}
	if maintainerNote != nil && a.maintenanceNote == nil {
		a.maintenanceNote = maintainerNote
	}
}

func (a *runnerAttrs) any() bool {
	return a.description != nil || a.maintenanceNote != nil || a.paused != nil || a.locked != nil ||
		a.runUntagged != nil || a.tagsSet || a.accessLevel != nil || a.maximumTimeout != nil
}

func (a *runnerAttrs) apply(r *runner) {
	if a.description != nil {
		r.description = *a.description
	}
	if a.maintenanceNote != nil {
		r.maintenanceNote = *a.maintenanceNote
	}
	if a.paused != nil {
		r.paused = *a.paused
	}
	if a.locked != nil {
		r.locked = *a.locked
	}
	if a.runUntagged != nil {
		r.runUntagged = *a.runUntagged
	}
	if a.tagsSet {
		r.tags = normalizeTags(a.tags)
	}
	if a.accessLevel != nil {
		r.accessLevel = *a.accessLevel
	}
	if a.maximumTimeout != nil {
		r.maximumTimeout = *a.maximumTimeout
	}
}

// Typed readers that fill runnerAttrs and record Grape errors.

func readString(p params, errs *paramErrors, name string) **string {
	if v, ok := p.optString(errs, name); ok {
		return &v
	}
	return nil
}

func readBool(p params, errs *paramErrors, name string) *bool {
	if v, ok := p.optBool(errs, name); ok {
		return &v
	}
	return nil
}

func readInt(p params, errs *paramErrors, name string) **int64 {
	if v, ok := p.optInt(errs, name); ok {
		return &v
	}
	return nil
}

func readEnum(p params, errs *paramErrors, name string, allowed ...string) *string {
	if v, ok := p.optEnum(errs, name, allowed...); ok {
		return &v
	}
	return nil
}

// normalizeTags is ActsAsTaggableOn's TagList: stripped, no blanks, no duplicates.
func normalizeTags(tags []string) []string {
	out := []string{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// validationError is one ActiveModel error: the attribute key GitLab uses in the hash
// body, and the message without the attribute name.
type validationError struct{ attr, message string }

// humanAttr is ActiveModel's human_attribute_name for the runner attributes that can fail.
var humanAttr = map[string]string{
	"description":      "Description",
	"tags_list":        "Tags list",
	"maximum_timeout":  "Maximum timeout",
	"maintenance_note": "Maintenance note",
}

// validateRunner runs Ci::Runner's validations that a client can trip, in model order.
func validateRunner(r *runner) []validationError {
	var errs []validationError
	if r.description != nil && utf8.RuneCountInString(*r.description) > maxDescriptionLength {
		errs = append(errs, validationError{"description", "is too long (maximum is 1024 characters)"})
	}
	if len(r.tags) == 0 && !r.runUntagged {
		errs = append(errs, validationError{"tags_list", "can not be empty when runner is not allowed to pick untagged jobs"})
	}
	if len(r.tags) > maxTags {
		errs = append(errs, validationError{"tags_list", "Too many tags specified. Please limit the number of tags to 50"})
	}
	if r.maximumTimeout != nil && *r.maximumTimeout < minMaximumTimeout {
		errs = append(errs, validationError{"maximum_timeout", "needs to be at least 10 minutes"})
	}
	if r.maintenanceNote != nil && utf8.RuneCountInString(*r.maintenanceNote) > maxNoteLength {
		errs = append(errs, validationError{"maintenance_note", "is too long (maximum is 1024 characters)"})
	}
	return errs
}

// fullMessagesResponse is how the create service reports model errors:
// 400 {"message":"400 Bad request - <full messages to_sentence>"}.
func fullMessagesResponse(errs []validationError) *response {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = humanAttr[e.attr] + " " + e.message
	}
	return badRequest(toSentence(msgs))
}

// validationHashResponse is render_validation_error!: 400 {"message":{attr:[messages]}}.
func validationHashResponse(errs []validationError) *response {
	var body obj
	index := map[string]int{}
	for _, e := range errs {
		i, ok := index[e.attr]
		if !ok {
			i = len(body)
			index[e.attr] = i
			body = append(body, kv{e.attr, []string{}})
		}
		body[i].v = append(body[i].v.([]string), e.message)
	}
	return jsonResponse(http.StatusBadRequest, obj{{"message", body}})
}

// Permissions.

// canReadRunner mirrors authenticate_show_runner!: instance runners are readable by any
// signed-in user; group runners by the group's Maintainers and Owners, project runners by
// the project's Maintainers.
func (s *Server) canReadRunner(a *actor, r *runner) bool {
	if r.runnerType == instanceType || a.admin {
		return true
	}
	switch r.runnerType {
	case groupType:
		return s.groupAccess(a.user, s.groups[r.groupID]) >= accessMaintainer
	case projectType:
		return s.projectAccess(a.user, s.projects[r.projectID]) >= accessMaintainer
	}
	return false
}

// canUpdateRunner mirrors update_runner/delete_runner: administrators for instance
// runners, group Owners for group runners, project Maintainers for project runners.
func (s *Server) canUpdateRunner(a *actor, r *runner) bool {
	if a.admin {
		return true
	}
	switch r.runnerType {
	case groupType:
		return s.groupAccess(a.user, s.groups[r.groupID]) >= accessOwner
	case projectType:
		return s.projectAccess(a.user, s.projects[r.projectID]) >= accessMaintainer
	}
	return false
}

// ownsRunner is membership in User#ci_owned_runners (GET /runners): group runners of
// groups the user owns, project runners of projects the user maintains. Administrator
// rights add nothing here.
func (s *Server) ownsRunner(u *user, r *runner) bool {
	switch r.runnerType {
	case groupType:
		return s.groupAccess(u, s.groups[r.groupID]) >= accessOwner
	case projectType:
		return s.projectAccess(u, s.projects[r.projectID]) >= accessMaintainer
	}
	return false
}
