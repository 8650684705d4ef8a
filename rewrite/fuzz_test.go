package rewrite

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

// FuzzRewrite feeds arbitrary streams through reading, detection and patching. Whatever comes in:
// no panic; input that is not text is refused; a stream read and written untouched is
// byte-identical; documents the patches leave alone come out byte-identical and in order; a migrated
// runner's Secret and env hold its legacy registration token nowhere (duplicate keys included); and
// the output, post-rendered again, does not change.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		"", "---\n", "a: 1\n---\nb: 2", "\xef\xbb\xbf---\r\nkind: Secret\r\ndata: {runner-token: \"\"}\r\n",
		"kind: List\nitems:\n- kind: Deployment\n  spec: {template: {spec: {containers: [{name: c, command: [/configmaps/entrypoint], env: [{name: REGISTRATION_TOKEN, value: x}]}]}}}\n",
		// duplicate keys: in the Secret's data, in a flow mapping, in the env list
		"kind: Secret\nmetadata: {name: s}\ndata: {runner-token: \"\", runner-registration-token: R1I=, runner-registration-token: R1IwMg==}\n---\n" +
			"kind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: [{name: c, command: [/configmaps/entrypoint], volumeMounts: [{name: v, mountPath: /secrets}]}], " +
			"volumes: [{name: v, projected: {sources: [{secret: {name: s}}]}}]}}}\n",
		"kind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: [{name: c, command: [/configmaps/entrypoint], env: [{name: REGISTRATION_TOKEN, value: \"\"}, {name: REGISTRATION_TOKEN, value: GR1}]}]}}}\n",
		// not text
		"kind: Secret\x00\ndata: {runner-token: \"\"}\n", "\xff\xfek\x00i\x00n\x00d\x00", "kind: ConfigMap\ndata: {register-the-runner: \"\xc3\x28\"}\n", "a: \x1b[0m\n",
	} {
		f.Add([]byte(s))
	}
	seeds, _ := filepath.Glob("testdata/*/in.yaml")
	renders, _ := filepath.Glob("../testdata/golden/helm*/*/*.yaml") // real Helm renders, already migrated
	seeds = append(seeds, renders...)
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Read(data)
		if !isText(data) {
			if err == nil {
				t.Fatalf("input that is not text was read as a manifest stream")
			}
			return
		}
		if err != nil {
			return
		}
		if out, err := s.Bytes(); err != nil || !bytes.Equal(out, data) {
			t.Fatalf("untouched stream changed (err %v)", err)
		}
		out := migrate(t, data)
		if out == nil {
			return
		}
		again := migrate(t, out)
		if again != nil && !bytes.Equal(again, out) {
			t.Fatalf("post-rendering the output again changed it:\n%s\n---- became ----\n%s", out, again)
		}
	})
}

// isText is the fuzz test's own idea of a manifest stream's bytes: UTF-8 with no control character but
// tab and line ends.
func isText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	for _, c := range data {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}

// values returns every value of key in the mapping n, repeated keys included.
func values(n *yaml.Node, key string) []*yaml.Node {
	var out []*yaml.Node
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				out = append(out, n.Content[i+1])
			}
		}
	}
	return out
}

// holds reports whether a scalar anywhere in n has the value v.
func holds(n *yaml.Node, v string) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.ScalarNode && n.Value == v {
		return true
	}
	for _, c := range n.Content {
		if holds(c, v) {
			return true
		}
	}
	return false
}

// migrate post-renders data with one token for every site; it returns nil when the stream is refused,
// and checks that every document the patches did not touch passed through byte for byte.
func migrate(t *testing.T, data []byte) []byte {
	s, err := Read(data)
	if err != nil {
		return nil
	}
	if err := (Detect{}).Filter(s); err != nil {
		return nil
	}
	legacy := map[*Site]token.Token{}
	for _, site := range s.Sites {
		if site.Migratable() {
			site.AuthToken = token.New(goldenToken)
			legacy[site] = site.LegacyToken
		}
	}
	if err := Patches.Filter(s); err != nil {
		return nil
	}
	for site, old := range legacy {
		if site.Secret != nil {
			for _, key := range []string{"data", "stringData"} {
				for _, v := range values(field(site.Secret.node, key), KeyRegistrationToken) {
					if v.Value != "" {
						t.Fatalf("%s: the migrated Secret %s still holds a registration token (%s.%s)", site.Workload.Ref, site.Secret.Ref, key, KeyRegistrationToken)
					}
				}
			}
		}
		for _, e := range items(field(site.container, "env")) {
			if scalar(field(e, "name")) == "REGISTRATION_TOKEN" {
				t.Fatalf("%s: the migrated container still has a REGISTRATION_TOKEN env var", site.Workload.Ref)
			}
		}
		if old.IsZero() {
			continue
		}
		plain, encoded := old.Reveal(), base64.StdEncoding.EncodeToString([]byte(old.Reveal()))
		if site.Secret != nil && (holds(field(site.Secret.node, "data"), encoded) || holds(field(site.Secret.node, "stringData"), plain)) {
			t.Fatalf("%s: the migrated Secret %s still holds the registration token", site.Workload.Ref, site.Secret.Ref)
		}
	}
	out, err := s.Bytes()
	if err != nil {
		t.Fatalf("writing a patched stream: %v", err)
	}
	rest := out
	for _, d := range s.docs {
		if d.changed {
			continue
		}
		i := bytes.Index(rest, d.raw)
		if i < 0 {
			t.Fatalf("untouched document at line %d is not in the output byte for byte", d.line)
		}
		rest = rest[i+len(d.raw):]
	}
	if _, err := Read(out); err != nil {
		t.Fatalf("patched output does not read back: %v", err)
	}
	return out
}
