package rewrite

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// A changed document is written by editing the bytes it was read as, so a diff of the input and the
// output (helm diff, a GitOps review) shows only what changed. splice compares the document as read
// (parsed again from its bytes) with the edited tree and turns each difference into a byte edit: a
// scalar's new text in place of the old, a mapping entry or sequence item removed with its lines, new
// entries and items inserted at the indentation of their siblings. A difference of another shape
// re-encodes the smallest mapping entry or sequence item that holds it. The result must decode to
// exactly the edited tree; when it does not, splice reports false and the caller encodes the whole
// document again.
func (d *Document) splice() ([]byte, bool) {
	body := d.raw[len(d.header):]
	orig := d.orig
	if orig == nil || len(orig.Content) != 1 || d.root == nil || len(d.root.Content) != 1 {
		return nil, false
	}
	sp := newSplicer(body, d.crlf())
	sp.ownComments = d.ownComments
	if !sp.node(orig.Content[0], d.root.Content[0]) {
		return nil, false
	}
	out, ok := sp.apply()
	if !ok {
		return nil, false
	}
	var check yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&check); err != nil || !sameNode(&check, d.root) {
		return nil, false
	}
	return append(append(make([]byte, 0, len(d.header)+len(out)), d.header...), out...), true
}

// edit replaces body[start:end] with text; start == end inserts.
type edit struct {
	start, end int
	text       string
}

type splicer struct {
	body  []byte
	lines []int // byte offset at which each line starts
	eol   string
	wide  bool // sequences indented under their key
	edits []edit
	// ownComments: a removed entry takes the comment lines directly above it (no blank line between,
	// same indentation) along.
	ownComments bool
}

func newSplicer(body []byte, crlf bool) *splicer {
	sp := &splicer{body: body, lines: []int{0}, eol: "\n", wide: wideSequences(body)}
	for i, c := range body {
		if c == '\n' && i+1 < len(body) {
			sp.lines = append(sp.lines, i+1)
		}
	}
	if crlf {
		sp.eol = "\r\n"
	}
	return sp
}

// apply writes the body with the edits, which must not overlap.
func (sp *splicer) apply() ([]byte, bool) {
	sort.SliceStable(sp.edits, func(i, j int) bool {
		a, b := sp.edits[i], sp.edits[j]
		return a.start < b.start || a.start == b.start && a.end < b.end
	})
	var out bytes.Buffer
	out.Grow(len(sp.body) + 256)
	pos := 0
	var removedAt []int // where removed lines were, in the output
	for _, e := range sp.edits {
		if e.start < pos {
			return nil, false
		}
		out.Write(sp.body[pos:e.start])
		out.WriteString(e.text)
		if e.text == "" && e.end > e.start {
			removedAt = append(removedAt, out.Len())
		}
		pos = e.end
	}
	out.Write(sp.body[pos:])
	if sp.ownComments {
		return tidyBlankLines(out.Bytes(), removedAt), true
	}
	return out.Bytes(), true
}

// tidyBlankLines drops the blank lines that removed lines leave doubled: those after a removal that
// follows a blank line or the key of the block it was in, and those that end the text after a
// removal.
func tidyBlankLines(b []byte, removedAt []int) []byte {
	isBlank := func(line []byte) bool { return len(bytes.TrimSpace(line)) == 0 }
	for i := len(removedAt) - 1; i >= 0; i-- { // from the end, so earlier offsets stay valid
		p := removedAt[i]
		if i+1 < len(removedAt) && removedAt[i+1] == p {
			continue
		}
		end := p // past the blank lines that follow p
		for end < len(b) {
			nl := bytes.IndexByte(b[end:], '\n')
			if nl < 0 || !isBlank(b[end:end+nl]) {
				if nl < 0 && isBlank(b[end:]) {
					end = len(b)
				}
				break
			}
			end += nl + 1
		}
		if end == len(b) { // only blank lines follow: drop those before the removal too
			start := p
			for start > 0 {
				prev := bytes.LastIndexByte(b[:start-1], '\n') + 1
				if !isBlank(b[prev:start]) {
					break
				}
				start = prev
			}
			b = append(b[:start], b[end:]...)
			continue
		}
		if end == p {
			continue
		}
		prev := b[:p]
		if len(prev) == 0 {
			continue // what stands above the body (a header comment) is not known here
		}
		line := prev[bytes.LastIndexByte(prev[:len(prev)-1], '\n')+1:]
		if t := bytes.TrimRight(line, " \t\r\n"); !isBlank(line) && !bytes.HasSuffix(t, []byte(":")) {
			continue
		}
		b = append(b[:p], b[end:]...)
	}
	return b
}

