package runreport

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// TestRoundTrip: a failed run's report keeps each joined error with its object, line, field and fix,
// the actions in the past tense and the warnings; it reads back and prints them in words.
func TestRoundTrip(t *testing.T) {
	r := New("1.2.3", "post-render")
	r.Helm = "helm upgrade, helm (pid 42)"
	r.AddActions([]gitlab.Action{{Fingerprint: "rm-0123456789ab", Sites: []string{"Deployment ci/a"}, Verb: "create", RunnerID: 7, Detail: "group runner in platform"}})
	r.Warnings = append(r.Warnings, "something to know")
	r.Fail(errors.Join(
		&rewrite.Error{Object: rewrite.Ref{Kind: "Secret", Namespace: "ci", Name: "x"}, Line: 12, Field: "data.runner-token", Problem: "the value is not valid base64", Fix: "encode it"},
		fmt.Errorf("wrapped: %w", errors.New("plain failure"))))
	path := filepath.Join(t.TempDir(), "dir", "report.json")
	if err := r.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Result != "failed" || len(got.Actions) != 1 || got.Actions[0].Action != "created" || got.Actions[0].RunnerID != 7 ||
		len(got.Warnings) != 1 || len(got.Errors) != 2 {
		t.Fatalf("read back %+v", got)
	}
	if e := got.Errors[0]; e.Object != "Secret ci/x" || e.Line != 12 || e.Field != "data.runner-token" || e.Fix != "encode it" {
		t.Fatalf("the structured error lost its parts: %+v", e)
	}
	var text bytes.Buffer
	if err := got.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"failed", "created runner 7 for spec rm-0123456789ab", "warning: something to know",
		"error: Secret ci/x (line 12), data.runner-token: the value is not valid base64", "fix: encode it", "error: wrapped: plain failure"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text lacks %q:\n%s", want, text.String())
		}
	}
}

func TestDefaultPathFollowsHelm(t *testing.T) {
	t.Setenv("HELM_CACHE_HOME", "/x/helm-cache")
	if got := DefaultPath(); got != "/x/helm-cache/runner-migrate/post-render-report.json" {
		t.Fatalf("DefaultPath = %s", got)
	}
	t.Setenv("HELM_CACHE_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "/y")
	if got := DefaultPath(); got != "/y/helm/runner-migrate/post-render-report.json" {
		t.Fatalf("DefaultPath = %s", got)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.json")); err == nil || !strings.Contains(err.Error(), "no report") {
		t.Fatalf("a missing report: %v", err)
	}
}
