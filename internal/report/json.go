package report

import (
	"encoding/json"
	"io"

	"github.com/runner-migrate/runner-migrate/internal/lint"
)

// jsonSchemaVersion is the version of the JSON report documented in the package comment.
const jsonSchemaVersion = 1

// The JSON report. Field order is the output order; see the package documentation.
type (
	jsonReport struct {
		Version       int           `json:"version"`
		Tool          jsonTool      `json:"tool"`
		GitLabVersion string        `json:"gitlabVersion"`
		Findings      []jsonFinding `json:"findings"`
		Errors        []jsonError   `json:"errors"`
		Summary       jsonSummary   `json:"summary"`
	}
	jsonTool struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	jsonFinding struct {
		RuleID   string `json:"ruleId"`
		RuleName string `json:"ruleName"`
		Severity string `json:"severity"`
		File     string `json:"file"`
		Line     int    `json:"line"`
		Column   int    `json:"column"`
		Path     string `json:"path"`
		Message  string `json:"message"`
		Fix      string `json:"fix"`
		HelpURI  string `json:"helpUri"`
	}
	jsonError struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Message string `json:"message"`
	}
	jsonSummary struct {
		Error     int `json:"error"`
		Warning   int `json:"warning"`
		Info      int `json:"info"`
		NotLinted int `json:"notLinted"`
	}
)

func writeJSON(w io.Writer, res lint.Result, opts Options) error {
	c := countFindings(res.Findings)
	r := jsonReport{
		Version:       jsonSchemaVersion,
		Tool:          jsonTool{Name: toolName, Version: opts.ToolVersion},
		GitLabVersion: opts.GitLabVersion.String(),
		Findings:      make([]jsonFinding, 0, len(res.Findings)),
		Errors:        make([]jsonError, 0, len(res.Errors)),
		Summary:       jsonSummary{Error: c.errors, Warning: c.warnings, Info: c.infos, NotLinted: len(res.Errors)},
	}
	for _, e := range res.Errors {
		r.Errors = append(r.Errors, jsonError{File: e.File, Line: e.Line, Message: e.Message})
	}
	for _, f := range res.Findings {
		r.Findings = append(r.Findings, jsonFinding{
			RuleID:   ruleID(f),
			RuleName: ruleName(f),
			Severity: f.Severity.String(),
			File:     f.File,
			Line:     f.Line,
			Column:   f.Column,
			Path:     f.Path,
			Message:  f.Message,
			Fix:      fix(f),
			HelpURI:  helpURI(f),
		})
	}
	return encodeJSON(w, r)
}

// encodeJSON writes v indented with two spaces and a trailing newline, without escaping <, > and &.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
