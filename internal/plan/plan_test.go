package plan

import (
	"bytes"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func render(t *testing.T, chart, release string, values ...string) Source {
	t.Helper()
	var files []string
	for _, v := range values {
		files = append(files, filepath.Join("..", "..", "testdata", "values", v+".yaml"))
	}
	m, err := Render(testenv.Tool(t, "HELM3"), filepath.Join("..", "..", "testdata", "charts", chart), release, "ci", files)
	if err != nil {
		t.Fatal(err)
	}
	return Source{Name: "ci/" + release, Manifests: m}
}

func TestPlan(t *testing.T) {
	sources := []Source{
		render(t, "gitlab-runner-0.86.0", "blue", "legacy"),
		render(t, "gitlab-runner-0.71.0", "green", "legacy"),         // same spec as blue: one runner
		render(t, "gitlab-runner-0.86.0", "small", "legacy-minimal"), // another spec
		render(t, "gitlab-runner-0.86.0", "done", "authenticated"),   // nothing to do
	}
	p, err := Make(sources)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Runners) != 2 {
		t.Fatalf("planned %d runners, want 2 (blue and green share a spec)", len(p.Runners))
	}
	shared := 0
	for _, r := range p.Runners {
		shared = max(shared, len(r.Workloads))
	}
	if shared != 2 {
		t.Fatalf("the shared spec lists %d workloads, want 2", shared)
	}
	if p.Diffs[3].Unified != "" {
		t.Fatalf("an authenticated release must plan no change:\n%s", p.Diffs[3].Unified)
	}
	var out bytes.Buffer
	if err := p.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"GR1348941fixtureRegistrationTok", "R1IxMzQ4OTQxZml4dHVyZVJlZ2lzdHJhdGlvblRvaw==", "glrt-fixtureAuthenticationToken0001"} {
		if strings.Contains(out.String(), secret) {
			t.Fatalf("the plan shows a token (%s...)", secret[:6])
		}
	}
	golden := filepath.Join("testdata", "plan.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./internal/plan -update writes it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("plan differs from %s:\n%s", golden, out.String())
	}
}

// TestPlanBlanksTokensInAnyEncoding: a registration token put in a Secret with --from-file carries a
// newline inside its base64 form; the plan must not show it either way.
func TestPlanBlanksTokensInAnyEncoding(t *testing.T) {
	const reg = "GR1348941newlineEncodedToken00"
	for _, encoded := range []string{base64.StdEncoding.EncodeToString([]byte(reg + "\n")), base64.StdEncoding.EncodeToString([]byte(reg + "\r\n")), `"` + base64.StdEncoding.EncodeToString([]byte(" "+reg)) + `"`} {
		manifests := `apiVersion: v1
kind: Secret
metadata: {name: rel-gitlab-runner, namespace: ci, labels: {release: rel, chart: gitlab-runner-0.86.0}}
data:
  runner-registration-token: ` + encoded + `
  runner-token: ""
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: rel-gitlab-runner, namespace: ci, labels: {release: rel, chart: gitlab-runner-0.86.0}}
spec:
  template:
    spec:
      containers:
      - name: r
        command: [/configmaps/entrypoint]
        env: [{name: CI_SERVER_URL, value: "https://gitlab.example.com"}]
      volumes:
      - name: projected-secrets
        projected: {sources: [{secret: {name: rel-gitlab-runner, items: [{key: runner-registration-token, path: runner-registration-token}, {key: runner-token, path: runner-token}]}}]}
`
		p, err := Make([]Source{{Name: "x", Manifests: []byte(manifests)}})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		p.WriteText(&out)
		if strings.Contains(out.String(), strings.Trim(encoded, `"`)) || strings.Contains(out.String(), reg) || !strings.Contains(out.String(), "[REDACTED]") {
			t.Fatalf("the plan shows the token encoded as %s:\n%s", encoded, out.String())
		}
	}
}
