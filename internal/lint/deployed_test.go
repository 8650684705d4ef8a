package lint

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
	"github.com/runner-migrate/runner-migrate/internal/releases"
	"github.com/runner-migrate/runner-migrate/internal/token"
)

// TestDeployedRelease lints a release as read from the cluster: findings name the release, say
// whether they come from its values or its manifest, carry no line, and a Secret the manifest does
// not hold is judged by what the cluster's copy holds.
func TestDeployedRelease(t *testing.T) {
	manifest, err := os.ReadFile("../../rewrite/testdata/kept-secret/in.yaml") // runners.secret, REGISTER_LOCKED "false", chart 0.71
	if err != nil {
		t.Fatal(err)
	}
	rel := &releases.Release{Name: "rel", Namespace: "ci", Revision: 2, Status: "deployed", Chart: releases.Chart{Name: "gitlab-runner", Version: "0.71.0"},
		Config: []byte(`{"runners":{"secret":"other","locked":false},"gitlabUrl":"https://gitlab.example.com"}`), Manifest: string(manifest)}
	label := "release ci/rel (revision 2, chart gitlab-runner-0.71.0)"
	tests := []struct {
		name string
		live rules.LiveSecret
		want []string // rule, path
	}{
		// The Secret the manifest reads is the one runner-migrate migrate keeps: trusted by its name.
		{"no cluster to ask", nil, []string{"RM002 manifest: Deployment ci/rel-gitlab-runner container rel-gitlab-runner", "RM002 values: runners.locked"}},
		{"the Secret holds an authentication token", func(ns, name string) (token.Token, token.Token, bool, error) {
			return token.Token{}, token.New("glrt-x"), ns == "ci" && name == "rel-gitlab-runner-auth-token", nil
		}, []string{"RM002 manifest: Deployment ci/rel-gitlab-runner container rel-gitlab-runner", "RM002 values: runners.locked"}},
		{"the Secret holds a registration token", func(ns, name string) (token.Token, token.Token, bool, error) {
			return token.New("GR1348941x"), token.Token{}, true, nil
		}, []string{"RM007 manifest: Deployment ci/rel-gitlab-runner Secret rel-gitlab-runner-auth-token", "RM002 values: runners.locked"}},
		{"the Secret is missing", func(string, string) (token.Token, token.Token, bool, error) {
			return token.Token{}, token.Token{}, false, nil
		},
			[]string{"RM004 manifest: Deployment ci/rel-gitlab-runner Secret rel-gitlab-runner-auth-token", "RM002 values: runners.locked"}},
		{"the cluster cannot be read", func(string, string) (token.Token, token.Token, bool, error) {
			return token.Token{}, token.Token{}, false, os.ErrPermission
		}, []string{"RM004 manifest: Deployment ci/rel-gitlab-runner Secret rel-gitlab-runner-auth-token", "RM002 values: runners.locked", "RM004 values: runners.secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Run(Options{Releases: []*releases.Release{rel}, Deployed: true, Target: rules.DefaultGitLabVersion, LiveSecret: tt.live})
			var got []string
			for _, f := range res.Findings {
				if f.File != label || f.Line != 0 {
					t.Errorf("finding at %s:%d, want %s without a line", f.File, f.Line, label)
				}
				got = append(got, f.Rule.ID+" "+f.Path)
			}
			slices.Sort(got)
			slices.Sort(tt.want)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") || len(res.Errors) > 0 || res.Files != 1 {
				t.Errorf("findings:\n%s\nwant:\n%s\n(errors %v)", strings.Join(got, "\n"), strings.Join(tt.want, "\n"), res.Errors)
			}
		})
	}
}
