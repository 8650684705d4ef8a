package statefile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

var rel = gitlab.Release{Namespace: "ci", Name: "rel"}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := &File{Path: filepath.Join(t.TempDir(), "nested", "state.yaml")}
	a := request(t, "a")
	if _, ok, err := f.Lookup(ctx, a, rel); ok || err != nil {
		t.Fatalf("a missing file must be empty: %v %v", ok, err)
	}
	exp := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := gitlab.Record{RunnerID: 7, Token: token.New("glrt-state-secret"), Fingerprint: a.Fingerprint(), ExpiresAt: &exp}
	if err := f.Save(ctx, a, rel, rec); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(f.Path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	got, ok, err := f.Lookup(ctx, a, rel)
	if err != nil || !ok || got.RunnerID != 7 || got.Token.Reveal() != "glrt-state-secret" || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("Lookup = %+v %v %v", got, ok, err)
	}

	// The spec changed (other tags) but the workload is the same: the record follows it, and saving
	// under the new fingerprint drops the old entry.
	b := request(t, "a", "b")
	got, ok, _ = f.Lookup(ctx, b, rel)
	if !ok || got.RunnerID != 7 {
		t.Fatalf("a changed spec of the same workload must find its runner, got %+v %v", got, ok)
	}
	rec.Fingerprint = b.Fingerprint()
	if err := f.Save(ctx, b, rel, rec); err != nil {
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
	_, _, err := (&File{Path: path}).Lookup(context.Background(), request(t, "a"), rel)
	if err == nil || strings.Contains(err.Error(), "leaky") {
		t.Fatalf("want an error that does not quote the file, got %v", err)
	}
	os.WriteFile(path, []byte("version: 3\nrunners: {}\n"), 0o600)
	if _, _, err := (&File{Path: path}).Lookup(context.Background(), request(t, "a"), rel); err == nil || !strings.Contains(err.Error(), "version 3") {
		t.Fatalf("want a version error, got %v", err)
	}
}

// TestConcurrentWriters: runs that share one state file (helmfile, parallel CI jobs) each add their
// entry; the lock keeps every one of them.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.yaml")
	const writers = 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			f := &File{Path: path} // each writer its own, as separate processes have
			req := request(t, fmt.Sprintf("w%d", i))
			release := gitlab.Release{Namespace: "ci", Name: fmt.Sprintf("rel-%d", i)}
			unlock, err := f.Lock(context.Background(), release, req.Fingerprint())
			if err != nil {
				errs <- err
				return
			}
			defer unlock()
			if _, _, err := f.Lookup(context.Background(), req, release); err != nil {
				errs <- err
				return
			}
			errs <- f.Save(context.Background(), req, release, gitlab.Record{RunnerID: int64(100 + i), Token: token.New(fmt.Sprintf("glrt-writer-%d", i)), Fingerprint: req.Fingerprint()})
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	for i := 0; i < writers; i++ {
		if !strings.Contains(string(data), fmt.Sprintf("glrt-writer-%d\n", i)) {
			t.Errorf("writer %d's entry was lost", i)
		}
	}
}

// TestFileFormat: the keys are the ones the struct tags name, version 1 files (lower-cased keys)
// are still read, a symlinked state file stays a symlink, and a placeholder is never kept or reused.
func TestFileFormat(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	target := filepath.Join(dir, "real", "state.yaml")
	os.MkdirAll(filepath.Dir(target), 0o700)
	a := request(t, "a")
	v1 := fmt.Sprintf("version: 1\nrunners:\n  %s:\n    runnerid: 9\n    token: glrt-from-version-one\n    tokenexpiresat: 2027-01-02T03:04:05Z\n    workloads: [Deployment ci/runner]\n", a.Fingerprint())
	if err := os.WriteFile(target, []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "state.yaml")
	if err := os.Symlink(filepath.Join("real", "state.yaml"), link); err != nil {
		t.Fatal(err)
	}
	f := &File{Path: link}
	got, ok, err := f.Lookup(ctx, a, rel)
	if err != nil || !ok || got.RunnerID != 9 || got.ExpiresAt == nil {
		t.Fatalf("a version 1 entry must be read: %+v %v %v", got, ok, err)
	}
	got.GitLabURL = "https://gitlab.example.com"
	place, err := f.Place(ctx)
	if err != nil || !strings.HasPrefix(place, "file-") {
		t.Fatalf("place %q: %v", place, err)
	}
	if again, _ := f.Place(ctx); again != place {
		t.Fatalf("the place changed from %s to %s", place, again)
	}
	if err := f.Save(ctx, a, rel, got); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the state file is no longer a symlink")
	}
	data, _ := os.ReadFile(target)
	for _, key := range []string{"version: 2", "runnerID: 9", "tokenExpiresAt:", "gitlabURL: https://gitlab.example.com", "id: "} {
		if !strings.Contains(string(data), key) {
			t.Errorf("the file lacks %q:\n%s", key, data)
		}
	}
	if strings.Contains(string(data), "runnerid") {
		t.Errorf("the file still has lower-cased keys:\n%s", data)
	}
	// A placeholder is never kept, and one written by hand is not reused.
	b := request(t, "b")
	if err := f.Save(ctx, b, rel, gitlab.Record{RunnerID: 3, Token: token.Placeholder(b.Fingerprint()), Fingerprint: b.Fingerprint()}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(target); strings.Contains(string(data), token.PlaceholderPrefix) {
		t.Fatal("a placeholder was kept")
	}
	os.WriteFile(target, []byte(fmt.Sprintf("version: 2\nrunners:\n  %s:\n    runnerID: 4\n    token: %s\n", b.Fingerprint(), token.Placeholder(b.Fingerprint()).Reveal())), 0o600)
	if _, ok, _ := f.Lookup(ctx, b, rel); ok {
		t.Fatal("a placeholder in the file was reused")
	}
}
