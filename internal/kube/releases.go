package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/releases"
)

// HelmStorageType is the type of the Secrets Helm 3 and 4 keep releases in.
const HelmStorageType = "helm.sh/release.v1"

// HelmRecords lists the release records Helm keeps in namespace ("" for every namespace), as both
// drivers label them (owner=helm), narrowed by selector (status=deployed,name=ci). Secrets are
// Helm's default driver: not being allowed to list them is an error that names the permission. The
// ConfigMap driver is rare: not being allowed to list ConfigMaps skips it.
func (c *Client) HelmRecords(ctx context.Context, namespace, selector string) ([]releases.Record, error) {
	sel := "owner=helm"
	if selector != "" {
		sel += "," + selector
	}
	opts := &metav1.ListOptions{LabelSelector: sel}
	where := "namespace " + namespace
	if namespace == "" {
		where = "all namespaces"
	}
	var secrets corev1.SecretList
	if err := c.core.Get().Namespace(namespace).Resource("secrets").VersionedParams(opts, metav1.ParameterCodec).Do(ctx).Into(&secrets); err != nil {
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			return nil, fmt.Errorf("listing Helm's releases (Secrets labelled owner=helm) in %s: %s. Fix: let the user list secrets there",
				where, apierrors.ReasonForError(err))
		}
		return nil, fmt.Errorf("listing Helm's releases in %s: %w", where, err)
	}
	var out []releases.Record
	for _, s := range secrets.Items {
		if s.Type == HelmStorageType {
			out = append(out, releases.Record{Driver: "Secret", Namespace: s.Namespace, Name: s.Name, Labels: s.Labels, Payload: s.Data["release"]})
		}
	}
	var maps corev1.ConfigMapList
	err := c.core.Get().Namespace(namespace).Resource("configmaps").VersionedParams(opts, metav1.ParameterCodec).Do(ctx).Into(&maps)
	switch {
	case apierrors.IsForbidden(err):
	case err != nil:
		return nil, fmt.Errorf("listing Helm's releases (ConfigMaps labelled owner=helm) in %s: %w", where, err)
	}
	for _, m := range maps.Items {
		out = append(out, releases.Record{Driver: "ConfigMap", Namespace: m.Namespace, Name: m.Name, Labels: m.Labels, Payload: []byte(m.Data["release"])})
	}
	return out, nil
}
