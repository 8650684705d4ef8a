package values

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// describe prints a tree the way the scan/yaml.v3 comparison sees it.
func describe(d *doc, i int32) string {
	var b strings.Builder
	var walk func(i int32, depth int)
	walk = func(i int32, depth int) {
		n := d.nodes[i]
		fmt.Fprintf(&b, "%s%d:%d kind=%d tag=%d %q\n", strings.Repeat("  ", depth), n.line, n.col, n.kind, n.tag, n.value)
		if n.kind == aliasNode {
			return
		}
		for c := n.first; c != none; c = d.nodes[c].next {
			walk(c, depth+1)
		}
	}
	walk(i, 0)
	return b.String()
}

// compareWithYAML: where scan reads a text, it builds what yaml.v3 builds; where yaml.v3 refuses a
// text, scan refuses it too.
func compareWithYAML(t *testing.T, text string) (scanned bool) {
	t.Helper()
	fd, sd := &doc{file: "f"}, &doc{file: "f"}
	froot, ok := scan(fd, text)
	sroot, err := parseYAML(sd, text)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("scan accepts what yaml.v3 refuses (%v):\n%s", err, text)
	}
	if got, want := describe(fd, froot), describe(sd, sroot); got != want {
		t.Fatalf("scan and yaml.v3 differ on\n%s\nscan:\n%s\nyaml.v3:\n%s", text, got, want)
	}
	return true
}

func TestScanMatchesYAML(t *testing.T) {
	tests := []struct {
		text    string
		scanned bool // scan reads it (else it leaves it to yaml.v3)
	}{
		{"", true},
		{"# only a comment\n\n", true},
		{"---\na: 1\n", true},
		{"--- # start\na: 1\n", true},
		{"a: 1\nb: two words  # comment\nc: 'it''s'\nd: \"x\\ty\\u00e9\"\ne:\nf: ~\ng: true\nh: False\n", true},
		{"a:\n  b:\n    c: d\n  e: f\ng: h\n", true},
		{"a:\n- x\n- y: 1\n  z: 2\n-\n- # c\nb: [1, 'two', \"3\"]\nc: {}\nd: [ ]\ne: {k: v, l: \"w\"}\n", true},
		{"a:\n  - x\n  -   y: 1\n      z: |\n        line\n\n        more\n\n  - |-\n    text\n", true},
		{"a: |\n\n  x\n\n\nb: 1\n", true},
		{"a: |\nb: 1\n", true},
		{"a: |\n  x", true},
		{"a: |-\n  x\n  y\n", true},
		{"  a: 1\n  b: 2\n", true},
		{"\"quoted key\": 1\n'k': v\nk2 : v2\n", true},
		{"url: http://x#frag\nempty:   # c\nneg: -1\nx: a:b\n", true},
		{"ключ: значение\nk: ü\n", true},
		{"a: 1\r\nb:\r\n  c: |\r\n    x\r\n", true},
		{"a: 1\na: 2\n", true},
		{"\ufeffa: 1\n", true},
		// Left to yaml.v3.
		{"a: &x 1\nb: *x\n", false},
		{"base: &b {k: v}\nm:\n  <<: *b\n", false},
		{"a: !!str 1\n", false},
		{"a: >\n  folded\n", false},
		{"a: |+\n  keep\n\n", false},
		{"a: b\n  c\n", false},
		{"a: [1,\n  2]\n", false},
		{"a: 1\n---\nb: 2\n", false},
		{"a:\n\tb: 1\n", false},
		{"- a\n", false},
		{"a: b: c\n", false},
		{"a: \"x\ny\"\n", false},
		{"a:\n  b: 1\n c: 2\n", false},
		{"a: [[1], {b: [c]}]\n", true},
		{"%YAML 1.2\n---\na: 1\n", false},
		{"? a\n: b\n", false},
		{"a: 1\n...\n", false},
		{"a: |2\n   x\n", false},
		{"a: 'x\n", false},
		{"a:\n- - x\n", false},
	}
	for _, tt := range tests {
		if got := compareWithYAML(t, tt.text); got != tt.scanned {
			t.Errorf("scan read %q: %v, want %v", tt.text, got, tt.scanned)
		}
	}
}

// Every values file of the repository's fixtures is read by scan, as yaml.v3 reads it.
func TestScanReadsFixtures(t *testing.T) {
	files, _ := filepath.Glob("../../../testdata/values/*.yaml")
	charts, _ := filepath.Glob("../../../testdata/charts/*/values.yaml")
	files = append(files, charts...)
	if len(files) < 10 {
		t.Fatalf("found %d fixture files", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !compareWithYAML(t, string(data)) {
			t.Errorf("%s: left to yaml.v3", f)
		}
	}
}

func FuzzScanMatchesYAML(f *testing.F) {
	seeds, _ := filepath.Glob("../../../testdata/values/*.yaml")
	charts, _ := filepath.Glob("../../../testdata/charts/*/values.yaml")
	for _, s := range append(seeds, charts...) {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(string(data))
		}
	}
	for _, s := range []string{"a: 1\n", "a:\n- x\n- y: |\n    z\n", "a: [1, b]\nc: {d: e}\n", "k: 'v''w'\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		compareWithYAML(t, text)
	})
}
