package rewrite

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The scripts of the Job that mints the bundled runner (see mint/mint-runner.sh for its steps).
var (
	//go:embed mint/mint-runner.sh
	mintScript string
	//go:embed mint/mint-runner.rb
	mintRuby string
)

// Limits of the minting Job: it waits for a fresh GitLab to migrate its database (several minutes),
// and a failed pod (a broken API call, Rails refusing) is retried.
const (
	mintBackoffLimit    = 6
	mintDeadlineSeconds = 3600
	mintScriptsDir      = "/runner-migrate"
)

// waitForTokenMarker starts the block MintTokens puts into the register script.
const waitForTokenMarker = "# runner-migrate: wait for the authentication token"

// RunnerName is how a runner is named in GitLab: its description, which ends with the marker it is
// found by.
type RunnerName struct{ Description, Marker string }

// MintTokens makes the GitLab chart's bundled runner (a site whose Bundled.Mode is BundledMint and
// that has no token) register with an authentication token that a Job mints inside the cluster, so
// no access token is needed: it adds the Job (built from the chart's toolbox pod, so it has Rails, its
// config and no new image), its ServiceAccount, a Role that may only get and patch the runner's Secret
// and Deployment, the RoleBinding and the ConfigMap with the Job's scripts. The runner's register
// script waits for runner-token instead of trying the registration token. The patch filters then
// remove the register settings GitLab refuses with an authentication token.
type MintTokens struct {
	// Name names the GitLab runner of a site. The caller computes it the way the API path names the
	// runners it creates, so either path finds the runner the other made.
	Name func(*Site) RunnerName
}

// Mints reports whether the site's token is minted by the Job MintTokens adds.
func (s *Site) Mints() bool {
	return s.Bundled != nil && s.Bundled.Mode == BundledMint && s.AuthToken.IsZero()
}

// Filter implements Filter.
func (m MintTokens) Filter(s *Stream) error {
	var errs []error
	for _, site := range s.Sites {
		if !site.Mints() || site.Bundled.Prepared {
			continue
		}
		if err := m.mint(s, site); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m MintTokens) mint(s *Stream, site *Site) error {
	w := site.Workload
	fix := "or create the runner through the GitLab API (GITLAB_TOKEN, --bundled-runner=api), or leave it alone (--bundled-runner=skip)"
	toolbox := site.Bundled.Toolbox
	switch {
	case toolbox == nil:
		return &Error{Object: w.Ref, Line: w.Line(nil), Problem: "the GitLab chart's toolbox Deployment is not in the rendered manifests, " +
			"and the Job that mints the bundled runner's token runs in a copy of the toolbox pod", Fix: "enable the toolbox (gitlab.toolbox.enabled: true), " + fix}
	case site.Scripts == nil:
		return &Error{Object: w.Ref, Line: w.Line(nil), Field: "spec.template.spec.volumes",
			Problem: "the runner's ConfigMap with the register script is not in the rendered manifests, so the pod cannot be made to wait for the minted token",
			Fix:     "render the runner chart's ConfigMap in the same release, " + fix}
	case site.Generation.InitContainerCopy:
		return &Error{Object: w.Ref, Line: w.Line(nil), Problem: "runner charts before 0.41 copy the token Secret once at start, so the pod would never see the minted token",
			Fix: "upgrade the bundled runner chart, " + fix}
	}
	pod := lookup(toolbox.node, "spec", "template", "spec")
	toolboxContainer := containerNamed(pod, "toolbox")
	if toolboxContainer == nil {
		return &Error{Object: toolbox.Ref, Line: toolbox.Line(nil), Field: "spec.template.spec.containers", Problem: "the toolbox Deployment has no container",
			Fix: "render the GitLab chart's toolbox unchanged, " + fix}
	}
	name := m.Name(site)
	settings, err := json.Marshal(createSettings(site.Spec))
	if err != nil {
		return err
	}
	env := [][2]string{
		{"RUNNER_MIGRATE_SECRET", site.SecretName},
		{"RUNNER_MIGRATE_WORKLOAD", strings.ToLower(w.Kind) + "s/" + w.Name},
		{"RUNNER_MIGRATE_DESCRIPTION", name.Description},
		{"RUNNER_MIGRATE_MARKER", name.Marker},
		{"RUNNER_MIGRATE_FINGERPRINT", site.Spec.Fingerprint()},
		{"RUNNER_MIGRATE_RUNNER_SETTINGS", string(settings)},
	}

	base := mintBaseName(w.Name)
	suffix, err := contentHash(mintScript, mintRuby, env, pod)
	if err != nil {
		return err
	}
	jobName := base + "-" + suffix
	labels := mapping("app", str(base), "release", str(site.Release))
	add := func(n *yaml.Node) { s.addGenerated(w, n) }
	add(mintServiceAccount(base, w.Namespace, labels))
	add(mintRole(base, w, site.SecretName, labels))
	add(mintRoleBinding(base, w.Namespace, labels))
	add(mintConfigMap(jobName, w.Namespace, labels))
	add(mintJob(jobName, base, w.Namespace, labels, pod, toolboxContainer, env))
	site.waitForToken(base)
	return nil
}

// mintBaseName names the Job's ServiceAccount, Role and RoleBinding; the Job and its ConfigMap add a
// content hash. Job names end up in a pod label, so they stay within 63 characters.
func mintBaseName(workload string) string {
	const room = 63 - len("-mint") - 1 - 10
	if len(workload) > room {
		workload = strings.TrimRight(workload[:room], "-.")
	}
	return workload + "-mint"
}

// contentHash names what the Job runs: a Job's pod template cannot change, so a different content
// needs a new Job, and the same content on a later upgrade is the same, completed, Job. It hashes
// values, not YAML text, so Helm 3's and Helm 4's renderings of the same toolbox give the same name.
func contentHash(script, ruby string, env [][2]string, pod *yaml.Node) (string, error) {
	var podValue any
	if err := pod.Decode(&podValue); err != nil {
		return "", err
	}
	data, err := json.Marshal([]any{"v1", script, ruby, env, podValue})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:10], nil
}

