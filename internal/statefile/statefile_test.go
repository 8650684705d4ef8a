package statefile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// request builds a request for a spec with the given tags, served by one Deployment.
func request(t *testing.T, tags ...string) tokensource.Request {
	t.Helper()
	manifest := "kind: Deployment\nmetadata: {name: runner, namespace: ci}\nspec: {template: {spec: {containers: [{name: r, command: [/configmaps/entrypoint]}], volumes: [{name: s, secret: {secretName: x, items: [{key: runner-token, path: runner-token}]}}]}}}\n"
	s, err := rewrite.Read([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if err := (rewrite.Detect{}).Filter(s); err != nil || len(s.Sites) != 1 {
		t.Fatalf("detect: %v, %d sites", err, len(s.Sites))
	}
	return tokensource.Request{Spec: rewrite.Spec{URL: "https://gitlab.example.com", Tags: tags}, Sites: s.Sites}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := &File{Path: filepath.Join(t.TempDir(), "nested", "state.yaml")}
	a := request(t, "a")
	if _, ok, err := f.Lookup(ctx, a); ok || err != nil {
		t.Fatalf("a missing file must be empty: %v %v", ok, err)
	}
	exp := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := gitlab.Record{RunnerID: 7, Token: token.New("glrt-state-secret"), Fingerprint: a.Fingerprint(), ExpiresAt: &exp}
	if err := f.Save(ctx, a, rec); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(f.Path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	got, ok, err := f.Lookup(ctx, a)
	if err != nil || !ok || got.RunnerID != 7 || got.Token.Reveal() != "glrt-state-secret" || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("Lookup = %+v %v %v", got, ok, err)
	}

	// The spec changed (other tags) but the workload is the same: the record follows it, and saving
	// under the new fingerprint drops the old entry.
	b := request(t, "a", "b")
	got, ok, _ = f.Lookup(ctx, b)
	if !ok || got.RunnerID != 7 {
		t.Fatalf("a changed spec of the same workload must find its runner, got %+v %v", got, ok)
	}
	rec.Fingerprint = b.Fingerprint()
	if err := f.Save(ctx, b, rec); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(f.Path)
	if strings.Contains(string(data), a.Fingerprint()) || !strings.Contains(string(data), b.Fingerprint()) {
		t.Fatalf("old entry kept or new one missing:\n%s", data)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(f.Path), ".runner-migrate-state-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}
}

func TestBrokenFileDoesNotLeak(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.yaml")
	os.WriteFile(path, []byte("runners: [glrt-leaky-token\n"), 0o600)
	_, _, err := (&File{Path: path}).Lookup(context.Background(), request(t, "a"))
	if err == nil || strings.Contains(err.Error(), "leaky") {
		t.Fatalf("want an error that does not quote the file, got %v", err)
	}
	os.WriteFile(path, []byte("version: 2\nrunners: {}\n"), 0o600)
	if _, _, err := (&File{Path: path}).Lookup(context.Background(), request(t, "a")); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("want a version error, got %v", err)
	}
}
