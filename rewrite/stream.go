package rewrite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

var bom = []byte("\xef\xbb\xbf")

// candidateMarkers are byte strings that every document belonging to a runner deployment carries: the
// token keys (Secret, projected volume items), the register script (ConfigMap), the entrypoint path
// (workload command) and the token env vars. A document without any of them is passed through without
// being parsed, which keeps large streams cheap.
var candidateMarkers = [][]byte{
	[]byte("runner-token"),
	[]byte("runner-registration-token"),
	[]byte("register-the-runner"),
	[]byte("configmaps/entrypoint"),
	[]byte("REGISTRATION_TOKEN"),
	[]byte("CI_SERVER_TOKEN"),
}

// Document is one YAML document of a stream, kept as the bytes it was read as. Only documents that
// may belong to a runner are parsed, and only changed ones are encoded again.
type Document struct {
	raw  []byte // exactly as read: separator line, leading comments, body
	line int    // 1-based line of raw[0] in the stream

	header    []byte     // separator line and leading comments, kept verbatim when re-encoding
	root      *yaml.Node // parsed body (a DocumentNode); nil when the document was not parsed
	orig      *yaml.Node // a copy of root as parsed, which splice compares the edited root with
	changed   bool       // root was edited: the document is written by splicing the edits into raw
	generated bool       // added by runner-migrate, not read: encoded as a whole
	// ownComments: comment lines directly above a removed entry are its own and go with it (values files).
	ownComments bool
}

// Line is the 1-based line in the stream where the document starts.
func (d *Document) Line() int { return d.line }

// Stream is a manifest stream split into documents.
type Stream struct {
	docs    []*Document
	objects []*Object // Kubernetes objects in the parsed documents, in stream order

	// Sites are the runner workloads Detect found.
	Sites []*Site
}

// Read splits data into documents and parses those that may belong to a runner deployment.
// Documents that are not parsed pass through untouched, but the stream as a whole must be text.
func Read(data []byte) (*Stream, error) {
	if err := checkText(data); err != nil {
		return nil, err
	}
	s := &Stream{docs: split(data)}
	var errs []error
	for _, d := range s.docs {
		if !isCandidate(d.raw) {
			continue
		}
		if err := d.parse(); err != nil {
			errs = append(errs, err)
			continue
		}
		s.objects = append(s.objects, objectsOf(d)...)
	}
	return s, errors.Join(errs...)
}

// checkText rejects input that is not YAML text (UTF-8 without control characters other than tab and
// line ends): binary or otherwise encoded bytes are no manifest stream, even where they would pass
// through unparsed. Eight printable ASCII bytes at a time take one test.
func checkText(data []byte) error {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i := 0; i < len(data); {
		if i+8 <= len(data) {
			w := binary.LittleEndian.Uint64(data[i:])
			del := w ^ 0x7f*ones
			if w&highs == 0 && (w-0x20*ones)&^w&highs == 0 && (del-ones)&^del&highs == 0 {
				i += 8
				continue
			}
		}
		c := data[i]
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' || c == '\r' {
			i++
			continue
		}
		what := fmt.Sprintf("the control character %#02x", c)
		switch {
		case c == 0:
			what = "a NUL byte"
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(data[i:])
			if r != utf8.RuneError || size > 1 {
				i += size
				continue
			}
			what = fmt.Sprintf("a byte that is not UTF-8 (%#02x)", c)
		}
		line := 1 + bytes.Count(data[:i], []byte("\n"))
		column := 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:i], '\n')+1:i])
		return &Error{Line: line, Problem: fmt.Sprintf("the input is not text: %s at column %d (byte %d of the stream)", what, column, i),
			Fix: "give runner-migrate the manifests Helm rendered, as UTF-8 text"}
	}
	return nil
}

// split cuts data at document separator lines (`---` followed by nothing, a blank or a comment).
// YAML forbids such a line inside a document, so this cut is exact. Each document keeps its own
// separator line, so concatenating the documents gives data back byte for byte.
func split(data []byte) []*Document {
	sep := []byte("\n---")
	docs := make([]*Document, 0, bytes.Count(data, sep)+1)
	start, startLine := 0, 1
	counted, line := 0, 1 // line is the line number at offset counted
	for from := 0; ; {
		i := bytes.Index(data[from:], sep)
		if i < 0 {
			break
		}
		pos := from + i + 1 // where the line that may be a separator starts
		from = pos
		end := bytes.IndexByte(data[pos:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += pos
		}
		if !isSeparator(data[pos:end]) {
			continue
		}
		line += bytes.Count(data[counted:pos], []byte("\n"))
		counted = pos
		docs = append(docs, &Document{raw: data[start:pos:pos], line: startLine})
		start, startLine = pos, line
	}
	if start < len(data) || len(docs) == 0 {
		docs = append(docs, &Document{raw: data[start:], line: startLine})
	}
	return docs
}

// isSeparator reports whether a line (without its newline) is a document start marker.
func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	return len(line) == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r'
}

// markerHints are substrings of the markers with rare first bytes ('-', '/', '_'), which the byte
// search skips through faster than the markers' own ('r', 'c'): a document without any hint holds no
// marker.
var markerHints = [][]byte{[]byte("-token"), []byte("-the-runner"), []byte("/entrypoint"), []byte("_TOKEN")}

func isCandidate(raw []byte) bool {
	hinted := false
	for _, h := range markerHints {
		if hinted = bytes.Contains(raw, h); hinted {
			break
		}
	}
	if !hinted {
		return false
	}
	for _, m := range candidateMarkers {
		if bytes.Contains(raw, m) {
			return true
		}
	}
	return false
}

