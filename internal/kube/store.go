package kube

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// Annotations and labels of the token Secrets runner-migrate keeps (besides the rewrite package's,
// which the live Secrets carry too).
const (
	AnnotationGitLabURL    = rewrite.AnnotationGitLabURL
	AnnotationRelease      = "runner-migrate.io/release"
	AnnotationRegistration = "runner-migrate.io/registration-digest"
	// AnnotationSettingsOwner "gitlab" marks the Secrets of a runner whose settings GitLab owns: the
	// values no longer carry them (runner-migrate migrate removed them), so reuse leaves them alone.
	AnnotationSettingsOwner = "runner-migrate.io/settings-owner"
	LabelManagedBy          = "app.kubernetes.io/managed-by"
	ManagedBy               = "runner-migrate"
	LabelRelease            = "runner-migrate.io/release"
)

// Store is the gitlab.Store in the cluster. A runner's token lives in two Secrets there: the live
// one the runner pod reads (written by Helm from the post-renderer's output), and a token Secret
// runner-migrate writes itself the moment GitLab hands the token out, before Helm applies anything.
// The token Secret is what makes a token durable: a run that dies, an upgrade that fails or is rolled
// back, and a run waiting on the Lease all find the token there instead of an orphaned runner.
type Store struct {
	Client *Client
	// Namespace is the run's namespace, whose UID names the cluster when kube-system's cannot be read.
	Namespace string
	// Fallback: another store (a state file) also keeps tokens, so a cluster that refuses or cannot
	// be reached is a warning rather than an error.
	Fallback bool
	// LeaseDuration bounds how long a dead run's Lease blocks others (default 15s); LockWait bounds how
	// long a run waits for a live holder (default 2m, within the run's deadline).
	LeaseDuration, LockWait time.Duration
	// Holder identifies this run in Leases.
	Holder string
	Warn   func(string)

	placeOnce sync.Once
	place     string
	placeErr  error
}

// Name implements gitlab.Store.
func (s *Store) Name() string { return "the cluster at " + s.Client.Host }

// TokenSecretName names the Secret runner-migrate keeps a release's runner token in, one per spec.
func TokenSecretName(release, fingerprint string) string {
	return "runner-migrate-" + release + "-" + fingerprint
}

// Place implements gitlab.Store: the cluster's identity, the UID of its kube-system namespace, or
// of the run's namespace where kube-system cannot be read (a namespace-scoped user).
func (s *Store) Place(ctx context.Context) (string, error) {
	s.placeOnce.Do(func() {
		var errs []error
		for _, ns := range []string{"kube-system", s.Namespace} {
			if ns == "" {
				continue
			}
			place, err := s.Client.NamespacePlace(ctx, ns)
			if err == nil {
				s.place = place
				return
			}
			errs = append(errs, err)
		}
		s.placeErr = fmt.Errorf("the cluster's identity (the UID of namespace kube-system, or of %s) cannot be read: %w", s.Namespace, errors.Join(errs...))
	})
	return s.place, s.placeErr
}

func shortUID(uid string) string {
	u := strings.ReplaceAll(uid, "-", "")
	if len(u) > 12 {
		u = u[:12]
	}
	return u
}

// Lookup implements gitlab.Store. The token Secret of the spec wins over the live Secret: it is
// written first, so it holds the newest token (a rotation whose upgrade failed, say). A live Secret
// from an earlier spec of the workload (tags changed) names the runner to update, and its token
// comes from that spec's token Secret when there is one.
func (s *Store) Lookup(ctx context.Context, req tokensource.Request, release gitlab.Release) (gitlab.Record, bool, error) {
	fp := req.Fingerprint()
	kept, ok, err := s.tokenSecret(ctx, release, fp)
	if err != nil || ok {
		return kept, ok, err
	}
	for _, site := range req.Sites {
		rec, ok, err := s.liveRecord(ctx, site, release.Namespace)
		if err != nil {
			return gitlab.Record{}, false, err
		}
		if !ok {
			continue // not deployed yet; another workload of the spec may hold the token
		}
		if rec.Fingerprint != "" && rec.Fingerprint != fp {
			if older, ok, err := s.tokenSecret(ctx, release, rec.Fingerprint); err != nil {
				return gitlab.Record{}, false, err
			} else if ok && older.RunnerID == rec.RunnerID {
				return older, true, nil
			}
		}
		return rec, true, nil
	}
	return gitlab.Record{}, false, nil
}

