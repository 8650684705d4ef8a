package values

// A parsed values document is a flat array of nodes. Mapping entries are linked through next
// (key, value, key, value, ...), so a document of any size costs one allocation for its nodes and
// none per scalar: scalar values are substrings of the document text.

type kind uint8

const (
	scalarNode kind = iota
	mappingNode
	sequenceNode
	aliasNode // first is the node it refers to
)

// tag is what the linter needs of a scalar's YAML type.
type tag uint8

const (
	tagOther tag = iota
	tagNull
	tagBool
	tagMerge // the YAML merge key <<
)

const none = int32(-1)

type node struct {
	kind      kind
	tag       tag
	line, col int32 // 1-based, in the document text
	first     int32 // first child (mapping: a key); for an alias, the node it refers to
	next      int32 // next sibling
	value     string
}

// doc is one parsed values document and where its positions lie in the file the user named.
type doc struct {
	file  string
	nodes []node
	// Positions of a document embedded in a manifest (an Argo CD Application's helm.values string)
	// are moved by lineShift and colShift; when flat, every position is (flatLine, flatCol) because
	// the text's lines do not map to the file's (a folded or quoted string).
	lineShift, colShift int
	flat                bool
	flatLine, flatCol   int
}

func (d *doc) add(n node) int32 {
	d.nodes = append(d.nodes, n)
	return int32(len(d.nodes) - 1)
}

// resolve follows aliases.
func (d *doc) resolve(i int32) int32 {
	for steps := 0; i != none && d.nodes[i].kind == aliasNode; steps++ {
		if steps > len(d.nodes) {
			return none // a cycle; YAML parsers refuse them, but do not loop
		}
		i = d.nodes[i].first
	}
	return i
}

func (d *doc) position(i int32) (line, col int) {
	if d.flat {
		return d.flatLine, d.flatCol
	}
	n := &d.nodes[i]
	return int(n.line) + d.lineShift, int(n.col) + d.colShift
}

func (d *doc) isMap(i int32) bool {
	i = d.resolve(i)
	return i != none && d.nodes[i].kind == mappingNode
}

// entry is one key of a mapping with the value Helm sees for it.
type entry struct {
	key, value int32
	shadowed   []int32 // earlier keys of the same name in the same mapping, which Helm ignores
}

// field finds name in the mapping m: its last occurrence wins, as in Helm; keys merged in with
// `<<` count only where the mapping does not set them itself.
func (d *doc) field(m int32, name string) (entry, bool) {
	return d.fieldDepth(m, name, 0)
}

// maxMergeDepth bounds merge keys that merge mappings with merge keys.
const maxMergeDepth = 32

func (d *doc) fieldDepth(m int32, name string, depth int) (entry, bool) {
	m = d.resolve(m)
	if m == none || d.nodes[m].kind != mappingNode {
		return entry{}, false
	}
	found := entry{key: none}
	var merges []int32
	for k := d.nodes[m].first; k != none; {
		v := d.nodes[k].next
		if kn := &d.nodes[k]; kn.tag == tagMerge {
			merges = append(merges, v)
		} else if kn.kind == scalarNode && kn.value == name {
			if found.key != none {
				found.shadowed = append(found.shadowed, found.key)
			}
			found.key, found.value = k, v
		}
		k = d.nodes[v].next
	}
	if found.key != none {
		return found, true
	}
	if depth >= maxMergeDepth {
		return entry{}, false
	}
	for _, src := range merges {
		for _, s := range d.mergeSources(src) {
			if e, ok := d.fieldDepth(s, name, depth+1); ok {
				return e, true // the first source that has the key wins
			}
		}
	}
	return entry{}, false
}

func (d *doc) mergeSources(v int32) []int32 {
	v = d.resolve(v)
	if v == none {
		return nil
	}
	if d.nodes[v].kind != sequenceNode {
		return []int32{v}
	}
	var out []int32
	for c := d.nodes[v].first; c != none; c = d.nodes[c].next {
		out = append(out, c)
	}
	return out
}

// entries lists a mapping's keys in order, each name once with the value Helm sees (its last
// occurrence), merged-in keys after the mapping's own. keep selects the values of interest: only
// their names are indexed, so a mapping of many scalars costs no index.
func (d *doc) entries(m int32, keep func(value int32) bool) []entry {
	m = d.resolve(m)
	if m == none || d.nodes[m].kind != mappingNode {
		return nil
	}
	for k := d.nodes[m].first; k != none; k = d.nodes[d.nodes[k].next].next {
		if d.nodes[k].tag == tagMerge {
			var out []entry
			for _, e := range d.allEntries(m, 0) {
				if keep(e.value) {
					out = append(out, e)
				}
			}
			return out
		}
	}
	var out []entry
	index := map[string]int{} // kept names -> position in out, -1 once a later value replaced it
	for k := d.nodes[m].first; k != none; {
		v := d.nodes[k].next
		if kn := &d.nodes[k]; kn.kind == scalarNode {
			i, seen := index[kn.value]
			switch {
			case keep(v) && seen && i >= 0:
				out[i].shadowed = append(out[i].shadowed, out[i].key)
				out[i].key, out[i].value = k, v
			case keep(v):
				index[kn.value] = len(out)
				out = append(out, entry{key: k, value: v})
			case seen && i >= 0:
				out[i].key = none // replaced by a later value of no interest
				index[kn.value] = -1
			}
		}
		k = d.nodes[v].next
	}
	kept := out[:0]
	for _, e := range out {
		if e.key != none {
			kept = append(kept, e)
		}
	}
	return kept
}

// allEntries is entries of every value, for mappings with merge keys (rare, and small).
func (d *doc) allEntries(m int32, depth int) []entry {
	m = d.resolve(m)
	if m == none || d.nodes[m].kind != mappingNode {
		return nil
	}
	var out []entry
	index := map[string]int{}
	var merges []int32
	for k := d.nodes[m].first; k != none; {
		v := d.nodes[k].next
		kn := &d.nodes[k]
		switch {
		case kn.tag == tagMerge:
			merges = append(merges, v)
		case kn.kind == scalarNode:
			if i, seen := index[kn.value]; seen {
				out[i].shadowed = append(out[i].shadowed, out[i].key)
				out[i].key, out[i].value = k, v
			} else {
				index[kn.value] = len(out)
				out = append(out, entry{key: k, value: v})
			}
		}
		k = d.nodes[v].next
	}
	if depth >= maxMergeDepth {
		return out
	}
	for _, src := range merges {
		for _, s := range d.mergeSources(src) {
			for _, e := range d.allEntries(s, depth+1) {
				if _, seen := index[d.nodes[e.key].value]; !seen { // the first source that has a key wins
					index[d.nodes[e.key].value] = len(out)
					e.shadowed = nil
					out = append(out, e)
				}
			}
		}
	}
	return out
}
