package rules

import "testing"

func TestPlaceholders(t *testing.T) {
	for _, p := range []string{"glrt-", "glrt-YOUR_TOKEN_HERE", "glrt-xxxxxxxxxxxx", "glrt-XXXX-XXXX", "glrt-0000000000", "glrt-<token>",
		"glrt-${RUNNER_TOKEN}", "glrt-{{ .Values.token }}", "glrt-CHANGEME", "glrt-changeme", "glrt-t1_CHANGEME", "glrt-REPLACE_ME",
		"glrt-your-token", "glrt-example-token", "glrt-$(TOKEN)", "glrt-****"} {
		if !isPlaceholder(p) {
			t.Errorf("%q is a placeholder", p)
		}
	}
	for _, real := range []string{"glrt-t1_q8ZxV3mNk2LpRw7Ys4Hd", "glrt-fixtureAuthenticationToken0001", "glrt-2CR8_eVxiioB1QmzPZwa", "glrt-aB3dE5fG7hJ9kL1mN3pQ"} {
		if isPlaceholder(real) {
			t.Errorf("%q looks like a real token", real)
		}
	}
}

func TestChartOf(t *testing.T) {
	tests := []struct {
		ref    string
		nested bool
		want   Chart
	}{
		{"gitlab-runner", false, ChartRunner},
		{"gitlab/gitlab-runner", false, ChartRunner},
		{"oci://registry.gitlab.com/gitlab-org/charts/gitlab-runner", false, ChartRunner},
		{"./charts/gitlab-runner/", false, ChartRunner},
		{"gitlab-runner-0.86.0.tgz", false, ChartRunner},
		{"gitlab", false, ChartGitLab},
		{"gitlab", true, ChartOther}, // the GitLab chart's own charts/gitlab
		{"sidekiq", false, ChartOther},
		{"", false, ChartUnknown},
	}
	for _, tt := range tests {
		if got := ChartOf(tt.ref, tt.nested); got != tt.want {
			t.Errorf("ChartOf(%q, %v) = %v, want %v", tt.ref, tt.nested, got, tt.want)
		}
	}
}
