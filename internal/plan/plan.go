// Package plan shows what migration would do, without calling any API: the runners it would create
// (one per distinct runner spec, with the releases and sources that share it) and the unified diff
// the post-renderer would apply to each rendered release, with placeholder tokens.
package plan

import (
	"encoding/base64"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Source is one rendered release: its manifests and where they came from.
type Source struct {
	Name      string // a file, "-", or the chart and values files it was rendered from
	Manifests []byte
}

// Runner is one runner migration would create.
type Runner struct {
	Fingerprint string
	Spec        rewrite.Spec
	Workloads   []Workload
}

// Workload is a runner deployment that would use the runner.
type Workload struct {
	Ref     rewrite.Ref
	Release string // namespace/release from the chart's labels
	Source  string
	State   rewrite.TokenState
}

// Plan is the result.
type Plan struct {
	Runners []Runner
	Diffs   []Diff
}

// Diff is what the post-renderer would change in one source.
type Diff struct {
	Source  string
	Unified string // "" when nothing changes
}

// Make plans the migration of the sources.
func Make(sources []Source) (*Plan, error) {
	p := &Plan{}
	byFP := map[string]*Runner{}
	for _, src := range sources {
		s, err := rewrite.Read(src.Manifests)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Name, err)
		}
		if err := (rewrite.Detect{}).Filter(s); err != nil {
			return nil, fmt.Errorf("%s: %w", src.Name, err)
		}
		secrets := s.TokenValues()
		for _, site := range s.Sites {
			if !site.Migratable() {
				continue
			}
			fp := site.Spec.Fingerprint()
			r, ok := byFP[fp]
			if !ok {
				r = &Runner{Fingerprint: fp, Spec: site.Spec}
				byFP[fp] = r
			}
			r.Workloads = append(r.Workloads, Workload{Ref: site.Workload.Ref, Release: release(site), Source: src.Name, State: site.State})
			site.AuthToken, site.Placeholder = token.New("glrt-PLAN-PLACEHOLDER-"+fp), true
		}
		if err := rewrite.Patches.Filter(s); err != nil {
			return nil, fmt.Errorf("%s: %w", src.Name, err)
		}
		out, err := s.Bytes()
		if err != nil {
			return nil, err
		}
		diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(redact(string(src.Manifests), secrets)), B: difflib.SplitLines(redact(string(out), secrets)),
			FromFile: "a/" + src.Name, ToFile: "b/" + src.Name + " (post-rendered)", Context: 3,
		})
		if err != nil {
			return nil, err
		}
		p.Diffs = append(p.Diffs, Diff{Source: src.Name, Unified: diff})
	}
	for _, r := range byFP {
		p.Runners = append(p.Runners, *r)
	}
	sort.Slice(p.Runners, func(i, j int) bool { return p.Runners[i].Fingerprint < p.Runners[j].Fingerprint })
	return p, nil
}

// tokenKeyValue matches a token key of a Secret with a value that is not empty.
var tokenKeyValue = regexp.MustCompile(`(?m)^(\s*"?(?:` + regexp.QuoteMeta(rewrite.KeyRegistrationToken) + `|` + regexp.QuoteMeta(rewrite.KeyRunnerToken) +
	`)"?\s*:[ \t]*)([^\s"'#][^\r\n]*|"[^"\r\n]+"|'[^'\r\n]+')[ \t]*(\r?)$`)

// redact blanks the values of the token keys, whatever their encoding (base64 of a value read from
// a file ends in an encoded newline, say), and replaces every token the manifests hold elsewhere
// (env values), so a plan can be shown.
func redact(text string, secrets []token.Token) string {
	text = tokenKeyValue.ReplaceAllString(text, "${1}"+token.Redacted+"${3}")
	for _, t := range secrets {
		v := t.Reveal()
		for _, form := range []string{v + "\r\n", v + "\n", v} {
			text = strings.ReplaceAll(text, base64.StdEncoding.EncodeToString([]byte(form)), token.Redacted)
		}
		text = strings.ReplaceAll(text, v, token.Redacted)
	}
	return text
}

func release(site *rewrite.Site) string {
	if site.Release == "" {
		return ""
	}
	ns := site.Workload.Namespace
	if ns == "" {
		return site.Release
	}
	return ns + "/" + site.Release
}

// WriteText prints the plan for people.
func (p *Plan) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "runner-migrate plan: %d runner(s) to create in GitLab (no API was called; tokens in the diffs are placeholders)\n", len(p.Runners))
	for _, r := range p.Runners {
		fmt.Fprintf(w, "\n%s  %s\n", r.Fingerprint, r.Spec.Summary())
		if r.Spec.Description != "" {
			fmt.Fprintf(w, "  description: %s\n", r.Spec.Description)
		}
		for _, wl := range r.Workloads {
			rel := ""
			if wl.Release != "" {
				rel = ", release " + wl.Release
			}
			note := ""
			if wl.State != rewrite.TokenLegacy {
				note = " (its token is not in the manifests: " + wl.State.String() + ")"
			}
			fmt.Fprintf(w, "  used by %s%s, from %s%s\n", wl.Ref, rel, wl.Source, note)
		}
	}
	for _, d := range p.Diffs {
		if d.Unified == "" {
			fmt.Fprintf(w, "\n%s: nothing to change\n", d.Source)
			continue
		}
		fmt.Fprintf(w, "\n%s", strings.TrimRight(d.Unified, "\n")+"\n")
	}
	return nil
}
