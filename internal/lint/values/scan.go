package values

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// scan reads block-style YAML, the shape of nearly every values file, into d in one pass and
// without an allocation per value: block mappings and sequences, plain and single-line quoted scalars, literal
// block scalars (|, |-), one-line flow collections of scalars, comments. ok is false as soon as the
// text uses anything else (anchors, tags, folded or multi-line scalars, several documents, tabs
// outside comments and block scalars, ...) or looks wrong in any way: the caller then reads it with
// yaml.v3, which knows all of YAML and words the errors. So scan never accepts what yaml.v3 refuses
// and, where it accepts, builds the tree yaml.v3 would (FuzzScanMatchesYAML holds it to that).
func scan(d *doc, text string) (root int32, ok bool) {
	text = strings.TrimPrefix(text, "\ufeff")
	if !plainText(text) {
		return none, false
	}
	s := &scanner{text: text, d: d, line: 1}
	// A document start marker may open the file, after blank and comment lines.
	for s.pos < len(s.text) {
		ln := s.current()
		if ln.indent < len(ln.text) && ln.text[ln.indent] != '#' {
			if ln.indent == 0 && isMarker(ln.text, "---") {
				if rest := strings.TrimLeft(ln.text[3:], " "); rest != "" && rest[0] != '#' {
					return none, false
				}
				s.advance()
			}
			break
		}
		s.advance()
	}
	ln, more := s.peek()
	switch {
	case s.failed:
		return none, false
	case !more:
		return d.add(node{kind: mappingNode, line: 1, col: 1, first: none, next: none}), true
	case isSeqItem(ln.text, ln.indent):
		return none, false // not a mapping: yaml.v3 reads it and the caller refuses it
	case ln.text[ln.indent] == '{': // a one-line flow mapping, as `{}`
		if root, ok = s.flow(ln, ln.indent); ok && s.d.nodes[root].kind == mappingNode {
			s.advance()
		} else {
			return none, false
		}
	default:
		root, ok = s.mapping(ln.indent, ln, ln.indent)
	}
	if !ok {
		return none, false
	}
	if _, more := s.peek(); more || s.failed {
		return none, false
	}
	return root, true
}

