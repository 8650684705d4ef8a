// Package values reads Helm values files into trees whose every value remembers the file, line and
// column that set it, and merges several files the way Helm merges -f files. Reading is linear in the
// size of the file: block-style YAML (what values files almost always are) is read by a scanner of
// its own into one flat array of nodes; anything else is read by yaml.v3, and both give the same tree.
package values

import "strconv"

// Values is a value of a values tree: one file's, or the merge of several files' (MergeValues).
// A nil *Values is an absent value; every method accepts it.
type Values struct {
	// parts are the documents' values for this place, from the lowest precedence to the highest.
	// All but the last are mappings (a mapping merges with the mappings below it; anything else
	// replaces them).
	parts []ref
	// shadowed are earlier keys of the same name in the mapping of the winning part, ignored by Helm.
	shadowed []int32
}

type ref struct {
	d     *doc
	key   int32 // the key that holds the value; none for a root or a sequence item
	value int32 // the value node as written (it may be an alias)
}

func (r ref) node() *node {
	if i := r.d.resolve(r.value); i != none {
		return &r.d.nodes[i]
	}
	return nil
}

func (r ref) isMap() bool {
	n := r.node()
	return n != nil && n.kind == mappingNode
}

func (v *Values) top() ref { return v.parts[len(v.parts)-1] }

func (v *Values) node() *node {
	if v == nil {
		return nil
	}
	return v.top().node()
}

// Name is the key that holds the value ("" for a root or a list item).
func (v *Values) Name() string {
	if v == nil || v.top().key == none {
		return ""
	}
	t := v.top()
	return t.d.nodes[t.key].value
}

// File is the file that set the value.
func (v *Values) File() string {
	if v == nil {
		return ""
	}
	return v.top().d.file
}

// Position is where the value was set: its key's line and column (the value's own for a root or a
// list item).
func (v *Values) Position() (line, column int) {
	if v == nil {
		return 0, 0
	}
	t := v.top()
	if t.key != none {
		return t.d.position(t.key)
	}
	return t.d.position(t.value)
}

// Shadowed lists the lines of earlier keys of the same name in the same mapping of the same file:
// YAML forbids such duplicates, Helm silently takes the last.
func (v *Values) Shadowed() []int {
	if v == nil {
		return nil
	}
	var lines []int
	for _, k := range v.shadowed {
		line, _ := v.top().d.position(k)
		lines = append(lines, line)
	}
	return lines
}

// IsMap, IsList and IsNull describe the value.
func (v *Values) IsMap() bool {
	n := v.node()
	return n != nil && n.kind == mappingNode
}

func (v *Values) IsList() bool {
	n := v.node()
	return n != nil && n.kind == sequenceNode
}

func (v *Values) IsNull() bool {
	n := v.node()
	return n != nil && n.kind == scalarNode && n.tag == tagNull
}

// String is a scalar's text ("" for null, mappings and lists).
func (v *Values) String() string {
	n := v.node()
	if n == nil || n.kind != scalarNode || n.tag == tagNull {
		return ""
	}
	return n.value
}

// Bool reads a boolean scalar the way Helm's templates see it (YAML true/false).
func (v *Values) Bool() (value, ok bool) {
	n := v.node()
	if n == nil || n.kind != scalarNode || n.tag != tagBool {
		return false, false
	}
	b, err := strconv.ParseBool(n.value)
	return b, err == nil
}

// Field returns a mapping's value at name, or nil. In a file the last of duplicate keys wins; across
// merged files mappings merge and anything else replaces what is below.
func (v *Values) Field(name string) *Values {
	if !v.IsMap() {
		return nil
	}
	var out *Values
	for _, p := range v.parts {
		e, ok := p.d.field(p.value, name)
		if !ok {
			continue
		}
		out = out.over(ref{d: p.d, key: e.key, value: e.value}, e.shadowed)
	}
	return out
}