// node records the edits that turn o (as read) into c (as edited); both sit at the same place.
func (sp *splicer) node(o, c *yaml.Node) bool {
	if o.Kind != c.Kind {
		return false
	}
	switch o.Kind {
	case yaml.ScalarNode:
		if o.Value == c.Value && o.ShortTag() == c.ShortTag() {
			return true
		}
		return sp.scalar(o, c)
	case yaml.MappingNode:
		if o.Style&yaml.FlowStyle != 0 {
			return sp.flow(o, c)
		}
		return sp.mapping(o, c)
	case yaml.SequenceNode:
		if o.Style&yaml.FlowStyle != 0 {
			return sp.flow(o, c)
		}
		return sp.sequence(o, c)
	case yaml.AliasNode:
		return o.Value == c.Value
	}
	return false
}

// samePlace: c is the node that was read at o's place (nodes added by a patch have no position).
func samePlace(o, c *yaml.Node) bool {
	return c.Line > 0 && o.Line == c.Line && o.Column == c.Column && o.Kind == c.Kind
}

// try runs fn and drops the edits it recorded when it fails.
func (sp *splicer) try(fn func() bool) bool {
	mark := len(sp.edits)
	if fn() {
		return true
	}
	sp.edits = sp.edits[:mark]
	return false
}

func (sp *splicer) mapping(o, c *yaml.Node) bool {
	keys := map[string]int{}
	for i := 0; i+1 < len(o.Content); i += 2 {
		keys[o.Content[i].Value] = i
	}
	kept := map[string]bool{}
	for j := 0; j+1 < len(c.Content); j += 2 {
		kept[c.Content[j].Value] = true
	}
	if len(keys)*2 != len(o.Content) || len(kept)*2 != len(c.Content) || len(o.Content) == 0 || len(c.Content) == 0 {
		return false // duplicate keys, or no block mapping before or after: the caller writes it again
	}
	for i := 0; i+1 < len(o.Content); i += 2 {
		if !kept[o.Content[i].Value] && !sp.removeEntry(o.Content[i], o.Content[i+1]) {
			return false
		}
	}
	var pending []*yaml.Node // new entries, key and value, waiting for the next kept entry
	var prevKey, prevValue *yaml.Node
	for j := 0; j+1 < len(c.Content); j += 2 {
		ck, cv := c.Content[j], c.Content[j+1]
		i, found := keys[ck.Value]
		if !found {
			pending = append(pending, ck, cv)
			continue
		}
		ok, ov := o.Content[i], o.Content[i+1]
		if len(pending) > 0 && !sp.insertEntries(o, pending, prevKey, prevValue, ok) {
			return false
		}
		pending = nil
		if !sp.entry(ok, ov, cv) {
			return false
		}
		prevKey, prevValue = ok, ov
	}
	return len(pending) == 0 || sp.insertEntries(o, pending, prevKey, prevValue, nil)
}

// entry records the change of a kept mapping entry's value: in place where it can, else the whole
// entry encoded again.
func (sp *splicer) entry(k, ov, cv *yaml.Node) bool {
	if samePlace(ov, cv) && sp.try(func() bool { return sp.node(ov, cv) }) {
		return true
	}
	if !samePlace(ov, cv) && ov.Kind == yaml.ScalarNode && cv.Kind == yaml.ScalarNode && sp.scalar(ov, cv) {
		return true
	}
	return sp.replaceEntry(k, ov, cv)
}