// liveRecord reads the runner record of the Secret a site's pod reads its token from once migrated
// and, when that is another, of the Secret it mounts now (runners.secret, the GitLab chart's
// shared-secrets Secret into which the minting Job writes the token it made).
func (s *Store) liveRecord(ctx context.Context, site *rewrite.Site, ns string) (gitlab.Record, bool, error) {
	_, name := site.TokenSecret()
	names := []string{name}
	if site.Carrier == rewrite.CarrierExternalSecret && site.SecretName != "" && site.SecretName != name {
		names = append(names, site.SecretName)
	}
	for _, n := range names {
		secret, err := s.get(ctx, ns, n)
		if err != nil {
			return gitlab.Record{}, false, err
		}
		if rec, ok := s.record(secret, "live Secret"); ok {
			return rec, true, nil
		}
	}
	return gitlab.Record{}, false, nil
}

func (s *Store) tokenSecret(ctx context.Context, release gitlab.Release, fp string) (gitlab.Record, bool, error) {
	secret, err := s.get(ctx, release.Namespace, TokenSecretName(release.Name, fp))
	if err != nil {
		return gitlab.Record{}, false, err
	}
	rec, ok := s.record(secret, "token Secret")
	return rec, ok, nil
}

// record reads a runner record from a Secret: an authentication token and the runner's id. A dry
// run's placeholder is never a runner's token.
func (s *Store) record(secret *corev1.Secret, what string) (gitlab.Record, bool) {
	if secret == nil {
		return gitlab.Record{}, false
	}
	t := token.New(string(secret.Data[rewrite.KeyRunnerToken]))
	id, perr := strconv.ParseInt(secret.Annotations[rewrite.AnnotationRunnerID], 10, 64)
	if t.IsPlaceholder() || secret.Annotations[rewrite.AnnotationPlaceholder] != "" {
		s.warn(fmt.Sprintf("%s %s/%s holds a dry run's placeholder token (a dry-run output was deployed); it is ignored and the runner's token is put back", what, secret.Namespace, secret.Name))
		return gitlab.Record{}, false
	}
	if !t.IsAuthentication() || perr != nil || id <= 0 {
		return gitlab.Record{}, false
	}
	rec := gitlab.Record{RunnerID: id, Token: t, Fingerprint: secret.Annotations[rewrite.AnnotationFingerprint],
		GitLabURL: secret.Annotations[AnnotationGitLabURL], Registration: secret.Annotations[AnnotationRegistration],
		SettingsOwner: secret.Annotations[AnnotationSettingsOwner], Where: fmt.Sprintf("%s %s/%s", what, secret.Namespace, secret.Name)}
	if at, err := time.Parse(time.RFC3339, secret.Annotations[rewrite.AnnotationTokenExpiresAt]); err == nil {
		rec.ExpiresAt = &at
	}
	return rec, true
}

// Save implements gitlab.Store: the token Secret of the spec, created or brought up to date (no
// write when it already says the same). A token Secret of the runner's former spec goes.
func (s *Store) Save(ctx context.Context, _ tokensource.Request, release gitlab.Release, rec gitlab.Record) error {
	return s.Keep(ctx, release, rec)
}

