// Package lint finds the files to lint (values files, charts, rendered and GitOps manifests, stdin),
// reads each once, hands what it holds to the rules (internal/lint/rules) and gathers findings and
// the files it could not read. Values are read by internal/lint/values, GitOps manifests by
// internal/lint/gitops, rendered manifests by the post-renderer's own detection (rewrite).
package lint

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/lint/gitops"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
	"github.com/runner-migrate/runner-migrate/internal/lint/values"
	"github.com/runner-migrate/runner-migrate/internal/releases"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Options say what to lint.
type Options struct {
	// Paths are values files, manifest files, directories (walked) and "-" for stdin.
	Paths []string
	// ValuesFiles (-f) are merged into one release's values, the way Helm merges them: after the
	// values.yaml of the chart among Paths, if there is one.
	ValuesFiles []string
	Target      rules.GitLabVersion
	Stdin       io.Reader
	// Releases are deployed releases read from a cluster (internal/releases), linted besides Paths.
	// With Deployed, no Paths means none (not the current directory).
	Releases []*releases.Release
	Deployed bool
	// LiveSecret reads a Secret of the cluster the Releases come from, so that a runner reading its
	// token from a Secret its manifest does not hold is judged by what that Secret holds.
	LiveSecret rules.LiveSecret
}

// Result is what a lint run found.
type Result struct {
	Findings []rules.Finding
	// Errors are the files lint could not read; a report carries them, and the exit status is 2.
	Errors []*FileError
	// Files counts the files linted.
	Files int
}

// FileError is a file lint could not read, with the line of the problem when there is one.
type FileError struct {
	File    string // as the user named it; "-" for stdin
	Line    int    // 0 when the file as a whole
	Message string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return e.File + ": " + e.Message
}

// Run lints.
func Run(opts Options) Result {
	r := &run{opts: opts, charts: map[string]*chart{}}
	paths := opts.Paths
	if len(opts.ValuesFiles) > 0 {
		paths = r.release(paths)
	} else if len(paths) == 0 && !opts.Deployed {
		paths = []string{"."}
	}
	for _, p := range paths {
		r.path(p)
	}
	for _, rel := range opts.Releases {
		r.deployed(rel)
	}
	rules.Sort(r.res.Findings)
	return r.res
}

type run struct {
	opts   Options
	res    Result
	charts map[string]*chart // by directory
}

func (r *run) fail(file string, err error) {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			r.fail(file, e)
		}
		return
	}
	var pe *values.ParseError
	var re *rewrite.Error
	switch {
	case errors.As(err, &pe):
		r.res.Errors = append(r.res.Errors, &FileError{File: pe.File, Line: pe.Line, Message: pe.Msg})
	case errors.As(err, &re):
		msg := *re
		msg.Line = 0 // the report gives the line itself
		r.res.Errors = append(r.res.Errors, &FileError{File: file, Line: re.Line, Message: msg.Error()})
	case err == nil:
		r.res.Errors = append(r.res.Errors, &FileError{File: file, Message: "cannot be read"})
	default:
		r.res.Errors = append(r.res.Errors, &FileError{File: file, Message: err.Error()})
	}
}

// release merges the -f files (after a chart's own values.yaml, when one chart is among paths) and
// lints them as one release. It returns the paths still to lint on their own.
func (r *run) release(paths []string) []string {
	var layers []*values.Values
	var rest []string
	var c *chart
	for _, p := range paths {
		if c == nil && isChart(p) {
			if c = r.chart(p); c == nil {
				return rest // its Chart.yaml is broken: said already
			}
			if v, ok := r.parse(filepath.Join(p, "values.yaml")); ok {
				layers = append(layers, v)
			}
			continue
		}
		rest = append(rest, p)
	}
	for _, f := range r.opts.ValuesFiles {
		v, ok := r.parse(f)
		if !ok {
			return rest // a file of the release is unreadable: its merge would be wrong
		}
		layers = append(layers, v)
	}
	rel := rules.Release{Values: values.MergeValues(layers...)}
	if c != nil {
		rel.Chart, rel.Subcharts = c.kind, c.subcharts
	}
	r.res.Files += len(layers)
	r.res.Findings = append(r.res.Findings, rules.LintRelease(rel, r.opts.Target)...)
	return rest
}

