package rewrite

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Values is a Helm values tree in which every node remembers the file and the position that set it,
// so findings can point at the line to change even when several files are merged.
type Values struct {
	node   *yaml.Node // the value (aliases resolved)
	key    *yaml.Node // the key that holds it in its parent mapping; nil for a root
	File   string
	fields []*Values // mapping entries in order; a field's name is its key's value
}

// ValuesError is a values file that is not valid YAML, with the line of the problem.
type ValuesError struct {
	File string
	Line int
	Msg  string
}

func (e *ValuesError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// errorLine splits a YAML error into its line and message. The library leaves the line out when it
// is the first (its 0-based line is 0).
func errorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlErrLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 1, strings.TrimPrefix(msg, "yaml: ")
}

// locateError fixes the line of a YAML error: the library counts scanner errors from 1 but parser
// errors from 0, so the error is on the reported line or the next. It is on the first of them at
// which the document, cut there, fails with the same message.
func locateError(data []byte, reported int, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	for _, n := range []int{reported, reported + 1} {
		if n < 1 || n > len(lines) {
			continue
		}
		var doc yaml.Node
		err := yaml.NewDecoder(bytes.NewReader(bytes.Join(lines[:n], nil))).Decode(&doc)
		if err != nil {
			if _, m := errorLine(err); m == msg {
				return n
			}
		}
	}
	return reported
}

// ParseValues reads one values file. An empty file is an empty mapping, as in Helm.
func ParseValues(file string, data []byte) (*Values, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if err.Error() == "EOF" {
			return &Values{node: &yaml.Node{Kind: yaml.MappingNode}, File: file}, nil
		}
		line, msg := errorLine(err)
		return nil, &ValuesError{File: file, Line: locateError(data, line, msg), Msg: msg}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if resolve(root).Kind == yaml.ScalarNode && resolve(root).Tag == "!!null" {
		root = &yaml.Node{Kind: yaml.MappingNode}
	}
	if resolve(root).Kind != yaml.MappingNode {
		return nil, &ValuesError{File: file, Line: root.Line, Msg: "a values file must be a mapping of keys to values"}
	}
	return build(file, nil, root), nil
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func build(file string, key, n *yaml.Node) *Values {
	n = resolve(n)
	v := &Values{node: n, key: key, File: file}
	if n.Kind != yaml.MappingNode {
		return v
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Value == "<<" { // YAML merge key: its fields, where not set explicitly
			for _, src := range mergeSources(val) {
				for _, f := range build(file, nil, src).fields {
					if v.Field(f.Name()) == nil {
						v.fields = append(v.fields, f)
					}
				}
			}
			continue
		}
		v.set(build(file, k, val))
	}
	return v
}

func mergeSources(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n.Kind == yaml.SequenceNode {
		return n.Content
	}
	return []*yaml.Node{n}
}

func (v *Values) set(f *Values) {
	for i, old := range v.fields {
		if old.Name() == f.Name() {
			v.fields[i] = f
			return
		}
	}
	v.fields = append(v.fields, f)
}

// Name is the key that holds the value.
func (v *Values) Name() string {
	if v == nil || v.key == nil {
		return ""
	}
	return v.key.Value
}

// Field returns a mapping's value at name, or nil.
func (v *Values) Field(name string) *Values {
	if v == nil {
		return nil
	}
	for _, f := range v.fields {
		if f.Name() == name {
			return f
		}
	}
	return nil
}

// Lookup follows a path of keys.
func (v *Values) Lookup(path ...string) *Values {
	for _, p := range path {
		v = v.Field(p)
	}
	return v
}

// IsMap, IsNull and String describe the value.
func (v *Values) IsMap() bool { return v != nil && v.node.Kind == yaml.MappingNode }
func (v *Values) IsNull() bool {
	return v != nil && v.node.Kind == yaml.ScalarNode && v.node.Tag == "!!null"
}

// String is a scalar's text ("" for null and non-scalars).
func (v *Values) String() string {
	if v == nil || v.node.Kind != yaml.ScalarNode || v.IsNull() {
		return ""
	}
	return v.node.Value
}

// Bool reads a boolean scalar the way Helm's templates see it (YAML true/false).
func (v *Values) Bool() (value, ok bool) {
	if v == nil || v.node.Kind != yaml.ScalarNode || v.node.Tag != "!!bool" {
		return false, false
	}
	b, err := strconv.ParseBool(v.node.Value)
	return b, err == nil
}

// Position is where the value was set: its key's line and column (the value's for a root).
func (v *Values) Position() (line, column int) {
	if v.key != nil {
		return v.key.Line, v.key.Column
	}
	return v.node.Line, v.node.Column
}

// MergeValues merges values files the way Helm merges -f files: later files win, mappings merge
// key by key, anything else (lists included) is replaced. An explicit null is kept, as Helm keeps it
// for subcharts (the GitLab chart's `runners.locked: null` workaround depends on that).
func MergeValues(layers ...*Values) *Values {
	if len(layers) == 0 {
		return &Values{node: &yaml.Node{Kind: yaml.MappingNode}}
	}
	out := layers[0]
	for _, l := range layers[1:] {
		out = merge(out, l)
	}
	return out
}

func merge(base, over *Values) *Values {
	if !base.IsMap() || !over.IsMap() {
		return over
	}
	m := &Values{node: over.node, key: over.key, File: over.File}
	m.fields = append(m.fields, base.fields...)
	for _, f := range over.fields {
		if old := m.Field(f.Name()); old != nil {
			m.set(merge(old, f))
		} else {
			m.set(f)
		}
	}
	return m
}
