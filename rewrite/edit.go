package rewrite

import (
	"errors"

	"go.yaml.in/yaml/v3"
)

// ReadYAML reads YAML text for editing in place: values files, and manifests that carry values
// (Argo CD Applications, Flux HelmReleases). Unlike Read, every document is parsed. A document whose
// tree is edited (and marked with Edited) is written back by splicing the edits into the bytes it was
// read as, as the post-renderer writes manifests: comments, key order, quoting, indentation and
// blank lines stay wherever no value changed. Comment lines directly above a removed entry go with
// it: in a values file they document the entry.
func ReadYAML(data []byte) (*Stream, error) {
	if err := checkText(data); err != nil {
		return nil, err
	}
	s := &Stream{docs: split(data)}
	var errs []error
	for _, d := range s.docs {
		d.ownComments = true
		if err := d.parse(); err != nil {
			errs = append(errs, err)
		}
	}
	return s, errors.Join(errs...)
}

// Documents lists the stream's documents in order.
func (s *Stream) Documents() []*Document { return s.docs }

// Root is a parsed document's top node (a mapping, for values and manifests); nil for a document
// that is empty or was not parsed.
func (d *Document) Root() *yaml.Node {
	if d.root == nil || len(d.root.Content) == 0 {
		return nil
	}
	return d.root.Content[0]
}

// Edited records that the document's tree was changed, so the stream writes it anew.
func (d *Document) Edited() { d.changed = true }
