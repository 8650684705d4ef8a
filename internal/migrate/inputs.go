package migrate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/runner-migrate/runner-migrate/internal/lint"
	"github.com/runner-migrate/runner-migrate/internal/lint/gitops"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
	"github.com/runner-migrate/runner-migrate/internal/lint/values"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// file is one file migrate was given, parsed for editing.
type file struct {
	path   string
	data   []byte
	stream *rewrite.Stream
}

// release is one Helm release whose values migrate edits: the values files given together, or one
// that an Argo CD Application or Flux HelmRelease declares.
type release struct {
	name, namespace string
	label           string // for messages: "release ci/runner (values.yaml, prod.yaml)"
	chart           rules.Chart
	chartRef        string // a chart migrate can render the release with; "" when none
	subcharts       []rules.Subchart
	layers          []*layer // lowest precedence first
}

// layer is one source of a release's values, and where edits to it go.
type layer struct {
	name string // "prod.yaml", "Application argocd/ci spec.source.helm.values"
	file *file
	doc  *rewrite.Document // the document holding the values (or the string that holds them)
	root *yaml.Node        // the values mapping; nil when the layer holds none
	// params: Argo CD helm.parameters (a list of name and value), root its values as a mapping.
	params *yaml.Node
	// inner is the stream of values kept in a YAML string (Argo CD helm.values), innerDoc its
	// values document, scalar that string.
	inner    *rewrite.Stream
	innerDoc *rewrite.Document
	scalar   *yaml.Node
	// create makes the values mapping of a layer that holds none yet (a HelmRelease without
	// spec.values); nil where none can be made.
	create func() *yaml.Node
	// aliased are the nodes an alias of the file refers to: editing inside them edits every place
	// that uses them.
	aliased map[*yaml.Node]bool
	whole   bool // the layer is a values file of its own
	edited  bool
}

// view is the layer's values as Helm reads them, for finding the runners they configure.
func (l *layer) view() *values.Values {
	if l.root == nil {
		return nil
	}
	return values.FromNode(l.name, l.root)
}

// commit writes the layer's edits into its file's tree.
func (l *layer) commit() error {
	if !l.edited {
		return nil
	}
	if l.inner != nil && l.innerDoc != nil {
		l.innerDoc.Edited()
		out, err := l.inner.Bytes()
		if err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
		l.scalar.Value = string(out)
	}
	l.doc.Edited()
	return nil
}

// readFile reads and parses a file; text that is no YAML is an error naming its line.
func readFile(path string) (*file, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := rewrite.ReadYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &file{path: path, data: data, stream: s}, nil
}

// isManifest: a file whose first document is a Kubernetes object (apiVersion and kind).
func (f *file) isManifest() bool {
	for _, d := range f.stream.Documents() {
		if root := d.Root(); root != nil {
			return scalar(field(root, "apiVersion")) != "" && scalar(field(root, "kind")) != ""
		}
	}
	return false
}

// valuesLayer is the values document of a values file: its first document with content, as Helm
// reads it. An empty file is a layer with no values.
func valuesLayer(f *file) (*layer, error) {
	l := &layer{name: f.path, file: f, aliased: aliasTargets(f), whole: true}
	for _, d := range f.stream.Documents() {
		root := d.Root()
		if root == nil {
			continue
		}
		if root.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: a values file must be a mapping of keys to values", f.path)
		}
		l.doc, l.root = d, root
		break
	}
	return l, nil
}

// valuesRelease is the release the values files given together configure, in Helm's -f order.
func valuesRelease(files []*file, name, namespace, chartRef string) (*release, error) {
	r := &release{name: name, namespace: namespace, chartRef: chartRef}
	var names []string
	for _, f := range files {
		l, err := valuesLayer(f)
		if err != nil {
			return nil, err
		}
		r.layers = append(r.layers, l)
		names = append(names, f.path)
	}
	r.label = fmt.Sprintf("release %s/%s (%s)", namespace, name, strings.Join(names, ", "))
	if chartRef != "" {
		r.chart = rules.ChartOf(chartRef, false)
		if fi, err := os.Stat(filepath.Join(chartRef, "Chart.yaml")); err == nil && !fi.IsDir() {
			kind, subcharts, err := lint.ReadChart(chartRef)
			if err != nil {
				return nil, err
			}
			r.chart, r.subcharts = kind, subcharts
		}
	}
	return r, nil
}

// gitopsReleases are the releases the Argo CD Applications and Flux HelmReleases of a manifest file
// declare, with the values they carry inline. namespace is the fallback for a release whose manifest
// names none; chartRef the chart to render one whose own chart is no local directory.
func gitopsReleases(f *file, namespace, chartRef string) ([]*release, []string, error) {
	var out []*release
	var notes []string
	aliased := aliasTargets(f)
	for _, d := range f.stream.Documents() {
		o := d.Root()
		if o == nil || o.Kind != yaml.MappingNode {
			continue
		}
		apiVersion, kind := scalar(field(o, "apiVersion")), scalar(field(o, "kind"))
		group, _, _ := strings.Cut(apiVersion, "/")
		meta := field(o, "metadata")
		object := kind + " " + scalar(field(meta, "name"))
		if ns := scalar(field(meta, "namespace")); ns != "" {
			object = kind + " " + ns + "/" + scalar(field(meta, "name"))
		}
		switch {
		case group == "argoproj.io" && kind == "ApplicationSet":
			notes = append(notes, fmt.Sprintf("%s: %s is a template (its values may hold template expressions): migrate the values of the Applications it makes", f.path, object))
		case group == "argoproj.io" && kind == "Application":
			rels, err := argoReleases(f, d, o, object, namespace, aliased)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, rels...)
		case (group == "helm.toolkit.fluxcd.io" || group == "helm.fluxcd.io") && kind == "HelmRelease":
			out = append(out, fluxRelease(f, d, o, object, namespace, aliased))
		}
	}
	for _, r := range out {
		r.chart = rules.ChartOf(r.chartRef, false)
		if local := localChart(f.path, r.chartRef); local != "" {
			if kind, subcharts, err := lint.ReadChart(local); err == nil {
				r.chart, r.subcharts = kind, subcharts
			}
			r.chartRef = local
		} else if chartRef != "" {
			r.chartRef = chartRef
		} else {
			r.chartRef = ""
		}
	}
	return out, notes, nil
}

