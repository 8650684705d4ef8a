package rewrite

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// Ref names a Kubernetes object the way a person looks for it: kind, namespace and name.
type Ref struct{ Kind, Namespace, Name string }

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// Object is a Kubernetes object in the stream: a whole document, or one item of a List document.
type Object struct {
	Ref
	doc  *Document
	node *yaml.Node // the object's mapping
}

// Document is the stream document that holds the object.
func (o *Object) Document() *Document { return o.doc }

// Line is the stream line of a node inside the object (the object's first line for nil).
func (o *Object) Line(n *yaml.Node) int {
	if n == nil {
		n = o.node
	}
	return o.doc.bodyLine(n.Line)
}

// markChanged records that the object's tree was edited, so its document is written anew (see splice).
func (o *Object) markChanged() { o.doc.changed = true }

// setScalar changes a scalar's value in place (a script in a ConfigMap).
func (o *Object) setScalar(n *yaml.Node, v string) {
	if n.Value == v {
		return
	}
	n.Value = v
	o.markChanged()
}

// objectsOf lists the objects of a parsed document; List kinds yield their items.
func objectsOf(d *Document) []*Object {
	if d.root == nil || len(d.root.Content) == 0 || d.root.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	top := d.root.Content[0]
	kind := scalar(field(top, "kind"))
	if items := field(top, "items"); strings.HasSuffix(kind, "List") && items != nil && items.Kind == yaml.SequenceNode {
		var objs []*Object
		for _, item := range items.Content {
			if item.Kind == yaml.MappingNode {
				objs = append(objs, newObject(d, item))
			}
		}
		return objs
	}
	return []*Object{newObject(d, top)}
}

func newObject(d *Document, n *yaml.Node) *Object {
	meta := field(n, "metadata")
	return &Object{
		Ref:  Ref{Kind: scalar(field(n, "kind")), Namespace: scalar(field(meta, "namespace")), Name: scalar(field(meta, "name"))},
		doc:  d,
		node: n,
	}
}

// sameNamespace matches objects that Helm renders into one release: a missing namespace means the
// release namespace, which is whatever the other object says.
func sameNamespace(a, b string) bool { return a == b || a == "" || b == "" }

// find returns the object of the given kind and name that sits in namespace ns.
func (s *Stream) find(kind, ns, name string) *Object {
	for _, o := range s.objects {
		if o.Kind == kind && o.Name == name && sameNamespace(o.Namespace, ns) {
			return o
		}
	}
	return nil
}
