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

func (p *Provisioner) desired(req tokensource.Request, release string) settings {
	s := req.Spec
	return settings{
		description:    describe(descriptionBase(req), release, req.Fingerprint()),
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
// locked means something only for project runners (GitLab keeps it off elsewhere), so it is compared
// there only. verb and detail describe the action when nothing needs changing.
func (p *Provisioner) reconcile(ctx context.Context, c *gl.Client, req tokensource.Request, r *gl.RunnerDetails, d settings, verb, detail string) error {
	var o gl.UpdateRunnerDetailsOptions
	var changes []string
	if r.Description != d.description {
		o.Description = gl.Ptr(d.description)
		changes = append(changes, "description")
	}
	have := slices.Clone(r.TagList)
	slices.Sort(have)
	if !slices.Equal(have, d.tags) {
		o.TagList = gl.Ptr(slices.Clone(d.tags))
		changes = append(changes, fmt.Sprintf("tags %s -> %s", strings.Join(have, ","), strings.Join(d.tags, ",")))
	}
	if r.RunUntagged != d.runUntagged {
		o.RunUntagged = gl.Ptr(d.runUntagged)
		changes = append(changes, fmt.Sprintf("run-untagged -> %t", d.runUntagged))
	}
	if r.RunnerType == ProjectType && r.Locked != d.locked {
		o.Locked = gl.Ptr(d.locked)
		changes = append(changes, fmt.Sprintf("locked -> %t", d.locked))
	}
	if r.AccessLevel != d.accessLevel {
		o.AccessLevel = gl.Ptr(d.accessLevel)
		changes = append(changes, "access level -> "+d.accessLevel)
	}
	if d.maximumTimeout > 0 && r.MaximumTimeout != d.maximumTimeout {
		o.MaximumTimeout = gl.Ptr(d.maximumTimeout)
		changes = append(changes, fmt.Sprintf("maximum timeout -> %ds", d.maximumTimeout))
	}
	if r.Paused != d.paused {
		o.Paused = gl.Ptr(d.paused)
		changes = append(changes, fmt.Sprintf("paused -> %t", d.paused))
	}
	if len(changes) == 0 {
		if verb != "" {
			p.record(req, verb, r.ID, detail)
		}
		return nil
	}
	p.record(req, "update", r.ID, strings.Join(changes, "; "))
	if p.cfg.DryRun {
		return nil
	}
	if _, _, err := c.Runners.UpdateRunnerDetails(r.ID, &o, gl.WithContext(ctx)); err != nil {
		return explain(err, fmt.Sprintf("updating runner %d", r.ID))
	}
	return nil
}