// parse reads a values file of a release; a missing chart values.yaml is empty values.
func (r *run) parse(path string) (*values.Values, bool) {
	data, err := r.read(path)
	if err != nil {
		r.fail(path, err)
		return nil, false
	}
	v, err := values.Parse(path, data)
	if err != nil {
		r.fail(path, err)
		return nil, false
	}
	return v, true
}

func (r *run) path(p string) {
	if p == "-" {
		r.file(p)
		return
	}
	fi, err := os.Stat(p)
	if err != nil {
		r.fail(p, cause(err))
		return
	}
	if !fi.IsDir() {
		r.file(p)
		return
	}
	_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			r.fail(path, cause(err))
			return nil
		case d.IsDir():
			if path != p && skipDir(path, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		case isYAML(d.Name()) && !notValues[d.Name()]:
			r.file(path)
		}
		return nil
	})
}

// file lints one file: values, or manifests (rendered, or GitOps objects declaring releases). Every
// file that does not parse is an error. YAML that parses but is no mapping (a list, a string) holds
// no values and is passed over, unless its name says it is values or it came on stdin.
func (r *run) file(path string) {
	data, err := r.read(path)
	if err != nil {
		r.fail(path, err)
		return
	}
	v, err := values.Parse(path, data)
	switch {
	case errors.Is(err, values.ErrNotMapping) && path != "-" && !isValuesName(filepath.Base(path)):
		return
	case err != nil:
		r.fail(path, err)
		return
	case v.Field("apiVersion").String() != "" && v.Field("kind").String() != "":
		r.manifests(path, data)
		return
	}
	rel := rules.Release{Values: v, File: path}
	if c := r.chartOf(path); c != nil {
		rel.Chart, rel.Subcharts = c.kind, c.subcharts
	}
	r.res.Files++
	r.res.Findings = append(r.res.Findings, rules.LintRelease(rel, r.opts.Target)...)
}

// manifests lints the releases GitOps objects declare and the runners rendered manifests hold.
func (r *run) manifests(path string, data []byte) {
	releases, err := gitops.Read(path, data)
	if err != nil {
		r.fail(path, err)
	}
	for _, g := range releases {
		kind := rules.ChartOf(g.Chart, false)
		if g.ChartByName && kind == rules.ChartOther {
			kind = rules.ChartUnknown // a directory or source name, not the chart's
		}
		rel := rules.Release{Values: values.MergeValues(g.Layers...), Chart: kind, File: g.File, Line: g.Line, Column: g.Column,
			PathPrefix: g.Object + " " + g.Source + ": "}
		if len(g.Layers) == 0 {
			rel.Values = nil
		}
		for _, u := range g.Unread {
			rel.Unread = append(rel.Unread, rules.Unread{What: u.What, Path: g.Object + " " + u.Path, File: g.File, Line: u.Line, Column: u.Column})
		}
		r.res.Findings = append(r.res.Findings, rules.LintRelease(rel, r.opts.Target)...)
	}
	found, err := rules.Manifests(path, data, r.opts.Target)
	if err != nil {
		r.fail(path, err)
		return
	}
	r.res.Files++
	r.res.Findings = append(r.res.Findings, found...)
}

func (r *run) read(path string) ([]byte, error) {
	if path == "-" {
		if r.opts.Stdin == nil {
			return nil, errors.New("no standard input")
		}
		return io.ReadAll(r.opts.Stdin)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, cause(err)
	}
	return data, nil
}

// cause drops the operation and path of a file system error: the report names the file itself.
func cause(err error) error {
	if c := errors.Unwrap(err); c != nil {
		return c
	}
	return err
}

func isChart(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
	return err == nil && !fi.IsDir()
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
	".pre-commit-hooks.yaml": true, ".pre-commit-config.yaml": true}
