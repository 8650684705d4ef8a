// Package golden compares test output with golden files under testdata/, and rewrites them when the
// test binary runs with -update (each package's tests define that flag and pass its value).
package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Compare checks got against the file at path, or writes it there when update is set.
func Compare(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the package's tests with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output; if the change is intended, rerun with -update and review the diff:\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}