func (sp *splicer) sequence(o, c *yaml.Node) bool {
	if len(o.Content) == 0 || len(c.Content) == 0 {
		return false // no block sequence before or after: the caller writes the entry again
	}
	type place struct{ line, column int }
	at := map[place]int{}
	for i, it := range o.Content {
		at[place{it.Line, it.Column}] = i
	}
	match := make([]int, len(c.Content)) // index in o of each item of c, or -1 for a new one
	kept := make([]bool, len(o.Content))
	for j, it := range c.Content {
		match[j] = -1
		if i, ok := at[place{it.Line, it.Column}]; ok && samePlace(o.Content[i], it) && !kept[i] {
			match[j], kept[i] = i, true
		}
	}
	for i, it := range o.Content {
		if !kept[i] && !sp.removeItem(it) {
			return false
		}
	}
	var pending []*yaml.Node
	var prev *yaml.Node
	for j, it := range c.Content {
		if match[j] < 0 {
			pending = append(pending, it)
			continue
		}
		oi := o.Content[match[j]]
		if len(pending) > 0 && !sp.insertItems(o, pending, prev, oi) {
			return false
		}
		pending = nil
		if !sp.try(func() bool { return sp.node(oi, it) }) && !sp.replaceItem(oi, it) {
			return false
		}
		prev = oi
	}
	return len(pending) == 0 || sp.insertItems(o, pending, prev, nil)
}

// line returns line i (0-based) without its line end.
func (sp *splicer) line(i int) string {
	end := len(sp.body)
	if i+1 < len(sp.lines) {
		end = sp.lines[i+1]
	}
	return strings.TrimRight(string(sp.body[sp.lines[i]:end]), "\r\n")
}

// lineEnd is the offset just past line i's line end (the start of line i+1), or the body's end.
func (sp *splicer) lineEnd(i int) int {
	if i+1 < len(sp.lines) {
		return sp.lines[i+1]
	}
	return len(sp.body)
}

