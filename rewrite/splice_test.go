package rewrite

import (
	"strings"
	"testing"
)

func TestSpliceKeepsLayout(t *testing.T) {
	tests := []struct {
		name, in, value, want string
		spliced               bool
	}{
		{
			name:    "clip block between commented keys",
			in:      "---\n# Source: c/templates/configmap.yaml\nkind: ConfigMap\ndata:\n\n  # the script\n  run: |\n    a\n    b\n\n  other: |\n    x\n",
			value:   "a\n",
			want:    "---\n# Source: c/templates/configmap.yaml\nkind: ConfigMap\ndata:\n\n  # the script\n  run: |\n    a\n\n  other: |\n    x\n",
			spliced: true,
		},
		{
			name:    "crlf",
			in:      "kind: ConfigMap\r\ndata:\r\n  run: |\r\n    a\r\n    b\r\n",
			value:   "b\n",
			want:    "kind: ConfigMap\r\ndata:\r\n  run: |\r\n    b\r\n",
			spliced: true,
		},
		{
			name:    "strip block at the end without newline",
			in:      "data:\n  run: |-\n    a\n    b",
			value:   "b",
			want:    "data:\n  run: |-\n    b",
			spliced: true,
		},
		{
			name:  "keep chomping falls back to encoding",
			in:    "data:\n  run: |+\n    a\n\n",
			value: "b\n",
			want:  "data:\n  run: |\n    b\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := split([]byte(tt.in))
			d := docs[0]
			if err := d.parse(); err != nil {
				t.Fatal(err)
			}
			o := newObject(d, d.root.Content[0])
			n := lookup(o.node, "data", "run")
			o.setBlockScalar(n, tt.value)
			_, spliced := d.splice()
			out, err := d.bytes()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", out, tt.want)
			}
			if spliced != tt.spliced {
				t.Errorf("spliced = %v, want %v", spliced, tt.spliced)
			}
			if !strings.Contains(string(out), strings.TrimSuffix(tt.value, "\n")) {
				t.Error("new value missing")
			}
		})
	}
}
