package migrate

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Edits of a release's values: keys removed from every layer that sets them, keys set in the layer
// of highest precedence that can take them. The layers' trees are edited; the files are written by
// splicing those edits into their bytes (rewrite.ReadYAML).

// step is one mapping entry on a path: the mapping, and the key's and value's nodes in it.
type step struct{ m, k, v *yaml.Node }

// sharedError says that an edit would change a place other places use through a YAML anchor.
func sharedError(l *layer, path []string, what *yaml.Node) error {
	at := ""
	if what != nil && what.Line > 0 {
		at = fmt.Sprintf(" (line %d)", what.Line)
	}
	return fmt.Errorf("%s: %s is set inside YAML anchor %s%s, which other places use through an alias: changing it there would change them too. "+
		"Fix: write %s outside the anchor, then run migrate again", l.name, strings.Join(path, "."), anchorName(what), at, strings.Join(path, "."))
}

func anchorName(n *yaml.Node) string {
	if n != nil && n.Anchor != "" {
		return "&" + n.Anchor
	}
	return "(a merge key <<)"
}

// walk follows path through the layer's mappings. It returns the entries on the way (the last one
// holds the value), or nil when a key is missing, and an error when the value sits inside an anchor
// other places use, or comes in through a merge key.
func (l *layer) walk(path []string) ([]step, error) {
	cur := l.root
	var steps []step
	for _, key := range path {
		if cur == nil {
			return nil, nil
		}
		if cur.Kind == yaml.AliasNode {
			return nil, sharedError(l, path, cur.Alias)
		}
		if l.aliased[cur] {
			return nil, sharedError(l, path, cur)
		}
		k, v := keyValue(cur, key)
		if k == nil {
			if merged := field(cur, "<<"); merged != nil && mergedKey(merged, key) {
				return nil, sharedError(l, path, merged)
			}
			return nil, nil
		}
		steps = append(steps, step{m: cur, k: k, v: v})
		cur = v
		if cur.Kind != yaml.MappingNode && cur.Kind != yaml.AliasNode {
			cur = nil
		}
	}
	return steps, nil
}

// mergedKey reports whether a merge key's sources set key.
func mergedKey(merged *yaml.Node, key string) bool {
	sources := []*yaml.Node{merged}
	if merged.Kind == yaml.SequenceNode {
		sources = merged.Content
	}
	for _, s := range sources {
		if s.Kind == yaml.AliasNode {
			s = s.Alias
		}
		if field(s, key) != nil {
			return true
		}
	}
	return false
}

// definesUsedAnchor reports a node of the subtree that other places use through an alias.
func (l *layer) definesUsedAnchor(n *yaml.Node) *yaml.Node {
	if n == nil || n.Kind == yaml.AliasNode {
		return nil
	}
	if l.aliased[n] {
		return n
	}
	for _, c := range n.Content {
		if d := l.definesUsedAnchor(c); d != nil {
			return d
		}
	}
	return nil
}

// remove deletes the key at path from the layer, and the mappings the removal leaves empty. It
// reports whether the key was there.
func (l *layer) remove(path []string) (bool, error) {
	if l.params != nil {
		return l.removeParam(strings.Join(path, ".")), nil
	}
	steps, err := l.walk(path)
	if err != nil || steps == nil {
		return false, err
	}
	last := steps[len(steps)-1]
	if d := l.definesUsedAnchor(last.v); d != nil {
		return false, sharedError(l, path, d)
	}
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		deleteKey(s.m, s.k)
		if len(s.m.Content) > 0 || i == 0 || l.aliased[s.m] {
			break
		}
	}
	l.edited = true
	return true, nil
}

