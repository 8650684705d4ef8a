package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/runreport"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
)

// TestHelm4Report: Helm 4 drops a post-renderer plugin's stderr. A failing post-render leaves its
// reason (object, field, fix) in the report under Helm's cache directory, which `runner-migrate
// report` prints; a render with warnings says where to look in the first line Helm prints.
func TestHelm4Report(t *testing.T) {
	helm := testenv.NewHelm(t, 4)
	installPostRenderPlugin(t, helm)
	cache := ""
	for _, kv := range helm.Env {
		if v, ok := strings.CutPrefix(kv, "HELM_CACHE_HOME="); ok {
			cache = v
		}
	}
	reportFile := filepath.Join(cache, "runner-migrate", "post-render-report.json")
	printReport := func() string {
		t.Helper()
		cmd := exec.Command(testenv.Binary(t), "report")
		cmd.Env = append(cleanEnv(), "HELM_CACHE_HOME="+cache)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("runner-migrate report: %v\n%s", err, out)
		}
		return string(out)
	}
	args := []string{"template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "-n", "ns", "--post-renderer", "runner-migrate-postrender"}

	failed := helm.Run(nil, args...)
	if failed.Err == nil || len(bytes.TrimSpace(failed.Stdout)) != 0 {
		t.Fatalf("a legacy release without a token must fail with no output (err %v)", failed.Err)
	}
	data, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatalf("the failing post-render left no report: %v", err)
	}
	var r runreport.Report
	if err := json.Unmarshal(data, &r); err != nil || r.Result != "failed" || len(r.Errors) == 0 ||
		r.Errors[0].Object != "Deployment ns/rel-gitlab-runner" || r.Errors[0].Fix == "" || !strings.Contains(r.Helm, "helm template") {
		t.Fatalf("report %s: %v", data, err)
	}
	if text := printReport(); !strings.Contains(text, "error: Deployment ns/rel-gitlab-runner") || !strings.Contains(text, "fix: ") {
		t.Fatalf("runner-migrate report does not say why:\n%s", text)
	}

	passed := helm.Run([]string{"RUNNER_MIGRATE_ALLOW_LEGACY=true"}, args...)
	if passed.Err != nil {
		t.Fatalf("%v\n%s", passed.Err, passed.Stderr)
	}
	firstDoc, _, _ := strings.Cut(strings.TrimPrefix(string(passed.Stdout), "---\n"), "\n---")
	if !strings.Contains(firstDoc, "# runner-migrate: 0 action(s), 1 warning(s): helm runner-migrate report") {
		t.Fatalf("the first document Helm 4 prints does not point at the report:\n%s", firstDoc)
	}
	if text := printReport(); !strings.Contains(text, ": ok") || !strings.Contains(text, "warning: ") || !strings.Contains(text, "--allow-legacy") {
		t.Fatalf("the report of the passing run:\n%s", text)
	}
	noLeaks(t, data, "GR1348941fixtureRegistrationTok")
}
