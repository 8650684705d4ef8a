package migrate

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/runner-migrate/runner-migrate/rewrite"
)

// FuzzMigrateValues: whatever a values file holds, migrate reads it, decides, edits and writes it
// without panicking; a run that succeeds writes files that are YAML again, and a second run over them
// changes nothing. (No GitLab: a runner to create stops the run with an error, after the edits.)
func FuzzMigrateValues(f *testing.F) {
	for _, seed := range []string{"runner/values.yaml", "repair/values.yaml", "anchor/values.yaml", "pools/values.yaml", "gitlab/values.yaml", "argocd/applications.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", seed))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("runnerToken: x\nrunners: {tags: a, locked: false}\nenvVars: [{name: REGISTER_PAUSED, value: 'true'}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := Run(context.Background(), Options{Files: []string{path}, Release: "ci", Namespace: "ci", DryRun: true})
		if err != nil {
			return
		}
		for _, file := range res.Files {
			if _, err := rewrite.ReadYAML(file.After); err != nil {
				t.Fatalf("the migrated file is no YAML: %v\n%s", err, file.After)
			}
			if err := os.WriteFile(path, file.After, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		again, err := Run(context.Background(), Options{Files: []string{path}, Release: "ci", Namespace: "ci", DryRun: true})
		if err != nil {
			t.Fatalf("a second run failed: %v", err)
		}
		for _, file := range again.Files {
			if file.Changed() {
				t.Fatalf("a second run changed the file:\n%s\n---\n%s", file.Before, file.After)
			}
		}
	})
}
