package values

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseError is a values file that cannot be read, with the line of the problem.
type ParseError struct {
	File string
	Line int // 0 when the file as a whole
	Msg  string
	Err  error // ErrNotMapping, or nil
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrNotMapping: the YAML is valid but is no mapping of keys to values (a list, a string).
var ErrNotMapping = errors.New("a values file must be a mapping of keys to values")

// Parse reads one values file: its first YAML document (Helm reads no other), after checking that
// every document parses. An empty file is an empty mapping, as in Helm.
func Parse(file string, data []byte) (*Values, error) {
	return ParseAt(file, string(data), Origin{Line: 1, Column: 1})
}

// Origin is where a values text starts in the file the user named: the position of its first
// character. Flat puts every position there (text whose lines are not the file's lines, like a
// folded YAML string).
type Origin struct {
	Line, Column int
	Flat         bool
}

// ParseAt reads values text that sits inside a file at origin: an Argo CD Application's
// spec.source.helm.values string, say. Findings and errors then point into that file.
func ParseAt(file, text string, origin Origin) (*Values, error) {
	// Nodes: at most two per line for block-style YAML; yaml.v3's tree reuses the array if scan gives up.
	d := &doc{file: file, nodes: make([]node, 0, 2*strings.Count(text, "\n")+8)}
	root, ok := scan(d, text)
	if !ok {
		d.nodes = d.nodes[:0]
		var err error
		if root, err = parseYAML(d, text); err != nil {
			var pe *ParseError
			if errors.As(err, &pe) && pe.Line > 0 {
				pe.Line = shiftLine(pe.Line, origin)
			}
			return nil, err
		}
	}
	d.lineShift, d.colShift = origin.Line-1, origin.Column-1
	d.flat, d.flatLine, d.flatCol = origin.Flat, origin.Line, origin.Column
	return &Values{parts: []ref{{d: d, key: none, value: root}}}, nil
}

func shiftLine(line int, o Origin) int {
	if o.Flat {
		return o.Line
	}
	return line + o.Line - 1
}

// FromNode makes a values tree of a mapping inside a parsed manifest (an Argo CD Application's
// valuesObject, a Flux HelmRelease's spec.values); positions are the manifest's own.
func FromNode(file string, n *yaml.Node) *Values {
	d := &doc{file: file}
	root := convert(d, n, map[*yaml.Node]int32{})
	if !d.isMap(root) {
		return nil
	}
	return &Values{parts: []ref{{d: d, key: none, value: root}}}
}

// parseYAML reads text with yaml.v3: all of YAML, in more memory than scan. The values are the
// first document with content (a stream may open with an empty one); every document must parse.
func parseYAML(d *doc, text string) (int32, error) {
	dec := yaml.NewDecoder(strings.NewReader(text))
	var root *yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			break
		}
		if err != nil { // a file lint cannot read is never passed in silence
			return none, SyntaxError(d.file, text, err)
		}
		if root == nil && !emptyDocument(&n) {
			root = n.Content[0]
		}
	}
	if root == nil {
		return d.add(node{kind: mappingNode, line: 1, col: 1, first: none, next: none}), nil
	}
	r := convert(d, root, map[*yaml.Node]int32{})
	if i := d.resolve(r); i != none && d.nodes[i].kind == scalarNode && d.nodes[i].tag == tagNull {
		return d.add(node{kind: mappingNode, line: 1, col: 1, first: none, next: none}), nil // ~ or null: empty, as in Helm
	}
	if !d.isMap(r) {
		return none, &ParseError{File: d.file, Line: root.Line, Msg: ErrNotMapping.Error(), Err: ErrNotMapping}
	}
	return r, nil
}

// emptyDocument: nothing but comments (yaml.v3 gives it an implicit null).
func emptyDocument(n *yaml.Node) bool {
	if len(n.Content) == 0 {
		return true
	}
	c := n.Content[0]
	return c.Kind == yaml.ScalarNode && c.Tag == "!!null" && c.Value == "" && c.Style == 0
}

// convert copies a yaml.v3 node tree into d. Aliases stay references, so a document of aliases to
// aliases costs what it weighs, not what it would expand to.
func convert(d *doc, n *yaml.Node, anchors map[*yaml.Node]int32) int32 {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return d.add(node{kind: scalarNode, tag: tagNull, line: int32(n.Line), col: int32(n.Column), first: none, next: none})
		}
		return convert(d, n.Content[0], anchors)
	}
	if n.Kind == yaml.AliasNode {
		target := none
		if t, ok := anchors[n.Alias]; ok {
			target = t
		} else if n.Alias != nil {
			target = convert(d, n.Alias, anchors)
		}
		return d.add(node{kind: aliasNode, line: int32(n.Line), col: int32(n.Column), first: target, next: none})
	}
	out := node{line: int32(n.Line), col: int32(n.Column), first: none, next: none}
	switch n.Kind {
	case yaml.MappingNode:
		out.kind = mappingNode
	case yaml.SequenceNode:
		out.kind = sequenceNode
	default:
		out.kind, out.value = scalarNode, n.Value
		switch n.Tag {
		case "!!null":
			out.tag = tagNull
		case "!!bool":
			out.tag = tagBool
		case "!!merge":
			out.tag = tagMerge
		}
	}
	i := d.add(out)
	if n.Anchor != "" {
		anchors[n] = i
	}
	last := none
	for _, c := range n.Content {
		ci := convert(d, c, anchors)
		if last == none {
			d.nodes[i].first = ci
		} else {
			d.nodes[last].next = ci
		}
		last = ci
	}
	return i
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// errorLine splits a YAML error into its line and message. The library leaves the line out when it
// is the first (its 0-based line is 0).
func errorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlErrLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 1, strings.TrimPrefix(msg, "yaml: ")
}

// SyntaxError words an error of yaml.v3 reading text (all its documents) with the file and the line
// of the problem. The library counts scanner errors from 1 but parser errors from 0, so the error is
// on the reported line or the next: the first of them at which the text, cut there, fails with the
// same message.
func SyntaxError(file, text string, err error) *ParseError {
	reported, msg := errorLine(err)
	line := reported
	for _, n := range []int{reported, reported + 1} {
		cut := cutLines(text, n)
		if cut == "" {
			continue
		}
		if e := decodeAll(cut); e != nil {
			if _, m := errorLine(e); m == msg {
				line = n
				break
			}
		}
	}
	return &ParseError{File: file, Line: line, Msg: msg}
}

// cutLines is the first n lines of text, "" when it has fewer.
func cutLines(text string, n int) string {
	if n < 1 {
		return ""
	}
	end := 0
	for i := 0; i < n; i++ {
		j := strings.IndexByte(text[end:], '\n')
		if j < 0 {
			if i == n-1 {
				return text
			}
			return ""
		}
		end += j + 1
	}
	return text[:end]
}

func decodeAll(text string) error {
	dec := yaml.NewDecoder(bytes.NewReader([]byte(text)))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}
