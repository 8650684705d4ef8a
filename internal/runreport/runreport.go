// Package runreport keeps what a post-render run did in a JSON file. Helm 4 drops a post-renderer
// plugin's stderr (on success and on failure), so the plan, the warnings and the reasons of a failure
// reach people through this file (`runner-migrate report` prints it), and machines can read it too.
package runreport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Version is the schema version; fields are only ever added.
const Version = 1

// Report is one run.
type Report struct {
	Version int       `json:"version"`
	Tool    Tool      `json:"tool"`
	Time    time.Time `json:"time"`
	Command string    `json:"command"`
	// Helm is the Helm command the run served, when it could be read ("helm upgrade (pid 42)").
	Helm     string    `json:"helm,omitempty"`
	DryRun   bool      `json:"dryRun"`
	Result   string    `json:"result"` // ok or failed
	Actions  []Action  `json:"actions"`
	Warnings []string  `json:"warnings"`
	Errors   []Problem `json:"errors"`
}

// Tool names the program that wrote the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Action is what was done (or, in a dry run, would be done) about one runner spec.
type Action struct {
	Action      string   `json:"action"` // created, reused, updated, adopted, rotated, deferred, skipped, lost, replaced, retired
	RunnerID    int64    `json:"runnerId,omitempty"`
	Fingerprint string   `json:"fingerprint"`
	Workloads   []string `json:"workloads"`
	Detail      string   `json:"detail"`
}

// Problem is an error of the run, said the way a person fixes it.
type Problem struct {
	Object  string `json:"object,omitempty"`
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Problem string `json:"problem"`
	Fix     string `json:"fix,omitempty"`
}

// New starts the report of a run.
func New(toolVersion, command string) *Report {
	return &Report{Version: Version, Tool: Tool{Name: "runner-migrate", Version: toolVersion}, Time: time.Now().UTC(),
		Command: command, Result: "ok", Actions: []Action{}, Warnings: []string{}, Errors: []Problem{}}
}

// actionNames turns the provisioner's verbs into the report's past tense.
var actionNames = map[string]string{"create": "created", "reuse": "reused", "update": "updated", "adopt": "adopted",
	"rotate": "rotated", "defer": "deferred", "skip": "skipped", "lost": "lost", "replace": "replaced", "retire": "retired"}

// AddActions records the provisioner's actions.
func (r *Report) AddActions(actions []gitlab.Action) {
	for _, a := range actions {
		name := actionNames[a.Verb]
		if name == "" {
			name = a.Verb
		}
		r.Actions = append(r.Actions, Action{Action: name, RunnerID: a.RunnerID, Fingerprint: a.Fingerprint, Workloads: a.Sites, Detail: a.Detail})
	}
}

// Fail records the run's error: each joined error becomes a problem, with its object, line, field
// and fix where it is a rewrite.Error (a wrapped one keeps its whole message).
func (r *Report) Fail(err error) {
	if err == nil {
		return
	}
	r.Result = "failed"
	for _, e := range flatten(err) {
		if re, ok := e.(*rewrite.Error); ok {
			p := Problem{Line: re.Line, Field: re.Field, Problem: re.Problem, Fix: re.Fix}
			if re.Object.Kind != "" {
				p.Object = re.Object.String()
			}
			r.Errors = append(r.Errors, p)
			continue
		}
		r.Errors = append(r.Errors, Problem{Problem: e.Error()})
	}
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// Write replaces the file at path with the report (mode 0600: it names objects and runners, never a
// token), atomically, creating its directory.
func (r *Report) Write(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".runner-migrate-report-*")
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Load reads a report.
func Load(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no report at %s: no post-render has written one there yet (runner-migrate writes it under the Helm 4 plugin, or with --report)", path)
	}
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s is not a runner-migrate report: %v", path, err)
	}
	return &r, nil
}

// DefaultPath is where the report goes when --report is not given and someone must be able to read
// it later: under Helm's cache directory (HELM_CACHE_HOME, else the user's cache directory's helm/),
// the one place both the Helm 4 post-renderer plugin and `helm runner-migrate report` find.
func DefaultPath() string {
	dir := os.Getenv("HELM_CACHE_HOME")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "helm")
	}
	return filepath.Join(dir, "runner-migrate", "post-render-report.json")
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	what := r.Command
	if r.Helm != "" {
		what += " under " + r.Helm
	}
	if r.DryRun {
		what += " (dry run: nothing was changed, tokens in the output were placeholders)"
	}
	fmt.Fprintf(&b, "runner-migrate %s at %s: %s\n", what, r.Time.Local().Format(time.RFC1123), r.Result)
	for _, a := range r.Actions {
		id := "new runner"
		if a.RunnerID > 0 {
			id = fmt.Sprintf("runner %d", a.RunnerID)
		}
		fmt.Fprintf(&b, "  %s %s for spec %s (%s): %s\n", a.Action, id, a.Fingerprint, strings.Join(a.Workloads, ", "), a.Detail)
	}
	for _, m := range r.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", m)
	}
	for _, p := range r.Errors {
		where := p.Object
		if p.Line > 0 {
			where += fmt.Sprintf(" (line %d)", p.Line)
		}
		if p.Field != "" {
			where = strings.TrimSpace(where + ", " + p.Field)
		}
		where = strings.TrimPrefix(where, ", ")
		if where != "" {
			where += ": "
		}
		fmt.Fprintf(&b, "  error: %s%s\n", where, p.Problem)
		if p.Fix != "" {
			fmt.Fprintf(&b, "    fix: %s\n", p.Fix)
		}
	}
	if len(r.Actions)+len(r.Warnings)+len(r.Errors) == 0 {
		b.WriteString("  nothing to report\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