// over puts r above v: a mapping on mappings merges with them, anything else replaces them.
func (v *Values) over(r ref, shadowed []int32) *Values {
	if v == nil || !r.isMap() || !v.IsMap() {
		return &Values{parts: []ref{r}, shadowed: shadowed}
	}
	return &Values{parts: append(v.parts[:len(v.parts):len(v.parts)], r), shadowed: shadowed}
}

// Lookup follows a path of keys.
func (v *Values) Lookup(path ...string) *Values {
	for _, p := range path {
		v = v.Field(p)
	}
	return v
}

// Maps lists a mapping's entries whose values are mappings, in order, each name once.
func (v *Values) Maps() []*Values {
	if !v.IsMap() {
		return nil
	}
	if len(v.parts) == 1 { // one file: only the names of mappings are indexed, however many keys there are
		p := v.parts[0]
		var out []*Values
		for _, e := range p.d.entries(p.value, p.d.isMap) {
			out = append(out, &Values{parts: []ref{{d: p.d, key: e.key, value: e.value}}, shadowed: e.shadowed})
		}
		return out
	}
	var out []*Values
	index := map[string]int{}
	for _, p := range v.parts {
		isMap := p.d.isMap
		// A name whose last value in this part is no mapping replaces the mappings below it.
		for _, e := range p.d.entries(p.value, func(int32) bool { return true }) {
			name := p.d.nodes[e.key].value
			i, seen := index[name]
			if !isMap(e.value) {
				if seen {
					out[i] = nil
				}
				continue
			}
			r := ref{d: p.d, key: e.key, value: e.value}
			if seen && out[i] != nil {
				out[i] = out[i].over(r, e.shadowed)
			} else if seen {
				out[i] = &Values{parts: []ref{r}, shadowed: e.shadowed}
			} else {
				index[name] = len(out)
				out = append(out, &Values{parts: []ref{r}, shadowed: e.shadowed})
			}
		}
	}
	kept := out[:0]
	for _, m := range out {
		if m != nil {
			kept = append(kept, m)
		}
	}
	return kept
}

// Entries lists a mapping's entries in order, each name once, with the values Helm sees.
func (v *Values) Entries() []*Values {
	if !v.IsMap() {
		return nil
	}
	var out []*Values
	index := map[string]int{}
	for _, p := range v.parts {
		for _, e := range p.d.entries(p.value, func(int32) bool { return true }) {
			name := p.d.nodes[e.key].value
			r := ref{d: p.d, key: e.key, value: e.value}
			if i, seen := index[name]; seen {
				out[i] = out[i].over(r, e.shadowed)
			} else {
				index[name] = len(out)
				out = append(out, &Values{parts: []ref{r}, shadowed: e.shadowed})
			}
		}
	}
	return out
}

// Items lists a list's items.
func (v *Values) Items() []*Values {
	if !v.IsList() {
		return nil
	}
	t := v.top()
	var out []*Values
	for c := t.d.nodes[t.d.resolve(t.value)].first; c != none; c = t.d.nodes[c].next {
		out = append(out, &Values{parts: []ref{{d: t.d, key: none, value: c}}})
	}
	return out
}

// MergeValues merges values files the way Helm merges -f files: later files win, mappings merge
// key by key, anything else (lists included) is replaced. An explicit null is kept, as Helm keeps it
// for subcharts (the GitLab chart's `runners.locked: null` workaround depends on that).
func MergeValues(layers ...*Values) *Values {
	var out *Values
	for _, l := range layers {
		if l == nil {
			continue
		}
		for _, p := range l.parts {
			out = out.over(p, l.shadowed)
		}
	}
	if out == nil {
		return Empty("")
	}
	return out
}

// Empty is an empty mapping, as an empty values file.
func Empty(file string) *Values {
	d := &doc{file: file}
	d.add(node{kind: mappingNode, line: 1, col: 1, first: none, next: none})
	return &Values{parts: []ref{{d: d, key: none, value: 0}}}
}
