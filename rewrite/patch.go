package rewrite

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

// Annotations runner-migrate writes. None carries a token: the digest changes with the token (so pods
// roll) and cannot be turned back into it.
const (
	AnnotationFingerprint    = "runner-migrate.io/fingerprint"
	AnnotationTokenDigest    = "runner-migrate.io/token-digest"
	AnnotationRunnerID       = "runner-migrate.io/runner-id"
	AnnotationTokenExpiresAt = "runner-migrate.io/token-expires-at"
	AnnotationPlaceholder    = "runner-migrate.io/placeholder-token"
	AnnotationGitLabURL      = "runner-migrate.io/gitlab-url"
	// AnnotationRemovedSettings lists, on the pod template of a runner that keeps its own token, the
	// register settings runner-migrate removed because GitLab refuses them with an authentication token.
	AnnotationRemovedSettings = "runner-migrate.io/removed-settings"
	// helmPostrenderFilename is Helm 4's record of which template a document came from.
	helmPostrenderFilename = "postrenderer.helm.sh/postrender-filename"
)

// PatchTokenCarrier puts the authentication token where the pod reads it: runner-token holds it and
// runner-registration-token is "" (both keys stay, the projected volume lists both). A Secret the
// stream does not hold is replaced by a new one, and so is a token given through env vars. Token env
// vars go in every case: beside a Secret the entrypoint's files override them, so all they would still
// do is keep the legacy token in plain text in the manifests and the release.
type PatchTokenCarrier struct{}

// Filter implements Filter.
func (PatchTokenCarrier) Filter(s *Stream) error {
	written := map[*Object]*Site{}
	return eachMigrating(s, func(site *Site) error {
		if removeEnv(field(site.container, "env"), "REGISTRATION_TOKEN", "CI_SERVER_TOKEN") {
			site.Workload.markChanged()
		}
		switch site.Carrier {
		case CarrierSecret:
			if other, ok := written[site.Secret]; ok {
				if other.Spec.Fingerprint() != site.Spec.Fingerprint() {
					return &Error{Object: site.Secret.Ref, Problem: fmt.Sprintf("the Secret is shared by %s and %s, whose runner settings differ (%s and %s), so they need different tokens",
						other.Workload.Ref, site.Workload.Ref, other.Spec.Fingerprint(), site.Spec.Fingerprint()),
						Fix: "give each runner deployment its own Secret (runners.secret), or the same runner settings"}
				}
				return nil
			}
			written[site.Secret] = site
			writeTokenKeys(site.Secret.node, site.AuthToken)
			annotateState(site.Secret.node, site)
			annotateRunner(site.Secret.node, site)
			site.Secret.markChanged()
		case CarrierExternalSecret:
			secret := s.addSecret(site)
			setField(site.secretRef, site.secretField, str(secret.Name))
			site.SecretName, site.Secret = secret.Name, secret
			site.Workload.markChanged()
		case CarrierEnv:
			secret := s.addSecret(site)
			site.SecretName, site.Secret = secret.Name, secret
			env := ensureSeq(site.container, "env")
			ref := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			setField(ref, "name", str(secret.Name))
			setField(ref, "key", str(KeyRunnerToken))
			entry := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			setField(entry, "name", str("CI_SERVER_TOKEN"))
			setField(ensureMap(entry, "valueFrom"), "secretKeyRef", ref)
			env.Content = append(env.Content, entry)
			site.Workload.markChanged()
		}
		return nil
	})
}

func writeTokenKeys(secret *yaml.Node, t token.Token) {
	values := [][2]string{{KeyRegistrationToken, ""}, {KeyRunnerToken, t.Reveal()}}
	for _, kv := range values {
		if plain := field(field(secret, "stringData"), kv[0]); plain != nil {
			setField(field(secret, "stringData"), kv[0], str(kv[1]))
			removeField(field(secret, "data"), kv[0])
			continue
		}
		setField(ensureMap(secret, "data"), kv[0], str(base64.StdEncoding.EncodeToString([]byte(kv[1]))))
	}
}

func annotateState(obj *yaml.Node, site *Site) {
	setAnnotation(obj, AnnotationFingerprint, site.Spec.Fingerprint())
	setAnnotation(obj, AnnotationTokenDigest, site.AuthToken.Digest("annotation"))
	if site.Placeholder {
		setAnnotation(obj, AnnotationPlaceholder, "dry run: this token is a placeholder, do not deploy")
	}
}

// annotateRunner records on the token Secret which GitLab runner the token belongs to, so the next
// run finds it there (the live Secret is where the token lives).
func annotateRunner(obj *yaml.Node, site *Site) {
	if site.RunnerID > 0 {
		setAnnotation(obj, AnnotationRunnerID, strconv.FormatInt(site.RunnerID, 10))
	}
	if site.GitLabURL != "" {
		setAnnotation(obj, AnnotationGitLabURL, site.GitLabURL)
	}
	if site.TokenExpiresAt != nil {
		setAnnotation(obj, AnnotationTokenExpiresAt, site.TokenExpiresAt.UTC().Format(time.RFC3339))
	}
}

// AddedSecretName names the Secret runner-migrate adds for a runner workload whose token lived
// elsewhere: rendered by the post-renderer, or kept in the cluster by `runner-migrate migrate`.
func AddedSecretName(workload string) string { return workload + "-auth-token" }

func addedSecretName(w *Object) string { return AddedSecretName(w.Name) }