// plainText: valid UTF-8 without characters YAML refuses or reads as line breaks (CR alone, NEL, LS,
// PS) and without a byte-order mark past the start.
func plainText(text string) bool {
	ascii := true
	for i := 0; i < len(text); i++ {
		switch b := text[i]; {
		case b >= 0x80:
			ascii = false
		case b == '\r' && (i+1 == len(text) || text[i+1] != '\n'):
			return false // a lone CR is a line break to yaml.v3
		case b < 0x20 && b != '\t' && b != '\n' && b != '\r', b == 0x7f:
			return false
		}
	}
	if ascii {
		return true
	}
	if !utf8.ValidString(text) {
		return false
	}
	for _, r := range text {
		if (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff {
			return false
		}
	}
	return true
}

type scanner struct {
	text   string
	pos    int   // start of the current line
	line   int32 // its number
	d      *doc
	failed bool
}

// line is one line of the text without its line break.
type line struct {
	text   string
	num    int32
	indent int // leading spaces
	eol    bool
}

func (s *scanner) current() line {
	end := strings.IndexByte(s.text[s.pos:], '\n')
	eol := end >= 0
	if !eol {
		end = len(s.text)
	} else {
		end += s.pos
	}
	t := strings.TrimSuffix(s.text[s.pos:end], "\r")
	indent := 0
	for indent < len(t) && t[indent] == ' ' {
		indent++
	}
	return line{text: t, num: s.line, indent: indent, eol: eol}
}

func (s *scanner) advance() {
	end := strings.IndexByte(s.text[s.pos:], '\n')
	if end < 0 {
		s.pos = len(s.text)
		return
	}
	s.pos += end + 1
	s.line++
}

// peek skips blank and comment lines and returns the next line with content, not consuming it.
func (s *scanner) peek() (line, bool) {
	for !s.failed && s.pos < len(s.text) {
		ln := s.current()
		switch {
		case strings.ContainsRune(ln.text, '\r'):
			s.failed = true
		case ln.indent == len(ln.text):
			s.advance()
			continue
		case ln.text[ln.indent] == '\t':
			s.failed = true
		case ln.text[ln.indent] == '#':
			s.advance()
			continue
		case ln.indent == 0 && (isMarker(ln.text, "---") || isMarker(ln.text, "...") || ln.text[0] == '%'):
			s.failed = true // another document, an end marker or a directive
		default:
			return ln, true
		}
	}
	return line{}, false
}

func isMarker(t, marker string) bool {
	return strings.HasPrefix(t, marker) && (len(t) == 3 || t[3] == ' ' || t[3] == '\t')
}

func isSeqItem(t string, at int) bool {
	return at < len(t) && t[at] == '-' && (at+1 == len(t) || t[at+1] == ' ')
}

// col is the 1-based column of byte offset off, counted in characters as yaml.v3 does.
func col(t string, off int) int32 {
	for i := 0; i < off; i++ {
		if t[i] >= 0x80 {
			return int32(utf8.RuneCountInString(t[:off]) + 1)
		}
	}
	return int32(off + 1)
}

func (s *scanner) fail() (int32, bool) {
	s.failed = true
	return none, false
}

// link appends key and value to a mapping (or value alone to a sequence) whose last child is *last.
func (s *scanner) link(parent int32, last *int32, children ...int32) {
	for _, c := range children {
		if *last == none {
			s.d.nodes[parent].first = c
		} else {
			s.d.nodes[*last].next = c
		}
		*last = c
	}
}

// mapping reads a block mapping whose keys sit at indent; its first key is on ln at offset off (past
// indent when the mapping opens a list item, `- key: value`).
func (s *scanner) mapping(indent int, ln line, off int) (int32, bool) {
	m := s.d.add(node{kind: mappingNode, line: ln.num, col: col(ln.text, off), first: none, next: none})
	last := none
	for first := true; ; first = false {
		if !first {
			var more bool
			if ln, more = s.peek(); !more || ln.indent < indent {
				break
			}
			if ln.indent > indent || isSeqItem(ln.text, indent) {
				return s.fail()
			}
			off = indent
		}
		key, colon, isKey := s.key(ln, off)
		if !isKey || s.failed {
			return s.fail()
		}
		value, ok := s.value(ln, colon+1, indent, true)
		if !ok {
			return s.fail()
		}
		s.link(m, &last, key, value)
	}
	return m, !s.failed
}

// key reads the key of a mapping entry at off, up to its `:`. isKey is false when the line holds no
// key there (a scalar list item); s.failed is set when it holds something scan does not read.
func (s *scanner) key(ln line, off int) (key int32, colon int, isKey bool) {
	t := ln.text
	var value string
	end := off
	switch c := t[off]; {
	case c == '"' || c == '\'':
		v, after, ok := quoted(t, off)
		if !ok {
			s.failed = true
			return none, 0, false
		}
		value, end = v, after
		for end < len(t) && t[end] == ' ' {
			end++
		}
		if end == len(t) || t[end] != ':' {
			return none, 0, false // a quoted scalar, no key
		}
		if end+1 < len(t) && t[end+1] != ' ' {
			s.failed = true
			return none, 0, false
		}
	case strings.IndexByte("-?:,[]{}#&*!|>%@`", c) >= 0:
		if c != '-' || off+1 == len(t) || t[off+1] == ' ' {
			return none, 0, false
		}
		fallthrough
	default:
		for end < len(t) {
			switch t[end] {
			case ':':
				if end+1 == len(t) || t[end+1] == ' ' {
					value = strings.TrimRight(t[off:end], " ")
					goto found
				}
			case '#':
				if t[end-1] == ' ' {
					return none, 0, false // a comment before any `: `: a scalar, no key
				}
			case '\t':
				s.failed = true
				return none, 0, false
			}
			end++
		}
		return none, 0, false
	found:
		if value == "<<" || len(value) > 1024 {
			s.failed = true
			return none, 0, false
		}
	}
	tg := tagOther
	if c := t[off]; c != '"' && c != '\'' {
		tg = plainTag(value)
	}
	return s.d.add(node{kind: scalarNode, tag: tg, line: ln.num, col: col(t, off), first: none, next: none, value: value}), end, true
}

// value reads the value that starts at off on ln (after `key:` or `- `), whose parent block sits at
// indent. sameIndentList allows a list at the parent's own indentation (`key:` then `- item`).
func (s *scanner) value(ln line, off, indent int, sameIndentList bool) (int32, bool) {
	t := ln.text
	at := off
	for at < len(t) && t[at] == ' ' {
		at++
	}
	if at == len(t) || (t[at] == '#' && at > off) {
		// Nothing on this line: the value is the block below, or null.
		s.advance()
		next, more := s.peek()
		switch {
		case s.failed:
			return s.fail()
		case more && next.indent > indent && isSeqItem(next.text, next.indent):
			return s.sequence(next.indent)
		case more && next.indent > indent:
			return s.mapping(next.indent, next, next.indent)
		case more && sameIndentList && next.indent == indent && isSeqItem(next.text, indent):
			return s.sequence(indent)
		}
		return s.d.add(node{kind: scalarNode, tag: tagNull, line: ln.num, col: col(t, off), first: none, next: none}), true
	}
	var n int32
	switch c := t[at]; {
	case c == '|':
		return s.literal(ln, at, indent)
	case c == '"' || c == '\'':
		v, end, ok := quoted(t, at)
		if !ok || !trailing(t, end) {
			return s.fail()
		}
		n = s.d.add(node{kind: scalarNode, line: ln.num, col: col(t, at), first: none, next: none, value: v})
	case c == '[' || c == '{':
		var ok bool
		if n, ok = s.flow(ln, at); !ok {
			return s.fail()
		}
	case strings.IndexByte(">&*!%@`,]}", c) >= 0, (c == '-' || c == '?' || c == ':') && (at+1 == len(t) || t[at+1] == ' '):
		return s.fail()
	default:
		end := len(t)
		for i := at; i < len(t); i++ {
			if t[i] == '#' && t[i-1] == ' ' {
				end = i
				break
			}
			if t[i] == '\t' || (t[i] == ':' && (i+1 == len(t) || t[i+1] == ' ')) {
				return s.fail()
			}
		}
		v := strings.TrimRight(t[at:end], " ")
		if v == "<<" {
			return s.fail()
		}
		n = s.d.add(node{kind: scalarNode, tag: plainTag(v), line: ln.num, col: col(t, at), first: none, next: none, value: v})
	}
	s.advance()
	// A scalar ends with its line: a deeper line after it would continue it, or be an error.
	if next, more := s.peek(); more && next.indent > indent {
		return s.fail()
	}
	return n, !s.failed
}

// trailing: nothing but spaces and a comment after a scalar that ends at end.
func trailing(t string, end int) bool {
	rest := strings.TrimLeft(t[end:], " ")
	return rest == "" || (rest[0] == '#' && len(rest) < len(t)-end)
}

// sequence reads a block sequence whose dashes sit at indent.
func (s *scanner) sequence(indent int) (int32, bool) {
	ln, _ := s.peek()
	seq := s.d.add(node{kind: sequenceNode, line: ln.num, col: col(ln.text, indent), first: none, next: none})
	last := none
	for {
		ln, more := s.peek()
		if !more || ln.indent < indent || (ln.indent == indent && !isSeqItem(ln.text, indent)) {
			break
		}
		if ln.indent > indent {
			return s.fail()
		}
		at := indent + 1
		for at < len(ln.text) && ln.text[at] == ' ' {
			at++
		}
		var item int32
		var ok bool
		switch {
		case at == len(ln.text) || ln.text[at] == '#':
			// `-` alone (or `-` then a comment): the item is the block below, or null.
			item, ok = s.value(ln, indent+1, indent, false)
		case isSeqItem(ln.text, at):
			return s.fail() // `- - x`
		default:
			_, _, isKey := s.keyProbe(ln, at)
			if s.failed {
				return s.fail()
			}
			if isKey {
				item, ok = s.mapping(at, ln, at)
			} else {
				item, ok = s.value(ln, at, indent, false)
			}
		}
		if !ok {
			return s.fail()
		}
		s.link(seq, &last, item)
	}
	return seq, !s.failed
}

// keyProbe tells whether a key starts at off without keeping its node.
func (s *scanner) keyProbe(ln line, off int) (int32, int, bool) {
	n := len(s.d.nodes)
	k, c, isKey := s.key(ln, off)
	s.d.nodes = s.d.nodes[:n]
	return k, c, isKey
}

// literal reads a literal block scalar (| or |-) whose indicator is at off; its content is indented
// deeper than indent.
func (s *scanner) literal(ln line, off, indent int) (int32, bool) {
	t := ln.text
	strip := false
	i := off + 1
	if i < len(t) && t[i] == '-' {
		strip = true
		i++
	}
	if i < len(t) && t[i] != ' ' { // keep (+), an indentation indicator, or anything else
		return s.fail()
	}
	if !trailing(t, i) {
		return s.fail()
	}
	n := s.d.add(node{kind: scalarNode, line: ln.num, col: col(t, off), first: none, next: none})
	s.advance()
	content := -1 // the content's indentation, once its first line is seen
	leadingMax := 0
	var b strings.Builder
	blanks := 0 // empty lines not yet written
	lastEOL := true
	for s.pos < len(s.text) {
		cl := s.current()
		if strings.ContainsRune(cl.text, '\r') {
			return s.fail()
		}
		if cl.indent == len(cl.text) { // an empty line
			if content >= 0 && cl.indent > content {
				return s.fail() // spaces that would be content
			}
			if content < 0 {
				leadingMax = max(leadingMax, cl.indent)
			}
			blanks++
			s.advance()
			continue
		}
		if content < 0 {
			if cl.indent <= indent {
				break
			}
			if leadingMax > cl.indent || cl.text[cl.indent] == '\t' {
				return s.fail()
			}
			content = cl.indent
		}
		if cl.indent < content {
			break
		}
		for ; blanks > 0; blanks-- {
			b.WriteByte('\n')
		}
		b.WriteString(cl.text[content:])
		b.WriteByte('\n')
		lastEOL = cl.eol
		s.advance()
	}
	v := b.String()
	if strip || !lastEOL {
		v = strings.TrimSuffix(v, "\n")
	}
	s.d.nodes[n].value = v
	if next, more := s.peek(); more && next.indent > indent {
		return s.fail()
	}
	return n, !s.failed
}

// flow reads a one-line flow sequence or mapping ([a, "b"], {k: v, l: [1, 2]}) that opens at off,
// and what may follow it on the line.
func (s *scanner) flow(ln line, off int) (int32, bool) {
	n, end, ok := s.flowCollection(ln, off, 0)
	if !ok || !trailing(ln.text, end) {
		return s.fail()
	}
	return n, true
}

// maxFlowDepth bounds nesting; deeper text is left to yaml.v3.
const maxFlowDepth = 64

func (s *scanner) flowCollection(ln line, off, depth int) (int32, int, bool) {
	t := ln.text
	if depth > maxFlowDepth {
		return none, 0, false
	}
	isMap := t[off] == '{'
	closer := byte(']')
	k := sequenceNode
	if isMap {
		closer, k = '}', mappingNode
	}
	n := s.d.add(node{kind: k, line: ln.num, col: col(t, off), first: none, next: none})
	last := none
	i := off + 1
	skip := func() {
		for i < len(t) && t[i] == ' ' {
			i++
		}
	}
	skip()
	if i < len(t) && t[i] == closer {
		return n, i + 1, true
	}
	for {
		skip()
		item, end, ok := s.flowItem(ln, i, isMap, depth)
		if !ok {
			return none, 0, false
		}
		i = end
		if isMap {
			skip()
			if i+1 >= len(t) || t[i] != ':' || t[i+1] != ' ' {
				return none, 0, false
			}
			i += 2
			skip()
			value, end, ok := s.flowItem(ln, i, false, depth)
			if !ok {
				return none, 0, false
			}
			i = end
			s.link(n, &last, item, value)
		} else {
			s.link(n, &last, item)
		}
		skip()
		if i < len(t) && t[i] == closer {
			return n, i + 1, true
		}
		if i >= len(t) || t[i] != ',' {
			return none, 0, false
		}
		i++
	}
}

// flowItem reads a nested collection, or a quoted or plain scalar (a mapping key when key), inside
// a one-line flow collection.
func (s *scanner) flowItem(ln line, at int, key bool, depth int) (int32, int, bool) {
	t := ln.text
	if at >= len(t) {
		return none, 0, false
	}
	switch c := t[at]; {
	case (c == '[' || c == '{') && !key:
		return s.flowCollection(ln, at, depth+1)
	case c == '"' || c == '\'':
		v, end, ok := quoted(t, at)
		if !ok {
			return none, 0, false
		}
		return s.d.add(node{kind: scalarNode, line: ln.num, col: col(t, at), first: none, next: none, value: v}), end, true
	}
	end := at
	for end < len(t) && t[end] != ',' && t[end] != ']' && t[end] != '}' {
		if key && t[end] == ':' {
			break
		}
		if strings.IndexByte("[{#:&*!|>'\"%@`?\t", t[end]) >= 0 {
			return none, 0, false
		}
		end++
	}
	v := strings.TrimRight(t[at:end], " ")
	if v == "" || v == "<<" || v[0] == '-' && (len(v) == 1 || v[1] == ' ') {
		return none, 0, false
	}
	return s.d.add(node{kind: scalarNode, tag: plainTag(v), line: ln.num, col: col(t, at), first: none, next: none, value: v}), end, true
}

// quoted reads a single- or double-quoted scalar that opens at off and closes on the same line.
// Double-quoted escapes beyond the common ones are left to yaml.v3.
func quoted(t string, off int) (value string, end int, ok bool) {
	q := t[off]
	var b []byte
	start := off + 1
	for i := start; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '\t':
			return "", 0, false
		case c == q && q == '\'' && i+1 < len(t) && t[i+1] == '\'':
			b = append(append(b, t[start:i]...), '\'')
			i++
			start = i + 1
		case c == q:
			if b == nil {
				return t[start:i], i + 1, true
			}
			return string(append(b, t[start:i]...)), i + 1, true
		case c == '\\' && q == '"':
			if i+1 >= len(t) {
				return "", 0, false
			}
			r, width := unescape(t[i+1:])
			if width == 0 {
				return "", 0, false
			}
			b = append(append(b, t[start:i]...), r...)
			i += width
			start = i + 1
		}
	}
	return "", 0, false
}

// unescape decodes the escape after a backslash; width 0 when scan leaves it to yaml.v3.
func unescape(t string) (string, int) {
	switch t[0] {
	case '\\':
		return "\\", 1
	case '"':
		return "\"", 1
	case '/':
		return "/", 1
	case 'n':
		return "\n", 1
	case 't':
		return "\t", 1
	case 'r':
		return "\r", 1
	case ' ':
		return " ", 1
	case '0':
		return "\x00", 1
	case 'u':
		if len(t) < 5 {
			return "", 0
		}
		r, err := strconv.ParseUint(t[1:5], 16, 32)
		if err != nil || (r >= 0xd800 && r < 0xe000) {
			return "", 0
		}
		return string(rune(r)), 5
	}
	return "", 0
}

// plainTag resolves a plain scalar the way yaml.v3 does, as far as the rules care: null, a boolean,
// or anything else.
func plainTag(v string) tag {
	switch v {
	case "", "~", "null", "Null", "NULL":
		return tagNull
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return tagBool
	}
	return tagOther
}
