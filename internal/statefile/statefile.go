// Package statefile keeps runner tokens in a file, for `helm template` and GitOps, where no cluster
// holds the live Secret between runs. The file holds tokens: it is written with mode 0600, atomically
// (a temporary file renamed over it), and read back only by fingerprint or workload.
package statefile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
)

// File is a gitlab.Store in a YAML file.
type File struct {
	Path string
	mu   sync.Mutex
}

// document is the file's content. Tokens are plain strings here, and only here.
type document struct {
	Version int               `json:"version"`
	Runners map[string]*entry `json:"runners"` // by spec fingerprint
}

type entry struct {
	RunnerID       int64      `json:"runnerID"`
	Token          string     `json:"token"`
	TokenExpiresAt *time.Time `json:"tokenExpiresAt,omitempty"`
	Workloads      []string   `json:"workloads"` // the workloads the runner served, to follow a spec that changed
}

// Name implements gitlab.Store.
func (f *File) Name() string { return "state file " + f.Path }

// Lookup implements gitlab.Store: the entry of the request's fingerprint, else one that served the
// same workload (its spec changed: the runner is updated, not replaced).
func (f *File) Lookup(_ context.Context, req tokensource.Request) (gitlab.Record, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	doc, err := f.load()
	if err != nil {
		return gitlab.Record{}, false, err
	}
	fp := req.Fingerprint()
	e, ok := doc.Runners[fp]
	if !ok {
		for _, key := range sortedKeys(doc.Runners) {
			if overlaps(doc.Runners[key].Workloads, workloads(req)) {
				e, ok = doc.Runners[key], true
				break
			}
		}
	}
	if !ok {
		return gitlab.Record{}, false, nil
	}
	return gitlab.Record{RunnerID: e.RunnerID, Token: token.New(e.Token), Fingerprint: fp, ExpiresAt: e.TokenExpiresAt, Where: f.Name()}, true, nil
}

// Save implements gitlab.Store. Entries of the same runner under an older fingerprint go.
func (f *File) Save(_ context.Context, req tokensource.Request, rec gitlab.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	doc, err := f.load()
	if err != nil {
		return err
	}
	for key, e := range doc.Runners {
		if e.RunnerID == rec.RunnerID {
			delete(doc.Runners, key)
		}
	}
	doc.Runners[rec.Fingerprint] = &entry{RunnerID: rec.RunnerID, Token: rec.Token.Reveal(), TokenExpiresAt: rec.ExpiresAt, Workloads: workloads(req)}
	return f.write(doc)
}

func (f *File) load() (*document, error) {
	doc := &document{Version: 1, Runners: map[string]*entry{}}
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return doc, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the state file: %w", err)
	}
	if err := yaml.Unmarshal(data, doc); err != nil {
		// The YAML error would quote the file, tokens and all: say where only.
		return nil, fmt.Errorf("the state file %s is not a runner-migrate state file; move it away or fix it", f.Path)
	}
	if doc.Version != 1 {
		return nil, fmt.Errorf("the state file %s has version %d; this runner-migrate reads version 1", f.Path, doc.Version)
	}
	if doc.Runners == nil {
		doc.Runners = map[string]*entry{}
	}
	return doc, nil
}

// write replaces the file atomically: a temporary file (mode 0600) in the same directory, synced,
// then renamed over the old one, so a crash leaves the old file or the new one, never half of one.
func (f *File) write(doc *document) error {
	data, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	data = append([]byte("# runner-migrate state: runner authentication tokens. Keep it secret (mode 0600).\n"), data...)
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("writing the state file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".runner-migrate-state-*")
	if err != nil {
		return fmt.Errorf("writing the state file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.Path)
}

func workloads(req tokensource.Request) []string {
	out := make([]string, len(req.Sites))
	for i, s := range req.Sites {
		out[i] = s.Workload.Ref.String()
	}
	return out
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]*entry) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
