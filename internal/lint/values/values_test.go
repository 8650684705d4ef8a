package values

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func mustParse(t *testing.T, file, text string) *Values {
	t.Helper()
	v, err := Parse(file, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func at(v *Values) string {
	if v == nil {
		return "absent"
	}
	line, col := v.Position()
	return fmt.Sprintf("%s:%d:%d", v.File(), line, col)
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a: b: c\n", "v.yaml:1: mapping values are not allowed in this context"},
		{"- a\n- b\n", "v.yaml:1: a values file must be a mapping"},
		{"a: [1,\n", "v.yaml:"},
		{"gitlabUrl: x\nrunners:\n  tags: [docker\n", "v.yaml:3:"},
		{"a: 1\n---\nb: [\n", "v.yaml:3:"}, // a later document that does not parse
	}
	for _, tt := range tests {
		_, err := Parse("v.yaml", []byte(tt.in))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q...", tt.in, err, tt.want)
		}
	}
	if _, err := Parse("v.yaml", []byte("- a\n")); !errors.Is(err, ErrNotMapping) {
		t.Errorf("a list: %v, want ErrNotMapping", err)
	}
	for _, ok := range []string{"", "# only a comment\n", "~\n", "{}\n"} {
		v, err := Parse("v.yaml", []byte(ok))
		if err != nil || !v.IsMap() {
			t.Errorf("Parse(%q) = %v, %v; an empty file is empty values", ok, v, err)
		}
	}
}

func TestLookups(t *testing.T) {
	for _, text := range []string{
		// Read by scan, and by yaml.v3 (the anchor makes scan give up): the same answers.
		"gitlabUrl: https://gitlab.example.com/\nrunners:\n  tags: \"a,b\"\n  locked: false\n  name: null\nenvVars:\n- name: X\n  value: \"1\"\n",
		"gitlabUrl: &u https://gitlab.example.com/\nrunners:\n  tags: \"a,b\"\n  locked: false\n  name: null\nenvVars:\n- name: X\n  value: \"1\"\n",
	} {
		v := mustParse(t, "v.yaml", text)
		if got := v.Field("gitlabUrl").String(); got != "https://gitlab.example.com/" {
			t.Errorf("gitlabUrl = %q", got)
		}
		if got := at(v.Lookup("runners", "tags")); got != "v.yaml:3:3" {
			t.Errorf("runners.tags at %s", got)
		}
		if b, ok := v.Lookup("runners", "locked").Bool(); !ok || b {
			t.Errorf("runners.locked = %v, %v", b, ok)
		}
		if n := v.Lookup("runners", "name"); !n.IsNull() || n.String() != "" {
			t.Errorf("runners.name is not null")
		}
		if v.Lookup("runners", "nope", "deeper") != nil || v.Field("gitlabUrl").Field("x") != nil {
			t.Errorf("absent paths must be nil")
		}
		items := v.Field("envVars").Items()
		if len(items) != 1 || items[0].Field("value").String() != "1" || at(items[0]) != "v.yaml:7:3" {
			t.Errorf("envVars items %v", items)
		}
		var maps []string
		for _, m := range v.Maps() {
			maps = append(maps, m.Name())
		}
		if strings.Join(maps, ",") != "runners" {
			t.Errorf("Maps = %v", maps)
		}
	}
}

// Duplicate keys: Helm takes the last, and the tree says which earlier lines it ignored.
func TestDuplicateKeys(t *testing.T) {
	v := mustParse(t, "v.yaml", "runnerToken: a\nrunners:\n  tags: x\nrunnerToken: b\nrunners:\n  locked: true\nrunnerToken: c\n")
	tok := v.Field("runnerToken")
	if tok.String() != "c" || fmt.Sprint(tok.Shadowed()) != "[1 4]" {
		t.Errorf("runnerToken %q shadowing %v, want c over lines 1 and 4", tok.String(), tok.Shadowed())
	}
	runners := v.Field("runners")
	if runners.Field("tags") != nil || fmt.Sprint(runners.Shadowed()) != "[2]" {
		t.Errorf("the second runners: replaces the first (no merge in one file): tags %v, shadowed %v", runners.Field("tags"), runners.Shadowed())
	}
	maps := v.Maps()
	if len(maps) != 1 || fmt.Sprint(maps[0].Shadowed()) != "[2]" {
		t.Errorf("Maps: %d, shadowed %v", len(maps), maps[0].Shadowed())
	}
	v = mustParse(t, "v.yaml", "a:\n  k: v\na: 1\n")
	if len(v.Maps()) != 0 {
		t.Errorf("a mapping replaced by a scalar is no mapping")
	}
}

