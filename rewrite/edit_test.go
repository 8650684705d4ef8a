package rewrite

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestReadYAMLEdits edits values files the way `runner-migrate migrate` does and checks that only
// the edited lines change: a removed entry takes the comment lines directly above it along, other
// comments, anchors, quoting and indentation stay.
func TestReadYAMLEdits(t *testing.T) {
	tests := []struct {
		name string
		in   string
		edit func(root *yaml.Node)
		want string
	}{
		{
			name: "removed entry takes its own comment, not the blank-separated one",
			in:   "# header\nrunnerRegistrationToken: \"x\" # inline\n\n# about runners\nrunners:\n  ## tags of the runner\n  ##\n  tags: \"a,b\"\n  name: r   # keep\n",
			edit: func(root *yaml.Node) {
				removeField(root, "runnerRegistrationToken")
				removeField(field(root, "runners"), "tags")
				setField(field(root, "runners"), "secret", str("rel-gitlab-runner-auth-token"))
			},
			want: "# header\n\n# about runners\nrunners:\n  name: r   # keep\n  secret: rel-gitlab-runner-auth-token\n",
		},
		{
			name: "four-space indentation and anchors elsewhere stay",
			in:   "common: &common\n    app: x\npodLabels: *common\nrunners:\n    locked: false\n    config: |\n        [[runners]]\n",
			edit: func(root *yaml.Node) {
				removeField(field(root, "runners"), "locked")
				setField(field(root, "runners"), "secret", str("s"))
			},
			want: "common: &common\n    app: x\npodLabels: *common\nrunners:\n    config: |\n        [[runners]]\n    secret: s\n",
		},
		{
			name: "blank lines a removal leaves doubled go, original ones stay",
			in:   "a: 1\n\nb: 2\n\nc: 3\nm:\n\n  x: 1\n  y: 2\nn:\n  p: 1\n\n  q: 2\nz: 0\n\nlast: 1\n",
			edit: func(root *yaml.Node) {
				removeField(root, "b")
				removeField(field(root, "m"), "x")
				removeField(field(root, "n"), "p")
				removeField(root, "last")
			},
			want: "a: 1\n\nc: 3\nm:\n\n  y: 2\nn:\n  q: 2\nz: 0\n",
		},
		{
			name: "comment of a deeper entry above is not taken",
			in:   "runners:\n  config: |\n    x\n  # about tags\n  tags: a\ngitlabUrl: u\n",
			edit: func(root *yaml.Node) { removeField(field(root, "runners"), "tags") },
			want: "runners:\n  config: |\n    x\ngitlabUrl: u\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ReadYAML([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			d := s.Documents()[0]
			tt.edit(d.Root())
			d.Edited()
			if _, ok := d.splice(); !ok {
				t.Errorf("the edit was not spliced")
			}
			out, err := s.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", out, tt.want)
			}
		})
	}
}

// TestReadYAMLErrors: input that is no YAML text is refused with its line.
func TestReadYAMLErrors(t *testing.T) {
	for _, in := range []string{"a: [\n", "a: 1\x00\n", "a: 1\n---\nb: {\n"} {
		if _, err := ReadYAML([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}
