package rewrite

import (
	"bytes"
	"strings"
	"testing"
)

func TestSplitKeepsBytes(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		docs  int
		lines []int // first line of each document
	}{
		{"empty", "", 1, []int{1}},
		{"one document without separator", "a: 1\n", 1, []int{1}},
		{"leading separator", "---\na: 1\n---\nb: 2\n", 2, []int{1, 3}},
		{"helm 3 source comments", "---\n# Source: c/templates/a.yaml\na: 1\n---\n# Source: c/templates/b.yaml\nb: 2\n", 2, []int{1, 4}},
		{"helm 4 stream", "a: 1\n---\nb: 2\n", 2, []int{1, 2}},
		{"separator with comment and blanks", "a: 1\n---   # next\nb: 2\n---\t\nc: 3\n", 3, []int{1, 2, 4}},
		{"not separators", "a: |\n  ---\n----\nb: ---x\n", 1, []int{1}},
		{"crlf", "---\r\na: 1\r\n---\r\nb: 2\r\n", 2, []int{1, 3}},
		{"bom", "\xef\xbb\xbf---\na: 1\n---\nb: 2\n", 2, []int{1, 3}},
		{"empty documents", "---\n---\n\n---\n# only a comment\n---\na: 1", 4, []int{1, 2, 4, 6}},
		{"no final newline", "---\na: 1\n---\nb: 2", 2, []int{1, 3}},
		{"content on separator line", "--- {a: 1}\n--- b\n", 2, []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := split([]byte(tt.in))
			if len(docs) != tt.docs {
				t.Fatalf("split into %d documents, want %d", len(docs), tt.docs)
			}
			var joined []byte
			for i, d := range docs {
				joined = append(joined, d.raw...)
				if d.line != tt.lines[i] {
					t.Errorf("document %d starts at line %d, want %d", i, d.line, tt.lines[i])
				}
			}
			if string(joined) != tt.in {
				t.Errorf("documents do not join back to the input:\n%q\nwant\n%q", joined, tt.in)
			}
			s, err := Read([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.in {
				t.Errorf("untouched stream changed:\n%q\nwant\n%q", out, tt.in)
			}
		})
	}
}

func TestSplitHeader(t *testing.T) {
	tests := []struct{ in, header, body string }{
		{"---\n# Source: x\nkind: A\n", "---\n# Source: x\n", "kind: A\n"},
		{"kind: A\n", "", "kind: A\n"},
		{"\xef\xbb\xbf---\n\n# c\n  # d\nkind: A\n", "\xef\xbb\xbf---\n\n# c\n  # d\n", "kind: A\n"},
		{"--- {kind: A}\n", "---", " {kind: A}\n"},
		{"---\r\n# Source: x\r\nkind: A\r\n", "---\r\n# Source: x\r\n", "kind: A\r\n"},
	}
	for _, tt := range tests {
		h, b := splitHeader([]byte(tt.in))
		if string(h) != tt.header || string(b) != tt.body {
			t.Errorf("splitHeader(%q) = %q, %q; want %q, %q", tt.in, h, b, tt.header, tt.body)
		}
	}
}

func TestReadRejectsBrokenCandidatesOnly(t *testing.T) {
	broken := "---\nkind: Secret\ndata: {runner-token: [\n"
	if _, err := Read([]byte(broken)); err == nil || !strings.Contains(err.Error(), "not valid YAML") {
		t.Fatalf("a broken runner document must be an error naming the problem, got %v", err)
	}
	// A broken document that is no runner part is Helm's business: it passes through.
	other := "---\nkind: Service\nspec: {ports: [\n"
	s, err := Read([]byte(other))
	if err != nil {
		t.Fatalf("a document that is not a runner part must not be parsed, got %v", err)
	}
	out, _ := s.Bytes()
	if !bytes.Equal(out, []byte(other)) {
		t.Fatalf("untouched document changed: %q", out)
	}
}

func TestListItemsAreObjects(t *testing.T) {
	in := "apiVersion: v1\nkind: List\nitems:\n- kind: Secret\n  metadata: {name: a, namespace: ns}\n  data: {runner-token: \"\"}\n- kind: ConfigMap\n  metadata: {name: b}\n"
	s, err := Read([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range s.objects {
		got = append(got, o.Ref.String())
	}
	if want := "Secret ns/a,ConfigMap b"; strings.Join(got, ",") != want {
		t.Fatalf("objects = %v, want %s", got, want)
	}
}
