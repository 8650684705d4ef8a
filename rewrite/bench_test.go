package rewrite

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

// benchStream builds a Helm-3-shaped stream of about 2 MB: two runner releases (Secret, ConfigMap,
// Deployment each) among filler documents of an ordinary application.
func benchStream(tb testing.TB, filler int) []byte {
	tb.Helper()
	var b bytes.Buffer
	for i := 0; i < filler; i++ {
		fmt.Fprintf(&b, "---\n# Source: app/templates/config-%d.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config-%d\n  labels:\n    app.kubernetes.io/name: app\n    app.kubernetes.io/instance: app-%d\ndata:\n  settings.json: |\n", i, i, i)
		for j := 0; j < 100; j++ {
			fmt.Fprintf(&b, "    {\"key-%03d\": \"value %d of the application's configuration, long enough to weigh\"}\n", j, j)
		}
	}
	for _, c := range []string{"list-kind", "unlabelled-runtime-check"} {
		data, err := os.ReadFile("testdata/" + c + "/in.yaml")
		if err != nil {
			tb.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return b.Bytes()
}

// BenchmarkPostRender is the post-renderer's rewrite on a 2 MB stream of 300 documents with two
// runners: read, detect, patch, write. Target: under 20 ms per run.
func BenchmarkPostRender(b *testing.B) {
	in := benchStream(b, 296)
	if n := len(split(in)); n != 300 || len(in) < 2<<20 {
		b.Fatalf("stream has %d documents and %d bytes, want 300 and 2 MB", n, len(in))
	}
	t := token.New("glrt-bench-token-000000000000")
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := Read(in)
		if err != nil {
			b.Fatal(err)
		}
		if err := (Detect{}).Filter(s); err != nil {
			b.Fatal(err)
		}
		if len(s.Sites) != 2 {
			b.Fatalf("found %d runners, want 2", len(s.Sites))
		}
		for _, site := range s.Sites {
			site.AuthToken = t
		}
		if err := Patches.Filter(s); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUntouchedDocuments reports the allocations each document costs that is no runner part.
// Target: under 10 per document.
func BenchmarkUntouchedDocuments(b *testing.B) {
	const docs = 300
	in := benchStream(b, docs)
	in = in[:bytes.Index(in, []byte("---\napiVersion: v1\nkind: List"))] // filler only
	if n := len(split(in)); n != docs {
		b.Fatalf("stream has %d documents, want %d", n, docs)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		s, err := Read(in)
		if err != nil {
			b.Fatal(err)
		}
		if err := (Detect{}).Filter(s); err != nil {
			b.Fatal(err)
		}
		out, err := s.Bytes()
		if err != nil || len(out) != len(in) {
			b.Fatal("untouched stream changed")
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N)/docs, "allocs/doc")
}
