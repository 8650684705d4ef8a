package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/runner-migrate/runner-migrate/internal/gitlabfake"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
)

// TestFaultMatrix injects every fault the fake GitLab knows into the calls of a post-render that
// creates (or reuses) a runner, and checks the exit status and how many runners GitLab holds. A clean
// run after each fault must succeed without making a duplicate.
func TestFaultMatrix(t *testing.T) {
	helm := testenv.NewHelm(t, 3)
	bin := testenv.Binary(t)
	render := helm.Run(nil, "template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "-n", ns0)
	if render.Err != nil {
		t.Fatal(render.Err)
	}
	const (
		create   = "/api/v4/user/runners"
		runnerID = "/api/v4/runners/*"
		groups   = "/api/v4/groups/*"
	)
	tests := []struct {
		name        string
		fault       gitlabfake.Fault
		reuse       bool   // a clean run first, so the state file knows the runner
		retag       bool   // the faulted run asks for other tags (an update)
		timeout     string // --timeout of the faulted run
		wantOK      bool
		wantRunners int
	}{
		{name: "create answers 500 before acting", fault: gitlabfake.Fault{Method: "POST", Path: create, Kind: gitlabfake.FaultStatus, Status: 500}, wantOK: true, wantRunners: 1},
		{name: "create answers 502 after acting", fault: gitlabfake.Fault{Method: "POST", Path: create, Kind: gitlabfake.FaultStatusAfterCommit, Status: 502}, wantOK: true, wantRunners: 1},
		{name: "create connection dropped before acting", fault: gitlabfake.Fault{Method: "POST", Path: create, Kind: gitlabfake.FaultDropConnection}, wantOK: true, wantRunners: 1},
		{name: "create connection dropped after acting", fault: gitlabfake.Fault{Method: "POST", Path: create, Kind: gitlabfake.FaultDropAfterCommit}, wantOK: true, wantRunners: 1},
		{name: "create rate limited", fault: gitlabfake.Fault{Method: "POST", Path: create, Kind: gitlabfake.FaultRateLimit, RetryAfter: time.Second}, wantOK: true, wantRunners: 1},
		{name: "create rate limited past the deadline", fault: gitlabfake.Fault{Method: "POST", Path: create, Kind: gitlabfake.FaultRateLimitRetryAfterOnly, RetryAfter: time.Minute}, timeout: "5s", wantRunners: 0},
		{name: "create hangs", fault: gitlabfake.Fault{Method: "POST", Path: create, Kind: gitlabfake.FaultHang}, timeout: "3s", wantRunners: 0},
		{name: "create hangs after acting", fault: gitlabfake.Fault{Method: "POST", Path: create, Kind: gitlabfake.FaultHangAfterCommit}, timeout: "3s", wantRunners: 1},
		{name: "create forbidden", fault: gitlabfake.Fault{Method: "POST", Path: create, Kind: gitlabfake.FaultStatus, Status: 403}, wantRunners: 0},
		{name: "group lookup answers 500 twice", fault: gitlabfake.Fault{Method: "GET", Path: groups, Kind: gitlabfake.FaultStatus, Status: 500, Times: 2}, wantOK: true, wantRunners: 1},
		{name: "group lookup rate limited", fault: gitlabfake.Fault{Method: "GET", Path: groups, Kind: gitlabfake.FaultRateLimitRetryAfterOnly, RetryAfter: time.Second}, wantOK: true, wantRunners: 1},
		{name: "group lookup connection dropped", fault: gitlabfake.Fault{Method: "GET", Path: groups, Kind: gitlabfake.FaultDropConnection}, wantOK: true, wantRunners: 1},
		{name: "reuse: runner read answers 500", reuse: true, fault: gitlabfake.Fault{Method: "GET", Path: runnerID, Kind: gitlabfake.FaultStatus, Status: 500}, wantOK: true, wantRunners: 1},
		{name: "reuse: runner read hangs", reuse: true, fault: gitlabfake.Fault{Method: "GET", Path: runnerID, Kind: gitlabfake.FaultHang}, timeout: "3s", wantRunners: 1},
		// GitLab says the stored runner is gone, but a runner with the release's marker is there: adopt it.
		{name: "reuse: runner read answers 404", reuse: true, fault: gitlabfake.Fault{Method: "GET", Path: runnerID, Kind: gitlabfake.FaultStatus, Status: 404}, wantOK: true, wantRunners: 1},
		{name: "reuse: update answers 500 every time", reuse: true, retag: true, fault: gitlabfake.Fault{Method: "PUT", Path: runnerID, Kind: gitlabfake.FaultStatus, Status: 500, Times: 20}, wantRunners: 1},
		{name: "reuse: update connection dropped after acting", reuse: true, retag: true, fault: gitlabfake.Fault{Method: "PUT", Path: runnerID, Kind: gitlabfake.FaultDropAfterCommit}, wantOK: true, wantRunners: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gl := newGitLab(t)
			state := filepath.Join(t.TempDir(), "state.yaml")
			env := []string{"KUBECONFIG=" + filepath.Join(t.TempDir(), "none"), "GITLAB_TOKEN=" + gl.pat, "RUNNER_MIGRATE_GITLAB_URL=" + gl.URL(), "RUNNER_MIGRATE_ALLOW_HTTP=true", "RUNNER_MIGRATE_ALLOWED_HOST=gitlab.example.com",
				"RUNNER_MIGRATE_STATE_FILE=" + state, "RUNNER_MIGRATE_RUNNER_TYPE=group", "RUNNER_MIGRATE_GROUP=platform"}
			in := render.Stdout
			if tt.reuse {
				if _, stderr, err := runBinary(bin, env, in); err != nil {
					t.Fatalf("seeding run: %v\n%s", err, stderr)
				}
			}
			if tt.retag {
				in = bytes.Replace(in, []byte(`value: "docker,linux"`), []byte(`value: "docker,linux,gpu"`), 1)
			}
			faulted := env
			if tt.timeout != "" {
				faulted = append(faulted, "RUNNER_MIGRATE_TIMEOUT="+tt.timeout)
			}
			gl.Inject(tt.fault)
			out, stderr, err := runBinary(bin, faulted, in)
			noLeaks(t, stderr, gl.secrets()...)
			if ok := err == nil; ok != tt.wantOK {
				t.Fatalf("exit ok = %v, want %v (%v)\n%s", ok, tt.wantOK, err, stderr)
			}
			if err != nil && len(out) != 0 {
				t.Fatalf("a failed run wrote %d bytes to stdout", len(out))
			}
			if err != nil && len(bytes.TrimSpace(stderr)) == 0 {
				t.Fatal("a failed run said nothing on stderr")
			}
			if n := len(gl.Runners()); n != tt.wantRunners {
				t.Fatalf("GitLab holds %d runners, want %d\n%s", n, tt.wantRunners, stderr)
			}

			gl.ClearFaults()
			if _, stderr, err := runBinary(bin, env, in); err != nil {
				t.Fatalf("a clean run after the fault failed: %v\n%s", err, stderr)
			}
			want := max(tt.wantRunners, 1)
			if n := len(gl.Runners()); n != want {
				t.Fatalf("after a clean run GitLab holds %d runners, want %d (no duplicate)", n, want)
			}
			gl.checkURLs(t)
		})
	}
}

// runBinary post-renders stdin with the runner-migrate binary and returns stdout, stderr and the
// exit error.
func runBinary(bin string, env []string, stdin []byte, args ...string) ([]byte, []byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, nil, err
	}
	return stdout.Bytes(), stderr.Bytes(), err
}

// cleanEnv is the test's environment without runner-migrate's, Helm's or GitLab's settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !bytes.HasPrefix([]byte(kv), []byte("RUNNER_MIGRATE_")) && !bytes.HasPrefix([]byte(kv), []byte("GITLAB_TOKEN=")) &&
			!bytes.HasPrefix([]byte(kv), []byte("HELM_")) && !bytes.HasPrefix([]byte(kv), []byte("KUBECONFIG=")) {
			env = append(env, kv)
		}
	}
	return env
}
