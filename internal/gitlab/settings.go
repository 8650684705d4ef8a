package gitlab

import (
	"context"
	"fmt"
	"slices"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// settings are the runner attributes GitLab owns that runner-migrate sets from a spec.
type settings struct {
	description    string
	tags           []string
	runUntagged    bool
	locked         bool
	accessLevel    string
	maximumTimeout int64 // 0: leave as is
	paused         bool
	note           string
}

func (p *Provisioner) desired(req tokensource.Request, marker string) settings {
	s := req.Spec
	return settings{
		description:    Describe(descriptionBase(req), marker),
		tags:           s.Tags,
		runUntagged:    s.RunUntagged,
		locked:         s.Locked,
		accessLevel:    accessLevel(s),
		maximumTimeout: int64(s.MaximumTimeout),
		paused:         s.Paused,
		note:           s.MaintenanceNote,
	}
}

func accessLevel(s rewrite.Spec) string {
	if s.AccessLevel == "" {
		return rewrite.AccessNotProtected
	}
	return s.AccessLevel
}

func (d settings) summary() string {
	tags := "no tags"
	if len(d.tags) > 0 {
		tags = "tags " + strings.Join(d.tags, ",")
	}
	out := fmt.Sprintf("%q, %s, run-untagged=%t, locked=%t, %s", d.description, tags, d.runUntagged, d.locked, d.accessLevel)
	if d.maximumTimeout > 0 {
		out += fmt.Sprintf(", maximum-timeout=%ds", d.maximumTimeout)
	}
	if d.paused {
		out += ", paused"
	}
	return out
}

func (d settings) createOptions() *gl.CreateUserRunnerOptions {
	o := &gl.CreateUserRunnerOptions{
		Description: gl.Ptr(d.description),
		TagList:     gl.Ptr(slices.Clone(d.tags)),
		RunUntagged: gl.Ptr(d.runUntagged),
		Locked:      gl.Ptr(d.locked),
		AccessLevel: gl.Ptr(d.accessLevel),
		Paused:      gl.Ptr(d.paused),
	}
	if d.maximumTimeout > 0 {
		o.MaximumTimeout = gl.Ptr(d.maximumTimeout)
	}
	if d.note != "" {
		o.MaintenanceNote = gl.Ptr(d.note)
	}
	return o
}

// reconcile brings a runner's settings to the desired ones with one PUT of the fields that differ.
// A maximum timeout the values no longer set is cleared (sent as null). locked means something only
// for project runners (GitLab keeps it off elsewhere), so it is compared there only. verb and detail
// describe the action when nothing needs changing.
func (p *Provisioner) reconcile(ctx context.Context, r *run, d *RunnerDetails, verb, detail string) error {
	want := r.desired
	fields := map[string]any{}
	var changes []string
	if d.Description != want.description {
		fields["description"] = want.description
		changes = append(changes, "description")
	}
	have := slices.Clone(d.TagList)
	slices.Sort(have)
	if !slices.Equal(have, want.tags) {
		fields["tag_list"] = append([]string{}, want.tags...)
		changes = append(changes, fmt.Sprintf("tags %s -> %s", strings.Join(have, ","), strings.Join(want.tags, ",")))
	}
	if d.RunUntagged != want.runUntagged {
		fields["run_untagged"] = want.runUntagged
		changes = append(changes, fmt.Sprintf("run-untagged -> %t", want.runUntagged))
	}
	if d.RunnerType == ProjectType && d.Locked != want.locked {
		fields["locked"] = want.locked
		changes = append(changes, fmt.Sprintf("locked -> %t", want.locked))
	}
	if d.AccessLevel != want.accessLevel {
		fields["access_level"] = want.accessLevel
		changes = append(changes, "access level -> "+want.accessLevel)
	}
	switch {
	case want.maximumTimeout > 0 && (d.MaximumTimeout == nil || *d.MaximumTimeout != want.maximumTimeout):
		fields["maximum_timeout"] = want.maximumTimeout
		changes = append(changes, fmt.Sprintf("maximum timeout -> %ds", want.maximumTimeout))
	case want.maximumTimeout == 0 && d.MaximumTimeout != nil:
		fields["maximum_timeout"] = nil
		changes = append(changes, "maximum timeout cleared")
	}
	if d.Paused != want.paused {
		fields["paused"] = want.paused
		changes = append(changes, fmt.Sprintf("paused -> %t", want.paused))
	}
	if note := deref(d.MaintenanceNote); note != want.note {
		fields["maintenance_note"] = want.note
		changes = append(changes, "maintenance note")
	}
	if len(changes) == 0 {
		if verb != "" {
			p.record(r.req, verb, d.ID, detail)
		}
		return nil
	}
	p.record(r.req, "update", d.ID, strings.Join(changes, "; "))
	if p.cfg.DryRun {
		return nil
	}
	if err := updateRunner(ctx, r.c, d.ID, fields); err != nil {
		return explain(err, fmt.Sprintf("updating runner %d", d.ID))
	}
	return nil
}