// splitHeader separates the separator line and the comment and blank lines before the first content
// line (Helm 3's `# Source:` comment lives there) from the body.
func splitHeader(raw []byte) (header, body []byte) {
	i := 0
	if bytes.HasPrefix(raw, bom) {
		i = len(bom)
	}
	first := true
	for i < len(raw) {
		end := bytes.IndexByte(raw[i:], '\n')
		next := len(raw)
		if end >= 0 {
			next = i + end + 1
		}
		line := raw[i:next]
		if first && isSeparator(bytes.TrimRight(line, "\n")) {
			rest := bytes.TrimLeft(line[3:], " \t")
			if len(bytes.TrimSpace(rest)) > 0 && rest[0] != '#' {
				// Content on the separator line itself (`--- {a: 1}`): the body starts there.
				return raw[:i+3], raw[i+3:]
			}
			first = false
			i = next
			continue
		}
		first = false
		trimmed := bytes.TrimLeft(line, " \t\r\n")
		if len(trimmed) > 0 && trimmed[0] != '#' {
			break
		}
		i = next
	}
	return raw[:i], raw[i:]
}

// parse decodes the document body. Empty documents parse to nothing.
func (d *Document) parse() error {
	header, body := splitHeader(d.raw)
	d.header = header
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(body))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		line, msg := YAMLErrorLine(body, err)
		return &Error{Line: d.bodyLine(line), Problem: fmt.Sprintf("not valid YAML (in the document that starts at line %d): %s", d.line, msg),
			Fix: "fix the chart template or values that rendered it"}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		line := 0
		if i := bytes.Index(append([]byte("\n"), body...), []byte("\n...")); i >= 0 {
			line = bytes.Count(body[:i], []byte("\n")) + 1
		}
		return &Error{Line: d.bodyLine(line), Problem: fmt.Sprintf("the document that starts at line %d holds more than one YAML document (a `...` end marker?)", d.line),
			Fix: "separate documents with `---` lines"}
	}
	d.root = &root
	d.orig = deepCopy(&root)
	return nil
}

var yamlErrorAt = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// YAMLErrorLine returns the 1-based line of a YAML decoding error in data, and its message without
// the position. The library reports scanner errors at their line but parser errors at the line before
// the construct they were parsing (it counts those from 0), which can be far above the line to fix; so
// the line is the first at which data, cut after it, fails the same way (a binary search: once a cut
// fails, longer ones do too).
func YAMLErrorLine(data []byte, err error) (int, string) {
	reported, msg := splitYAMLError(err)
	lines := bytes.SplitAfter(data, []byte("\n"))
	failsAt := func(n int) bool {
		var doc yaml.Node
		e := yaml.NewDecoder(bytes.NewReader(bytes.Join(lines[:n], nil))).Decode(&doc)
		if e == nil {
			return false
		}
		_, m := splitYAMLError(e)
		return m == msg
	}
	lo, hi := max(reported, 1), len(lines)
	if lo > hi || !failsAt(hi) {
		return reported, msg
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if failsAt(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, msg
}

// splitYAMLError splits a YAML error into the line it reports (the library leaves a 0 out) and its message.
func splitYAMLError(err error) (int, string) {
	m := yamlErrorAt.FindStringSubmatch(err.Error())
	if m == nil {
		return 1, strings.TrimPrefix(err.Error(), "yaml: ")
	}
	n, _ := strconv.Atoi(m[1])
	return n, m[2]
}

// bodyLine converts a line number inside the parsed body to a line of the stream.
func (d *Document) bodyLine(n int) int {
	if n == 0 {
		return d.line
	}
	return d.line + bytes.Count(d.header, []byte("\n")) + n - 1
}

// crlf reports whether the document uses CRLF line ends, so re-encoded bodies keep them.
func (d *Document) crlf() bool { return bytes.Contains(d.raw, []byte("\r\n")) }

// WriteTo writes the stream: untouched documents as they were read, changed ones re-encoded.
func (s *Stream) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for i, d := range s.docs {
		b, err := d.bytes()
		if err != nil {
			return n, err
		}
		if i+1 < len(s.docs) && len(b) > 0 && b[len(b)-1] != '\n' {
			// The next document's separator must start a line.
			b = append(b[:len(b):len(b)], '\n')
		}
		m, err := w.Write(b)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Bytes returns the stream as WriteTo would write it.
func (s *Stream) Bytes() ([]byte, error) {
	var size int
	for _, d := range s.docs {
		size += len(d.raw)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+size/8))
	if _, err := s.WriteTo(buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (d *Document) bytes() ([]byte, error) {
	if !d.changed {
		return d.raw, nil
	}
	if !d.generated {
		if out, ok := d.splice(); ok {
			return out, nil
		}
	}
	return d.encode()
}

// encode writes the whole document from its tree, after its header: for documents runner-migrate adds,
// and for edits splice cannot place in the original bytes.
func (d *Document) encode() ([]byte, error) {
	var body bytes.Buffer
	// Keep the document's sequence style (Helm charts often indent lists under their key), so the
	// re-encoded document differs from what came in only where it was changed.
	enc := newEncoder(&body, d.raw != nil && wideSequences(d.raw))
	if err := enc.Encode(d.root); err != nil {
		return nil, fmt.Errorf("encoding document at line %d: %w", d.line, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	out := body.Bytes()
	if d.crlf() {
		out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
	}
	return append(append(make([]byte, 0, len(d.header)+len(out)), d.header...), out...), nil
}

// insertAfter adds a generated document after an existing one.
func (s *Stream) insertAfter(after *Document, d *Document) {
	for i, x := range s.docs {
		if x == after {
			s.docs = append(s.docs[:i+1], append([]*Document{d}, s.docs[i+1:]...)...)
			return
		}
	}
	s.docs = append(s.docs, d)
}
