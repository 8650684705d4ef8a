package migrate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/runner-migrate/runner-migrate/internal/plan"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// render renders the release with its chart as its values stand (edited or not), with the Helm CLI,
// and finds its runners as the post-renderer does. The values go to helm in files of a temporary
// directory (they may hold tokens: mode 0600, removed at once).
func (r *release) render(helm string, edited bool) ([]*rewrite.Site, error) {
	dir, err := os.MkdirTemp("", "runner-migrate-values-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var files []string
	for i, l := range r.layers {
		var text []byte
		switch {
		case l.whole && l.root != nil:
			if !edited {
				files = append(files, l.file.path)
				continue
			}
			if text, err = l.file.stream.Bytes(); err != nil {
				return nil, err
			}
		case l.inner != nil:
			if text, err = l.inner.Bytes(); err != nil {
				return nil, err
			}
		case l.root != nil:
			if text, err = yaml.Marshal(l.root); err != nil {
				return nil, fmt.Errorf("%s: %w", l.name, err)
			}
		default:
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("layer-%d.yaml", i))
		if err := os.WriteFile(path, text, 0o600); err != nil {
			return nil, err
		}
		files = append(files, path)
	}
	out, err := plan.Render(helm, r.chartRef, r.name, r.namespace, files)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.label, err)
	}
	s, err := rewrite.Read(out)
	if err != nil {
		return nil, fmt.Errorf("%s: the chart's render: %w", r.label, err)
	}
	if err := (rewrite.Detect{}).Filter(s); err != nil {
		return nil, fmt.Errorf("%s: the chart's render: %w", r.label, err)
	}
	return s.Sites, nil
}

// siteOf finds a target's workload among rendered sites: by the name the chart gives it, else the
// only one there is for the only target.
func siteOf(sites []*rewrite.Site, t *target, targets int) *rewrite.Site {
	for _, s := range sites {
		if s.Workload.Name == t.deployment {
			return s
		}
	}
	if len(sites) == 1 && targets == 1 {
		return sites[0]
	}
	return nil
}

// verify renders the edited values and checks that every runner migrate changed now registers with
// an authentication token and passes nothing GitLab refuses with one. A REGISTER_LOCKED="false" that
// a parent chart's defaults bring back (the GitLab chart sets runners.locked: false) is fixed with
// runners.locked: true, which gitlab-runner accepts; anything else left is an error.
func (r *release) verify(helm string, targets []*target) error {
	for attempt := 0; attempt < 2; attempt++ {
		if err := r.commit(); err != nil {
			return err
		}
		sites, err := r.render(helm, true)
		if err != nil {
			return err
		}
		retry := false
		var problems []string
		for _, t := range targets {
			if t.act == actNone {
				continue
			}
			s := siteOf(sites, t, len(targets))
			if s == nil {
				problems = append(problems, fmt.Sprintf("%s is not in the render of the migrated values", t))
				continue
			}
			if t.act == actMigrate && s.State != rewrite.TokenAuthentication {
				problems = append(problems, fmt.Sprintf("%s still reads its token from %s (%s)", t, firstOf(s.SecretName, "its env"), s.State))
			}
			left := s.RefusedAtRegistration()
			if len(left) == 1 && left[0] == "env REGISTER_LOCKED" && attempt == 0 {
				if err := r.set(t.path("runners", "locked"), boolean(true)); err != nil {
					return err
				}
				t.set = append(t.set, strings.Join(t.path("runners", "locked"), ".")+": true")
				retry = true
				continue
			}
			if len(left) > 0 {
				problems = append(problems, fmt.Sprintf("%s still passes %s, which gitlab-runner refuses with an authentication token", t, strings.Join(left, ", ")))
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("%s: the migrated values, rendered with chart %s, would not register: %s. Nothing was written or created", r.label, r.chartRef, strings.Join(problems, "; "))
		}
		if !retry {
			return nil
		}
	}
	return nil
}

// commit writes every layer's edits into its file's tree.
func (r *release) commit() error {
	for _, l := range r.layers {
		if err := l.commit(); err != nil {
			return err
		}
	}
	return nil
}