func deleteKey(m, k *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i] == k {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// removeParam deletes the Argo CD parameters that set name.
func (l *layer) removeParam(name string) bool {
	kept := l.params.Content[:0]
	removed := false
	for _, p := range l.params.Content {
		if strings.ReplaceAll(scalar(field(p, "name")), `\.`, ".") == name {
			removed = true
			continue
		}
		kept = append(kept, p)
	}
	l.params.Content = kept
	l.edited = l.edited || removed
	return removed
}

// removeEnv deletes an env var from the runner's envVars (a list of name and value) and extraEnv
// and extraEnvFrom (maps by name), prefix being the runner's key path.
func (l *layer) removeEnv(prefix []string, name string) (bool, error) {
	removed := false
	for _, m := range []string{"extraEnv", "extraEnvFrom"} {
		ok, err := l.remove(append(append([]string{}, prefix...), m, name))
		if err != nil {
			return false, err
		}
		removed = removed || ok
	}
	if l.params != nil {
		return removed, nil
	}
	path := append(append([]string{}, prefix...), "envVars")
	steps, err := l.walk(path)
	if err != nil || steps == nil {
		return removed, err
	}
	list := steps[len(steps)-1].v
	if list.Kind != yaml.SequenceNode {
		return removed, nil
	}
	kept := list.Content[:0]
	for _, it := range list.Content {
		if it.Kind == yaml.MappingNode && scalar(field(it, "name")) == name {
			if d := l.definesUsedAnchor(it); d != nil {
				return false, sharedError(l, append(path, name), d)
			}
			removed = true
			l.edited = true
			continue
		}
		kept = append(kept, it)
	}
	list.Content = kept
	if len(list.Content) == 0 {
		if _, err := l.remove(path); err != nil {
			return false, err
		}
	}
	return removed, nil
}

// set writes a scalar at path, creating the mappings on the way. An existing scalar keeps its place
// and quoting.
func (l *layer) set(path []string, value *yaml.Node) error {
	if l.params != nil {
		l.setParam(strings.Join(path, "."), value)
		return nil
	}
	if l.root == nil {
		if l.create == nil {
			return fmt.Errorf("%s holds no values to add %s to", l.name, strings.Join(path, "."))
		}
		l.root = l.create()
	}
	cur := l.root
	for i, key := range path {
		if cur.Kind == yaml.AliasNode {
			return sharedError(l, path, cur.Alias)
		}
		if l.aliased[cur] {
			return sharedError(l, path, cur)
		}
		v := field(cur, key)
		if i == len(path)-1 {
			if v != nil && v.Kind == yaml.ScalarNode && !l.aliased[v] {
				if v.Value != value.Value || v.ShortTag() != value.ShortTag() {
					v.Value, v.Tag = value.Value, value.Tag
					if value.Style&yaml.DoubleQuotedStyle != 0 && v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
						v.Style = value.Style
					}
					l.edited = true
				}
				return nil
			}
			if v != nil && l.definesUsedAnchor(v) != nil {
				return sharedError(l, path, l.definesUsedAnchor(v))
			}
			setField(cur, key, value)
			l.edited = true
			return nil
		}
		if v == nil || v.Kind == yaml.ScalarNode {
			v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			setField(cur, key, v)
			l.edited = true
		}
		if v.Kind != yaml.MappingNode && v.Kind != yaml.AliasNode {
			return fmt.Errorf("%s: %s is no mapping, so %s cannot be set in it", l.name, strings.Join(path[:i+1], "."), path[len(path)-1])
		}
		cur = v
	}
	return nil
}

// setParam sets an Argo CD parameter: the one that names it, else a new one.
func (l *layer) setParam(name string, value *yaml.Node) {
	for _, p := range l.params.Content {
		if strings.ReplaceAll(scalar(field(p, "name")), `\.`, ".") == name {
			if v := field(p, "value"); v == nil || v.Value != value.Value {
				setField(p, "value", str(value.Value))
				l.edited = true
			}
			return
		}
	}
	p := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	setField(p, "name", str(name))
	setField(p, "value", str(value.Value))
	l.params.Content = append(l.params.Content, p)
	l.edited = true
}

// has reports whether the layer sets path.
func (l *layer) has(path []string) bool {
	if l.params != nil {
		for _, p := range l.params.Content {
			if strings.ReplaceAll(scalar(field(p, "name")), `\.`, ".") == strings.Join(path, ".") {
				return true
			}
		}
		return false
	}
	steps, _ := l.walk(path)
	return steps != nil
}

// remove deletes path from every layer of the release that sets it.
func (r *release) remove(path []string) (bool, error) {
	removed := false
	for _, l := range r.layers {
		ok, err := l.remove(path)
		if err != nil {
			return false, err
		}
		removed = removed || ok
	}
	return removed, nil
}

func (r *release) removeEnv(prefix []string, name string) (bool, error) {
	removed := false
	for _, l := range r.layers {
		ok, err := l.removeEnv(prefix, name)
		if err != nil {
			return false, err
		}
		removed = removed || ok
	}
	return removed, nil
}

// set writes path in the layer that decides it: an Argo CD parameter that sets it already (the
// highest precedence), else the layer of highest precedence that configures the same block (the
// first key of path), else the highest that holds values, else one that can be given some.
func (r *release) set(path []string, value *yaml.Node) error {
	for i := len(r.layers) - 1; i >= 0; i-- {
		if l := r.layers[i]; l.params != nil && l.has(path) {
			return l.set(path, value)
		}
	}
	pick := func(ok func(*layer) bool) *layer {
		for i := len(r.layers) - 1; i >= 0; i-- {
			if l := r.layers[i]; l.params == nil && ok(l) {
				return l
			}
		}
		return nil
	}
	l := pick(func(l *layer) bool { return l.root != nil && field(l.root, path[0]) != nil })
	if l == nil {
		l = pick(func(l *layer) bool { return l.root != nil })
	}
	if l == nil {
		l = pick(func(l *layer) bool { return l.create != nil })
	}
	if l == nil {
		for i := len(r.layers) - 1; i >= 0 && l == nil; i-- {
			if r.layers[i].params != nil {
				l = r.layers[i]
			}
		}
	}
	if l == nil {
		return fmt.Errorf("%s: no values file to write %s into", r.label, strings.Join(path, "."))
	}
	return l.set(path, value)
}
