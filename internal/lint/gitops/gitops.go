// Package gitops finds the Helm releases that GitOps manifests declare, Argo CD Applications (and
// ApplicationSet templates) and Flux HelmReleases, with the values they give Helm as values trees
// whose positions point into the manifest file, inside a YAML block string too.
package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/runner-migrate/runner-migrate/internal/lint/values"
	"github.com/runner-migrate/runner-migrate/internal/yamlnode"
)

// Release is one Helm release a manifest declares.
type Release struct {
	Object string // "Application argocd/gitlab-runner", "HelmRelease flux-system/runner"
	Source string // the field its values are under: spec.source.helm, spec.sources[1].helm, spec.values
	// Chart is the chart reference (gitlab-runner, oci://.../gitlab, ./charts/gitlab-runner).
	// ChartByName is true when it is only a name standing for the chart (a git path, a Flux chartRef):
	// telling, if it names a chart lint knows, and no more.
	Chart        string
	ChartByName  bool
	File         string
	Line, Column int // the chart reference, else the object
	// Layers are the values, lowest precedence first (Argo CD: values, valuesObject, parameters).
	Layers []*values.Values
	Unread []Unread
}

// Unread is a source of values the release has that lint does not read.
type Unread struct {
	What         string
	Path         string
	Line, Column int
}

// Read finds the releases in a manifest file. A document that does not parse, and values that do
// not, are errors naming the file and line; releases found elsewhere are still returned.
func Read(file string, data []byte) ([]Release, error) {
	text := string(data)
	r := &reader{file: file, text: text}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var errs []error
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, values.SyntaxError(file, text, err))
			break // the decoder cannot go on past a broken document
		}
		if len(doc.Content) == 0 {
			continue
		}
		errs = append(errs, r.object(doc.Content[0]))
	}
	return r.releases, errors.Join(errs...)
}

type reader struct {
	file     string
	text     string
	lines    []int // offsets of line starts, computed when a block string needs them
	releases []Release
}

func (r *reader) object(o *yaml.Node) error {
	apiVersion, kind := scalar(field(o, "apiVersion")), scalar(field(o, "kind"))
	group, _, _ := strings.Cut(apiVersion, "/")
	meta := field(o, "metadata")
	name := kind + " " + scalar(field(meta, "name"))
	if ns := scalar(field(meta, "namespace")); ns != "" {
		name = kind + " " + ns + "/" + scalar(field(meta, "name"))
	}
	var errs []error
	switch {
	case group == "argoproj.io" && kind == "Application":
		errs = r.argo(o, name, "spec", field(o, "spec"), false)
	case group == "argoproj.io" && kind == "ApplicationSet":
		errs = r.argo(o, name, "spec.template.spec", lookup(o, "spec", "template", "spec"), true)
	case (group == "helm.toolkit.fluxcd.io" || group == "helm.fluxcd.io") && kind == "HelmRelease":
		errs = r.flux(o, name)
	}
	return errors.Join(errs...)
}

