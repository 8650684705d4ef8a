package kube

import (
	"context"
	"encoding/json"
	"fmt"
)

// Access is one right runner-migrate may need: a verb on a resource (in an API group) in a
// namespace ("" for cluster-wide), optionally on one named object.
type Access struct {
	Verb, Group, Resource, Namespace, Name string
}

func (a Access) String() string {
	what := a.Resource
	if a.Group != "" {
		what += "." + a.Group
	}
	if a.Name != "" {
		what += "/" + a.Name
	}
	where := "in every namespace"
	if a.Namespace != "" {
		where = "in " + a.Namespace
	}
	return fmt.Sprintf("%s %s %s", a.Verb, what, where)
}

// Can asks the API server whether the user runner-migrate runs as has the right
// (SelfSubjectAccessReview, which every authenticated user may create). reason is the
// authorizer's explanation, when it gives one.
func (c *Client) Can(ctx context.Context, a Access) (allowed bool, reason string, err error) {
	review := map[string]any{
		"apiVersion": "authorization.k8s.io/v1",
		"kind":       "SelfSubjectAccessReview",
		"spec": map[string]any{"resourceAttributes": map[string]string{
			"verb": a.Verb, "group": a.Group, "resource": a.Resource, "namespace": a.Namespace, "name": a.Name,
		}},
	}
	body, err := json.Marshal(review)
	if err != nil {
		return false, "", err
	}
	raw, err := c.authorization.Post().Resource("selfsubjectaccessreviews").Body(body).DoRaw(ctx)
	if err != nil {
		return false, "", fmt.Errorf("asking the API server whether runner-migrate may %s: %w", a, err)
	}
	var out struct {
		Status struct {
			Allowed bool   `json:"allowed"`
			Reason  string `json:"reason"`
		} `json:"status"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return false, "", fmt.Errorf("reading the access review: %w", err)
	}
	return out.Status.Allowed, out.Status.Reason, nil
}

// ServerVersion is the API server's version (GET /version, open to every authenticated user).
func (c *Client) ServerVersion(ctx context.Context) (string, error) {
	raw, err := c.core.Get().AbsPath("/version").DoRaw(ctx)
	if err != nil {
		return "", err
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("reading the API server's version: %w", err)
	}
	return v.GitVersion, nil
}
