package yamlnode

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestReadAndWrite(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("a: {b: [x, y]}\nc: ~\n"), &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	if got := Items(Lookup(root, "a", "b")); len(got) != 2 || Scalar(got[1]) != "y" {
		t.Fatalf("Lookup a.b = %v", got)
	}
	if Lookup(root, "a", "missing", "deeper") != nil || Scalar(Field(root, "a")) != "" || Items(Field(root, "a")) != nil {
		t.Fatal("lookups of what is not there must be nil, \"\" and nil")
	}
	m := Ensure(root, "c", yaml.MappingNode) // a null becomes a mapping
	SetField(m, "d", String(""))
	SetField(m, "d", String("e")) // replaces
	SetField(String("scalar"), "x", String("y"))
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a: {b: [x, y]}\nc:\n    d: e\n"; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	if k, v := KeyValue(root, "a"); k == nil || k.Value != "a" || v == nil {
		t.Fatal("KeyValue does not return the key node")
	}
	if String("").Style != yaml.DoubleQuotedStyle {
		t.Fatal(`the empty string must be written ""`)
	}
}
