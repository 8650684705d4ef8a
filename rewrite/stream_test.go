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

// TestReadRejectsNonText: bytes that are not YAML text are no manifest stream, even in documents
// that would pass through unparsed; the error says where.
func TestReadRejectsNonText(t *testing.T) {
	random := make([]byte, 3072)
	for i := range random {
		random[i] = byte(i*7919 + i*i*31) // deterministic noise with NUL and high bytes
	}
	tests := []struct {
		name string
		in   string
		want string // substring of the error; "" means the input is text
	}{
		{"random bytes", string(random), "not text"},
		{"NUL in a document nobody parses", "kind: Service\n---\nkind: ConfigMap\ndata:\n  a: \"x\x00y\"\n", "line 5: the input is not text: a NUL byte at column 8"},
		{"invalid UTF-8", "a: 1\nb: caf\xe9\n", "line 2: the input is not text: a byte that is not UTF-8 (0xe9) at column 7"},
		{"control character", "a: \x1b[31m\n", "the control character 0x1b at column 4"},
		{"DEL", "a: \x7f\n", "0x7f"},
		{"UTF-16", "\xff\xfea\x00:\x00", "not text"},
		{"UTF-8 text", "\xef\xbb\xbfa: größe ✓\r\n\tb: 1\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read([]byte(tt.in))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("text rejected: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestReadErrorLines: a YAML error in a runner document names the line of the stream, as editors and
// CI annotations count, not the line inside the document.
func TestReadErrorLines(t *testing.T) {
	stream := "---\n# Source: app/templates/a.yaml\nkind: Service\nmetadata:\n  name: a\n" + // lines 1-5
		"---\n# Source: gitlab-runner/templates/secrets.yaml\nkind: Secret\nmetadata:\n  name: r\n" + // lines 6-10
		"data:\n  runner-token: \"\"\n   runner-registration-token: x\n" // lines 11-13: 13 is broken
	_, err := Read([]byte(stream))
	if err == nil {
		t.Fatal("broken runner document accepted")
	}
	for _, want := range []string{"line 13:", "not valid YAML", "document that starts at line 6", "fix:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "yaml: line") {
		t.Errorf("error still carries the document-relative line of the YAML library:\n%v", err)
	}

	multi := "kind: Service\n---\nkind: Secret\ndata: {runner-token: \"\"}\n...\nkind: Other\n"
	if _, err := Read([]byte(multi)); err == nil || !strings.Contains(err.Error(), "line 5:") {
		t.Errorf("a `...` marker inside a runner document must be reported at its line, got %v", err)
	}
}

// TestCheckTextEveryOffset: the eight-bytes-at-a-time test misses no byte, wherever it sits.
func TestCheckTextEveryOffset(t *testing.T) {
	base := []byte("abcdefghijklmnopqrstuvwx")
	for at := range base {
		for _, c := range []byte{0x00, 0x01, 0x08, 0x0b, 0x1f, 0x7f, 0x80, 0xc3, 0xff, '\t', '\n', '\r', ' ', '~'} {
			in := append([]byte{}, base...)
			in[at] = c
			err := checkText(in)
			if want := c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c >= 0x7f; (err != nil) != want {
				t.Errorf("byte %#02x at %d: error %v, want error %v", c, at, err, want)
			}
		}
	}
}
