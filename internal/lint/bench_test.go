package lint

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
)

// BenchmarkLintTree lints a generated tree of 1,000 values files, half of them with findings.
// Targets: under 1 s and under 50 MB (allocated) per run.
func BenchmarkLintTree(b *testing.B) {
	root := b.TempDir()
	for i := 0; i < 1000; i++ {
		dir := filepath.Join(root, fmt.Sprintf("team-%02d", i%40), fmt.Sprintf("service-%03d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		var content string
		if i%2 == 0 {
			content = fmt.Sprintf("gitlabUrl: https://gitlab.example.com/\nrunnerRegistrationToken: \"GR1348941bench%06d\"\nconcurrent: 10\nrunners:\n  tags: \"team-%d,docker\"\n  locked: false\n  runUntagged: true\n  config: |\n    [[runners]]\n      [runners.kubernetes]\n        image = \"alpine\"\n", i, i%40)
		} else {
			content = fmt.Sprintf("gitlabUrl: https://gitlab.example.com/\nconcurrent: %d\nrunners:\n  config: |\n    [[runners]]\n      [runners.kubernetes]\n        image = \"alpine\"\n", i%20+1)
		}
		if err := os.WriteFile(filepath.Join(dir, "values.yaml"), []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	res, perRun, allocated := measure(b, Options{Paths: []string{root}, Target: rules.DefaultGitLabVersion})
	if res.Files != 1000 || len(res.Errors) != 0 {
		b.Fatalf("linted %d files with %d errors, want 1000 and none", res.Files, len(res.Errors))
	}
	withFindings := map[string]bool{}
	for _, f := range res.Findings {
		withFindings[f.File] = true
	}
	if len(withFindings) != 500 {
		b.Fatalf("%d files with findings, want 500", len(withFindings))
	}
	if perRun >= time.Second || allocated >= 50 {
		b.Fatalf("targets missed: %s and %.1f MB per run (want < 1 s, < 50 MB)", perRun, allocated)
	}
}

// BenchmarkLintLargeValues lints a 10 MB values file whose root mapping has 400,000 keys (issue 9:
// 40,000 keys took 5.5 s, 400,000 did not finish in 10 minutes). Targets: under 2 s and under
// 200 MB (allocated) per run.
func BenchmarkLintLargeValues(b *testing.B) {
	const keys = 400_000
	var buf bytes.Buffer
	buf.WriteString("gitlabUrl: https://gitlab.example.com/\nrunnerRegistrationToken: \"GR1348941benchLargeValues\"\nrunners:\n  tags: docker\n  locked: false\n")
	for i := 0; i < keys-5; i++ {
		fmt.Fprintf(&buf, "key-%06d: v-%012d\n", i, i)
	}
	if buf.Len() < 10<<20 {
		b.Fatalf("the file has %d bytes, want 10 MB", buf.Len())
	}
	file := filepath.Join(b.TempDir(), "values.yaml")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	res, perRun, allocated := measure(b, Options{Paths: []string{file}, Target: rules.DefaultGitLabVersion})
	if len(res.Errors) != 0 || len(res.Findings) != 3 {
		b.Fatalf("errors %v, %d findings, want none and 3 (RM001, two RM002)", res.Errors, len(res.Findings))
	}
	if perRun >= 2*time.Second || allocated >= 200 {
		b.Fatalf("targets missed: %s and %.1f MB per run (want < 2 s, < 200 MB)", perRun, allocated)
	}
}

// measure runs lint b.N times and returns the last result, the time per run and the MB allocated
// per run (also reported as MB/run).
func measure(b *testing.B, opts Options) (res Result, perRun time.Duration, allocatedMB float64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		res = Run(opts)
	}
	perRun = time.Since(start) / time.Duration(b.N)
	runtime.ReadMemStats(&after)
	allocatedMB = float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N) / (1 << 20)
	b.ReportMetric(allocatedMB, "MB/run")
	return res, perRun, allocatedMB
}