// addSecret renders a Secret holding both token keys next to the site's workload. It carries the
// workload's labels, and the workload's template name (Helm 3's `# Source:` comment, Helm 4's
// annotation) so that `helm template --show-only` still finds it.
func (s *Stream) addSecret(site *Site) *Object {
	w := site.Workload
	name := addedSecretName(w)
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	setField(n, "apiVersion", str("v1"))
	setField(n, "kind", str("Secret"))
	meta := ensureMap(n, "metadata")
	setField(meta, "name", str(name))
	if w.Namespace != "" {
		setField(meta, "namespace", str(w.Namespace))
	}
	if labels := lookup(w.node, "metadata", "labels"); labels != nil {
		setField(meta, "labels", deepCopy(labels))
	}
	setField(n, "type", str("Opaque"))
	writeTokenKeys(n, site.AuthToken)
	annotateState(n, site)
	annotateRunner(n, site)
	return s.addGenerated(w, n)
}

// deepCopy copies a tree. An alias points at its anchor's copy (anchors come before their aliases
// in a document), so a copy taken before edits still reads as the original did.
func deepCopy(n *yaml.Node) *yaml.Node {
	var anchors map[*yaml.Node]*yaml.Node
	var cp func(*yaml.Node) *yaml.Node
	cp = func(n *yaml.Node) *yaml.Node {
		c := *n
		if n.Anchor != "" {
			if anchors == nil {
				anchors = map[*yaml.Node]*yaml.Node{}
			}
			anchors[n] = &c
		}
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, x := range n.Content {
			c.Content[i] = cp(x)
		}
		if n.Alias != nil {
			if a, ok := anchors[n.Alias]; ok {
				c.Alias = a
			} else {
				c.Alias = cp(n.Alias)
			}
		}
		return &c
	}
	return cp(n)
}

// PatchScripts removes from the chart's scripts what stops a pod registering with an authentication
// token: refused register options (and the shell variables that feed them, unless the chart's own
// run-time check blanks those) and, when migrating, the 0.34-0.53 replicas guard (a release that
// already holds a runner token passed the chart's own replicas check).
type PatchScripts struct{}

// Filter implements Filter.
func (PatchScripts) Filter(s *Stream) error {
	done := map[*Object]bool{}
	return eachFixing(s, func(site *Site) error {
		migrating := site.registers()
		if site.Scripts == nil {
			if len(site.Refused) == 0 || !migrating {
				return nil // without the script, only env vars carry refused settings: PatchEnv's part
			}
			return &Error{Object: site.Workload.Ref, Field: "spec.template.spec.volumes",
				Problem: "the ConfigMap with the register script is not in the rendered manifests, so runner-migrate cannot remove the register options GitLab refuses",
				Fix:     "render the chart's ConfigMap in the same release"}
		}
		if done[site.Scripts] {
			return nil
		}
		done[site.Scripts] = true
		data := field(site.Scripts.node, "data")
		if reg := field(data, "register-the-runner"); reg != nil {
			sc := parseScript(reg.Value)
			removed := sc.removeRefusedOptions()
			if !site.dropsRefusedAtRuntime() {
				removed = append(removed, sc.blankRefusedAssignments()...)
			}
			if len(removed) > 0 {
				site.Scripts.setScalar(reg, sc.String())
			}
		}
		if entry := field(data, "entrypoint"); entry != nil && migrating {
			sc := parseScript(entry.Value)
			removed, err := sc.removeReplicasGuard()
			if err != nil {
				return &Error{Object: site.Scripts.Ref, Line: site.Scripts.Line(entry), Field: "data.entrypoint", Problem: err.Error(),
					Fix: "remove the block that exits when CI_SERVER_TOKEN is set and replicas is not 1"}
			}
			if removed {
				site.Scripts.setScalar(entry, sc.String())
			}
		}
		return nil
	})
}

// PatchEnv removes the runner container's env vars that feed refused register options with a value
// gitlab-runner refuses. REGISTER_LOCKED and RUNNER_TAG_LIST stay where the chart's run-time check
// unsets them itself, and so do values it accepts (REGISTER_LOCKED="true", RUNNER_TAG_LIST="").
type PatchEnv struct{}

// Filter implements Filter.
func (PatchEnv) Filter(s *Stream) error {
	return eachFixing(s, func(site *Site) error {
		env := envOf(site.container)
		var names []string
		for _, name := range refusedEnv {
			e, ok := env[name]
			if ok && !harmlessEnv(name, e) && !(droppedAtRuntime[name] && site.dropsRefusedAtRuntime()) {
				names = append(names, name)
			}
		}
		if removeEnv(field(site.container, "env"), names...) {
			site.Workload.markChanged()
		}
		return nil
	})
}

func removeEnv(env *yaml.Node, names ...string) bool {
	if env == nil {
		return false
	}
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	kept := env.Content[:0]
	for _, e := range env.Content {
		if !drop[scalar(field(e, "name"))] {
			kept = append(kept, e)
		}
	}
	changed := len(kept) != len(env.Content)
	env.Content = kept
	return changed
}

// RollPods annotates the pod template so pods roll when what they register with changes (the chart's
// checksum annotations hash its templates, not what a post-renderer makes of them): with the spec
// fingerprint and a digest of the token when migrating, with the settings removed when repairing.
type RollPods struct{}

// Filter implements Filter.
func (RollPods) Filter(s *Stream) error {
	return eachFixing(s, func(site *Site) error {
		if site.Mints() {
			return nil // the minting Job restarts the workload once the token is there
		}
		template := lookup(site.Workload.node, "spec", "template")
		if field(template, "metadata") == nil {
			// Put new pod metadata where people expect it, before the pod spec.
			template.Content = append([]*yaml.Node{str("metadata"), {Kind: yaml.MappingNode, Tag: "!!map"}}, template.Content...)
		}
		if site.AuthToken.IsZero() {
			setAnnotation(template, AnnotationRemovedSettings, strings.Join(site.RefusedAtRegistration(), ", "))
		} else {
			annotateState(template, site)
		}
		site.Workload.markChanged()
		return nil
	})
}
