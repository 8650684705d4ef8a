package rewrite

import (
	"bytes"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// splice writes a document whose only changes are new values of literal block scalars (`key: |`) by
// replacing those blocks' lines in the original bytes, so comments, blank lines and layout stay. It
// reports false when a block has a shape it does not handle, or when the result does not decode to
// exactly the edited document; the caller then encodes the document again.
func (d *Document) splice() ([]byte, bool) {
	body := d.raw[len(d.header):]
	lines := strings.SplitAfter(string(body), "\n")
	eol := "\n"
	if d.crlf() {
		eol = "\r\n"
	}
	edits := append([]*yaml.Node(nil), d.edits...)
	sort.Slice(edits, func(i, j int) bool { return edits[i].Line > edits[j].Line }) // bottom up: line numbers stay valid
	for _, n := range edits {
		var ok bool
		if lines, ok = spliceBlock(lines, n, eol); !ok {
			return nil, false
		}
	}
	out := append(append([]byte{}, d.header...), strings.Join(lines, "")...)
	var check yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(out[len(d.header):])).Decode(&check); err != nil || !sameNode(&check, d.root) {
		return nil, false
	}
	return out, true
}

// spliceBlock replaces the content lines of the block scalar n (1-based n.Line is its `|` line).
func spliceBlock(lines []string, n *yaml.Node, eol string) ([]string, bool) {
	at := n.Line - 1
	if n.Style != yaml.LiteralStyle || at < 0 || at >= len(lines) || n.Column-1 >= len(lines[at]) {
		return nil, false
	}
	indicator := strings.TrimSpace(strings.TrimRight(lines[at][n.Column-1:], "\r\n"))
	v := n.Value
	switch indicator {
	case "|": // clip: exactly one final line break
		if !strings.HasSuffix(v, "\n") || strings.HasSuffix(v, "\n\n") {
			return nil, false
		}
	case "|-": // strip: none
		if strings.HasSuffix(v, "\n") {
			return nil, false
		}
	default:
		return nil, false
	}
	if v == "" || strings.HasPrefix(v, " ") || strings.HasPrefix(v, "\t") {
		return nil, false // would need an indentation indicator
	}
	start, end, indent := at+1, at+1, -1
	for i := start; i < len(lines); i++ {
		text := strings.TrimRight(lines[i], "\r\n")
		if strings.TrimSpace(text) == "" {
			continue
		}
		ind := len(text) - len(strings.TrimLeft(text, " "))
		if indent < 0 {
			indent = ind
		}
		if ind < indent {
			break
		}
		end = i + 1
	}
	if indent <= 0 {
		return nil, false
	}
	var block []string
	for _, l := range strings.SplitAfter(strings.TrimSuffix(v, "\n"), "\n") {
		l = strings.TrimSuffix(l, "\n")
		if l != "" {
			l = strings.Repeat(" ", indent) + l
		}
		block = append(block, l+eol)
	}
	if !strings.HasSuffix(v, "\n") && end == len(lines) && !strings.HasSuffix(lines[end-1], "\n") {
		block[len(block)-1] = strings.TrimSuffix(block[len(block)-1], eol)
	}
	return append(append(append([]string{}, lines[:start]...), block...), lines[end:]...), true
}

// sameNode compares two decoded YAML trees by what they mean: kinds, resolved tags, values.
func sameNode(a, b *yaml.Node) bool {
	if a.Kind != b.Kind || len(a.Content) != len(b.Content) {
		return false
	}
	switch a.Kind {
	case yaml.ScalarNode:
		return a.Value == b.Value && a.ShortTag() == b.ShortTag()
	case yaml.AliasNode:
		return a.Alias != nil && b.Alias != nil && sameNode(a.Alias, b.Alias)
	}
	for i := range a.Content {
		if !sameNode(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}
