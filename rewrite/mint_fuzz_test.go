package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzMint feeds arbitrary streams through the mint path (detection, the bundled runner's recognition,
// the minting Job, the patches). Whatever comes in: no panic; documents it leaves alone come out byte
// for byte and in order; and the output, post-rendered again, does not change.
func FuzzMint(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bundled/*.yaml")
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, out, err := mintStream(data, BundledMint)
		if err != nil || out == nil {
			return
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
		_, again, err := mintStream(out, BundledMint)
		if err != nil {
			t.Fatalf("the output does not post-render again: %v", err)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("post-rendering the output again changed it:\n%s\n---- became ----\n%s", out, again)
		}
	})
}

// BenchmarkMint is the mint path on the GitLab chart's render (9.9.1 fixture) among filler documents,
// 2 MB in all: read, detect, recognise the bundled runner, add the Job, patch, write. Target: under
// 20 ms per run, as for any post-render of that size.
func BenchmarkMint(b *testing.B) {
	gitlab, err := os.ReadFile("testdata/bundled/gitlab-9.9.1.yaml")
	if err != nil {
		b.Fatal(err)
	}
	in := append(benchStream(b, 270), append([]byte("---\n"), gitlab...)...)
	if len(in) < 2<<20 {
		b.Fatalf("stream has %d bytes, want 2 MB", len(in))
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s, out, err := mintStream(in, BundledMint)
		if err != nil || len(out) <= len(in) || s.Sites[len(s.Sites)-1].Bundled == nil {
			b.Fatalf("the mint path did not add the Job (err %v)", err)
		}
	}
}
