package rewrite

import "go.yaml.in/yaml/v3"

// What the linter (internal/lint/rules) needs of detection to point its findings at lines of the
// stream. Positions are 1-based stream lines and columns.

// Position is where the object starts.
func (o *Object) Position() (line, column int) {
	return o.Line(nil), o.node.Column
}

// KeyPosition is where the key at path sits in the object (data, runner-registration-token: the
// key line a person edits); ok is false when the object has no such key.
func (o *Object) KeyPosition(path ...string) (line, column int, ok bool) {
	n := o.node
	var key *yaml.Node
	for _, k := range path {
		key, n = keyValue(n, k)
		if n == nil {
			return 0, 0, false
		}
	}
	if key == nil {
		line, column = o.Position()
		return line, column, true
	}
	return o.Line(key), key.Column, true
}

func keyValue(m *yaml.Node, key string) (k, v *yaml.Node) {
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

// ContainerPosition is where the runner container's entry starts.
func (s *Site) ContainerPosition() (line, column int) {
	return s.Workload.Line(s.container), s.container.Column
}

// EnvPosition is where the runner container's env var name is set, else the container.
func (s *Site) EnvPosition(name string) (line, column int) {
	for _, e := range items(field(s.container, "env")) {
		if scalar(field(e, "name")) == name {
			return s.Workload.Line(e), e.Column
		}
	}
	return s.ContainerPosition()
}

// TokenSourcePosition is where the pod names the Secret it reads its token from (a projected
// source's or a volume's secret), else the workload.
func (s *Site) TokenSourcePosition() (line, column int) {
	if s.secretRef == nil {
		return s.Workload.Position()
	}
	return s.Workload.Line(s.secretRef), s.secretRef.Column
}
