package rewrite

import (
	"bytes"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// LooksLikeManifests tells rendered Kubernetes manifests (every object has apiVersion and kind)
// from values files, by the first document with content.
func LooksLikeManifests(data []byte) bool {
	for _, d := range split(data) {
		_, body := splitHeader(d.raw)
		if len(bytes.TrimSpace(body)) == 0 {
			continue
		}
		var n yaml.Node
		if err := yaml.Unmarshal(body, &n); err != nil || len(n.Content) == 0 {
			return false
		}
		m := n.Content[0]
		return field(m, "apiVersion") != nil && field(m, "kind") != nil
	}
	return false
}

// LintManifests checks a rendered manifest stream with the post-renderer's own detection: runners
// that register with a registration token, runners whose token Secret is not in the stream, and
// runners that register with an authentication token but pass settings GitLab refuses with it.
func LintManifests(file string, data []byte, target GitLabVersion) ([]Finding, error) {
	s, err := Read(data)
	if err != nil {
		return nil, err
	}
	_ = (Detect{}).Filter(s) // errors there concern migration (a setting from valueFrom), not lint
	var out []Finding
	add := func(rule *Rule, sev Severity, o *Object, n *yaml.Node, path, msg string) {
		if sev == SeverityNone {
			return
		}
		out = append(out, Finding{Rule: rule, Severity: sev, File: file, Line: o.Line(n), Column: columnOf(n, o), Path: path, Message: msg, Fix: rule.Fix})
	}
	for _, site := range s.Sites {
		w := site.Workload
		switch {
		case site.State == TokenLegacy && site.Carrier == CarrierSecret:
			key := lookup(site.Secret.node, "data", KeyRegistrationToken)
			if key == nil {
				key = lookup(site.Secret.node, "stringData", KeyRegistrationToken)
			}
			add(RuleLegacySecret, legacySeverity(target), site.Secret, keyOf(site.Secret.node, key), site.Secret.Ref.String()+" "+KeyRegistrationToken,
				fmt.Sprintf("%s registers with the registration token in this Secret (runner-token is empty): %s", w.Ref, legacyWhy(target)))
		case site.State == TokenLegacy:
			add(RuleLegacySecret, legacySeverity(target), w, envNode(site.container, "REGISTRATION_TOKEN"), w.Ref.String()+" env REGISTRATION_TOKEN",
				fmt.Sprintf("%s registers with a registration token given as an env var: %s", w.Ref, legacyWhy(target)))
		case site.State == TokenUnknown:
			add(RuleUnprovenSecret, unprovenSeverity(target), w, site.secretRef, w.Ref.String()+" Secret "+site.SecretName,
				fmt.Sprintf("%s reads its token from Secret %q, which is not in these manifests; if it holds a registration token, %s",
					w.Ref, site.SecretName, lowerFirst(legacyWhy(target))))
		case site.State == TokenAuthentication && len(site.RefusedAtRegistration()) > 0:
			add(RuleRegistrationSettings, SeverityError, w, site.container, w.Ref.String()+" container "+site.ContainerName(),
				fmt.Sprintf("%s registers with an authentication token but still passes %s, so gitlab-runner stops with FATAL "+
					"(\"Runner configuration other than name and executor configuration is reserved\")", w.Ref, strings.Join(site.RefusedAtRegistration(), ", ")))
		}
	}
	return out, nil
}

// keyOf returns the key node of a value in a mapping (where a person looks), else the value.
func keyOf(m, value *yaml.Node) *yaml.Node {
	for i := 0; m != nil && value != nil && i+1 < len(m.Content); i += 2 {
		if m.Content[i+1] == value {
			return m.Content[i]
		}
	}
	if data := field(m, "data"); data != nil && data != m {
		if k := keyOf(data, value); k != value {
			return k
		}
	}
	return value
}

func envNode(c *yaml.Node, name string) *yaml.Node {
	for _, e := range items(field(c, "env")) {
		if scalar(field(e, "name")) == name {
			return e
		}
	}
	return c
}

func columnOf(n *yaml.Node, o *Object) int {
	if n == nil {
		return o.node.Column
	}
	return n.Column
}
