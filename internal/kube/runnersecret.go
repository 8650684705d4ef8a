package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// MigratedSecret is the live Secret `runner-migrate migrate` keeps for a runner whose values it moved
// off registration for good: the values point the chart at it (runners.secret, or the GitLab chart's
// global.runner.registrationToken.secret), it lives outside the release (Helm neither owns nor
// deletes it), and it holds both keys the chart projects: runner-token, the authentication token,
// and runner-registration-token, empty. It is annotated like the token Secret (so every later run,
// post-render, migrate, rotate, lint of deployed releases, finds the runner through it), marks the
// runner's settings as GitLab's (the values no longer carry them), and is labelled with its release
// as the chart labels its objects. It is no token Secret: rotate writes new tokens into it, as into
// every Secret a runner pod reads.
func MigratedSecret(release gitlab.Release, name string, rec gitlab.Record) *corev1.Secret {
	rec.SettingsOwner = gitlab.SettingsOwnedByGitLab
	s := tokenSecret(release, rec)
	s.Name = name
	s.Labels = map[string]string{"release": release.Name, LabelRelease: release.Name}
	s.Data[rewrite.KeyRegistrationToken] = []byte{}
	return s
}

// Write results.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
)

// WriteSecret creates want, or brings the Secret of its name up to date (its keys and runner-migrate's
// annotations and labels; others' stay). It says which. With dryRun it only reads, and says what it
// would do.
func (s *Store) WriteSecret(ctx context.Context, want *corev1.Secret, dryRun bool) (string, error) {
	have, err := s.get(ctx, want.Namespace, want.Name)
	if err != nil {
		return "", err
	}
	verb := Created
	if have != nil {
		if sameData(have, want) && hasMeta(have.Labels, want.Labels) && hasMeta(have.Annotations, want.Annotations) {
			return Unchanged, nil
		}
		verb = Updated
		merged := have.DeepCopy()
		merged.Data = want.Data
		merged.Type = want.Type
		if merged.Annotations == nil {
			merged.Annotations = map[string]string{}
		}
		if merged.Labels == nil {
			merged.Labels = map[string]string{}
		}
		for k, v := range want.Annotations {
			merged.Annotations[k] = v
		}
		for k, v := range want.Labels {
			merged.Labels[k] = v
		}
		want = merged
	}
	if dryRun {
		return verb, nil
	}
	if verb == Created {
		err = s.Client.createSecret(ctx, want)
	} else {
		err = s.Client.updateSecret(ctx, want)
	}
	if err != nil {
		return "", fmt.Errorf("writing the Secret %s/%s: %w. Fix: let the user create and update Secrets in %s", want.Namespace, want.Name, err, want.Namespace)
	}
	return verb, nil
}

// Secret reads a Secret; a missing one is nil without error.
func (s *Store) Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return s.get(ctx, namespace, name)
}

func sameData(a, b *corev1.Secret) bool {
	if len(a.Data) != len(b.Data) || a.Type != b.Type {
		return false
	}
	for k, v := range b.Data {
		if w, ok := a.Data[k]; !ok || string(w) != string(v) {
			return false
		}
	}
	return true
}

// hasMeta reports whether labels or annotations hold every entry of want.
func hasMeta(have, want map[string]string) bool {
	for k, v := range want {
		if w, ok := have[k]; !ok || w != v {
			return false
		}
	}
	return true
}
