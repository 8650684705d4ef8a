package lint

import (
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
	"github.com/runner-migrate/runner-migrate/internal/lint/values"
	"github.com/runner-migrate/runner-migrate/internal/releases"
	"github.com/runner-migrate/runner-migrate/internal/token"
)

// deployed lints a release read from the cluster: the values the user supplied (with the chart the
// release record names) and the manifest Helm applied. Findings name the release as their file
// ("release ci/runner (revision 3, chart gitlab-runner-0.71.0)") and say in their path whether they
// come from its values or its manifest; a line in the stored values means nothing to a person, so
// there is none.
func (r *run) deployed(rel *releases.Release) {
	label := rel.Label()
	lr := rules.Release{Chart: rules.ChartOf(rel.Chart.Name, false), File: label, PathPrefix: "values: "}
	for _, d := range rel.Chart.Dependencies {
		if s, ok := runnerSubchart(d.Name, d.Alias, d.Condition); ok {
			lr.Subcharts = append(lr.Subcharts, s)
		}
	}
	if cfg := strings.TrimSpace(string(rel.Config)); cfg != "" && cfg != "null" {
		v, err := values.ParseAt(label, cfg, values.Origin{Flat: true})
		if err != nil {
			r.fail(label, err)
			return
		}
		lr.Values = v
	}
	var live rules.LiveSecret
	if r.opts.LiveSecret != nil {
		live = func(ns, name string) (token.Token, token.Token, bool, error) {
			if ns == "" {
				ns = rel.Namespace
			}
			return r.opts.LiveSecret(ns, name)
		}
	}
	found, known, err := rules.DeployedManifests(label, []byte(rel.Manifest), r.opts.Target, live)
	if err != nil {
		r.fail(label, err)
		return
	}
	r.res.Files++
	for _, f := range rules.LintRelease(lr, r.opts.Target) {
		// The values cannot show what a Secret holds; the manifest or the cluster did, and the
		// manifest's findings say it.
		if known && unprovenSecret[f.Rule] {
			continue
		}
		r.res.Findings = append(r.res.Findings, f)
	}
	for _, f := range found {
		f.Line, f.Column, f.Path = 0, 0, "manifest: "+f.Path
		r.res.Findings = append(r.res.Findings, f)
	}
}

// unprovenSecret are the rules that report a token Secret the values do not show.
var unprovenSecret = map[*rules.Rule]bool{rules.UnprovenSecret: true, rules.SharedRunnerSecret: true, rules.BundledRunnerSharedSecret: true}
