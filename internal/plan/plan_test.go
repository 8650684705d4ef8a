package plan

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func render(t *testing.T, chart, release string, values ...string) Source {
	t.Helper()
	var files []string
	for _, v := range values {
		files = append(files, filepath.Join("..", "..", "testdata", "values", v+".yaml"))
	}
	m, err := Render(filepath.Join("..", "..", "testdata", "charts", chart), release, "ci", files)
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
