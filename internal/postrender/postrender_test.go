package postrender

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
)

func read(t *testing.T, names ...string) []byte {
	t.Helper()
	var b []byte
	for _, n := range names {
		data, err := os.ReadFile("../../rewrite/testdata/" + n + "/in.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 {
			b = append(b, "---\n"...)
		}
		b = append(b, data...)
	}
	return b
}

// Secrets the inputs carry (base64-decoded registration tokens) and tokens the tests hand out: none may
// appear in an error or a warning.
var secrets = []string{"GR1348941list", "GR1348941unlabelled", "GR1348941envtoken", "GR1348941envVarsToken", "GR1348941duplicate",
	"glrt-already-auth", "glrt-test-token-1", "glrt-test-token-2"}

func TestRun(t *testing.T) {
	single := func(v string) tokensource.Source {
		s, err := tokensource.NewSingle(token.New(v), "RUNNER_MIGRATE_AUTH_TOKEN")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name        string
		in          []byte
		source      tokensource.Source
		allowLegacy bool
		wantErr     []string // substrings of the error; nil means success
		wantWarn    []string
		unchanged   bool
		wantOut     []string // substrings of the output
		notOut      []string // what the output must not hold
	}{
		{
			name:    "legacy runner without a token fails naming object, field and fix",
			in:      read(t, "list-kind"),
			wantErr: []string{"Deployment runners/ci-gitlab-runner", "Secret ci-gitlab-runner runner-registration-token", "410 Gone", "fix:", "--allow-legacy"},
		},
		{
			name:        "allow-legacy passes through with a warning",
			in:          read(t, "list-kind"),
			allowLegacy: true,
			wantWarn:    []string{"Deployment runners/ci-gitlab-runner", "--allow-legacy"},
			unchanged:   true,
		},
		{
			name:      "external secret without a token passes through with a warning",
			in:        read(t, "helm4-external-secret"),
			wantWarn:  []string{"Secret my-runner-secret", "passed through unchanged"},
			unchanged: true,
		},
		{
			name:   "one token migrates one runner",
			in:     read(t, "list-kind"),
			source: single("glrt-test-token-1"),
		},
		{
			name:    "one token cannot serve two runner specs",
			in:      read(t, "list-kind", "unlabelled-runtime-check"),
			source:  single("glrt-test-token-1"),
			wantErr: []string{"RUNNER_MIGRATE_AUTH_TOKEN holds the token of one runner", "--auth-token-map"},
		},
		{
			name:   "authenticated runner loses the settings GitLab refuses, keeps its token",
			in:     read(t, "authenticated"),
			source: single("glrt-test-token-1"),
			wantWarn: []string{"Deployment runners/ci-gitlab-runner registers with an authentication token but passes --run-untagged, env RUNNER_TAG_LIST",
				"Set them on the runner in GitLab instead, and remove them from the values: run untagged jobs: true; tags: k8s"},
			wantOut: []string{"runner-registration-token: Z2xydC1hbHJlYWR5LWF1dGg=", "runner-migrate.io/removed-settings: --run-untagged, env RUNNER_TAG_LIST"},
			notOut:  []string{"--run-untagged=true", "{name: RUNNER_TAG_LIST", "auth-token", "token-digest", "Z2xydC10ZXN0LXRva2VuLTE="},
		},
		{
			name:     "a runner token that may be a placeholder loses the refused settings",
			in:       read(t, "token-placeholder-tags"),
			wantWarn: []string{"a placeholder a pipeline fills", "--maximum-timeout, env RUNNER_TAG_LIST", "maximum job timeout: 3600s; tags: docker, linux"},
			notOut:   []string{"--maximum-timeout=", "docker,linux"},
		},
		{
			name:      "a runner without any token is given none",
			in:        read(t, "no-token"),
			source:    single("glrt-test-token-1"),
			wantWarn:  []string{"Deployment n-gitlab-runner has no token in the manifests", "passed through unchanged", "runnerToken"},
			unchanged: true,
		},
		{
			name:    "token env vars beside a Secret go with the registration token",
			in:      read(t, "envvars-token-beside-secret"),
			source:  single("glrt-test-token-1"),
			wantOut: []string{"name: \"v-gitlab-runner-auth-token\""},
			notOut:  []string{"- name: REGISTRATION_TOKEN", "- name: CI_SERVER_TOKEN", "GR1348941envVarsToken"},
		},
		{
			name:    "a duplicate key in the token Secret is an error, not a surviving token",
			in:      read(t, "duplicate-secret-key"),
			source:  single("glrt-test-token-1"),
			wantErr: []string{"Secret d-gitlab-runner (line 14), data.runner-registration-token: the key appears twice (lines 12 and 14)", "fix:"},
		},
		{
			name:    "a YAML error names the line of the stream",
			in:      read(t, "broken-runner-yaml"),
			wantErr: []string{"line 17: not valid YAML (in the document that starts at line 9)"},
		},
		{
			name:    "binary input is an error",
			in:      []byte("kind: ConfigMap\n\x00\x9f\x01binary"),
			wantErr: []string{"line 2: the input is not text: a NUL byte"},
		},
		{
			name:      "empty input passes through",
			in:        []byte(""),
			wantWarn:  []string{"empty", "--output-dir"},
			unchanged: true,
		},
		{
			name:      "whitespace-only input passes through",
			in:        []byte("\n  \n\t\n"),
			unchanged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warnings []string
			out, err := Run(context.Background(), tt.in, Options{Source: tt.source, AllowLegacy: tt.allowLegacy,
				Warn: func(m string) { warnings = append(warnings, m) }})
			said := strings.Join(warnings, "\n")
			if err != nil {
				said += "\n" + err.Error()
			}
			for _, s := range secrets {
				if strings.Contains(said, s) {
					t.Errorf("a secret leaked into errors or warnings: %s", said)
				}
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("want an error, got none")
				}
				if out != nil {
					t.Errorf("a failed run must return no output, got %d bytes", len(out))
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.wantWarn {
				if !strings.Contains(said, w) {
					t.Errorf("warnings lack %q:\n%s", w, said)
				}
			}
			if tt.unchanged != bytes.Equal(out, tt.in) {
				t.Errorf("output unchanged = %v, want %v", bytes.Equal(out, tt.in), tt.unchanged)
			}
			for _, w := range tt.wantOut {
				if !bytes.Contains(out, []byte(w)) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notOut {
				if bytes.Contains(out, []byte(w)) {
					t.Errorf("output still holds %q:\n%s", w, out)
				}
			}
		})
	}
}
