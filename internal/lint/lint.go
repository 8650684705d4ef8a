// Package lint finds the files to lint (values files, charts, rendered manifests, stdin), hands each
// to the rewrite package's rules, and gathers the findings.
package lint

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Options say what to lint.
type Options struct {
	// Paths are values files, rendered manifest files, directories (walked) and "-" for stdin.
	Paths []string
	// ValuesFiles (-f) are merged into one release's values, the way Helm merges them: after the
	// values.yaml of the chart among Paths, if there is one.
	ValuesFiles []string
	Target      rewrite.GitLabVersion
	Stdin       io.Reader
}

// Result is what a lint run found.
type Result struct {
	Findings []rewrite.Finding
	// Errors are files that could not be read or parsed; each names the file and line.
	Errors []error
	// Files counts the files linted.
	Files int
}

// Run lints.
func Run(opts Options) Result {
	r := &run{opts: opts}
	paths := opts.Paths
	if len(opts.ValuesFiles) > 0 {
		paths = r.release(paths)
	} else if len(paths) == 0 {
		paths = []string{"."}
	}
	for _, p := range paths {
		r.path(p)
	}
	rewrite.SortFindings(r.res.Findings)
	return r.res
}

type run struct {
	opts Options
	res  Result
}

// release merges the -f files (after a chart's own values.yaml, when one chart is among paths) and
// lints them as one release. It returns the paths still to lint on their own.
func (r *run) release(paths []string) []string {
	var layers []*rewrite.Values
	var rest []string
	chartFound := false
	for _, p := range paths {
		if !chartFound && isChart(p) {
			chartFound = true
			if v := r.parseValues(filepath.Join(p, "values.yaml"), true); v != nil {
				layers = append(layers, v)
			}
			continue
		}
		rest = append(rest, p)
	}
	for _, f := range r.opts.ValuesFiles {
		v := r.parseValues(f, true)
		if v == nil {
			return rest // a file of the release is unreadable: its merge would be wrong
		}
		layers = append(layers, v)
	}
	r.res.Files += len(layers)
	r.res.Findings = append(r.res.Findings, rewrite.LintValues(rewrite.MergeValues(layers...), r.opts.Target)...)
	return rest
}

func (r *run) parseValues(path string, explicit bool) *rewrite.Values {
	data, err := r.read(path)
	if err != nil {
		r.res.Errors = append(r.res.Errors, err)
		return nil
	}
	v, err := rewrite.ParseValues(path, data)
	if err != nil && explicit {
		r.res.Errors = append(r.res.Errors, err)
	}
	return v
}

func (r *run) path(p string) {
	if p == "-" {
		r.file(p, true)
		return
	}
	fi, err := os.Stat(p)
	if err != nil {
		r.res.Errors = append(r.res.Errors, fmt.Errorf("%s: %w", p, errors.Unwrap(err)))
		return
	}
	if !fi.IsDir() {
		r.file(p, true)
		return
	}
	_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			r.res.Errors = append(r.res.Errors, err)
			return nil
		case d.IsDir():
			if path != p && skipDir(path, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		case isYAML(d.Name()) && !notValues[d.Name()]:
			// In a walk, only files named like values files are expected to parse; other YAML may be
			// anything (CI configs, templates of other tools).
			r.file(path, isValuesName(d.Name()))
		}
		return nil
	})
}

// file lints one file as rendered manifests or as values, by its content.
func (r *run) file(path string, reportErrors bool) {
	data, err := r.read(path)
	if err != nil {
		r.res.Errors = append(r.res.Errors, err)
		return
	}
	if rewrite.LooksLikeManifests(data) {
		fs, err := rewrite.LintManifests(path, data, r.opts.Target)
		if err != nil {
			if reportErrors {
				r.res.Errors = append(r.res.Errors, fmt.Errorf("%s: %w", path, err))
			}
			return
		}
		r.res.Files++
		r.res.Findings = append(r.res.Findings, fs...)
		return
	}
	v, err := rewrite.ParseValues(path, data)
	if err != nil {
		if reportErrors {
			r.res.Errors = append(r.res.Errors, err)
		}
		return
	}
	r.res.Files++
	r.res.Findings = append(r.res.Findings, rewrite.LintValues(v, r.opts.Target)...)
}

func (r *run) read(path string) ([]byte, error) {
	if path == "-" {
		if r.opts.Stdin == nil {
			return nil, errors.New("-: no standard input")
		}
		return io.ReadAll(r.opts.Stdin)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, errors.Unwrap(err))
	}
	return data, nil
}

func isChart(p string) bool {
	_, err := os.Stat(filepath.Join(p, "Chart.yaml"))
	return err == nil
}

// skipDir leaves out what holds no values: hidden directories, dependencies of other tools, and a
// chart's templates (Go templates, not YAML).
func skipDir(path, name string) bool {
	switch {
	case strings.HasPrefix(name, "."), name == "node_modules", name == "vendor":
		return true
	case name == "templates":
		return isChart(filepath.Dir(path))
	}
	return false
}

func isYAML(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// isValuesName: values.yaml, values-prod.yaml, prod.values.yml, ...
func isValuesName(name string) bool {
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".yml")
	return strings.HasPrefix(base, "values") || strings.HasSuffix(base, ".values") || strings.HasSuffix(base, "-values")
}

// notValues are YAML files of Helm and other tools that never hold values.
var notValues = map[string]bool{"Chart.yaml": true, "Chart.lock": true, "requirements.yaml": true, "requirements.lock": true,
	"values.schema.json": true, ".pre-commit-hooks.yaml": true, ".pre-commit-config.yaml": true}
