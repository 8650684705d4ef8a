package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/types"

	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Workload is a runner Deployment or StatefulSet the post-renderer migrated (its pod template
// carries runner-migrate.io/fingerprint).
type Workload struct {
	Kind, Namespace, Name string
	Fingerprint           string
	// TokenDigest is the pod template's runner-migrate.io/token-digest: the token its pods were
	// rolled for.
	TokenDigest string
	// Secrets are the Secrets its pods read (volumes, projected volumes, env and envFrom).
	Secrets    []string
	Generation int64
}

// Ref names the workload for messages: "Deployment ns/name".
func (w Workload) Ref() string { return w.Kind + " " + w.Namespace + "/" + w.Name }

// Reads reports whether the workload's pods read the Secret.
func (w Workload) Reads(secret string) bool { return slices.Contains(w.Secrets, secret) }

// workloadJSON is the part of a Deployment or StatefulSet runner-migrate reads. Decoding into it
// rather than the apps/v1 types keeps the API group out of the binary the post-renderer starts.
type workloadJSON struct {
	Metadata struct {
		Name       string `json:"name"`
		Namespace  string `json:"namespace"`
		Generation int64  `json:"generation"`
	} `json:"metadata"`
	Spec struct {
		Template struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
			Spec struct {
				Volumes []struct {
					Secret *struct {
						SecretName string `json:"secretName"`
					} `json:"secret"`
					Projected *struct {
						Sources []struct {
							Secret *struct {
								Name string `json:"name"`
							} `json:"secret"`
						} `json:"sources"`
					} `json:"projected"`
				} `json:"volumes"`
				Containers     []containerJSON `json:"containers"`
				InitContainers []containerJSON `json:"initContainers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

type containerJSON struct {
	Env []struct {
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `json:"name"`
			} `json:"secretKeyRef"`
		} `json:"valueFrom"`
	} `json:"env"`
	EnvFrom []struct {
		SecretRef *struct {
			Name string `json:"name"`
		} `json:"secretRef"`
	} `json:"envFrom"`
}

func (w *workloadJSON) secrets() []string {
	var out []string
	add := func(name string) {
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	pod := w.Spec.Template.Spec
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			add(v.Secret.SecretName)
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					add(src.Secret.Name)
				}
			}
		}
	}
	for _, c := range append(slices.Clone(pod.Containers), pod.InitContainers...) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				add(e.ValueFrom.SecretKeyRef.Name)
			}
		}
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				add(e.SecretRef.Name)
			}
		}
	}
	return out
}

// workloadResources are the kinds a runner runs as, with their API resource names.
var workloadResources = []struct{ kind, resource string }{{"Deployment", "deployments"}, {"StatefulSet", "statefulsets"}}

// RunnerWorkloads lists the Deployments and StatefulSets of a namespace ("" for all) that the
// post-renderer migrated.
func (c *Client) RunnerWorkloads(ctx context.Context, namespace string) ([]Workload, error) {
	var out []Workload
	for _, wr := range workloadResources {
		cont := ""
		for {
			req := c.apps.Get().Resource(wr.resource).Param("limit", "500")
			if namespace != "" {
				req = req.Namespace(namespace)
			}
			if cont != "" {
				req = req.Param("continue", cont)
			}
			raw, err := req.DoRaw(ctx)
			if err != nil {
				return nil, listError(wr.kind+"s", namespace, err)
			}
			var page struct {
				Metadata struct {
					Continue string `json:"continue"`
				} `json:"metadata"`
				Items []workloadJSON `json:"items"`
			}
			if err := json.Unmarshal(raw, &page); err != nil {
				return nil, fmt.Errorf("reading the list of %ss: %w", wr.kind, err)
			}
			for _, item := range page.Items {
				ann := item.Spec.Template.Metadata.Annotations
				if ann[rewrite.AnnotationFingerprint] == "" {
					continue
				}
				out = append(out, Workload{Kind: wr.kind, Namespace: item.Metadata.Namespace, Name: item.Metadata.Name,
					Fingerprint: ann[rewrite.AnnotationFingerprint], TokenDigest: ann[rewrite.AnnotationTokenDigest],
					Secrets: item.secrets(), Generation: item.Metadata.Generation})
			}
			if cont = page.Metadata.Continue; cont == "" {
				break
			}
		}
	}
	return out, nil
}

// RollWorkload sets the pod template's runner-migrate.io/token-digest, which rolls the pods: the
// value the post-renderer renders for the same token, so the next helm upgrade changes nothing.
func (c *Client) RollWorkload(ctx context.Context, w Workload, tokenDigest string) error {
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{rewrite.AnnotationTokenDigest: tokenDigest}}}}})
	if err != nil {
		return err
	}
	resource := "deployments"
	if w.Kind == "StatefulSet" {
		resource = "statefulsets"
	}
	err = c.apps.Patch(types.MergePatchType).Namespace(w.Namespace).Resource(resource).Name(w.Name).Body(patch).Do(ctx).Error()
	if err != nil {
		return fmt.Errorf("rolling %s (pod template annotation %s): %w", w.Ref(), rewrite.AnnotationTokenDigest, err)
	}
	return nil
}