// argo reads an Application's sources. In a template (an ApplicationSet's), values holding
// template expressions that do not parse are unread, not errors: the controller renders them.
func (r *reader) argo(o *yaml.Node, name, specPath string, spec *yaml.Node, template bool) []error {
	type src struct {
		path string
		node *yaml.Node
	}
	var sources []src
	if s := field(spec, "source"); s != nil {
		sources = append(sources, src{specPath + ".source", s})
	}
	for i, s := range items(field(spec, "sources")) {
		sources = append(sources, src{fmt.Sprintf("%s.sources[%d]", specPath, i), s})
	}
	var errs []error
	for _, s := range sources {
		helm, chart := field(s.node, "helm"), field(s.node, "chart")
		if helm == nil && chart == nil {
			continue // manifests, kustomize, or a ref source of value files
		}
		rel := Release{Object: name, Source: s.path + ".helm", File: r.file}
		rel.Line, rel.Column = o.Line, o.Column
		if k, v := keyValue(s.node, "chart"); v != nil {
			rel.Chart, rel.Line, rel.Column = scalar(v), k.Line, k.Column
		} else if k, v := keyValue(s.node, "path"); v != nil {
			rel.Chart, rel.ChartByName, rel.Line, rel.Column = scalar(v), true, k.Line, k.Column
		}
		hp := s.path + ".helm."
		if k, v := keyValue(helm, "values"); v != nil {
			layer, err := r.embedded(k, v)
			switch {
			case err != nil && template && strings.Contains(v.Value, "{{"):
				rel.Unread = append(rel.Unread, Unread{What: "helm.values of a template, with template expressions", Path: hp + "values", Line: k.Line, Column: k.Column})
			case err != nil:
				errs = append(errs, err)
			case layer != nil:
				rel.Layers = append(rel.Layers, layer)
			}
		}
		if v := field(helm, "valuesObject"); v != nil {
			if layer := values.FromNode(r.file, v); layer != nil {
				rel.Layers = append(rel.Layers, layer)
			}
		}
		if layer := r.parameters(field(helm, "parameters")); layer != nil {
			rel.Layers = append(rel.Layers, layer)
		}
		for i, f := range items(field(helm, "valueFiles")) {
			rel.Unread = append(rel.Unread, Unread{What: "valueFiles " + strconv.Quote(scalar(f)), Path: fmt.Sprintf("%svalueFiles[%d]", hp, i), Line: f.Line, Column: f.Column})
		}
		for i, f := range items(field(helm, "fileParameters")) {
			rel.Unread = append(rel.Unread, Unread{What: "fileParameters " + strconv.Quote(scalar(field(f, "path"))), Path: fmt.Sprintf("%sfileParameters[%d]", hp, i), Line: f.Line, Column: f.Column})
		}
		r.releases = append(r.releases, rel)
	}
	return errs
}

// flux reads a HelmRelease: spec.values, and the valuesFrom it cannot follow.
func (r *reader) flux(o *yaml.Node, name string) []error {
	spec := field(o, "spec")
	rel := Release{Object: name, Source: "spec.values", File: r.file, Line: o.Line, Column: o.Column}
	for _, ref := range []struct {
		path   []string
		byName bool
	}{{[]string{"chart", "spec", "chart"}, false}, {[]string{"chart", "name"}, false}, {[]string{"chart", "path"}, true}, {[]string{"chartRef", "name"}, true}} {
		parent := lookup(spec, ref.path[:len(ref.path)-1]...)
		if k, v := keyValue(parent, ref.path[len(ref.path)-1]); v != nil && scalar(v) != "" {
			rel.Chart, rel.ChartByName, rel.Line, rel.Column = scalar(v), ref.byName, k.Line, k.Column
			break
		}
	}
	if v := field(spec, "values"); v != nil {
		if layer := values.FromNode(r.file, v); layer != nil {
			rel.Layers = append(rel.Layers, layer)
		}
	}
	for i, f := range items(field(spec, "valuesFrom")) {
		what := fmt.Sprintf("valuesFrom %s %q", scalar(field(f, "kind")), scalar(field(f, "name")))
		if key := scalar(field(f, "valuesKey")); key != "" {
			what += fmt.Sprintf(" (key %q)", key)
		}
		rel.Unread = append(rel.Unread, Unread{What: what, Path: fmt.Sprintf("spec.valuesFrom[%d]", i), Line: f.Line, Column: f.Column})
	}
	r.releases = append(r.releases, rel)
	return nil
}

// embedded parses a values string (spec.source.helm.values), its positions moved into the file.
func (r *reader) embedded(key, v *yaml.Node) (*values.Values, error) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return nil, nil
	}
	origin := values.Origin{Line: key.Line, Column: key.Column, Flat: true}
	switch {
	case v.Style&yaml.LiteralStyle != 0:
		// Line i of the text is line v.Line+i of the file, indented by the block's indentation.
		if indent, ok := r.blockIndent(key, v); ok {
			origin = values.Origin{Line: v.Line + 1, Column: indent + 1}
		}
	case !strings.Contains(v.Value, "\n"):
		origin = values.Origin{Line: v.Line, Column: v.Column}
		if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			origin.Column++
		}
	}
	return values.ParseAt(r.file, v.Value, origin)
}

