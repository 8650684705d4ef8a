package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/runner-migrate/runner-migrate/rewrite"
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
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	var res Result
	b.ReportAllocs()
	for b.Loop() {
		res = Run(Options{Paths: []string{root}, Target: rewrite.DefaultGitLabVersion})
	}
	perRun := time.Since(start) / time.Duration(b.N)
	runtime.ReadMemStats(&after)
	allocated := float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N) / (1 << 20)
	b.ReportMetric(allocated, "MB/run")
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