// offset converts a node's 1-based line and column (counted in characters) to a byte offset.
func (sp *splicer) offset(n *yaml.Node) (int, bool) {
	l := n.Line - 1
	if l < 0 || l >= len(sp.lines) {
		return 0, false
	}
	text := sp.line(l)
	i := 0
	for c := 1; c < n.Column; c++ {
		if i >= len(text) {
			return 0, false
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		i += size
	}
	return sp.lines[l] + i, true
}

// startsLine reports whether only blanks stand before the node on its line.
func (sp *splicer) startsLine(n *yaml.Node) bool {
	off, ok := sp.offset(n)
	return ok && strings.TrimLeft(string(sp.body[sp.lines[n.Line-1]:off]), " ") == ""
}

func indentOf(text string) int { return len(text) - len(strings.TrimLeft(text, " ")) }

func isDash(text string) bool {
	return text == "-" || strings.HasPrefix(text, "- ") || strings.HasPrefix(text, "-\t")
}

func isBlockSeq(n *yaml.Node) bool { return n.Kind == yaml.SequenceNode && n.Style&yaml.FlowStyle == 0 }

// extent returns the line after the last one of a node that starts on line first and whose lines
// after the first are indented more than indent (or, for a compact sequence under a key, as much, and
// start with a dash). Blank lines, and comments no deeper than indent, at its end belong to what follows.
func (sp *splicer) extent(first, indent int, seqAtIndent bool) int {
	end := first + 1
	for i := first + 1; i < len(sp.lines); i++ {
		text := sp.line(i)
		trimmed := strings.TrimLeft(text, " ")
		ind := len(text) - len(trimmed)
		switch {
		case strings.TrimSpace(trimmed) == "":
		case trimmed[0] == '#':
			if ind > indent {
				end = i + 1
			}
		case ind > indent, seqAtIndent && ind == indent && isDash(trimmed):
			end = i + 1
		default:
			return end
		}
	}
	return end
}

func (sp *splicer) entryExtent(k, v *yaml.Node) int {
	return sp.extent(k.Line-1, k.Column-1, isBlockSeq(v))
}

// dash finds the line and indentation of the `-` that introduces a block sequence item.
func (sp *splicer) dash(it *yaml.Node) (int, int, bool) {
	off, ok := sp.offset(it)
	if !ok {
		return 0, 0, false
	}
	l := it.Line - 1
	before := strings.TrimRight(string(sp.body[sp.lines[l]:off]), " ")
	if strings.HasSuffix(before, "-") && strings.TrimLeft(before[:len(before)-1], " ") == "" {
		return l, len(before) - 1, true
	}
	if before != "" {
		return 0, 0, false
	}
	for p := l - 1; p >= 0; p-- { // `-` alone on a line of its own, the item below it
		t := strings.TrimSpace(sp.line(p))
		switch {
		case t == "" || t[0] == '#':
			continue
		case t == "-":
			return p, indentOf(sp.line(p)), true
		}
		break
	}
	return 0, 0, false
}

func (sp *splicer) removeEntry(k, v *yaml.Node) bool {
	if !sp.startsLine(k) {
		return false
	}
	first := k.Line - 1
	for sp.ownComments && first > 0 {
		above := sp.line(first - 1)
		if t := strings.TrimLeft(above, " "); !strings.HasPrefix(t, "#") || indentOf(above) != k.Column-1 {
			break
		}
		first--
	}
	sp.edits = append(sp.edits, edit{start: sp.lines[first], end: sp.lineEnd(sp.entryExtent(k, v) - 1)})
	return true
}

func (sp *splicer) removeItem(it *yaml.Node) bool {
	l, indent, ok := sp.dash(it)
	if !ok {
		return false
	}
	sp.edits = append(sp.edits, edit{start: sp.lines[l], end: sp.lineEnd(sp.extent(l, indent, false) - 1)})
	return true
}

// replaceEntry encodes a mapping entry again, from its key to the end of its value.
func (sp *splicer) replaceEntry(k, ov, cv *yaml.Node) bool {
	start, ok := sp.offset(k)
	if !ok {
		return false
	}
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{withoutOuterComments(k), withoutOuterComments(cv)}}
	return sp.replaceSpan(start, sp.lineEnd(sp.entryExtent(k, ov)-1), m, k.Column-1)
}

// replaceItem encodes a sequence item again, from its dash to its end.
func (sp *splicer) replaceItem(oi, ci *yaml.Node) bool {
	l, indent, ok := sp.dash(oi)
	if !ok {
		return false
	}
	s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{withoutOuterComments(ci)}}
	return sp.replaceSpan(sp.lines[l]+indent, sp.lineEnd(sp.extent(l, indent, false)-1), s, indent)
}

// replaceSpan puts the block encoding of n, at the given indentation, in place of body[start:end],
// which starts at that indentation and ends with a line end (or the body).
func (sp *splicer) replaceSpan(start, end int, n *yaml.Node, indent int) bool {
	text, ok := sp.encode(n, indent)
	if !ok {
		return false
	}
	text = text[indent:] // the span starts after the indentation
	if !bytes.HasSuffix(sp.body[:end], []byte("\n")) {
		text = strings.TrimSuffix(text, sp.eol)
	}
	sp.edits = append(sp.edits, edit{start: start, end: end, text: text})
	return true
}

// insertEntries adds new entries (key, value pairs) to the block mapping o: after the kept entry
// before them, else before the kept entry after them.
func (sp *splicer) insertEntries(o *yaml.Node, kv []*yaml.Node, prevKey, prevValue, next *yaml.Node) bool {
	indent := o.Content[0].Column - 1
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: kv}
	text, ok := sp.encode(m, indent)
	if !ok {
		return false
	}
	switch {
	case prevKey != nil:
		return sp.insert(sp.lineEnd(sp.entryExtent(prevKey, prevValue)-1), text)
	case next != nil && sp.startsLine(next):
		return sp.insert(sp.lines[next.Line-1], text)
	case next != nil:
		// The first key of a sequence item (`- name: x`): the new entries take its place after the
		// dash and it moves to a line of its own.
		off, _ := sp.offset(next)
		return sp.insert(off, text[indent:]+strings.Repeat(" ", indent))
	}
	return false
}

