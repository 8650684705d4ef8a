package migrate

import (
	"context"
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/kube"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// helmKeep is Helm's annotation that keeps a resource a release no longer renders.
const helmKeep = "helm.sh/resource-policy"

// provision creates (or finds) the runner of each spec, once for the runners of a release that
// share it (as the post-renderer groups them), and keeps each token in the Secret the values now
// point at.
func (m *migration) provision(ctx context.Context) error {
	type group struct {
		req     tokensource.Request
		targets []*target
	}
	var order []*group
	groups := map[string]*group{}
	for _, t := range m.targets {
		if t.act != actMigrate {
			continue
		}
		key := t.rel.namespace + "/" + t.rel.name + " " + t.site.Spec.Fingerprint()
		g, ok := groups[key]
		if !ok {
			g = &group{req: tokensource.Request{Spec: t.site.Spec}}
			groups[key] = g
			order = append(order, g)
		}
		g.req.Sites = append(g.req.Sites, t.site)
		g.targets = append(g.targets, t)
	}
	for _, g := range order {
		cred, err := m.opts.Provisioner.Credential(ctx, g.req)
		if err != nil {
			return fmt.Errorf("creating the runner of %s (spec %s): %w", g.targets[0], g.req.Fingerprint(), err)
		}
		if !cred.Token.IsAuthentication() || cred.Placeholder && !m.opts.DryRun {
			return fmt.Errorf("the runner of %s (spec %s) got no usable authentication token", g.targets[0], g.req.Fingerprint())
		}
		m.keepSecret(cred.Token)
		for _, t := range g.targets {
			if err := m.keep(ctx, t, g.req.Fingerprint(), cred); err != nil {
				return err
			}
		}
	}
	return nil
}

// keep puts a runner's token where the values now take it from: the Secret migrate keeps (created
// or brought up to date), or, with --inline-token, the values themselves.
func (m *migration) keep(ctx context.Context, t *target, fingerprint string, cred tokensource.Credential) error {
	if m.opts.InlineToken {
		if err := t.rel.set(t.path("runnerToken"), str(cred.Token.Reveal())); err != nil {
			return err
		}
		if !m.opts.DryRun {
			m.opts.Warn(fmt.Sprintf("%s: the runner's authentication token is written into the values (runnerToken, --inline-token): "+
				"a secret in git for anyone who can read them; keep those files as you keep secrets, or run migrate without --inline-token", t))
		}
		return nil
	}
	rel := gitlab.Release{Namespace: t.namespace, Name: t.rel.name}
	want := kube.MigratedSecret(rel, t.ours, gitlab.Record{RunnerID: cred.RunnerID, Token: cred.Token, Fingerprint: fingerprint,
		ExpiresAt: cred.ExpiresAt, GitLabURL: cred.GitLabURL})
	if cred.Placeholder {
		want.Annotations[rewrite.AnnotationPlaceholder] = "dry run: this token is a placeholder"
	}
	have, err := m.opts.Cluster.Secret(ctx, t.namespace, t.ours)
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	if have != nil && (have.Labels["app.kubernetes.io/managed-by"] == "Helm" || have.Annotations["meta.helm.sh/release-name"] != "") {
		// The post-renderer rendered this Secret into the release: the first upgrade without it
		// would delete the Secret the values now point at.
		want.Annotations[helmKeep] = "keep"
		m.opts.Note(fmt.Sprintf("%s: Secret %s/%s belongs to the release (the post-renderer rendered it); annotated %s: keep, so that "+
			"Helm keeps it once the migrated values no longer render it", t, t.namespace, t.ours, helmKeep))
	}
	verb, err := m.opts.Cluster.WriteSecret(ctx, want, m.opts.DryRun)
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	t.secretVerb = verb
	return nil
}

// finish writes the edits into the files' trees and reports what was done.
func (m *migration) finish() error {
	for _, r := range m.releases {
		if err := r.commit(); err != nil {
			return err
		}
	}
	for _, f := range m.files {
		out, err := f.stream.Bytes()
		if err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
		m.res.Files = append(m.res.Files, File{Path: f.path, Before: f.data, After: out})
	}
	would := ""
	if m.opts.DryRun {
		would = "would be "
	}
	for _, t := range m.targets {
		var parts []string
		switch t.act {
		case actNone:
			m.report(t.rel.label+": "+t.String(), "left alone: "+t.why)
			continue
		case actMigrate:
			where := "Secret " + t.namespace + "/" + t.ours + " " + would + t.secretVerb
			if m.opts.InlineToken {
				where = "token " + would + "written into the values (runnerToken)"
			}
			from := "the values"
			if t.rendered {
				from = "the chart's render"
			}
			parts = append(parts, fmt.Sprintf("migrated (%s): runner spec %s (from %s: %s); %s", t.why, t.site.Spec.Fingerprint(), from, t.site.Spec.Summary(), where))
		case actRepair:
			parts = append(parts, "keeps its token ("+t.why+")")
		case actDone:
			parts = append(parts, "already migrated ("+t.why+")")
		}
		if len(t.set) > 0 {
			parts = append(parts, "set "+strings.Join(t.set, ", "))
		}
		if len(t.removed) > 0 {
			parts = append(parts, "removed "+strings.Join(t.removed, ", "))
		}
		if len(t.set)+len(t.removed) == 0 && t.act != actMigrate {
			parts = append(parts, "nothing to change")
		}
		m.report(t.rel.label+": "+t.String(), strings.Join(parts, "; "))
	}
	return nil
}

// Diff is the unified diff of every changed file, with every token the files and the run hold
// redacted.
func (r *Result) Diff() (string, error) {
	var b strings.Builder
	for _, f := range r.Files {
		if !f.Changed() {
			continue
		}
		d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(r.Redact(string(f.Before))), B: difflib.SplitLines(r.Redact(string(f.After))),
			FromFile: "a/" + f.Path, ToFile: "b/" + f.Path, Context: 3})
		if err != nil {
			return "", err
		}
		b.WriteString(d)
	}
	return b.String(), nil
}

// Redact replaces every token the run met with a mark.
func (r *Result) Redact(s string) string {
	for _, t := range r.secrets {
		if v := t.Reveal(); len(v) >= 8 {
			s = strings.ReplaceAll(s, v, token.Redacted)
		}
	}
	return s
}
