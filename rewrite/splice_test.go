package rewrite

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestSplice edits parsed documents the way the patch filters do and checks that the output is the
// input with exactly those lines changed: comments, blank lines, quoting and list styles stay.
func TestSplice(t *testing.T) {
	annotate := func(o *Object) { setAnnotation(o.node, "a.io/x", "1") }
	tests := []struct {
		name    string
		in      string
		edit    func(o *Object)
		want    string
		spliced bool // false: the document had to be encoded as a whole
	}{
		{
			name: "scalar keeps its quotes and line comment",
			in:   "kind: Secret\ndata:\n  # registration\n  runner-registration-token: \"R1I=\" # from values\n  runner-token: \"\"\n",
			edit: func(o *Object) {
				setField(field(o.node, "data"), "runner-registration-token", str(""))
				setField(field(o.node, "data"), "runner-token", str("Z2xydA=="))
			},
			want:    "kind: Secret\ndata:\n  # registration\n  runner-registration-token: \"\" # from values\n  runner-token: \"Z2xydA==\"\n",
			spliced: true,
		},
		{
			name:    "plain scalar stays plain, single-quoted stays single-quoted",
			in:      "a: old\nb: 'old'\n",
			edit:    func(o *Object) { setField(o.node, "a", str("new")); setField(o.node, "b", str("it's")) },
			want:    "a: new\nb: 'it''s'\n",
			spliced: true,
		},
		{
			name:    "plain value that would read as another type is quoted",
			in:      "a: old\n",
			edit:    func(o *Object) { setField(o.node, "a", str("true")) },
			want:    "a: \"true\"\n",
			spliced: true,
		},
		{
			name:    "annotations added after the last metadata entry, its value's lines included",
			in:      "kind: Secret\nmetadata:\n  name: x\n  labels:\n    app: x\n\n# data follows\ndata: {}\n",
			edit:    annotate,
			want:    "kind: Secret\nmetadata:\n  name: x\n  labels:\n    app: x\n  annotations:\n    a.io/x: \"1\"\n\n# data follows\ndata: {}\n",
			spliced: true,
		},
		{
			name:    "annotation appended to existing ones",
			in:      "metadata:\n  annotations:\n    checksum/x: abc\nspec: {}\n",
			edit:    annotate,
			want:    "metadata:\n  annotations:\n    checksum/x: abc\n    a.io/x: \"1\"\nspec: {}\n",
			spliced: true,
		},
		{
			name:    "empty flow mapping becomes a block",
			in:      "metadata:\n  annotations: {}\n  name: x\n",
			edit:    annotate,
			want:    "metadata:\n  annotations:\n    a.io/x: \"1\"\n  name: x\n",
			spliced: true,
		},
		{
			name:    "non-empty flow mapping stays flow",
			in:      "metadata: {name: x, annotations: {b: \"2\"}}\n",
			edit:    annotate,
			want:    "metadata: {name: x, annotations: {b: \"2\", a.io/x: \"1\"}}\n",
			spliced: true,
		},
		{
			name: "pod metadata put before the pod spec",
			in:   "spec:\n  template:\n    spec:\n      containers: []\n",
			edit: func(o *Object) {
				tpl := lookup(o.node, "spec", "template")
				tpl.Content = append([]*yaml.Node{str("metadata"), {Kind: yaml.MappingNode, Tag: "!!map"}}, tpl.Content...)
				annotate(&Object{node: tpl})
			},
			want:    "spec:\n  template:\n    metadata:\n      annotations:\n        a.io/x: \"1\"\n    spec:\n      containers: []\n",
			spliced: true,
		},
		{
			name:    "wide sequence item removed with its lines",
			in:      "env:\n  - name: A\n    value: \"1\"\n  # B is refused\n  - name: B\n    value: \"2\"\n  - name: C\n    value: \"3\"\n",
			edit:    func(o *Object) { removeEnv(field(o.node, "env"), "B") },
			want:    "env:\n  - name: A\n    value: \"1\"\n  # B is refused\n  - name: C\n    value: \"3\"\n",
			spliced: true,
		},
		{
			name:    "compact flow-style items",
			in:      "env:\n- {name: A, value: \"1\"}\n- {name: B, value: \"2\"}\nnext: 1\n",
			edit:    func(o *Object) { removeEnv(field(o.node, "env"), "B") },
			want:    "env:\n- {name: A, value: \"1\"}\nnext: 1\n",
			spliced: true,
		},
		{
			name: "item replaced at the end of a wide sequence keeps the style",
			in:   "env:\n  - name: A\n    value: \"1\"\n  - name: REGISTRATION_TOKEN\n    value: \"x\"\nafter: 1\n",
			edit: func(o *Object) {
				removeEnv(field(o.node, "env"), "REGISTRATION_TOKEN")
				ref := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				setField(ref, "name", str("s"))
				entry := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				setField(entry, "name", str("CI_SERVER_TOKEN"))
				setField(ensureMap(entry, "valueFrom"), "secretKeyRef", ref)
				env := field(o.node, "env")
				env.Content = append(env.Content, entry)
			},
			want:    "env:\n  - name: A\n    value: \"1\"\n  - name: CI_SERVER_TOKEN\n    valueFrom:\n      secretKeyRef:\n        name: s\nafter: 1\n",
			spliced: true,
		},
		{
			name:    "entry removed where it is the last line without a line end",
			in:      "data:\n  a: \"1\"\n  b: \"2\"",
			edit:    func(o *Object) { removeField(field(o.node, "data"), "b") },
			want:    "data:\n  a: \"1\"\n",
			spliced: true,
		},
		{
			name:    "entry added after a last line without a line end",
			in:      "data:\n  a: \"1\"",
			edit:    func(o *Object) { setField(field(o.node, "data"), "b", str("2")) },
			want:    "data:\n  a: \"1\"\n  b: \"2\"\n",
			spliced: true,
		},
		{
			name:    "crlf line ends in what is added",
			in:      "metadata:\r\n  name: x\r\ndata:\r\n  a: \"1\"\r\n",
			edit:    annotate,
			want:    "metadata:\r\n  name: x\r\n  annotations:\r\n    a.io/x: \"1\"\r\ndata:\r\n  a: \"1\"\r\n",
			spliced: true,
		},
		{
			name:    "columns count characters, not bytes",
			in:      "metadata: {name: \"größe\"}\ndata:\n  x: \"ä\"\n  y: \"ö\"\n",
			edit:    func(o *Object) { setField(field(o.node, "data"), "y", str("ü")) },
			want:    "metadata: {name: \"größe\"}\ndata:\n  x: \"ä\"\n  y: \"ü\"\n",
			spliced: true,
		},
		{
			name:    "multi-line plain scalar: the entry is written again",
			in:      "data:\n  a: one\n    two\n  b: 1\n",
			edit:    func(o *Object) { setField(field(o.node, "data"), "a", str("three")) },
			want:    "data:\n  a: three\n  b: 1\n",
			spliced: true,
		},
		{
			name: "literal block between commented keys",
			in:   "kind: ConfigMap\ndata:\n\n  # the script\n  run: |\n    a\n    b\n\n  other: |\n    x\n",
			edit: func(o *Object) {
				o.setScalar(lookup(o.node, "data", "run"), "a\n")
			},
			want:    "kind: ConfigMap\ndata:\n\n  # the script\n  run: |\n    a\n\n  other: |\n    x\n",
			spliced: true,
		},
		{
			name:    "strip block at the end without a line end",
			in:      "data:\n  run: |-\n    a\n    b",
			edit:    func(o *Object) { o.setScalar(lookup(o.node, "data", "run"), "b") },
			want:    "data:\n  run: |-\n    b",
			spliced: true,
		},
		{
			name:    "keep chomping: the entry is written again",
			in:      "data:\n  run: |+\n    a\n\nnext: 1\n",
			edit:    func(o *Object) { o.setScalar(lookup(o.node, "data", "run"), "b\n") },
			want:    "data:\n  run: |\n    b\n\nnext: 1\n",
			spliced: true,
		},
		{
			name: "new first key of a sequence item",
			in:   "items:\n- name: a\n  value: 1\n",
			edit: func(o *Object) {
				it := items(field(o.node, "items"))[0]
				it.Content = append([]*yaml.Node{str("k"), str("v")}, it.Content...)
			},
			want:    "items:\n- k: v\n  name: a\n  value: 1\n",
			spliced: true,
		},
		{
			name:    "every item removed: the entry is written again",
			in:      "env:\n- name: A\n- name: B\nnext: 1\n",
			edit:    func(o *Object) { removeEnv(field(o.node, "env"), "A", "B") },
			want:    "env: []\nnext: 1\n",
			spliced: true,
		},
		{
			name:    "anchored scalar",
			in:      "a: &x old\nb: *x\n",
			edit:    func(o *Object) { field(o.node, "a").Value = "new" },
			want:    "a: &x new\nb: *x\n",
			spliced: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := split([]byte(tt.in))[0]
			if err := d.parse(); err != nil {
				t.Fatal(err)
			}
			o := newObject(d, d.root.Content[0])
			tt.edit(o)
			o.markChanged()
			_, spliced := d.splice()
			out, err := d.bytes()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out, tt.want)
			}
			if spliced != tt.spliced {
				t.Errorf("spliced = %v, want %v", spliced, tt.spliced)
			}
		})
	}
}