// localChart is the chart directory a GitOps chart reference names, when it is one on this machine:
// relative to the current directory (a repository checkout), else to the manifest's directory.
func localChart(manifest, ref string) string {
	if ref == "" || strings.Contains(ref, "://") {
		return ""
	}
	for _, dir := range []string{ref, filepath.Join(filepath.Dir(manifest), ref)} {
		if fi, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err == nil && !fi.IsDir() {
			return dir
		}
	}
	return ""
}

// argoReleases reads an Application's Helm sources: helm.values (a YAML string), helm.valuesObject
// and helm.parameters, in that order of precedence. The release is helm.releaseName, else the
// Application's name; its namespace spec.destination.namespace.
func argoReleases(f *file, d *rewrite.Document, o *yaml.Node, object, namespace string, aliased map[*yaml.Node]bool) ([]*release, error) {
	spec := field(o, "spec")
	type src struct {
		path string
		node *yaml.Node
	}
	var sources []src
	if s := field(spec, "source"); s != nil {
		sources = append(sources, src{"spec.source", s})
	}
	for i, s := range items(field(spec, "sources")) {
		sources = append(sources, src{fmt.Sprintf("spec.sources[%d]", i), s})
	}
	ns := firstOf(scalar(lookup(spec, "destination", "namespace")), namespace)
	var out []*release
	for _, s := range sources {
		helm, chart := field(s.node, "helm"), field(s.node, "chart")
		if helm == nil && chart == nil {
			continue
		}
		base := object + " " + s.path + ".helm"
		r := &release{name: firstOf(scalar(field(helm, "releaseName")), scalar(lookup(o, "metadata", "name"))), namespace: ns,
			label: base, chartRef: firstOf(scalar(chart), scalar(field(s.node, "path")))}
		if v := field(helm, "values"); v != nil && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
			inner, err := rewrite.ReadYAML([]byte(v.Value))
			if err != nil {
				return nil, fmt.Errorf("%s: %s.values: %w", f.path, base, err)
			}
			l := &layer{name: base + ".values", file: f, doc: d, inner: inner, scalar: v, aliased: aliasTargets(&file{stream: inner})}
			for _, id := range inner.Documents() {
				if root := id.Root(); root != nil && root.Kind == yaml.MappingNode {
					l.root, l.innerDoc = root, id
					break
				}
			}

			r.layers = append(r.layers, l)
		}
		if v := field(helm, "valuesObject"); v != nil && v.Kind == yaml.MappingNode {
			r.layers = append(r.layers, &layer{name: base + ".valuesObject", file: f, doc: d, root: v, aliased: aliased})
		}
		if p := field(helm, "parameters"); p != nil && p.Kind == yaml.SequenceNode {
			r.layers = append(r.layers, &layer{name: base + ".parameters", file: f, doc: d, params: p, root: gitops.ParametersNode(p), aliased: aliased})
		}
		if len(r.layers) == 0 {
			// No inline values: what migrate writes goes into helm.valuesObject.
			if helm == nil {
				helm = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				setField(s.node, "helm", helm)
			}
			r.layers = append(r.layers, &layer{name: base + ".valuesObject", file: f, doc: d, aliased: aliased,
				create: func() *yaml.Node {
					m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
					setField(helm, "valuesObject", m)
					return m
				}})
		}
		out = append(out, r)
	}
	return out, nil
}

// fluxRelease reads a HelmRelease's spec.values. The release is spec.releaseName, else
// [targetNamespace-]name as Flux names it; its namespace spec.targetNamespace, else the HelmRelease's.
func fluxRelease(f *file, d *rewrite.Document, o *yaml.Node, object, namespace string, aliased map[*yaml.Node]bool) *release {
	spec := field(o, "spec")
	name := scalar(lookup(o, "metadata", "name"))
	target := scalar(field(spec, "targetNamespace"))
	relName := scalar(field(spec, "releaseName"))
	if relName == "" {
		relName = name
		if target != "" {
			relName = target + "-" + name
		}
	}
	r := &release{name: relName, namespace: firstOf(target, scalar(lookup(o, "metadata", "namespace")), namespace), label: object + " spec.values",
		chartRef: firstOf(scalar(lookup(spec, "chart", "spec", "chart")), scalar(lookup(spec, "chart", "name")), scalar(lookup(spec, "chartRef", "name")))}
	l := &layer{name: object + " spec.values", file: f, doc: d, aliased: aliased}
	if v := field(spec, "values"); v != nil && v.Kind == yaml.MappingNode {
		l.root = v
	} else {
		l.create = func() *yaml.Node {
			m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			setField(ensureMap(o, "spec"), "values", m)
			return m
		}
	}
	r.layers = append(r.layers, l)
	return r
}

// aliasTargets lists the nodes the file's aliases refer to.
func aliasTargets(f *file) map[*yaml.Node]bool {
	out := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil {
			return
		}
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			out[n.Alias] = true
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, d := range f.stream.Documents() {
		walk(d.Root())
	}
	return out
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
