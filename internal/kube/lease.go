package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
)

// Lock implements gitlab.Store with a Lease (coordination.k8s.io/v1) named like the spec's token
// Secret, in the release namespace. Two `helm upgrade`s of one release at once would otherwise both
// find no runner and both create one. The holder renews the Lease while it works and gives it up
// when done; a holder that died (SIGKILL) stops renewing, and its Lease is taken over once it has
// not been renewed for its duration. It needs get, create and update on leases.
func (s *Store) Lock(ctx context.Context, release gitlab.Release, fingerprint string) (func(), error) {
	duration := s.LeaseDuration
	if duration <= 0 {
		duration = 15 * time.Second
	}
	wait := s.LockWait
	if wait <= 0 {
		wait = 2 * time.Minute
	}
	name := TokenSecretName(release.Name, fingerprint)
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var holder string
	for {
		lease, err := s.acquire(waitCtx, release.Namespace, name, duration)
		if err == nil {
			return s.keep(ctx, lease, duration), nil
		}
		var busy *heldError
		switch {
		case errors.As(err, &busy):
			if holder != busy.holder {
				holder = busy.holder
				s.warn(fmt.Sprintf("waiting for Lease %s/%s, held by %s (another run provisioning the same runner)", release.Namespace, name, holder))
			}
		case apierrors.IsForbidden(err):
			s.warn(fmt.Sprintf("cannot use Lease %s/%s (%s), so runs at the same time are not serialised; grant get, create and update on leases in %s",
				release.Namespace, name, apierrors.ReasonForError(err), release.Namespace))
			return func() {}, nil
		case apierrors.IsNotFound(err):
			// The namespace does not exist yet: helm --create-namespace makes it after rendering.
			s.warn(fmt.Sprintf("namespace %s does not exist yet (helm --create-namespace creates it after the render), so this first run is not serialised with others by a Lease", release.Namespace))
			return func() {}, nil
		case apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err):
			// Another run changed the Lease between our read and write: read it again.
		default:
			if waitCtx.Err() == nil {
				if err := s.refused(fmt.Errorf("taking Lease %s/%s: %w", release.Namespace, name, err)); err != nil {
					return nil, err
				}
				return func() {}, nil
			}
		}
		select {
		case <-waitCtx.Done():
			if ctx.Err() != nil {
				return nil, fmt.Errorf("waiting for Lease %s/%s: %w", release.Namespace, name, ctx.Err())
			}
			return nil, fmt.Errorf("Lease %s/%s is still held by %s after %s: another run is provisioning the same runner. "+
				"Fix: let it finish and run again; a dead holder's Lease expires %s after its last renewal", release.Namespace, name, holder, wait, duration)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

type heldError struct{ holder string }

func (e *heldError) Error() string { return "held by " + e.holder }

// acquire creates the Lease, or takes it when it is free or expired.
func (s *Store) acquire(ctx context.Context, ns, name string, duration time.Duration) (*coordinationv1.Lease, error) {
	now := metav1.NewMicroTime(time.Now())
	secs := int32(duration / time.Second)
	lease, err := s.Client.getLease(ctx, ns, name)
	if apierrors.IsNotFound(err) {
		l := &coordinationv1.Lease{
			TypeMeta:   metav1.TypeMeta{APIVersion: "coordination.k8s.io/v1", Kind: "Lease"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{LabelManagedBy: ManagedBy}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &s.Holder, LeaseDurationSeconds: &secs,
				AcquireTime: &now, RenewTime: &now},
		}
		if err := s.Client.createLease(ctx, l); err != nil {
			return nil, err
		}
		return s.Client.getLease(ctx, ns, name)
	}
	if err != nil {
		return nil, err
	}
	if h := deref(lease.Spec.HolderIdentity); h != "" && h != s.Holder && !expired(lease, time.Now()) {
		return nil, &heldError{holder: h}
	}
	lease.Spec.HolderIdentity, lease.Spec.LeaseDurationSeconds = &s.Holder, &secs
	lease.Spec.AcquireTime, lease.Spec.RenewTime = &now, &now
	return s.Client.updateLease(ctx, lease)
}

// keep renews the Lease until the returned function releases it.
func (s *Store) keep(ctx context.Context, lease *coordinationv1.Lease, duration time.Duration) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(duration / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				now := metav1.NewMicroTime(time.Now())
				lease.Spec.RenewTime = &now
				if l, err := s.Client.updateLease(ctx, lease); err == nil {
					lease = l
				}
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		// Give the Lease up (holder cleared) so a waiting run goes on at once. A fresh context: the
		// run's own may be past its deadline, and a Lease left held only delays others by its duration.
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		empty := ""
		lease.Spec.HolderIdentity = &empty
		_, _ = s.Client.updateLease(rctx, lease)
	}
}

func expired(l *coordinationv1.Lease, now time.Time) bool {
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return true
	}
	return now.After(l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