// blockIndent is the indentation a literal block string strips from its lines: the indicator's
// (|2), else that of its first line with content.
func (r *reader) blockIndent(key, v *yaml.Node) (int, bool) {
	header := r.line(v.Line)
	if i := strings.Index(header, "|"); i >= 0 {
		for _, c := range header[i+1:] {
			if c >= '1' && c <= '9' {
				return key.Column - 1 + int(c-'0'), true
			}
			if c != '-' && c != '+' {
				break
			}
		}
	}
	for n := v.Line + 1; n <= len(r.starts()); n++ {
		l := strings.TrimRight(r.line(n), "\r")
		if strings.TrimLeft(l, " ") == "" {
			continue
		}
		return len(l) - len(strings.TrimLeft(l, " ")), true
	}
	return 0, false
}

func (r *reader) starts() []int {
	if r.lines == nil {
		r.lines = []int{0}
		for i := 0; i < len(r.text); i++ {
			if r.text[i] == '\n' {
				r.lines = append(r.lines, i+1)
			}
		}
	}
	return r.lines
}

// line is the text of a 1-based line.
func (r *reader) line(n int) string {
	starts := r.starts()
	if n < 1 || n > len(starts) {
		return ""
	}
	end := len(r.text)
	if n < len(starts) {
		end = starts[n] - 1
	}
	return r.text[starts[n-1]:end]
}

// parameters turns Argo CD helm.parameters (name: a.b.c, value: v) into a values layer, each value
// at its entry's line. Names with list indexes are left out.
func (r *reader) parameters(list *yaml.Node) *values.Values {
	root := ParametersNode(list)
	if root == nil {
		return nil
	}
	return values.FromNode(r.file, root)
}

// ParametersNode turns Argo CD helm.parameters into the values mapping they set (as helm --set
// does), each value at its entry's line; nil when they set none. Names with list indexes are left out.
func ParametersNode(list *yaml.Node) *yaml.Node {
	if list == nil {
		return nil
	}
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: list.Line, Column: list.Column}
	n := 0
	for _, p := range items(list) {
		name, value := field(p, "name"), field(p, "value")
		if scalar(name) == "" || value == nil || strings.ContainsAny(scalar(name), "[]") {
			continue
		}
		keys := splitParameter(scalar(name))
		m := root
		for i, k := range keys {
			keyNode := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k, Line: name.Line, Column: name.Column}
			if i == len(keys)-1 {
				v := *value
				if !strings.EqualFold(scalar(field(p, "forceString")), "true") && v.Tag == "!!str" {
					v.Tag = resolveTag(v.Value) // --set reads true/false/null as YAML does
				}
				setField(m, keyNode, &v)
				break
			}
			next := field(m, k)
			if next == nil || next.Kind != yaml.MappingNode {
				next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: name.Line, Column: name.Column}
				setField(m, keyNode, next)
			}
			m = next
		}
		n++
	}
	if n == 0 {
		return nil
	}
	return root
}

// splitParameter splits a --set name at its dots; `\.` is a dot inside a key.
func splitParameter(name string) []string {
	var keys []string
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		switch {
		case name[i] == '\\' && i+1 < len(name) && name[i+1] == '.':
			b.WriteByte('.')
			i++
		case name[i] == '.':
			keys = append(keys, b.String())
			b.Reset()
		default:
			b.WriteByte(name[i])
		}
	}
	return append(keys, b.String())
}

func resolveTag(v string) string {
	switch strings.ToLower(v) {
	case "true", "false":
		return "!!bool"
	case "null", "~", "":
		return "!!null"
	}
	return "!!str"
}

func setField(m, key, value *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key.Value {
			m.Content[i], m.Content[i+1] = key, value
			return
		}
	}
	m.Content = append(m.Content, key, value)
}

func keyValue(m *yaml.Node, key string) (k, v *yaml.Node) { return yamlnode.KeyValue(m, key) }
func field(m *yaml.Node, key string) *yaml.Node           { return yamlnode.Field(m, key) }
func lookup(n *yaml.Node, keys ...string) *yaml.Node      { return yamlnode.Lookup(n, keys...) }
func scalar(n *yaml.Node) string                          { return yamlnode.Scalar(n) }
func items(n *yaml.Node) []*yaml.Node                     { return yamlnode.Items(n) }
