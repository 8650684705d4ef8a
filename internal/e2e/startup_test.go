package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runner-migrate/runner-migrate/internal/testenv"
)

// A post-renderer runs on every helm template and upgrade, so its whole-process cost (start-up
// included) is part of the product. These benchmarks run the built binary as a process, paired with
// `cat` on the same input, and fail when a target is missed.
const (
	maxOverCat     = 5 * time.Millisecond // post-render of a gitlab-runner 0.86 release, over cat
	maxHelmSlower  = 0.02                 // helm template of a GitLab-chart-sized release, over --post-renderer cat
	maxResidentSet = 30 << 20             // bytes, for post-render
)

// processCost runs a command once and returns its wall time and peak resident set.
func processCost(b *testing.B, env []string, stdin []byte, name string, args ...string) (time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	wall := time.Since(start)
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return wall, rss
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkStartupPostRender: runner-migrate post-render of a rendered gitlab-runner 0.86 release
// (with a token given, so it migrates the runner), against cat on the same input, in alternating
// runs; the median of the paired differences is the cost over cat.
func BenchmarkStartupPostRender(b *testing.B) {
	helm := testenv.NewHelm(b, 3)
	res := helm.Run(nil, "template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "-n", "ci")
	if res.Err != nil {
		b.Fatalf("helm template: %v\n%s", res.Err, res.Stderr)
	}
	bin := testenv.Binary(b)
	cat, err := exec.LookPath("cat")
	if err != nil {
		b.Fatal(err)
	}
	env := append(cleanEnv(), "RUNNER_MIGRATE_AUTH_TOKEN="+authToken)
	// Warm the page cache and the binary.
	processCost(b, env, res.Stdout, bin, "post-render")
	const pairs = 61
	var over []time.Duration
	var peak int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		over = over[:0]
		for p := 0; p < pairs; p++ {
			c, _ := processCost(b, env, res.Stdout, cat)
			r, rss := processCost(b, env, res.Stdout, bin, "post-render")
			over = append(over, r-c)
			peak = max(peak, rss)
		}
	}
	b.StopTimer()
	m := median(over)
	b.ReportMetric(float64(m)/float64(time.Millisecond), "ms-over-cat")
	b.ReportMetric(float64(peak)/(1<<20), "MB-rss")
	if m > maxOverCat {
		b.Fatalf("post-render costs %v more than cat (median of %d pairs), target %v", m, pairs, maxOverCat)
	}
	if peak > maxResidentSet {
		b.Fatalf("post-render's resident set peaked at %.1f MB, target %d MB", float64(peak)/(1<<20), maxResidentSet>>20)
	}
}

// BenchmarkStartupHelmTemplate: helm template of a GitLab-chart-sized release (the umbrella fixture
// plus 300 rendered documents, about 2 MB, as the GitLab chart renders) with --post-renderer
// runner-migrate against --post-renderer cat.
func BenchmarkStartupHelmTemplate(b *testing.B) {
	chart := sizedUmbrella(b)
	helm := testenv.NewHelm(b, 3)
	bin := testenv.Binary(b)
	cat, err := exec.LookPath("cat")
	if err != nil {
		b.Fatal(err)
	}
	env := append(append([]string{}, helm.Env...), "RUNNER_MIGRATE_AUTH_TOKEN="+authToken)
	args := func(renderer string) []string {
		return []string{"template", "gl", chart, "-n", "gitlab", "--post-renderer", renderer}
	}
	processCost(b, env, nil, helm.Bin, args(bin)...)
	const pairs = 15
	var withCat, withUs []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for p := 0; p < pairs; p++ {
			c, _ := processCost(b, env, nil, helm.Bin, args(cat)...)
			r, _ := processCost(b, env, nil, helm.Bin, args(bin)...)
			withCat, withUs = append(withCat, c), append(withUs, r)
		}
	}
	b.StopTimer()
	var ratios []time.Duration // in ppm, to reuse median
	for i := range withCat {
		ratios = append(ratios, time.Duration(float64(withUs[i]-withCat[i])/float64(withCat[i])*1e6))
	}
	slower := float64(median(ratios)) / 1e6
	b.ReportMetric(float64(median(withCat))/float64(time.Millisecond), "ms-with-cat")
	b.ReportMetric(slower*100, "%-slower")
	if slower > maxHelmSlower {
		b.Fatalf("helm template with runner-migrate is %.1f%% slower than with cat (median of %d pairs), target %.0f%%", slower*100, pairs, maxHelmSlower*100)
	}
}

// sizedUmbrella copies the GitLab chart fixture and adds a template that renders 300 documents of
// about 7 KB each, so the render has the size of the real GitLab chart's.
func sizedUmbrella(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "gitlab")
	src := filepath.Join(testenv.Root(), chartPath("gitlab-9.9.1"))
	if out, err := exec.Command("cp", "-rL", src, dir).CombinedOutput(); err != nil {
		b.Fatalf("copying the fixture: %v\n%s", err, out)
	}
	var tpl strings.Builder
	tpl.WriteString("{{- range $i := until 300 }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ $.Release.Name }}-filler-{{ $i }}\n  labels: {app: filler, release: {{ $.Release.Name }}}\ndata:\n")
	for k := 0; k < 60; k++ {
		fmt.Fprintf(&tpl, "  key-%02d: \"{{ printf \"%%0100d\" $i }}\"\n", k)
	}
	tpl.WriteString("{{- end }}\n")
	if err := os.WriteFile(filepath.Join(dir, "templates", "filler.yaml"), []byte(tpl.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}
