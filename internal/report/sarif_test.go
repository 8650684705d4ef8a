package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/runner-migrate/runner-migrate/internal/lint"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

// sarifSchemaFile is the vendored OASIS SARIF 2.1.0 schema (see its README).
var sarifSchemaFile = filepath.Join("..", "..", "testdata", "sarif", "sarif-schema-2.1.0.json")

func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(sarifSchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("parse schema: %v", err)
	}
	m, ok := doc.(map[string]any)
	if !ok || !strings.Contains(m["title"].(string), "2.1.0") {
		t.Fatalf("%s is not the SARIF 2.1.0 schema", sarifSchemaFile)
	}
	c := jsonschema.NewCompiler()
	// Everything resolves inside the file (and the built-in meta-schema): nothing is fetched.
	if err := c.AddResource(sarifSchemaURI, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(sarifSchemaURI)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

func unmarshalInstance(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b)
	}
	return v
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	sch := compileSARIFSchema(t)
	for _, tt := range []struct {
		name string
		res  lint.Result
	}{
		{"sample", lint.Result{Findings: sampleFindings()}},
		{"none", lint.Result{}},
		{"unreadable files", lint.Result{Errors: sampleErrors()}},
		{"findings and unreadable files", lint.Result{Findings: sampleFindings(), Errors: sampleErrors()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := renderResult(t, tt.res, sampleOptions("sarif"))
			if err := sch.Validate(unmarshalInstance(t, out)); err != nil {
				t.Errorf("SARIF does not validate: %v\n%s", err, out)
			}
		})
	}
}

// The validation must be able to fail: broken copies of valid output are rejected.
func TestSARIFSchemaRejectsBrokenLogs(t *testing.T) {
	sch := compileSARIFSchema(t)
	out := render(t, sampleFindings(), sampleOptions("sarif"))
	run := func(m map[string]any) map[string]any { return m["runs"].([]any)[0].(map[string]any) }
	result := func(m map[string]any) map[string]any { return run(m)["results"].([]any)[0].(map[string]any) }
	tests := []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"no version", func(m map[string]any) { delete(m, "version") }},
		{"wrong version", func(m map[string]any) { m["version"] = "2.0.0" }},
		{"no runs", func(m map[string]any) { delete(m, "runs") }},
		{"no driver name", func(m map[string]any) {
			delete(run(m)["tool"].(map[string]any)["driver"].(map[string]any), "name")
		}},
		{"bad level", func(m map[string]any) { result(m)["level"] = "fatal" }},
		{"no message", func(m map[string]any) { delete(result(m), "message") }},
		{"line 0", func(m map[string]any) {
			loc := result(m)["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)
			loc["region"] = map[string]any{"startLine": 0}
		}},
		{"unknown property", func(m map[string]any) { result(m)["severity"] = "error" }},
		{"invocation without executionSuccessful", func(m map[string]any) {
			delete(run(m)["invocations"].([]any)[0].(map[string]any), "executionSuccessful")
		}},
		{"notification without message", func(m map[string]any) {
			inv := run(m)["invocations"].([]any)[0].(map[string]any)
			inv["toolExecutionNotifications"] = []any{map[string]any{"level": "error"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatal(err)
			}
			tt.mutate(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(unmarshalInstance(t, b)); err == nil {
				t.Errorf("broken SARIF (%s) validates", tt.name)
			}
		})
	}
}

func TestSARIFContent(t *testing.T) {
	in := sampleFindings()
	out := render(t, in, sampleOptions("sarif"))
	var log sarifLog
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	if log.Schema != "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json" || log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("header: %+v", log)
	}
	d := log.Runs[0].Tool.Driver
	if d.Name != "runner-migrate" || d.Version != "1.2.3" || d.InformationURI != "https://github.com/runner-migrate/runner-migrate" {
		t.Errorf("driver = %+v", d)
	}
	if len(d.Rules) != len(rules.All) {
		t.Fatalf("%d rules, want every rule (%d)", len(d.Rules), len(rules.All))
	}
	for i, r := range rules.All {
		g := d.Rules[i]
		if g.ID != r.ID || g.Name != r.Name || g.ShortDescription.Text != r.Summary || g.Help.Text != r.Fix ||
			g.HelpURI != r.HelpURI() || g.FullDescription.Text == "" || g.DefaultConfiguration.Level == "" {
			t.Errorf("rule %d = %+v", i, g)
		}
	}
	res := log.Runs[0].Results
	if len(res) != len(in) {
		t.Fatalf("%d results, want %d", len(res), len(in))
	}
	levels := map[rules.Severity]string{rules.SeverityError: "error", rules.SeverityWarning: "warning", rules.SeverityInfo: "note"}
	for i, f := range in {
		r := res[i]
		if r.RuleID != f.Rule.ID || r.RuleIndex == nil || rules.All[*r.RuleIndex] != f.Rule || r.Level != levels[f.Severity] {
			t.Errorf("result %d: rule %s index %v level %s", i, r.RuleID, r.RuleIndex, r.Level)
		}
		if !strings.HasPrefix(r.Message.Text, f.Message+" Fix: ") {
			t.Errorf("result %d message %q", i, r.Message.Text)
		}
		pl := r.Locations[0].PhysicalLocation
		if pl.ArtifactLocation.URI != sarifURI(f.File) {
			t.Errorf("result %d uri %q", i, pl.ArtifactLocation.URI)
		}
		if (pl.Region != nil) != (f.Line > 0) {
			t.Errorf("result %d: region %+v for line %d", i, pl.Region, f.Line)
		} else if pl.Region != nil && (pl.Region.StartLine != f.Line || pl.Region.StartColumn != f.Column) {
			t.Errorf("result %d: region %+v", i, pl.Region)
		}
		if fp := r.PartialFingerprints["runnerMigrate/v1"]; len(fp) != 64 {
			t.Errorf("result %d fingerprint %q", i, fp)
		}
	}
	// The fingerprint ignores line and column: it survives edits above the finding.
	moved := in[4]
	moved.Line, moved.Column = 40, 9
	var again sarifLog
	if err := json.Unmarshal(render(t, []rules.Finding{moved}, sampleOptions("sarif")), &again); err != nil {
		t.Fatal(err)
	}
	if a, b := res[4].PartialFingerprints["runnerMigrate/v1"], again.Runs[0].Results[0].PartialFingerprints["runnerMigrate/v1"]; a != b {
		t.Errorf("fingerprint changed when the line moved: %s != %s", a, b)
	}
	// Empty: results is [], not null (a run that found nothing).
	empty := string(render(t, nil, sampleOptions("sarif")))
	if !strings.Contains(empty, `"results": []`) {
		t.Errorf("no findings must give results []:\n%s", empty)
	}
}

func TestSARIFURI(t *testing.T) {
	tests := []struct{ file, want string }{
		{"values.yaml", "values.yaml"},
		{"charts/runner/values.yaml", "charts/runner/values.yaml"},
		{"-", "stdin"},
		{"a b.yaml", "a%20b.yaml"},
		{"prod,eu:west.yaml", "./prod,eu:west.yaml"},
		{"dir/x:y.yaml", "dir/x:y.yaml"},
		{"100%.yaml", "100%25.yaml"},
		{"/abs/values.yaml", "file:///abs/values.yaml"},
	}
	for _, tt := range tests {
		if got := sarifURI(tt.file); got != tt.want {
			t.Errorf("sarifURI(%q) = %q, want %q", tt.file, got, tt.want)
		}
	}
}
