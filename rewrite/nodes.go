package rewrite

import (
	"go.yaml.in/yaml/v3"

	"github.com/runner-migrate/runner-migrate/internal/yamlnode"
)

// Small helpers over yaml.Node. They tolerate nil so lookups chain without checks. The common ones
// are yamlnode's, under the short names this package uses everywhere.
func field(n *yaml.Node, key string) *yaml.Node           { return yamlnode.Field(n, key) }
func keyValue(n *yaml.Node, key string) (k, v *yaml.Node) { return yamlnode.KeyValue(n, key) }
func lookup(n *yaml.Node, keys ...string) *yaml.Node      { return yamlnode.Lookup(n, keys...) }
func scalar(n *yaml.Node) string                          { return yamlnode.Scalar(n) }
func items(n *yaml.Node) []*yaml.Node                     { return yamlnode.Items(n) }
func setField(n *yaml.Node, key string, value *yaml.Node) { yamlnode.SetField(n, key, value) }
func str(v string) *yaml.Node                             { return yamlnode.String(v) }

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
func ensureMap(n *yaml.Node, key string) *yaml.Node { return yamlnode.Ensure(n, key, yaml.MappingNode) }

// ensureSeq returns the sequence at key, creating it when missing or of another kind.
func ensureSeq(n *yaml.Node, key string) *yaml.Node {
	return yamlnode.Ensure(n, key, yaml.SequenceNode)
}

// setAnnotation sets metadata.annotations[key] on an object mapping.
func setAnnotation(obj *yaml.Node, key, value string) {
	setField(ensureMap(ensureMap(obj, "metadata"), "annotations"), key, str(value))
}