// createSettings are the runner's settings in the shape Ci::Runners::CreateRunnerService takes.
func createSettings(spec Spec) map[string]any {
	out := map[string]any{
		"run_untagged": spec.RunUntagged,
		"locked":       spec.Locked,
		"tag_list":     spec.Tags,
		"access_level": spec.AccessLevel,
		"paused":       spec.Paused,
	}
	if spec.AccessLevel == "" {
		out["access_level"] = AccessNotProtected
	}
	if spec.MaximumTimeout > 0 {
		out["maximum_timeout"] = spec.MaximumTimeout
	}
	if spec.MaintenanceNote != "" {
		out["maintenance_note"] = spec.MaintenanceNote
	}
	return out
}

func mintServiceAccount(name, ns string, labels *yaml.Node) *yaml.Node {
	return mapping("apiVersion", str("v1"), "kind", str("ServiceAccount"), "metadata", objectMeta(name, ns, labels))
}

// mintRole grants exactly what the Job does: read and patch the runner's Secret (to write
// runner-token) and its workload (to restart it). Nothing else: no list, no create, no delete, no
// other Secret.
func mintRole(name string, w *Object, secret string, labels *yaml.Node) *yaml.Node {
	rule := func(group, resource, object string) *yaml.Node {
		return mapping("apiGroups", seq(str(group)), "resources", seq(str(resource)), "resourceNames", seq(str(object)),
			"verbs", seq(str("get"), str("patch")))
	}
	return mapping("apiVersion", str("rbac.authorization.k8s.io/v1"), "kind", str("Role"), "metadata", objectMeta(name, w.Namespace, labels),
		"rules", seq(rule("", "secrets", secret), rule("apps", strings.ToLower(w.Kind)+"s", w.Name)))
}

func mintRoleBinding(name, ns string, labels *yaml.Node) *yaml.Node {
	subject := mapping("kind", str("ServiceAccount"), "name", str(name))
	if ns != "" {
		setField(subject, "namespace", str(ns))
	}
	return mapping("apiVersion", str("rbac.authorization.k8s.io/v1"), "kind", str("RoleBinding"), "metadata", objectMeta(name, ns, labels),
		"roleRef", mapping("apiGroup", str("rbac.authorization.k8s.io"), "kind", str("Role"), "name", str(name)),
		"subjects", seq(subject))
}

func mintConfigMap(name, ns string, labels *yaml.Node) *yaml.Node {
	return mapping("apiVersion", str("v1"), "kind", str("ConfigMap"), "metadata", objectMeta(name, ns, labels),
		"data", mapping("mint-runner.sh", literal(mintScript), "mint-runner.rb", literal(mintRuby)))
}

// mintJob builds the Job from the toolbox's pod: its init containers (they assemble the Rails config
// from the chart's Secrets), volumes, security context and scheduling stay; the one container is the
// toolbox container (image, env, mounts, resources) running the mint script through the image's own
// entrypoint (which renders the Rails config), under the Job's ServiceAccount.
func mintJob(name, serviceAccount, ns string, labels, toolboxPod, toolboxContainer *yaml.Node, env [][2]string) *yaml.Node {
	pod := deepCopy(toolboxPod)
	c := deepCopy(toolboxContainer)
	for _, k := range []string{"command", "args", "livenessProbe", "readinessProbe", "startupProbe", "ports", "lifecycle", "stdin", "tty", "workingDir"} {
		removeField(c, k)
	}
	setField(c, "name", str("mint-runner"))
	setField(c, "args", seq(str("/bin/bash"), str(mintScriptsDir+"/mint-runner.sh")))
	vars := ensureSeq(c, "env")
	for _, kv := range env {
		removeEnv(vars, kv[0])
		vars.Content = append(vars.Content, mapping("name", str(kv[0]), "value", str(kv[1])))
	}
	ensureSeq(c, "volumeMounts").Content = append(ensureSeq(c, "volumeMounts").Content,
		mapping("name", str("runner-migrate"), "mountPath", str(mintScriptsDir), "readOnly", boolean(true)))

	setField(pod, "containers", seq(c))
	removeField(pod, "serviceAccount")
	setField(pod, "serviceAccountName", str(serviceAccount))
	setField(pod, "automountServiceAccountToken", boolean(true))
	setField(pod, "restartPolicy", str("Never"))
	ensureSeq(pod, "volumes").Content = append(ensureSeq(pod, "volumes").Content,
		mapping("name", str("runner-migrate"), "configMap", mapping("name", str(name))))

	template := mapping("metadata", mapping("labels", deepCopy(labels)), "spec", pod)
	return mapping("apiVersion", str("batch/v1"), "kind", str("Job"), "metadata", objectMeta(name, ns, labels),
		"spec", mapping("backoffLimit", integer(mintBackoffLimit), "activeDeadlineSeconds", integer(mintDeadlineSeconds), "template", template))
}

