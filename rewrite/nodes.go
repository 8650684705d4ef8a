package rewrite

import "go.yaml.in/yaml/v3"

// Small helpers over yaml.Node. They tolerate nil so lookups chain without checks.

// field returns the value of key in a mapping, or nil.
func field(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// lookup follows a path of mapping keys.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = field(n, k)
	}
	return n
}

// scalar returns a scalar's value, or "" for anything else.
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// items returns a sequence's elements, or nil.
func items(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// mappings keeps the mapping nodes of a list.
func mappings(ns []*yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	for _, n := range ns {
		if n.Kind == yaml.MappingNode {
			out = append(out, n)
		}
	}
	return out
}

// setField sets key in a mapping to value, adding the key at the end when missing. Callers pass
// mappings; anything else is left alone rather than corrupted.
func setField(n *yaml.Node, key string, value *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content[i+1] = value
			return
		}
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, value)
}

// removeField deletes key from a mapping and reports whether it was there.
func removeField(n *yaml.Node, key string) bool {
	if n == nil || n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content = append(n.Content[:i], n.Content[i+2:]...)
			return true
		}
	}
	return false
}

// ensureMap returns the mapping at key, creating it when missing or of another kind (null).
func ensureMap(n *yaml.Node, key string) *yaml.Node { return ensure(n, key, yaml.MappingNode, "!!map") }

// ensureSeq returns the sequence at key, creating it when missing or of another kind.
func ensureSeq(n *yaml.Node, key string) *yaml.Node {
	return ensure(n, key, yaml.SequenceNode, "!!seq")
}

func ensure(n *yaml.Node, key string, kind yaml.Kind, tag string) *yaml.Node {
	if c := field(n, key); c != nil && c.Kind == kind {
		if len(c.Content) == 0 {
			c.Style &^= yaml.FlowStyle // `{}` about to gain content reads better as a block
		}
		return c
	}
	c := &yaml.Node{Kind: kind, Tag: tag}
	setField(n, key, c)
	return c
}

// str builds a string scalar; quoted forces double quotes (for values such as "" or "true").
func str(v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	if v == "" {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// setAnnotation sets metadata.annotations[key] on an object mapping.
func setAnnotation(obj *yaml.Node, key, value string) {
	setField(ensureMap(ensureMap(obj, "metadata"), "annotations"), key, str(value))
}