func TestMergeValues(t *testing.T) {
	base := mustParse(t, "base.yaml", "runnerRegistrationToken: GR1\nrunners:\n  tags: a\n  locked: false\nlist: [1]\nsub:\n  x: 1\nlater: {k: v}\n")
	over := mustParse(t, "over.yaml", "runnerRegistrationToken: \"\"\nrunners:\n  tags: b\nlist: [2, 3]\nsub: null\nlater:\n  j: w\n")
	m := MergeValues(base, over)
	tests := []struct {
		path []string
		at   string
		text string
	}{
		{[]string{"runnerRegistrationToken"}, "over.yaml:1:1", ""},
		{[]string{"runners", "tags"}, "over.yaml:3:3", "b"},
		{[]string{"runners", "locked"}, "base.yaml:4:3", "false"},
		{[]string{"runners"}, "over.yaml:2:1", ""},
		{[]string{"sub"}, "over.yaml:5:1", ""},
		{[]string{"sub", "x"}, "absent", ""},
		{[]string{"later", "k"}, "base.yaml:8:9", "v"},
		{[]string{"later", "j"}, "over.yaml:7:3", "w"},
	}
	for _, tt := range tests {
		v := m.Lookup(tt.path...)
		if at(v) != tt.at || v.String() != tt.text {
			t.Errorf("%s at %s = %q, want %s %q", strings.Join(tt.path, "."), at(v), v.String(), tt.at, tt.text)
		}
	}
	if items := m.Field("list").Items(); len(items) != 2 || items[0].String() != "2" {
		t.Errorf("lists are replaced, not merged: %d items", len(items))
	}
	if !m.Field("sub").IsNull() {
		t.Errorf("an explicit null is kept")
	}
	var names []string
	for _, e := range m.Entries() {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "runnerRegistrationToken,runners,list,sub,later" {
		t.Errorf("Entries = %v", names)
	}
	var maps []string
	for _, e := range m.Maps() {
		maps = append(maps, e.Name()+"@"+e.File())
	}
	if strings.Join(maps, ",") != "runners@over.yaml,later@over.yaml" {
		t.Errorf("Maps = %v (sub is null in the later file)", maps)
	}
}

func TestMergeKeys(t *testing.T) {
	v := mustParse(t, "v.yaml", "base: &b\n  tags: x\n  locked: false\nrunners:\n  <<: *b\n  locked: true\nalias: *b\n")
	r := v.Field("runners")
	if r.Field("tags").String() != "x" || r.Field("locked").String() != "true" {
		t.Errorf("merge key: tags %q locked %q", r.Field("tags").String(), r.Field("locked").String())
	}
	if at(r.Field("tags")) != "v.yaml:2:3" {
		t.Errorf("a merged key points where it was written: %s", at(r.Field("tags")))
	}
	var names []string
	for _, e := range r.Entries() {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "locked,tags" {
		t.Errorf("Entries with a merge key = %v", names)
	}
	if v.Field("alias").Field("tags").String() != "x" {
		t.Errorf("an alias resolves")
	}
	// Aliases are not expanded: a billion laughs costs what it weighs.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	v = mustParse(t, "v.yaml", b.String())
	if len(v.Field("a29").Items()) != 10 {
		t.Errorf("aliases of aliases")
	}
}

func TestParseAt(t *testing.T) {
	// The text of `values: |` whose content starts on line 12 of the manifest, indented 8.
	v, err := ParseAt("app.yaml", "gitlabUrl: x\nrunnerToken: y\n", Origin{Line: 12, Column: 9})
	if err != nil {
		t.Fatal(err)
	}
	if got := at(v.Field("runnerToken")); got != "app.yaml:13:9" {
		t.Errorf("runnerToken at %s, want app.yaml:13:9", got)
	}
	flat, err := ParseAt("app.yaml", "gitlabUrl: x\nrunnerToken: y\n", Origin{Line: 5, Column: 3, Flat: true})
	if err != nil || at(flat.Field("runnerToken")) != "app.yaml:5:3" {
		t.Errorf("flat: %v %s", err, at(flat.Field("runnerToken")))
	}
	_, err = ParseAt("app.yaml", "a: 1\nb: [\n", Origin{Line: 12, Column: 9})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 13 || pe.File != "app.yaml" {
		t.Errorf("an error in embedded values points into the file: %v", err)
	}
}

func TestFromNode(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("spec:\n  values:\n    runnerToken: y\n    runners: {secret: s}\n"), &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Content[0].Content[1].Content[1]
	v := FromNode("hr.yaml", n)
	if at(v.Field("runnerToken")) != "hr.yaml:3:5" || v.Lookup("runners", "secret").String() != "s" {
		t.Errorf("FromNode: %s", at(v.Field("runnerToken")))
	}
	if FromNode("hr.yaml", doc.Content[0].Content[0]) != nil {
		t.Errorf("a scalar makes no values")
	}
}

// A stream may open with an empty document (helm template's `---` before `# Source:`): the values
// are the first document with content.
func TestFirstDocumentWithContent(t *testing.T) {
	v := mustParse(t, "v.yaml", "---\n# Source: chart/templates/x.yaml\n---\napiVersion: v1\nkind: Secret\n")
	if v.Field("kind").String() != "Secret" || at(v.Field("kind")) != "v.yaml:5:1" {
		t.Errorf("kind %q at %s", v.Field("kind").String(), at(v.Field("kind")))
	}
}
