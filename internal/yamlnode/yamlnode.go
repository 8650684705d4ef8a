// Package yamlnode reads yaml.Node trees the way runner-migrate's packages all need: by key, path and
// kind, tolerating nil so lookups chain without checks.
package yamlnode

import "go.yaml.in/yaml/v3"

// KeyValue returns the key node and the value of key in a mapping, or nils.
func KeyValue(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// Field returns the value of key in a mapping, or nil.
func Field(m *yaml.Node, key string) *yaml.Node {
	_, v := KeyValue(m, key)
	return v
}

// Lookup follows a path of mapping keys.
func Lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = Field(n, k)
	}
	return n
}

// Scalar returns a scalar's value, or "" for anything else.
func Scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// Items returns a sequence's elements, or nil.
func Items(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// SetField sets key in a mapping to value, adding the key at the end when missing. Anything but a
// mapping is left alone rather than corrupted.
func SetField(m *yaml.Node, key string, value *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = value
			return
		}
	}
	m.Content = append(m.Content, String(key), value)
}

// Ensure returns the node of the given kind at key, creating it when missing or of another kind
// (null). An empty flow collection about to gain content becomes a block, which reads better.
func Ensure(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	if c := Field(m, key); c != nil && c.Kind == kind {
		if len(c.Content) == 0 {
			c.Style &^= yaml.FlowStyle
		}
		return c
	}
	tag := map[yaml.Kind]string{yaml.MappingNode: "!!map", yaml.SequenceNode: "!!seq"}[kind]
	c := &yaml.Node{Kind: kind, Tag: tag}
	SetField(m, key, c)
	return c
}

// String builds a string scalar; the empty string is written quoted ("").
func String(v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	if v == "" {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}
