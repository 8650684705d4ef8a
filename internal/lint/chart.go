package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
	"github.com/runner-migrate/runner-migrate/internal/lint/values"
)

// chart is what lint knows of a chart directory from its Chart.yaml: which chart it is and its
// gitlab-runner subcharts.
type chart struct {
	kind      rules.Chart
	subcharts []rules.Subchart
}

// chartOf is the chart a values file belongs to: a values file (values.yaml, values-prod.yaml) beside
// a Chart.yaml, or any file of that chart's ci/ directory (chart-testing's values). nil otherwise.
func (r *run) chartOf(file string) *chart {
	dir := filepath.Dir(file)
	switch {
	case isChart(dir) && isValuesName(filepath.Base(file)):
	case filepath.Base(dir) == "ci" && isChart(filepath.Dir(dir)):
		dir = filepath.Dir(dir)
	default:
		return nil
	}
	return r.chart(dir)
}

// chart reads a chart directory's Chart.yaml once (and requirements.yaml, where Helm 2 charts keep
// their dependencies). A Chart.yaml that does not parse is reported, and the chart is then unknown.
func (r *run) chart(dir string) *chart {
	if c, ok := r.charts[dir]; ok {
		return c
	}
	r.charts[dir] = nil
	meta := r.chartFile(filepath.Join(dir, "Chart.yaml"))
	if meta == nil {
		return nil
	}
	// A chart in another chart's charts/ directory is a subchart: the GitLab chart's own
	// charts/gitlab is no umbrella chart.
	parent := filepath.Dir(dir)
	nested := filepath.Base(parent) == "charts" && isChart(filepath.Dir(parent))
	c := &chart{kind: rules.ChartOf(meta.Field("name").String(), nested)}
	deps := meta.Field("dependencies")
	if deps == nil {
		if _, err := os.Stat(filepath.Join(dir, "requirements.yaml")); err == nil {
			deps = r.chartFile(filepath.Join(dir, "requirements.yaml")).Field("dependencies")
		}
	}
	for _, d := range deps.Items() {
		if s, ok := runnerSubchart(d.Field("name").String(), d.Field("alias").String(), d.Field("condition").String()); ok {
			c.subcharts = append(c.subcharts, s)
		}
	}
	r.charts[dir] = c
	return c
}

// runnerSubchart is a chart dependency that is a gitlab-runner chart: where its values sit (its
// alias, else its name) and the condition paths that switch it on.
func runnerSubchart(name, alias, condition string) (rules.Subchart, bool) {
	if name != "gitlab-runner" {
		return rules.Subchart{}, false
	}
	s := rules.Subchart{Key: name}
	if alias != "" {
		s.Key = alias
	}
	for _, cond := range strings.Split(condition, ",") {
		if cond = strings.TrimSpace(cond); cond != "" {
			s.Condition = append(s.Condition, cond)
		}
	}
	return s, true
}

func (r *run) chartFile(path string) *values.Values {
	data, err := r.read(path)
	if err != nil {
		r.fail(path, err)
		return nil
	}
	v, err := values.Parse(path, data)
	if err != nil {
		r.fail(path, err)
		return nil
	}
	return v
}

// ReadChart says which chart a chart directory holds and its gitlab-runner dependencies, from its
// Chart.yaml (and requirements.yaml).
func ReadChart(dir string) (rules.Chart, []rules.Subchart, error) {
	r := &run{charts: map[string]*chart{}}
	c := r.chart(dir)
	if c == nil {
		if len(r.res.Errors) > 0 {
			return rules.ChartUnknown, nil, r.res.Errors[0]
		}
		return rules.ChartUnknown, nil, fmt.Errorf("%s: no readable Chart.yaml", dir)
	}
	return c.kind, c.subcharts, nil
}