// insertItems adds new items to the block sequence o, next to the kept items around them.
func (sp *splicer) insertItems(o *yaml.Node, items []*yaml.Node, prev, next *yaml.Node) bool {
	_, indent, ok := sp.dash(o.Content[0])
	if !ok {
		return false
	}
	text, ok := sp.encode(&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}, indent)
	if !ok {
		return false
	}
	switch {
	case prev != nil:
		l, ind, ok := sp.dash(prev)
		return ok && sp.insert(sp.lineEnd(sp.extent(l, ind, false)-1), text)
	case next != nil:
		l, _, ok := sp.dash(next)
		return ok && sp.insert(sp.lines[l], text)
	}
	return false
}

func (sp *splicer) insert(at int, text string) bool {
	if at == len(sp.body) && at > 0 && sp.body[at-1] != '\n' {
		text = sp.eol + text // after a last line without a line end
	}
	sp.edits = append(sp.edits, edit{start: at, end: at, text: text})
	return true
}

// encode writes n in block style with every line indented, in the document's sequence style and line ends.
func (sp *splicer) encode(n *yaml.Node, indent int) (string, bool) {
	var buf bytes.Buffer
	enc := newEncoder(&buf, sp.wide)
	if enc.Encode(n) != nil || enc.Close() != nil {
		return "", false
	}
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	for _, l := range strings.SplitAfter(buf.String(), "\n") {
		if l == "" {
			continue
		}
		if l != "\n" {
			b.WriteString(pad)
		}
		b.WriteString(strings.TrimSuffix(l, "\n"))
		if strings.HasSuffix(l, "\n") {
			b.WriteString(sp.eol)
		}
	}
	return b.String(), true
}

// withoutOuterComments copies a node without the comments above and below it: those lines lie
// outside the span that is encoded again, so they stay where they are.
func withoutOuterComments(n *yaml.Node) *yaml.Node {
	c := *n
	c.HeadComment, c.FootComment = "", ""
	return &c
}

// scalar writes a scalar's new value in place of the old one: on its line for plain and quoted
// scalars (in the old quoting style unless the new value asks for one), and line by line for
// literal blocks.
func (sp *splicer) scalar(o, c *yaml.Node) bool {
	if c.Kind != yaml.ScalarNode || o.Style&yaml.FoldedStyle != 0 {
		return false
	}
	if o.Style&yaml.LiteralStyle != 0 {
		return sp.block(o, c)
	}
	start, end, ok := sp.scalarSpan(o)
	if !ok {
		return false
	}
	style := c.Style
	if style == 0 {
		style = o.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
	}
	if style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return false
	}
	out, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Tag: c.Tag, Value: c.Value, Style: style})
	text := strings.TrimSuffix(string(out), "\n")
	if err != nil || strings.Contains(text, "\n") {
		return false
	}
	sp.edits = append(sp.edits, edit{start: start, end: end, text: text})
	return true
}

// scalarSpan finds the bytes of a plain or quoted scalar.
func (sp *splicer) scalarSpan(o *yaml.Node) (int, int, bool) {
	start, ok := sp.offset(o)
	if !ok || start >= len(sp.body) {
		return 0, 0, false
	}
	switch sp.body[start] {
	case '"', '\'':
		end := quotedEnd(sp.body, start)
		return start, end, end > start
	case '!', '&', '*', '|', '>', '[', '{':
		return 0, 0, false // tagged, anchored or not a flow scalar
	}
	text := sp.line(o.Line - 1)
	rest := text[start-sp.lines[o.Line-1]:]
	if i := strings.Index(rest, " #"); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.TrimRight(rest, " \t")
	if rest != o.Value { // continued on the next lines, or not as it reads
		return 0, 0, false
	}
	return start, start + len(rest), true
}

