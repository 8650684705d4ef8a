package kube

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// What the commands that look after migrated runners read and write in the cluster: the Secrets
// that name a runner, the Helm release records, the runner workloads.

// Helm's annotations on every object it installs (Helm 3.2 and later, Helm 4).
const (
	helmReleaseName      = "meta.helm.sh/release-name"
	helmReleaseNamespace = "meta.helm.sh/release-namespace"
)

// RunnerSecret is a Secret that names a GitLab runner (runner-migrate.io/runner-id): a token Secret
// runner-migrate keeps, or a live Secret a runner pod reads.
type RunnerSecret struct {
	Namespace, Name string
	UID             string
	// TokenSecret: runner-migrate's own token Secret (runner-migrate-<release>-<fingerprint>);
	// otherwise the live Secret Helm installed from the post-renderer's output.
	TokenSecret bool
	// Release is the Helm release the Secret belongs to: a token Secret's runner-migrate.io/release,
	// a live Secret's Helm annotations; Name is "" when neither says.
	Release     gitlab.Release
	RunnerID    int64
	Fingerprint string
	GitLabURL   string
	ExpiresAt   *time.Time
	// RecordedDigest is runner-migrate.io/token-digest: the digest of the token runner-migrate wrote.
	RecordedDigest string
	// Registration is runner-migrate.io/registration-digest (token Secrets).
	Registration string
	Token        token.Token
	// Written is when the Secret was last written (its creation, or its latest managed-field entry).
	Written time.Time
}

// Ref names the Secret for messages: namespace/name.
func (s RunnerSecret) Ref() string { return s.Namespace + "/" + s.Name }

// Record is what the Secret says about its runner, as the post-renderer's stores read it.
func (s RunnerSecret) Record() gitlab.Record {
	return gitlab.Record{RunnerID: s.RunnerID, Token: s.Token, Fingerprint: s.Fingerprint, ExpiresAt: s.ExpiresAt,
		GitLabURL: s.GitLabURL, Registration: s.Registration, Where: s.Ref()}
}

// RunnerSecrets lists the Secrets of a namespace ("" for every namespace) that name a runner. It
// lists metadata only and reads the data of those Secrets alone.
func (c *Client) RunnerSecrets(ctx context.Context, namespace string) ([]RunnerSecret, error) {
	metas, err := c.listMetadata(ctx, "secrets", namespace, "")
	if err != nil {
		return nil, listError("Secrets", namespace, err)
	}
	var out []RunnerSecret
	for _, m := range metas {
		if _, ok := m.Annotations[rewrite.AnnotationRunnerID]; !ok {
			continue
		}
		s, err := c.RunnerSecret(ctx, m.Namespace, m.Name)
		if apierrors.IsNotFound(err) {
			continue // deleted since the list
		}
		if err != nil {
			return nil, err
		}
		if s != nil {
			out = append(out, *s)
		}
	}
	return out, nil
}

// RunnerSecret reads one Secret naming a runner; nil when it names none (or a dry run's placeholder).
func (c *Client) RunnerSecret(ctx context.Context, ns, name string) (*RunnerSecret, error) {
	secret, err := c.getSecret(ctx, ns, name)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, err
		}
		return nil, fmt.Errorf("reading the Secret %s/%s: %w", ns, name, err)
	}
	return runnerSecret(secret), nil
}

func runnerSecret(secret *corev1.Secret) *RunnerSecret {
	ann := secret.Annotations
	id, err := strconv.ParseInt(ann[rewrite.AnnotationRunnerID], 10, 64)
	t := token.New(string(secret.Data[rewrite.KeyRunnerToken]))
	if err != nil || id <= 0 || t.IsPlaceholder() || ann[rewrite.AnnotationPlaceholder] != "" {
		return nil
	}
	s := &RunnerSecret{Namespace: secret.Namespace, Name: secret.Name, UID: string(secret.UID),
		TokenSecret: secret.Labels[LabelManagedBy] == ManagedBy, RunnerID: id,
		Fingerprint: ann[rewrite.AnnotationFingerprint], GitLabURL: ann[AnnotationGitLabURL],
		RecordedDigest: ann[rewrite.AnnotationTokenDigest], Registration: ann[AnnotationRegistration], Token: t,
		Written: secret.CreationTimestamp.Time}
	if at, err := time.Parse(time.RFC3339, ann[rewrite.AnnotationTokenExpiresAt]); err == nil {
		s.ExpiresAt = &at
	}
	for _, f := range secret.ManagedFields {
		if f.Time != nil && f.Time.After(s.Written) {
			s.Written = f.Time.Time
		}
	}
	s.Release = releaseOf(secret.ObjectMeta, s.TokenSecret)
	return s
}

// releaseOf names the release an object belongs to: runner-migrate's annotation on its token
// Secrets, Helm's on what it installs, the charts' release labels.
func releaseOf(m metav1.ObjectMeta, tokenSecret bool) gitlab.Release {
	if tokenSecret {
		if ns, name, ok := cutRelease(m.Annotations[AnnotationRelease]); ok {
			return gitlab.Release{Namespace: ns, Name: name}
		}
	}
	if name := m.Annotations[helmReleaseName]; name != "" {
		ns := m.Annotations[helmReleaseNamespace]
		if ns == "" {
			ns = m.Namespace
		}
		return gitlab.Release{Namespace: ns, Name: name}
	}
	for _, l := range []string{"app.kubernetes.io/instance", "release"} {
		if name := m.Labels[l]; name != "" {
			return gitlab.Release{Namespace: m.Namespace, Name: name}
		}
	}
	return gitlab.Release{Namespace: m.Namespace}
}

