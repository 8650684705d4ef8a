// Package kube reads the live Kubernetes Secrets runner pods take their tokens from: the home of a
// migrated runner's token between Helm upgrades.
package kube

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// ErrNoCluster means no kubeconfig (nor in-cluster service account) names a cluster.
var ErrNoCluster = errors.New("no Kubernetes cluster is configured (KUBECONFIG, ~/.kube/config or in-cluster)")

// Config loads the Kubernetes client configuration for a kubeconfig context (empty: the current one);
// Target.Config has the details.
func Config(kubeContext string) (*rest.Config, string, error) {
	return Target{Context: kubeContext}.Config()
}

// LiveSecrets is the gitlab.Store of tokens in the live Secrets the runner pods read. Helm writes
// those Secrets from the post-renderer's output, so Save has nothing to do.
type LiveSecrets struct {
	Client kubernetes.Interface
	// Namespace is used for objects the manifests leave without one (the release namespace).
	Namespace string
	// Unreachable decides what a failure to reach the cluster means: return nil to carry on
	// without the cluster (another store keeps the tokens), or an error to stop.
	Unreachable func(error) error
}

// Name implements gitlab.Store.
func (l *LiveSecrets) Name() string { return "the live Secret" }

// Lookup implements gitlab.Store: a live token Secret of one of the sites that holds an
// authentication token and names its runner.
func (l *LiveSecrets) Lookup(ctx context.Context, req tokensource.Request) (gitlab.Record, bool, error) {
	for _, site := range req.Sites {
		ns, name := site.TokenSecret()
		secret, err := l.get(ctx, ns, name)
		if err != nil {
			return gitlab.Record{}, false, err
		}
		if secret == nil {
			continue // not deployed yet; another workload of the spec may hold the token
		}
		t := token.New(string(secret.Data[rewrite.KeyRunnerToken]))
		id, perr := strconv.ParseInt(secret.Annotations[rewrite.AnnotationRunnerID], 10, 64)
		if !t.IsAuthentication() || perr != nil || id <= 0 {
			continue
		}
		rec := gitlab.Record{RunnerID: id, Token: t, Fingerprint: secret.Annotations[rewrite.AnnotationFingerprint],
			Where: fmt.Sprintf("live Secret %s/%s", secret.Namespace, secret.Name)}
		if at, err := time.Parse(time.RFC3339, secret.Annotations[rewrite.AnnotationTokenExpiresAt]); err == nil {
			rec.ExpiresAt = &at
		}
		return rec, true, nil
	}
	return gitlab.Record{}, false, nil
}

// Save implements gitlab.Store.
func (l *LiveSecrets) Save(context.Context, tokensource.Request, gitlab.Record) error { return nil }

// LegacyToken implements gitlab.LegacyTokenReader: the registration token in the live Secret a
// release mounts without rendering it (runners.secret, or the GitLab chart's shared-secrets Secret).
func (l *LiveSecrets) LegacyToken(ctx context.Context, site *rewrite.Site) (token.Token, error) {
	if site.SecretName == "" {
		return token.Token{}, nil
	}
	secret, err := l.get(ctx, site.Workload.Namespace, site.SecretName)
	if err != nil || secret == nil {
		return token.Token{}, err
	}
	t := token.New(string(secret.Data[rewrite.KeyRegistrationToken]))
	if t.IsAuthentication() {
		return token.Token{}, nil
	}
	return t, nil
}

// get reads a Secret; a missing one is nil without error.
func (l *LiveSecrets) get(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	if ns == "" {
		ns = l.Namespace
	}
	if ns == "" {
		ns = "default"
	}
	secret, err := l.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		return nil, fmt.Errorf("reading the live Secret %s/%s, where the runner's token lives: %v. Fix: let the user Helm runs as get Secrets in %s", ns, name, apierrors.ReasonForError(err), ns)
	case err != nil && apierrors.ReasonForError(err) == metav1.StatusReasonUnknown:
		// No answer from the API server at all.
		if l.Unreachable != nil {
			return nil, l.Unreachable(fmt.Errorf("reading the live Secret %s/%s: %w", ns, name, err))
		}
		return nil, fmt.Errorf("reading the live Secret %s/%s: %w", ns, name, err)
	case err != nil:
		return nil, fmt.Errorf("reading the live Secret %s/%s: %w", ns, name, err)
	}
	return secret, nil
}
