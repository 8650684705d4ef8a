package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

// FuzzRewrite feeds arbitrary streams through reading, detection and patching. Whatever comes in:
// no panic; a stream read and written untouched is byte-identical; documents the patches leave alone
// come out byte-identical and in order; and the output, post-rendered again, does not change.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		"", "---\n", "a: 1\n---\nb: 2", "\xef\xbb\xbf---\r\nkind: Secret\r\ndata: {runner-token: \"\"}\r\n",
		"kind: List\nitems:\n- kind: Deployment\n  spec: {template: {spec: {containers: [{name: c, command: [/configmaps/entrypoint], env: [{name: REGISTRATION_TOKEN, value: x}]}]}}}\n",
	} {
		f.Add([]byte(s))
	}
	seeds, _ := filepath.Glob("testdata/*/in.yaml")
	renders, _ := filepath.Glob("../testdata/golden/helm*/*/*.yaml") // real Helm renders, already migrated
	seeds = append(seeds, renders...)
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Read(data)
		if err != nil {
			return
		}
		if out, err := s.Bytes(); err != nil || !bytes.Equal(out, data) {
			t.Fatalf("untouched stream changed (err %v)", err)
		}
		out := migrate(t, data)
		if out == nil {
			return
		}
		again := migrate(t, out)
		if again != nil && !bytes.Equal(again, out) {
			t.Fatalf("post-rendering the output again changed it:\n%s\n---- became ----\n%s", out, again)
		}
	})
}

// migrate post-renders data with one token for every site; it returns nil when the stream is refused,
// and checks that every document the patches did not touch passed through byte for byte.
func migrate(t *testing.T, data []byte) []byte {
	s, err := Read(data)
	if err != nil {
		return nil
	}
	if err := (Detect{}).Filter(s); err != nil {
		return nil
	}
	for _, site := range s.Sites {
		if site.Migratable() {
			site.AuthToken = token.New(goldenToken)
		}
	}
	if err := Patches.Filter(s); err != nil {
		return nil
	}
	out, err := s.Bytes()
	if err != nil {
		t.Fatalf("writing a patched stream: %v", err)
	}
	rest := out
	for _, d := range s.docs {
		if d.changed {
			continue
		}
		i := bytes.Index(rest, d.raw)
		if i < 0 {
			t.Fatalf("untouched document at line %d is not in the output byte for byte", d.line)
		}
		rest = rest[i+len(d.raw):]
	}
	if _, err := Read(out); err != nil {
		t.Fatalf("patched output does not read back: %v", err)
	}
	return out
}
