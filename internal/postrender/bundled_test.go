package postrender

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// TestBundledRunner: what --bundled-runner does with the GitLab chart's bundled runner, for each token
// source: the default follows whether a GitLab access token is given, a token the user gave wins, and
// the runner is never passed through silently.
func TestBundledRunner(t *testing.T) {
	in, err := os.ReadFile("../../rewrite/testdata/bundled/gitlab-9.9.1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	given, err := tokensource.NewSingle(token.New("glrt-given-by-the-user-0001"), "RUNNER_MIGRATE_AUTH_TOKEN")
	if err != nil {
		t.Fatal(err)
	}
	provisioner, err := gitlab.New(gitlab.Config{Client: gitlab.ClientConfig{Token: token.New("glpat-test-0000")}})
	if err != nil {
		t.Fatal(err)
	}
	const job = "kind: Job\nmetadata:\n  name: gl-gitlab-runner-mint-"
	tests := []struct {
		name     string
		mode     rewrite.BundledMode
		source   tokensource.Source
		wantOut  []string // substrings of the output
		notOut   []string
		wantWarn string
		wantErr  []string
	}{
		{name: "no token source: mint", source: nil, wantOut: []string{job, "kind: Role", waitMarker}, notOut: []string{"gl-gitlab-runner-auth-token"}},
		{name: "a GitLab access token: api", source: tokensource.Chain{provisioner}, wantErr: []string{"nowhere to keep their tokens"}},
		{name: "mint chosen with a GitLab access token", mode: rewrite.BundledMint, source: tokensource.Chain{provisioner}, wantOut: []string{job}},
		{name: "a token the user gave wins over mint", source: given, wantOut: []string{"gl-gitlab-runner-auth-token"}, notOut: []string{job, waitMarker}},
		{name: "a token the user gave wins with an access token too", mode: rewrite.BundledMint, source: tokensource.Chain{given, provisioner},
			wantOut: []string{"gl-gitlab-runner-auth-token"}, notOut: []string{job}},
		{name: "skip", mode: rewrite.BundledSkip, wantWarn: "--bundled-runner=skip"},
		{name: "api without an access token fails and names mint", mode: rewrite.BundledAPI,
			wantErr: []string{"Deployment ns/gl-gitlab-runner", "410 Gone", "--bundled-runner=mint"}},
		{name: "an unknown mode", mode: "auto", wantErr: []string{`--bundled-runner "auto"`, "mint, api or skip"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var warnings []string
			out, err := Run(context.Background(), in, Options{Source: tc.source, BundledRunner: tc.mode,
				Warn: func(m string) { warnings = append(warnings, m) }})
			if tc.wantErr != nil {
				if err == nil || out != nil {
					t.Fatalf("want an error and no output; err %v, %d bytes", err, len(out))
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("the error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantWarn != "" {
				if !strings.Contains(strings.Join(warnings, "\n"), tc.wantWarn) || !bytes.Equal(out, in) {
					t.Errorf("want the runner left as it is with a warning naming %q; warnings %q", tc.wantWarn, warnings)
				}
				return
			}
			for _, w := range tc.wantOut {
				if !bytes.Contains(out, []byte(w)) {
					t.Errorf("the output lacks %q", w)
				}
			}
			for _, w := range tc.notOut {
				if bytes.Contains(out, []byte(w)) {
					t.Errorf("the output has %q", w)
				}
			}
			if bytes.Contains(out, []byte("glrt-given-by-the-user-0001")) {
				t.Error("the token appears in clear text")
			}
		})
	}
}

const waitMarker = "# runner-migrate: wait for the authentication token"