func cutRelease(s string) (ns, name string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], i > 0 && i < len(s)-1
		}
	}
	return "", "", false
}

// WriteLiveToken puts a new token into a live Secret (runner-token, with runner-registration-token
// kept empty) and the annotations the post-renderer writes beside it, so the next helm upgrade
// renders the same Secret and changes nothing.
func (c *Client) WriteLiveToken(ctx context.Context, s RunnerSecret, t token.Token, expiresAt *time.Time) error {
	var expires any
	if expiresAt != nil {
		expires = expiresAt.UTC().Format(time.RFC3339)
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{
			"annotations": map[string]any{rewrite.AnnotationTokenDigest: t.Digest("annotation"), rewrite.AnnotationTokenExpiresAt: expires},
		},
		"data": map[string]string{
			rewrite.KeyRunnerToken:       base64.StdEncoding.EncodeToString([]byte(t.Reveal())),
			rewrite.KeyRegistrationToken: "",
		},
	})
	if err != nil {
		return err
	}
	if err := c.patchSecret(ctx, s.Namespace, s.Name, patch); err != nil {
		return fmt.Errorf("writing the new token into the live Secret %s: %w", s.Ref(), err)
	}
	return nil
}

// DeleteRunnerSecret deletes a token Secret, only if it is still the object that was read.
func (c *Client) DeleteRunnerSecret(ctx context.Context, s RunnerSecret) error {
	uid := types.UID(s.UID)
	err := c.deleteSecret(ctx, s.Namespace, s.Name, &metav1.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the Secret %s: %w", s.Ref(), err)
	}
	return nil
}

// ReleaseInstalled reports whether Helm keeps a record of the release in its namespace: a Secret
// (Helm's default storage) or a ConfigMap (HELM_DRIVER=configmap) labelled owner=helm and the
// release's name. helm uninstall removes them (unless --keep-history).
func (c *Client) ReleaseInstalled(ctx context.Context, r gitlab.Release) (bool, error) {
	selector := "owner=helm,name=" + r.Name
	for _, resource := range []string{"secrets", "configmaps"} {
		items, err := c.listMetadata(ctx, resource, r.Namespace, selector)
		if err != nil {
			if resource == "configmaps" && (apierrors.IsForbidden(err) || apierrors.IsNotFound(err)) {
				return false, nil // the default storage said no; ConfigMaps are an option few use
			}
			return false, fmt.Errorf("looking for Helm's record of release %s: %w", r, err)
		}
		if len(items) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// NamespacePlace is the place a namespace's UID names in runner markers (k8s-<12 hex digits>).
func (c *Client) NamespacePlace(ctx context.Context, ns string) (string, error) {
	n, err := c.getNamespace(ctx, ns)
	if err != nil {
		return "", err
	}
	if n.UID == "" {
		return "", fmt.Errorf("namespace %s has no UID", ns)
	}
	return "k8s-" + shortUID(string(n.UID)), nil
}

func listError(what, namespace string, err error) error {
	where := "in namespace " + namespace
	if namespace == "" {
		where = "in any namespace"
	}
	return fmt.Errorf("listing %s %s: %w", what, where, err)
}

// LegacySecret is a runner Secret that still holds a registration token: a release not migrated
// yet. The token is for scope resolution only, never printed.
type LegacySecret struct {
	Namespace, Name string
	Release         gitlab.Release
	Registration    token.Token
}

// Ref names the Secret for messages: namespace/name.
func (s LegacySecret) Ref() string { return s.Namespace + "/" + s.Name }

// LegacySecrets finds the gitlab-runner charts' Secrets in a namespace ("" for every namespace)
// that hold a registration token (the chart's own Secret, labelled with its chart, and the GitLab
// chart's shared <release>-gitlab-runner-secret).
func (c *Client) LegacySecrets(ctx context.Context, namespace string) ([]LegacySecret, error) {
	metas, err := c.listMetadata(ctx, "secrets", namespace, "")
	if err != nil {
		return nil, listError("Secrets", namespace, err)
	}
	var out []LegacySecret
	for _, m := range metas {
		chart := cmp.Or(m.Labels["chart"], m.Labels["helm.sh/chart"])
		if _, migrated := m.Annotations[rewrite.AnnotationRunnerID]; migrated ||
			!(strings.HasPrefix(chart, "gitlab-runner-") || strings.HasSuffix(m.Name, "-gitlab-runner-secret")) {
			continue
		}
		secret, err := c.getSecret(ctx, m.Namespace, m.Name)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the Secret %s/%s: %w", m.Namespace, m.Name, err)
		}
		reg := token.New(string(secret.Data[rewrite.KeyRegistrationToken]))
		if reg.IsZero() || reg.IsAuthentication() || token.New(string(secret.Data[rewrite.KeyRunnerToken])).IsAuthentication() {
			continue
		}
		out = append(out, LegacySecret{Namespace: m.Namespace, Name: m.Name, Release: releaseOf(secret.ObjectMeta, false), Registration: reg})
	}
	return out, nil
}
