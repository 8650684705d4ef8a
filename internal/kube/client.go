package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// Client reaches the few resources runner-migrate uses: Secrets, Leases and Namespaces, and for the
// commands that look after migrated runners, Deployments, StatefulSets and access reviews. It is
// built on client-go's REST client with a scheme of just the first three types, rather than the
// generated clientset, whose scheme registers every API group at start-up: a post-renderer starts on
// every helm template, so what it links costs every run. The rest travel as JSON into small local
// types (workloads.go, access.go), which link nothing.
type Client struct {
	core, coordination, apps, authorization rest.Interface
	Host                                    string
}

var scheme = runtime.NewScheme()

func init() {
	// Errors here would be programming errors in the two register calls.
	_ = corev1.AddToScheme(scheme)
	_ = coordinationv1.AddToScheme(scheme)
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
}

// NewClient makes a client for a cluster's REST configuration.
func NewClient(cfg *rest.Config) (*Client, error) {
	base := rest.CopyConfig(cfg)
	if base.Timeout == 0 {
		base.Timeout = 15 * time.Second
	}
	base.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	base.UserAgent = "runner-migrate"
	httpClient, err := rest.HTTPClientFor(base)
	if err != nil {
		return nil, err
	}
	mk := func(apiPath string, gv schema.GroupVersion) (rest.Interface, error) {
		c := rest.CopyConfig(base)
		c.APIPath, c.GroupVersion = apiPath, &gv
		return rest.RESTClientForConfigAndClient(c, httpClient)
	}
	core, err := mk("/api", corev1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	coord, err := mk("/apis", coordinationv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	apps, err := mk("/apis", schema.GroupVersion{Group: "apps", Version: "v1"})
	if err != nil {
		return nil, err
	}
	authz, err := mk("/apis", schema.GroupVersion{Group: "authorization.k8s.io", Version: "v1"})
	if err != nil {
		return nil, err
	}
	return &Client{core: core, coordination: coord, apps: apps, authorization: authz, Host: cfg.Host}, nil
}

func (c *Client) getSecret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	err := c.core.Get().Namespace(ns).Resource("secrets").Name(name).Do(ctx).Into(&s)
	return &s, err
}

func (c *Client) createSecret(ctx context.Context, s *corev1.Secret) error {
	return c.core.Post().Namespace(s.Namespace).Resource("secrets").Body(s).Do(ctx).Error()
}

func (c *Client) updateSecret(ctx context.Context, s *corev1.Secret) error {
	return c.core.Put().Namespace(s.Namespace).Resource("secrets").Name(s.Name).Body(s).Do(ctx).Error()
}

func (c *Client) deleteSecret(ctx context.Context, ns, name string, precondition *metav1.Preconditions) error {
	return c.core.Delete().Namespace(ns).Resource("secrets").Name(name).Body(&metav1.DeleteOptions{Preconditions: precondition}).Do(ctx).Error()
}

func (c *Client) getNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	var n corev1.Namespace
	err := c.core.Get().Resource("namespaces").Name(name).Do(ctx).Into(&n)
	return &n, err
}

// patchSecret applies a JSON merge patch to a Secret.
func (c *Client) patchSecret(ctx context.Context, ns, name string, patch []byte) error {
	return c.core.Patch(types.MergePatchType).Namespace(ns).Resource("secrets").Name(name).Body(patch).Do(ctx).Error()
}

// metadataAccept asks the API server for the objects' metadata only: a list of Secrets then carries
// no Secret's data, which runner-migrate does not want to hold for Secrets that are not its own.
const metadataAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"

// listMetadata lists the metadata of a core resource in a namespace ("" for all), page by page.
func (c *Client) listMetadata(ctx context.Context, resource, ns, labelSelector string) ([]metav1.PartialObjectMetadata, error) {
	var out []metav1.PartialObjectMetadata
	cont := ""
	for {
		req := c.core.Get().Resource(resource).SetHeader("Accept", metadataAccept).Param("limit", "500")
		if ns != "" {
			req = req.Namespace(ns)
		}
		if labelSelector != "" {
			req = req.Param("labelSelector", labelSelector)
		}
		if cont != "" {
			req = req.Param("continue", cont)
		}
		raw, err := req.DoRaw(ctx)
		if err != nil {
			return nil, err
		}
		var page metav1.PartialObjectMetadataList
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, fmt.Errorf("reading the list of %s: %w", resource, err)
		}
		out = append(out, page.Items...)
		if cont = page.Continue; cont == "" {
			return out, nil
		}
	}
}

func (c *Client) getLease(ctx context.Context, ns, name string) (*coordinationv1.Lease, error) {
	var l coordinationv1.Lease
	err := c.coordination.Get().Namespace(ns).Resource("leases").Name(name).Do(ctx).Into(&l)
	return &l, err
}

func (c *Client) createLease(ctx context.Context, l *coordinationv1.Lease) error {
	return c.coordination.Post().Namespace(l.Namespace).Resource("leases").Body(l).Do(ctx).Error()
}

func (c *Client) updateLease(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	var out coordinationv1.Lease
	err := c.coordination.Put().Namespace(l.Namespace).Resource("leases").Name(l.Name).Body(l).Do(ctx).Into(&out)
	return &out, err
}

func (c *Client) deleteLease(ctx context.Context, ns, name string, precondition *metav1.Preconditions) error {
	return c.coordination.Delete().Namespace(ns).Resource("leases").Name(name).Body(&metav1.DeleteOptions{Preconditions: precondition}).Do(ctx).Error()
}
