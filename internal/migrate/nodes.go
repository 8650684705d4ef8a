package migrate

import (
	"go.yaml.in/yaml/v3"

	"github.com/runner-migrate/runner-migrate/internal/yamlnode"
)

// The node helpers are yamlnode's, under the short names this package uses.
func keyValue(m *yaml.Node, key string) (k, v *yaml.Node) { return yamlnode.KeyValue(m, key) }
func field(m *yaml.Node, key string) *yaml.Node           { return yamlnode.Field(m, key) }
func lookup(n *yaml.Node, keys ...string) *yaml.Node      { return yamlnode.Lookup(n, keys...) }
func scalar(n *yaml.Node) string                          { return yamlnode.Scalar(n) }
func items(n *yaml.Node) []*yaml.Node                     { return yamlnode.Items(n) }
func setField(m *yaml.Node, key string, value *yaml.Node) { yamlnode.SetField(m, key, value) }
func ensureMap(m *yaml.Node, key string) *yaml.Node       { return yamlnode.Ensure(m, key, yaml.MappingNode) }
func str(v string) *yaml.Node                             { return yamlnode.String(v) }

func boolean(v bool) *yaml.Node {
	s := "false"
	if v {
		s = "true"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: s}
}
