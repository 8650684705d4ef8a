package postrender

import (
	"bytes"
	"regexp"
)

// helmInstallOrder is the order of kinds in which Helm installs a release and prints `helm template`
// (its kind sorter); kinds it does not list come after these.
var helmInstallOrder = []string{"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
	"PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
	"ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service",
	"DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet",
	"Job", "CronJob", "IngressClass", "Ingress", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}

var topLevelKind = regexp.MustCompile(`(?m)^kind:[ \t]*["']?([A-Za-z0-9]+)`)

// NoteFirstPrinted puts a comment line at the top of the documents Helm prints first: those of the
// kind that comes first in Helm's install order. Helm 4 re-sorts a post-renderer's output and keeps
// each document's head comments, so the note is in the first lines Helm shows, the only place a
// post-renderer plugin can say anything to a Helm 4 user (it drops the plugin's stderr).
func NoteFirstPrinted(out []byte, note string) []byte {
	rank := map[string]int{}
	for i, k := range helmInstallOrder {
		rank[k] = i
	}
	docs := splitDocuments(out)
	best := len(helmInstallOrder) + 1
	ranks := make([]int, len(docs))
	for i, d := range docs {
		ranks[i] = len(helmInstallOrder)
		if m := topLevelKind.FindSubmatch(d); m != nil {
			if r, ok := rank[string(m[1])]; ok {
				ranks[i] = r
			}
		}
		if len(bytes.TrimSpace(d)) > 0 {
			best = min(best, ranks[i])
		}
	}
	var b bytes.Buffer
	b.Grow(len(out) + len(note) + 64)
	for i, d := range docs {
		if ranks[i] == best && len(bytes.TrimSpace(d)) > 0 {
			// After the separator line, before the body (and any Source comment).
			if sep, rest, ok := cutSeparator(d); ok {
				b.Write(sep)
				d = rest
			}
			b.WriteString("# " + note + "\n")
		}
		b.Write(d)
	}
	return b.Bytes()
}

// splitDocuments cuts a stream before each `---` line, keeping every byte.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	start := 0
	for i := 0; i < len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		next := len(data)
		if end >= 0 {
			next = i + end + 1
		}
		if i > start && bytes.HasPrefix(data[i:next], []byte("---")) {
			docs = append(docs, data[start:i])
			start = i
		}
		i = next
	}
	return append(docs, data[start:])
}

func cutSeparator(doc []byte) (sep, rest []byte, ok bool) {
	if !bytes.HasPrefix(doc, []byte("---")) {
		return nil, doc, false
	}
	end := bytes.IndexByte(doc, '\n')
	if end < 0 {
		return doc, nil, true
	}
	return doc[:end+1], doc[end+1:], true
}
