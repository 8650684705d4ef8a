package rewrite

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

// stubRunner is a runner in the Rails stand-in's state (testdata/mint/stub_rails.rb).
type stubRunner struct {
	ID          int    `json:"id"`
	RunnerType  string `json:"runner_type"`
	Description string `json:"description"`
	Token       string `json:"token"`
	Active      *bool  `json:"active,omitempty"`
	RunUntagged *bool  `json:"run_untagged,omitempty"`
	Locked      *bool  `json:"locked,omitempty"`
	TagList     []any  `json:"tag_list,omitempty"`
	AccessLevel string `json:"access_level,omitempty"`
}

type stubState struct {
	Admins            []map[string]any `json:"admins"`
	PendingMigrations bool             `json:"pending_migrations"`
	NextID            int              `json:"next_id"`
	Runners           []stubRunner     `json:"runners"`
}

// TestMintRuby runs the Job's Ruby (mint-runner.rb, as embedded) with Ruby against a stand-in for the
// Rails classes it calls, and checks the decisions the Job's script relies on: wait while GitLab is not
// ready, create the runner once, keep a Secret that holds its token, leave a token the user put there,
// adopt a runner found by its marker (the API path's, or one whose token the Secret lost), and hand
// the token only to the script (stdout), with the digest Go computes. Needs ruby; GitLab itself cannot
// run here.
func TestMintRuby(t *testing.T) {
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		t.Fatal("ruby is needed to run the minting Job's Ruby against a stand-in Rails: hack/tools.sh system (make test runs it) installs it, or apt-get install ruby")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "mint-runner.rb")
	os.WriteFile(script, []byte(mintRuby), 0o644)
	stub, _ := filepath.Abs(filepath.Join("testdata", "mint", "stub_rails.rb"))

	const marker = "[runner-migrate ns/gl rm-0123456789ab]"
	root := map[string]any{"id": 1, "username": "root"}
	run := func(t *testing.T, state *stubState, runnerToken string) (code int, stdout, stderr string) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "state.json")
		data, _ := json.Marshal(state)
		os.WriteFile(path, data, 0o600)
		secret, _ := json.Marshal(map[string]any{"kind": "Secret", "metadata": map[string]string{"name": "gl-gitlab-runner-secret"},
			"data": map[string][]byte{KeyRegistrationToken: []byte("registration"), KeyRunnerToken: []byte(runnerToken)}})
		cmd := exec.Command(ruby, "-r", stub, script)
		cmd.Env = append(os.Environ(), "STUB_STATE="+path, "RUNNER_MIGRATE_MARKER="+marker,
			"RUNNER_MIGRATE_DESCRIPTION=gl-gitlab-runner "+marker, "RUNNER_MIGRATE_FINGERPRINT=rm-0123456789ab",
			`RUNNER_MIGRATE_RUNNER_SETTINGS={"access_level":"not_protected","locked":false,"paused":false,"run_untagged":true,"tag_list":[]}`)
		cmd.Stdin = bytes.NewReader(secret)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		after, _ := os.ReadFile(path)
		*state = stubState{}
		if err := json.Unmarshal(after, state); err != nil {
			t.Fatalf("state: %v\n%s", err, errOut.String())
		}
		for _, r := range state.Runners {
			if r.Token != "" && (strings.Contains(errOut.String(), r.Token) || strings.Contains(errOut.String(), base64.StdEncoding.EncodeToString([]byte(r.Token)))) {
				t.Errorf("a token leaked into the log:\n%s", errOut.String())
			}
		}
		return code, out.String(), errOut.String()
	}
	result := regexp.MustCompile(`^runner-migrate-result (kept|foreign|adopted|created) (\d+) ([0-9a-f]{16})\n(runner-migrate-secret-patch (.*)\n)?$`)
	type want struct {
		code    int
		state   string
		runner  int  // the runner the result names
		written bool // a Secret patch with that runner's (new) token
		runners int
		log     string
	}
	apiRunner := stubRunner{ID: 7, RunnerType: "instance_type", Description: "made by the API " + marker, Token: "glrt-t1_apiPathToken000000"}
	userRunner := stubRunner{ID: 3, RunnerType: "instance_type", Description: "made by hand", Token: "glrt-t1_userToken0000000000"}
	oldSpec := stubRunner{ID: 4, RunnerType: "instance_type", Description: "gl-gitlab-runner [runner-migrate ns/gl rm-ffffffffffff]", Token: "glrt-t1_oldSpecToken00000000"}
	groupRunner := stubRunner{ID: 5, RunnerType: "group_type", Description: "group " + marker, Token: "glrt-t2_groupToken000000000"}
	tests := []struct {
		name   string
		state  stubState
		secret string
		want   want
	}{
		{"no administrator yet", stubState{NextID: 1}, "", want{code: 75, log: "no active administrator"}},
		{"migrations pending", stubState{Admins: []map[string]any{root}, PendingMigrations: true, NextID: 1}, "", want{code: 75, log: "pending migrations"}},
		{"fresh install: create", stubState{Admins: []map[string]any{root}, NextID: 10}, "", want{state: "created", runner: 10, written: true, runners: 1, log: "creating instance runner"}},
		{"the Secret holds the runner's token: keep", stubState{Admins: []map[string]any{root}, NextID: 10, Runners: []stubRunner{apiRunner}}, apiRunner.Token,
			want{state: "kept", runner: 7, runners: 1}},
		{"a token the user put there stays", stubState{Admins: []map[string]any{root}, NextID: 10, Runners: []stubRunner{userRunner}}, userRunner.Token,
			want{state: "foreign", runner: 3, runners: 1, log: "did not create"}},
		{"the API path's runner: adopt", stubState{Admins: []map[string]any{root}, NextID: 10, Runners: []stubRunner{groupRunner, apiRunner}}, "",
			want{state: "adopted", runner: 7, written: true, runners: 2, log: "found runner 7 by its marker"}},
		{"a token GitLab no longer knows: adopt", stubState{Admins: []map[string]any{root}, NextID: 10, Runners: []stubRunner{apiRunner}}, "glrt-t1_revokedToken0000000",
			want{state: "adopted", runner: 7, written: true, runners: 1}},
		{"the runner of an older spec: create the new spec's", stubState{Admins: []map[string]any{root}, NextID: 10, Runners: []stubRunner{oldSpec}}, oldSpec.Token,
			want{state: "created", runner: 10, written: true, runners: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state := tc.state
			code, stdout, stderr := run(t, &state, tc.secret)
			if code != tc.want.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.want.code, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.want.log) {
				t.Errorf("the log lacks %q:\n%s", tc.want.log, stderr)
			}
			if code != 0 {
				if strings.Contains(stdout, "runner-migrate-result") {
					t.Errorf("a run that waits gave a result:\n%s", stdout)
				}
				return
			}
			m := result.FindStringSubmatch(stdout)
			if m == nil {
				t.Fatalf("stdout is not what mint-runner.sh reads:\n%q", stdout)
			}
			if m[1] != tc.want.state || m[2] != strconv.Itoa(tc.want.runner) || (m[4] != "") != tc.want.written || len(state.Runners) != tc.want.runners {
				t.Fatalf("result %q with %d runners; want %s of runner %d, written=%v, %d runners", strings.TrimSpace(stdout), len(state.Runners),
					tc.want.state, tc.want.runner, tc.want.written, tc.want.runners)
			}
			var holds string
			for _, r := range state.Runners {
				if strconv.Itoa(r.ID) == m[2] {
					holds = r.Token
					if tc.want.state == "created" && (r.RunnerType != "instance_type" || r.Description != "gl-gitlab-runner "+marker ||
						r.Active == nil || !*r.Active || r.RunUntagged == nil || !*r.RunUntagged || r.Locked == nil || *r.Locked) {
						t.Errorf("created %+v; want an active, untagged, unlocked instance runner described by the marker", r)
					}
				}
			}
			if m[3] != token.New(holds).Digest("annotation") {
				t.Error("the Ruby digest differs from the Go one: the Deployment annotation would not match the API path's")
			}
			if !tc.want.written {
				return
			}
			var patch struct {
				Metadata struct{ Annotations map[string]string }
				Data     map[string][]byte
			}
			if err := json.Unmarshal([]byte(m[5]), &patch); err != nil {
				t.Fatal(err)
			}
			if string(patch.Data[KeyRunnerToken]) != holds || len(patch.Data) != 1 {
				t.Error("the Secret patch must set runner-token to the runner's token, and touch no other key")
			}
			if patch.Metadata.Annotations[AnnotationRunnerID] != m[2] || patch.Metadata.Annotations[AnnotationFingerprint] != "rm-0123456789ab" {
				t.Errorf("the Secret patch annotations: %v", patch.Metadata.Annotations)
			}
			if tc.want.state == "adopted" && (holds == apiRunner.Token || holds == "") {
				t.Error("adopting must reset the token: nobody can know the old one")
			}
		})
	}
}
