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
var secrets = []string{"GR1348941list", "GR1348941unlabelled", "GR1348941envtoken", "glrt-test-token-1", "glrt-test-token-2"}

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
			name:      "authenticated runner with refused settings passes with a warning",
			in:        read(t, "authenticated"),
			wantWarn:  []string{"already registers with an authentication token", "--run-untagged"},
			unchanged: true,
		},
		{
			name:    "empty input is an error",
			in:      []byte("\n"),
			wantErr: []string{"stdin is empty"},
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
		})
	}
}
