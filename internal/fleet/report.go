package fleet

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// The reports of status and doctor: text for people, JSON (schema version 1, fields only ever
// added) for machines. Neither ever holds a token: tokens are compared, never printed.

// SchemaVersion is the version of the JSON reports.
const SchemaVersion = 1

// Tool names runner-migrate in JSON reports.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type statusJSON struct {
	Version   int            `json:"version"`
	Tool      Tool           `json:"tool"`
	Namespace *string        `json:"namespace"` // null: every namespace
	Runners   []RunnerStatus `json:"runners"`
	Summary   struct {
		Runners  int `json:"runners"`
		Problems int `json:"problems"`
		Warnings int `json:"warnings"`
	} `json:"summary"`
}

// WriteJSON writes the status report as JSON.
func (r *StatusReport) WriteJSON(w io.Writer, toolVersion string) error {
	out := statusJSON{Version: SchemaVersion, Tool: Tool{Name: "runner-migrate", Version: toolVersion}, Runners: r.Runners}
	if r.Namespace != "" {
		out.Namespace = &r.Namespace
	}
	out.Summary.Runners = len(r.Runners)
	out.Summary.Problems, out.Summary.Warnings = r.Problems()
	return encodeJSON(w, out)
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteText writes the status report for people.
func (r *StatusReport) WriteText(w io.Writer, now time.Time) error {
	var b strings.Builder
	for _, s := range r.Runners {
		fmt.Fprintf(&b, "%s: runner %d (spec %s) on %s\n", s.Release, s.RunnerID, orNone(s.Fingerprint), orNone(s.GitLabURL))
		fmt.Fprintf(&b, "  workloads: %s\n", orNone(strings.Join(s.Workloads, ", ")))
		secrets := []string{}
		if s.TokenSecret != "" {
			secrets = append(secrets, "token "+s.TokenSecret)
		}
		for _, l := range s.LiveSecrets {
			secrets = append(secrets, "live "+l)
		}
		fmt.Fprintf(&b, "  Secrets: %s\n", strings.Join(secrets, ", "))
		if g := s.GitLab; g != nil {
			line := g.Status
			if g.Paused {
				line += ", paused"
			}
			if g.Status != "missing" {
				line += ", last contact " + ago(g.ContactedAt, now)
			}
			if s.Scope != nil {
				line += "; " + scopeText(*s.Scope)
			}
			fmt.Fprintf(&b, "  GitLab: %s\n", line)
		}
		if len(s.Managers) > 0 {
			var ms []string
			for _, m := range s.Managers {
				text := m.SystemID + " " + m.Status
				if m.Version != "" {
					text += " (" + m.Version + ")"
				}
				ms = append(ms, text+", last contact "+ago(m.ContactedAt, now))
			}
			fmt.Fprintf(&b, "  managers: %s\n", strings.Join(ms, "; "))
		}
		fmt.Fprintf(&b, "  token: %s\n", tokenText(s.Token, now))
		for _, p := range s.Problems {
			writeFinding(&b, "problem", p)
		}
		for _, p := range s.Warnings {
			writeFinding(&b, "warning", p)
		}
	}
	problems, warnings := r.Problems()
	where := "namespace " + r.Namespace
	if r.Namespace == "" {
		where = "any namespace"
	}
	if len(r.Runners) == 0 {
		fmt.Fprintf(&b, "no runners: no Secret in %s names a runner runner-migrate made\n", where)
	} else {
		fmt.Fprintf(&b, "%s in %s: %s, %s\n", plural(len(r.Runners), "runner"), where, plural(problems, "problem"), plural(warnings, "warning"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFinding(b *strings.Builder, kind string, f Finding) {
	fmt.Fprintf(b, "  %s [%s]: %s\n", kind, f.Check, f.Message)
	if f.Fix != "" {
		fmt.Fprintf(b, "    fix: %s\n", f.Fix)
	}
}

func tokenText(t TokenView, now time.Time) string {
	var parts []string
	switch {
	case t.ExpiresAt == nil:
		parts = append(parts, "no expiry")
	case t.ExpiresAt.After(now):
		parts = append(parts, fmt.Sprintf("expires %s (in %s)", t.ExpiresAt.UTC().Format(time.RFC3339), roundDuration(t.ExpiresAt.Sub(now))))
	default:
		parts = append(parts, "expired "+t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if t.SecretsAgree != nil {
		parts = append(parts, map[bool]string{true: "the live Secrets hold the token Secret's token", false: "the live Secrets hold another token than the token Secret"}[*t.SecretsAgree])
	}
	if !t.AsWritten {
		parts = append(parts, "changed outside runner-migrate")
	}
	if !t.PodsRolled {
		parts = append(parts, "pods not rolled for it")
	}
	return strings.Join(parts, "; ")
}

func scopeText(s ScopeView) string {
	switch s.Type {
	case "group_type":
		return fmt.Sprintf("group runner in %s (id %d)", s.Path, s.ID)
	case "project_type":
		return fmt.Sprintf("project runner in %s (id %d)", s.Path, s.ID)
	case "instance_type":
		return "instance runner"
	}
	return s.Type
}

func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return roundDuration(now.Sub(*t)) + " ago"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
