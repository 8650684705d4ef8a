package rewrite

import (
	"reflect"
	"strings"
	"testing"
)

func TestShellWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`/entrypoint register \`, []string{"/entrypoint", "register"}},
		{`  --name="my runner" --access-level='ref_protected'`, []string{"--name=my runner", "--access-level=ref_protected"}},
		{`RUN_UNTAGGED="" # comment`, []string{"RUN_UNTAGGED="}},
		{`a\ b "c\"d"`, []string{"a b", `c"d`}},
	}
	for _, tt := range tests {
		var got []string
		for _, w := range shellWords(tt.in) {
			got = append(got, w.text)
			if w.start < 0 || w.end > len(tt.in) || w.start >= w.end {
				t.Errorf("%q: bad span %d..%d", tt.in, w.start, w.end)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("shellWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRemoveRefusedOptions(t *testing.T) {
	tests := []struct {
		name, in, want string
		removed        []string
	}{
		{
			name:    "one option per line",
			in:      "  /entrypoint register \\\n    --name=\"r\" \\\n    --maximum-timeout=\"3600\" \\\n    --run-untagged=true \\\n    --access-level=\"ref_protected\" \\\n    --non-interactive\n  retval=$?\n",
			want:    "  /entrypoint register \\\n    --name=\"r\" \\\n    --non-interactive\n  retval=$?\n",
			removed: []string{"--maximum-timeout", "--run-untagged", "--access-level"},
		},
		{
			name:    "refused option on the last line",
			in:      "/entrypoint register \\\n  --non-interactive \\\n  --locked=false\necho done\n",
			want:    "/entrypoint register \\\n  --non-interactive\necho done\n",
			removed: []string{"--locked"},
		},
		{
			name:    "options inline and values as next word",
			in:      "/entrypoint register --run-untagged --tag-list a,b --access-level \\\n  ref_protected --non-interactive &\n",
			want:    "/entrypoint register \\\n  --non-interactive &\n",
			removed: []string{"--run-untagged", "--tag-list", "--access-level"},
		},
		{
			name: "variables stay (their assignments are handled apart)",
			in:   "    /entrypoint register \\\n      ${RUN_UNTAGGED} \\\n      ${ACCESS_LEVEL} \\\n      --non-interactive &\n",
			want: "    /entrypoint register \\\n      ${RUN_UNTAGGED} \\\n      ${ACCESS_LEVEL} \\\n      --non-interactive &\n",
		},
		{
			name: "crlf",
			in:   "/entrypoint register \\\r\n  --maximum-timeout=\"60\" \\\r\n  --non-interactive\r\n",
			want: "/entrypoint register \\\r\n  --non-interactive\r\n", removed: []string{"--maximum-timeout"},
		},
		{
			name: "no register command",
			in:   "echo register\n# /entrypoint register --locked=false\n",
			want: "echo register\n# /entrypoint register --locked=false\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := parseScript(tt.in)
			removed := sc.removeRefusedOptions()
			if got := sc.String(); got != tt.want {
				t.Errorf("script =\n%s\nwant\n%s", got, tt.want)
			}
			if !reflect.DeepEqual(removed, tt.removed) {
				t.Errorf("removed %q, want %q", removed, tt.removed)
			}
		})
	}
}

func TestRegisterOptionsExpandsAssignments(t *testing.T) {
	in := "RUN_UNTAGGED=\"--run-untagged=true\"\nACCESS_LEVEL=\"--access-level=ref_protected\"\n" +
		"if [ -n \"$CI_SERVER_TOKEN\" ] && [ \"${CI_SERVER_TOKEN#glrt-}\" != \"$CI_SERVER_TOKEN\" ]; then\n  RUN_UNTAGGED=\"\"\n  ACCESS_LEVEL=\"\"\nfi\n" +
		"/entrypoint register \\\n  --name=x \\\n  --maximum-timeout=\"600\" \\\n  ${RUN_UNTAGGED} \\\n  ${ACCESS_LEVEL} \\\n  --non-interactive &\n"
	got := parseScript(in).registerOptions()
	want := map[string]string{"--name": "x", "--maximum-timeout": "600", "--run-untagged": "true", "--access-level": "ref_protected", "--non-interactive": "true"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("registerOptions = %v, want %v", got, want)
	}
}

func TestBlankRefusedAssignments(t *testing.T) {
	in := "RUN_UNTAGGED=\"--run-untagged=true\"\nACCESS_LEVEL=\"--access-level=ref_protected\"\nOTHER=\"--name=x\"\n/entrypoint register \\\n  ${RUN_UNTAGGED} \\\n  --non-interactive\n"
	sc := parseScript(in)
	removed := sc.blankRefusedAssignments()
	want := "RUN_UNTAGGED=\"\"\nACCESS_LEVEL=\"\"\nOTHER=\"--name=x\"\n/entrypoint register \\\n  ${RUN_UNTAGGED} \\\n  --non-interactive\n"
	if sc.String() != want {
		t.Fatalf("script =\n%s\nwant\n%s", sc, want)
	}
	if !reflect.DeepEqual(removed, []string{"--run-untagged", "--access-level"}) {
		t.Fatalf("removed %q", removed)
	}
}

func TestRemoveReplicasGuard(t *testing.T) {
	guard := "if [[ ! -z \"$CI_SERVER_TOKEN\" && \"2\" -ne \"1\" ]]; then\n  echo \"" + replicasGuardMessage + "\"\n  exit 1\nfi\n"
	in := "set -e\n" + guard + "if true; then\n  echo ok\nfi\n"
	sc := parseScript(in)
	removed, err := sc.removeReplicasGuard()
	if err != nil || !removed {
		t.Fatalf("removed=%v err=%v", removed, err)
	}
	if want := "set -e\nif true; then\n  echo ok\nfi\n"; sc.String() != want {
		t.Fatalf("script =\n%s\nwant\n%s", sc, want)
	}
	if removed, _ := parseScript("echo hi\n").removeReplicasGuard(); removed {
		t.Fatal("removed a guard that is not there")
	}
	if _, err := parseScript("echo \"" + replicasGuardMessage + "\"\n").removeReplicasGuard(); err == nil || !strings.Contains(err.Error(), "if ... fi") {
		t.Fatalf("a guard outside an if block must be an error, got %v", err)
	}
}