// Keep writes the token Secret of a release's runner, as Save does for a post-render (rotate keeps
// a reset token the same way, so later post-renders read it).
func (s *Store) Keep(ctx context.Context, release gitlab.Release, rec gitlab.Record) error {
	want := tokenSecret(release, rec)
	have, err := s.get(ctx, want.Namespace, want.Name)
	if err != nil {
		return err
	}
	switch {
	case have == nil:
		err = s.Client.createSecret(ctx, want)
	case !sameTokenSecret(have, want):
		want.ResourceVersion = have.ResourceVersion
		err = s.Client.updateSecret(ctx, want)
	}
	if apierrors.IsNotFound(err) {
		// The namespace does not exist yet (helm --create-namespace makes it after the render): the
		// token lives in the release's output only until it is deployed. A run that dies first leaves
		// a fresh runner carrying this place's marker, which the next run adopts.
		s.warn(fmt.Sprintf("namespace %s does not exist yet (helm --create-namespace creates it after the render), so the token is kept in the release's own Secret only", want.Namespace))
		return nil
	}
	if err != nil {
		return s.refused(fmt.Errorf("writing the token Secret %s/%s, where runner-migrate keeps the token the moment GitLab hands it out: %w. "+
			"Fix: let the user Helm runs as create and update Secrets in %s, or keep tokens with --state-file", want.Namespace, want.Name, err, want.Namespace))
	}
	if rec.Supersedes != "" && rec.Supersedes != rec.Fingerprint {
		old, err := s.get(ctx, release.Namespace, TokenSecretName(release.Name, rec.Supersedes))
		if err == nil && old != nil && old.Annotations[rewrite.AnnotationRunnerID] == strconv.FormatInt(rec.RunnerID, 10) {
			if err := s.Client.deleteSecret(ctx, old.Namespace, old.Name, &metav1.Preconditions{UID: &old.UID}); err != nil && !apierrors.IsNotFound(err) {
				s.warn(fmt.Sprintf("removing the token Secret %s/%s of the runner's former spec: %v", old.Namespace, old.Name, err))
			}
		}
	}
	return nil
}

func tokenSecret(release gitlab.Release, rec gitlab.Record) *corev1.Secret {
	ann := map[string]string{
		rewrite.AnnotationRunnerID:    strconv.FormatInt(rec.RunnerID, 10),
		rewrite.AnnotationFingerprint: rec.Fingerprint,
		rewrite.AnnotationTokenDigest: rec.Token.Digest("annotation"),
		AnnotationGitLabURL:           rec.GitLabURL,
		AnnotationRelease:             release.String(),
	}
	if rec.Registration != "" {
		ann[AnnotationRegistration] = rec.Registration
	}
	if rec.ExpiresAt != nil {
		ann[rewrite.AnnotationTokenExpiresAt] = rec.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if rec.SettingsOwner != "" {
		ann[AnnotationSettingsOwner] = rec.SettingsOwner
	}
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: TokenSecretName(release.Name, rec.Fingerprint), Namespace: release.Namespace,
			Labels:      map[string]string{LabelManagedBy: ManagedBy, LabelRelease: release.Name},
			Annotations: ann},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{rewrite.KeyRunnerToken: []byte(rec.Token.Reveal())},
	}
}

func sameTokenSecret(a, b *corev1.Secret) bool {
	if string(a.Data[rewrite.KeyRunnerToken]) != string(b.Data[rewrite.KeyRunnerToken]) {
		return false
	}
	for k, v := range b.Annotations {
		if a.Annotations[k] != v {
			return false
		}
	}
	return a.Labels[LabelManagedBy] == ManagedBy
}

// LegacyToken implements gitlab.LegacyTokenReader: the registration token in the live Secret a
// release mounts without rendering it (runners.secret, or the GitLab chart's shared-secrets Secret).
func (s *Store) LegacyToken(ctx context.Context, site *rewrite.Site, namespace string) (token.Token, error) {
	if site.SecretName == "" {
		return token.Token{}, nil
	}
	secret, err := s.get(ctx, namespace, site.SecretName)
	if err != nil || secret == nil {
		return token.Token{}, err
	}
	t := token.New(string(secret.Data[rewrite.KeyRegistrationToken]))
	if t.IsAuthentication() {
		return token.Token{}, nil
	}
	return t, nil
}

// get reads a Secret; a missing one is nil without error. A refused or failed read is an error, or
// (with a fallback store) a warning and no Secret.
func (s *Store) get(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	secret, err := s.Client.getSecret(ctx, ns, name)
	switch {
	case err == nil:
		return secret, nil
	case apierrors.IsNotFound(err):
		return nil, nil
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		return nil, s.refused(fmt.Errorf("reading the Secret %s/%s, where the runner's token lives: %s. Fix: let the user Helm runs as get Secrets in %s",
			ns, name, apierrors.ReasonForError(err), ns))
	}
	return nil, s.refused(fmt.Errorf("reading the Secret %s/%s: %w", ns, name, err))
}

// refused turns a failure to use the cluster into a warning when a state file keeps tokens too.
func (s *Store) refused(err error) error {
	if s.Fallback {
		s.warn(err.Error() + "; carrying on with the state file")
		return nil
	}
	return err
}

func (s *Store) warn(msg string) {
	if s.Warn != nil {
		s.Warn(msg)
	}
}