// quotedEnd returns the offset after the quoted scalar that starts at start, or -1.
func quotedEnd(b []byte, start int) int {
	q := b[start]
	for i := start + 1; i < len(b); i++ {
		switch {
		case q == '"' && b[i] == '\\':
			i++
		case b[i] == q && q == '\'' && i+1 < len(b) && b[i+1] == '\'':
			i++
		case b[i] == q:
			return i + 1
		}
	}
	return -1
}

// block replaces the content lines of a literal block scalar (`key: |`), keeping its indentation.
func (sp *splicer) block(o, c *yaml.Node) bool {
	at := o.Line - 1
	start, ok := sp.offset(o)
	if !ok {
		return false
	}
	indicator := strings.TrimSpace(string(sp.body[start:sp.lineEnd(at)]))
	v := c.Value
	switch indicator {
	case "|": // clip: exactly one final line break
		if !strings.HasSuffix(v, "\n") || strings.HasSuffix(v, "\n\n") {
			return false
		}
	case "|-": // strip: none
		if strings.HasSuffix(v, "\n") {
			return false
		}
	default:
		return false
	}
	if v == "" || strings.HasPrefix(v, " ") || strings.HasPrefix(v, "\t") {
		return false // would need an indentation indicator
	}
	first, end, indent := at+1, at+1, -1
	for i := first; i < len(sp.lines); i++ {
		text := sp.line(i)
		if strings.TrimSpace(text) == "" {
			continue
		}
		ind := indentOf(text)
		if indent < 0 {
			indent = ind
		}
		if ind < indent {
			break
		}
		end = i + 1
	}
	if indent <= 0 || first >= len(sp.lines) {
		return false
	}
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	for _, l := range strings.SplitAfter(strings.TrimSuffix(v, "\n"), "\n") {
		l = strings.TrimSuffix(l, "\n")
		if l != "" {
			b.WriteString(pad)
		}
		b.WriteString(l)
		b.WriteString(sp.eol)
	}
	text := b.String()
	stop := sp.lineEnd(end - 1)
	if !bytes.HasSuffix(sp.body[:stop], []byte("\n")) {
		text = strings.TrimSuffix(text, sp.eol)
	}
	sp.edits = append(sp.edits, edit{start: sp.lines[first], end: stop, text: text})
	return true
}

// flow writes a changed flow collection (`{a: 1}`, `[a, b]`) again in flow style, in place. An empty
// one that gains content is left to the caller, which writes it in block style.
func (sp *splicer) flow(o, c *yaml.Node) bool {
	if sameNode(o, c) {
		return true
	}
	if len(o.Content) == 0 || c.Style&yaml.FlowStyle == 0 {
		return false
	}
	start, ok := sp.offset(o)
	if !ok {
		return false
	}
	end := flowEnd(sp.body, start)
	if end < 0 {
		return false
	}
	out, err := yaml.Marshal(c)
	text := strings.TrimSuffix(string(out), "\n")
	if err != nil || strings.Contains(text, "\n") {
		return false
	}
	sp.edits = append(sp.edits, edit{start: start, end: end, text: text})
	return true
}

// flowEnd returns the offset after the flow collection that starts at start, or -1.
func flowEnd(b []byte, start int) int {
	depth := 0
	prev := byte('[') // the last character that is not a blank: a quote opens a scalar only after one of [{,:
	for i := start; i < len(b); i++ {
		switch c := b[i]; {
		case (c == '"' || c == '\'') && strings.IndexByte("[{,:?", prev) >= 0:
			end := quotedEnd(b, i)
			if end < 0 {
				return -1
			}
			i = end - 1
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		case c == '#' && i > 0 && (b[i-1] == ' ' || b[i-1] == '\t' || b[i-1] == '\n'):
			nl := bytes.IndexByte(b[i:], '\n')
			if nl < 0 {
				return -1
			}
			i += nl
			continue
		}
		if c := b[i]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			prev = c
		}
	}
	return -1
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
