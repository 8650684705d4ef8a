package e2e

import (
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/testenv"
)

// BenchmarkUpgradeAPICalls counts the GitLab API calls of `helm upgrade --install` with runner-migrate
// for a release with 5 runner specs, against a real API server. Targets: exactly 5 creates on the
// first upgrade; no create and at most 5 reads on each later one.
func BenchmarkUpgradeAPICalls(b *testing.B) {
	cluster, ns := testenv.Cluster(b)
	gl := newGitLab(b)
	helm := testenv.NewHelm(b, 3)
	bin := testenv.Binary(b)
	env := []string{"KUBECONFIG=" + cluster.Kubeconfig, "GITLAB_TOKEN=" + gl.pat, "RUNNER_MIGRATE_GITLAB_URL=" + gl.URL(), "RUNNER_MIGRATE_ALLOW_HTTP=true", "RUNNER_MIGRATE_ALLOWED_HOST=gitlab.example.com"}
	values := multiRunnerValues(b, gl.group.RunnersToken, nil)
	upgrade := func() {
		res := helm.Run(env, "upgrade", "--install", "rel", chartPath("multi-runner"), "-f", values, "-n", ns, "--post-renderer", bin)
		noLeaks(b, res.Stderr, gl.secrets()...)
		if res.Err != nil {
			b.Fatalf("helm upgrade: %v\n%s", res.Err, res.Stderr)
		}
	}
	upgrade()
	firstCreates, firstCalls := gl.CountCalls("POST", "/api/v4/user/runners"), len(gl.Calls())

	gl.ResetCalls()
	b.ResetTimer()
	for b.Loop() {
		upgrade()
	}
	b.StopTimer()
	n := float64(b.N)
	creates := float64(gl.CountCalls("POST", "/api/v4/user/runners")) / n
	reads := float64(gl.CountCalls("GET", "/api/v4/")) / n
	writes := float64(len(gl.Calls()))/n - reads
	b.ReportMetric(float64(firstCreates), "first-creates")
	b.ReportMetric(float64(firstCalls), "first-calls")
	b.ReportMetric(creates, "creates/upgrade")
	b.ReportMetric(reads, "reads/upgrade")
	b.ReportMetric(writes, "writes/upgrade")
	if firstCreates != 5 || creates != 0 || reads > 5 || len(gl.Runners()) != 5 {
		b.Fatalf("targets missed: first upgrade %d creates (want 5); later %.1f creates, %.1f reads per upgrade (want 0, <= 5); %d runners",
			firstCreates, creates, reads, len(gl.Runners()))
	}
}
