package report

import (
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/runner-migrate/runner-migrate/internal/lint"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

const (
	sarifVersion = "2.1.0"
	// sarifSchemaURI is the OASIS publication of the SARIF 2.1.0 schema (errata 01).
	sarifSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// sarifInformationURI is tool.driver.informationUri.
	sarifInformationURI = "https://github.com/runner-migrate/runner-migrate"
	// sarifFingerprintKey names the partial fingerprint; a new recipe gets a new key.
	sarifFingerprintKey = "runnerMigrate/v1"
	// sarifStdinURI is the artifact URI of standard input.
	sarifStdinURI = "stdin"
)

// The subset of SARIF 2.1.0 this package writes.
type (
	sarifLog struct {
		Version string     `json:"version"`
		Schema  string     `json:"$schema"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Results     []sarifResult     `json:"results"`
	}
	// sarifInvocation says whether the run read everything it was given; a file it could not read
	// is a notification of the run, not a result about the file.
	sarifInvocation struct {
		ExecutionSuccessful        bool                `json:"executionSuccessful"`
		ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Level     string          `json:"level"`
		Message   sarifText       `json:"message"`
		Locations []sarifLocation `json:"locations,omitempty"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string             `json:"id"`
		Name                 string             `json:"name"`
		ShortDescription     sarifText          `json:"shortDescription"`
		FullDescription      sarifText          `json:"fullDescription"`
		Help                 sarifText          `json:"help"`
		HelpURI              string             `json:"helpUri"`
		DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId,omitempty"`
		RuleIndex           *int              `json:"ruleIndex,omitempty"`
		Level               string            `json:"level"`
		Message             sarifText         `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
	}
	sarifPhysicalLocation struct {
		ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
		Region           *sarifRegion          `json:"region,omitempty"`
	}
	sarifArtifactLocation struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
)

func writeSARIF(w io.Writer, res lint.Result, opts Options) error {
	findings := res.Findings
	driver := sarifDriver{
		Name:           toolName,
		Version:        opts.ToolVersion,
		InformationURI: sarifInformationURI,
		Rules:          make([]sarifRule, 0, len(rules.All)),
	}
	index := make(map[*rules.Rule]int, len(rules.All))
	for i, r := range rules.All {
		index[r] = i
		driver.Rules = append(driver.Rules, sarifRule{
			ID:               r.ID,
			Name:             r.Name,
			ShortDescription: sarifText{Text: r.Summary},
			FullDescription:  sarifText{Text: r.Summary + ". Fix: " + r.Fix + "."},
			Help:             sarifText{Text: r.Fix},
			HelpURI:          r.HelpURI(),
			// A rule's severity depends on the target GitLab version and the place; every result
			// carries its own level, so the default is SARIF's own default.
			DefaultConfiguration: sarifConfiguration{Level: "warning"},
		})
	}
	results := make([]sarifResult, 0, len(findings))
	for _, f := range findings {
		r := sarifResult{
			RuleID:              ruleID(f),
			Level:               sarifLevel[f.Severity],
			Message:             sarifText{Text: messageWithFix(f)},
			Locations:           []sarifLocation{sarifLocationOf(f.File, f.Line, f.Column)},
			PartialFingerprints: map[string]string{sarifFingerprintKey: fingerprint(ruleID(f), f.File, f.Path)},
		}
		if i, ok := index[f.Rule]; ok {
			r.RuleIndex = &i
		}
		results = append(results, r)
	}
	invocation := sarifInvocation{ExecutionSuccessful: len(res.Errors) == 0}
	for _, e := range res.Errors {
		invocation.ToolExecutionNotifications = append(invocation.ToolExecutionNotifications, sarifNotification{
			Level:     "error",
			Message:   sarifText{Text: notLinted(e)},
			Locations: []sarifLocation{sarifLocationOf(e.File, e.Line, 0)},
		})
	}
	log := sarifLog{
		Version: sarifVersion,
		Schema:  sarifSchemaURI,
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Invocations: []sarifInvocation{invocation}, Results: results}},
	}
	return encodeJSON(w, log)
}

func sarifLocationOf(file string, line, col int) sarifLocation {
	loc := sarifLocation{PhysicalLocation: sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: sarifURI(file)}}}
	if line > 0 {
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: line, StartColumn: col}
	}
	return loc
}

// sarifLevel maps severities to SARIF levels: info is a note.
var sarifLevel = map[rules.Severity]string{rules.SeverityError: "error", rules.SeverityWarning: "warning", rules.SeverityInfo: "note"}

// sarifURI turns a file name into a URI reference: relative names stay relative (forward slashes,
// percent-encoded where needed, "./" first when the first segment holds a colon), absolute ones become
// file URIs, standard input is "stdin".
func sarifURI(file string) string {
	if isStdin(file) {
		return sarifStdinURI
	}
	p := filepath.ToSlash(file)
	if filepath.IsAbs(file) {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // C:/x → /C:/x
		}
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).String()
}