// waitForToken makes the runner's register script wait until runner-token holds a token, then
// register with it alone: with the registration token GitLab 17.0 and later answer 410 Gone, and the
// pod would crash-loop. While it waits, the chart's liveness check passes (it counts a running
// register-the-runner as alive).
func (site *Site) waitForToken(job string) {
	reg := lookup(site.Scripts.node, "data", "register-the-runner")
	if reg == nil || strings.Contains(reg.Value, waitForTokenMarker) {
		return
	}
	logs := "kubectl logs -l app=" + job
	if ns := site.Workload.Namespace; ns != "" {
		logs = "kubectl -n " + ns + " logs -l app=" + job
	}
	block := waitForTokenMarker + ". Job " + job + "-<hash> creates the runner in GitLab\n" +
		"# and writes its token into runner-token; until then do not register with the registration token,\n" +
		"# which GitLab 17.0 and later refuse (410 Gone).\n" +
		"waited=0\n" +
		"until [ -s /secrets/runner-token ]; do\n" +
		"  if [ $((waited % 60)) -eq 0 ]; then\n" +
		"    echo \"Waiting for the runner authentication token in /secrets/runner-token (" + logs + ")\"\n" +
		"  fi\n" +
		"  sleep 5\n" +
		"  waited=$((waited + 5))\n" +
		"done\n" +
		"CI_SERVER_TOKEN=$(cat /secrets/runner-token)\n" +
		"export CI_SERVER_TOKEN\n" +
		"unset REGISTRATION_TOKEN\n"
	sc := parseScript(reg.Value)
	at := 0
	if len(sc.lines) > 0 && strings.HasPrefix(sc.lines[0], "#!") {
		at = 1
	}
	eol := "\n"
	if strings.Contains(reg.Value, "\r\n") {
		eol = "\r\n"
		block = strings.ReplaceAll(block, "\n", eol)
	}
	lines := append(append(append([]string{}, sc.lines[:at]...), block, eol), sc.lines[at:]...)
	site.Scripts.setScalar(reg, strings.Join(lines, ""))
}

// addGenerated renders a new object after the workload it serves, under the workload's template name
// (Helm 3's `# Source:` comment, Helm 4's annotation) so that `helm template --show-only` shows it.
func (s *Stream) addGenerated(w *Object, n *yaml.Node) *Object {
	if f := lookup(w.node, "metadata", "annotations", helmPostrenderFilename); f != nil {
		setAnnotation(n, helmPostrenderFilename, f.Value)
	}
	header := []byte("---\n")
	for _, line := range bytes.SplitAfter(w.doc.header, []byte("\n")) {
		if bytes.HasPrefix(bytes.TrimSpace(line), []byte("# Source:")) {
			header = append(append(header, bytes.TrimRight(line, "\r\n")...), '\n')
		}
	}
	doc := &Document{header: header, root: &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{n}},
		line: w.doc.line, changed: true, generated: true}
	after := w.doc
	for i, d := range s.docs {
		// Keep the added documents in the order they were added.
		if d == after {
			for i+1 < len(s.docs) && s.docs[i+1].generated && s.docs[i+1].line == w.doc.line {
				i++
			}
			after = s.docs[i]
			break
		}
	}
	s.insertAfter(after, doc)
	obj := newObject(doc, n)
	s.objects = append(s.objects, obj)
	return obj
}

func containerNamed(pod *yaml.Node, name string) *yaml.Node {
	containers := mappings(items(field(pod, "containers")))
	for _, c := range containers {
		if scalar(field(c, "name")) == name {
			return c
		}
	}
	if len(containers) > 0 {
		return containers[0]
	}
	return nil
}

func objectMeta(name, ns string, labels *yaml.Node) *yaml.Node {
	meta := mapping("name", str(name))
	if ns != "" {
		setField(meta, "namespace", str(ns))
	}
	setField(meta, "labels", deepCopy(labels))
	return meta
}

// mapping builds a mapping from key, value pairs.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		setField(n, kv[i].(string), kv[i+1].(*yaml.Node))
	}
	return n
}

func seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}

func literal(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Style: yaml.LiteralStyle}
}

func integer(v int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}
}

func boolean(v bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}
}
