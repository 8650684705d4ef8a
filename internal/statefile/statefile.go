// Package statefile keeps runner tokens in a file, for `helm template` and GitOps, where no cluster
// holds them between runs. The file holds tokens: it is written with mode 0600, atomically (a
// temporary file renamed over it, then the directory synced), through a symlink to its target, and
// read back only by fingerprint or workload. Runs that share the file (helmfile, parallel CI jobs)
// take an exclusive lock on it around every read-modify-write.
package statefile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
)

// File is a gitlab.Store in a YAML file.
type File struct {
	Path string

	mu     sync.Mutex
	locked int      // lock depth held by this process
	lock   *os.File // the lock file while locked
}

// document is the file's content. Tokens are plain strings here, and only here.
type document struct {
	Version int `yaml:"version"`
	// ID names this state file in runner markers: runners it keeps are adopted only by runs that
	// keep tokens in it.
	ID      string            `yaml:"id,omitempty"`
	Runners map[string]*entry `yaml:"runners"` // by spec fingerprint
}

type entry struct {
	RunnerID       int64      `yaml:"runnerID"`
	Token          string     `yaml:"token"`
	TokenExpiresAt *time.Time `yaml:"tokenExpiresAt,omitempty"`
	GitLabURL      string     `yaml:"gitlabURL,omitempty"`
	Registration   string     `yaml:"registrationDigest,omitempty"`
	Release        string     `yaml:"release,omitempty"`
	Workloads      []string   `yaml:"workloads"` // the workloads the runner served, to follow a spec that changed

	// Keys of version 1 files, which were written under the lower-cased field names.
	LegacyRunnerID       int64      `yaml:"runnerid,omitempty"`
	LegacyTokenExpiresAt *time.Time `yaml:"tokenexpiresat,omitempty"`
}

const version = 2

// Name implements gitlab.Store.
func (f *File) Name() string { return "state file " + f.Path }

// Place implements gitlab.Store: the file's own id, written into it on first use.
func (f *File) Place(ctx context.Context) (string, error) {
	unlock, err := f.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	doc, err := f.load()
	if err != nil {
		return "", err
	}
	if doc.ID == "" {
		b := make([]byte, 6)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		doc.ID = hex.EncodeToString(b)
		if err := f.write(doc); err != nil {
			return "", err
		}
	}
	return "file-" + doc.ID, nil
}

// Lock implements gitlab.Store: the whole file, exclusively, until unlock.
func (f *File) Lock(ctx context.Context, _ gitlab.Release, _ string) (func(), error) {
	return f.acquire(ctx)
}

// Lookup implements gitlab.Store: the entry of the request's fingerprint, else one that served the
// same workload (its spec changed: the runner is updated, not replaced).
func (f *File) Lookup(ctx context.Context, req tokensource.Request, release gitlab.Release) (gitlab.Record, bool, error) {
	unlock, err := f.acquire(ctx)
	if err != nil {
		return gitlab.Record{}, false, err
	}
	defer unlock()
	doc, err := f.load()
	if err != nil {
		return gitlab.Record{}, false, err
	}
	fp := req.Fingerprint()
	key, ok := fp, doc.Runners[fp] != nil
	if !ok {
		for _, k := range sortedKeys(doc.Runners) {
			e := doc.Runners[k]
			if (e.Release == "" || e.Release == release.String()) && overlaps(e.Workloads, workloads(req)) {
				key, ok = k, true
				break
			}
		}
	}
	if !ok {
		return gitlab.Record{}, false, nil
	}
	e := doc.Runners[key]
	t := token.New(e.Token)
	if t.IsPlaceholder() || !t.IsAuthentication() || e.RunnerID <= 0 {
		return gitlab.Record{}, false, nil
	}
	return gitlab.Record{RunnerID: e.RunnerID, Token: t, Fingerprint: key, ExpiresAt: e.TokenExpiresAt,
		GitLabURL: e.GitLabURL, Registration: e.Registration, Where: f.Name()}, true, nil
}

// Save implements gitlab.Store. Entries of the same runner under an older fingerprint go.
func (f *File) Save(ctx context.Context, req tokensource.Request, release gitlab.Release, rec gitlab.Record) error {
	if rec.Token.IsPlaceholder() {
		return nil
	}
	unlock, err := f.acquire(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	doc, err := f.load()
	if err != nil {
		return err
	}
	for key, e := range doc.Runners {
		if e.RunnerID == rec.RunnerID && sameGitLab(e.GitLabURL, rec.GitLabURL) {
			delete(doc.Runners, key)
		}
	}
	doc.Runners[rec.Fingerprint] = &entry{RunnerID: rec.RunnerID, Token: rec.Token.Reveal(), TokenExpiresAt: rec.ExpiresAt,
		GitLabURL: rec.GitLabURL, Registration: rec.Registration, Release: release.String(), Workloads: workloads(req)}
	return f.write(doc)
}

func sameGitLab(a, b string) bool { return a == "" || b == "" || a == b }

func (f *File) load() (*document, error) {
	doc := &document{Version: version, Runners: map[string]*entry{}}
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
	if doc.Version != 1 && doc.Version != version {
		return nil, fmt.Errorf("the state file %s has version %d; this runner-migrate reads versions 1 and %d", f.Path, doc.Version, version)
	}
	if doc.Runners == nil {
		doc.Runners = map[string]*entry{}
	}
	for _, e := range doc.Runners {
		if e.RunnerID == 0 {
			e.RunnerID = e.LegacyRunnerID
		}
		if e.TokenExpiresAt == nil {
			e.TokenExpiresAt = e.LegacyTokenExpiresAt
		}
		e.LegacyRunnerID, e.LegacyTokenExpiresAt = 0, nil
	}
	doc.Version = version
	return doc, nil
}

// target is the file the state lives in: the path, or where it links to, so that a symlinked state
// file stays a symlink.
func (f *File) target() (string, error) {
	p, err := filepath.EvalSymlinks(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		// A dangling link is written through to its target; a missing file is created at the path.
		if dest, lerr := os.Readlink(f.Path); lerr == nil {
			if !filepath.IsAbs(dest) {
				dest = filepath.Join(filepath.Dir(f.Path), dest)
			}
			return dest, nil
		}
		return f.Path, nil
	}
	return p, err
}

// write replaces the file atomically: a temporary file (mode 0600) in the target's directory,
// synced, renamed over the old one, and the directory synced, so a crash leaves the old file or the
// new one, never half of one, and the rename survives a power loss.
func (f *File) write(doc *document) error {
	data, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	data = append([]byte("# runner-migrate state: runner authentication tokens. Keep it secret (mode 0600).\n"), data...)
	path, err := f.target()
	if err != nil {
		return fmt.Errorf("writing the state file: %w", err)
	}
	dir := filepath.Dir(path)
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
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the state file: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("syncing the state file's directory: %w", err)
	}
	return nil
}

// acquire takes the file's lock (re-entrant within this process), waiting while another process
// holds it, until ctx ends.
func (f *File) acquire(ctx context.Context) (func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.locked == 0 {
		path, err := f.target()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("locking the state file: %w", err)
		}
		lf, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("locking the state file: %w", err)
		}
		if err := lockFile(ctx, lf); err != nil {
			lf.Close()
			return nil, fmt.Errorf("locking the state file %s: %w", f.Path, err)
		}
		f.lock = lf
	}
	f.locked++
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.locked--
			if f.locked == 0 {
				unlockFile(f.lock)
				f.lock.Close()
				f.lock = nil
			}
		})
	}, nil
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
