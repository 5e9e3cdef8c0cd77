package k8s

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

var (
	// ErrLeaseHeld means another pod holds the start lease and ctx ended first.
	ErrLeaseHeld = errors.New("start lease held by another pod")
	// ErrNoLease means the start Lease does not exist: the manifests create
	// it, under the name AKU_LEASE_NAME gives.
	ErrNoLease = errors.New("the start Lease does not exist (AKU_LEASE_NAME)")
)

// Lease serialises aku-start across the pods of a StatefulSet, so concurrent
// starts (podManagementPolicy Parallel, mass restarts) never collide on
// pod-0's single SYSDBA session. The Lease object is created by the
// manifests; the pod needs only get and update on it.
type Lease struct {
	Client    kubernetes.Interface
	Namespace string
	Name      string
	Holder    string        // this pod's name
	TTL       time.Duration // lease duration; renewed every TTL/3
	Poll      time.Duration // how often a waiter looks again (default TTL/4)
	Log       *slog.Logger
	Now       func() time.Time
}

func (l *Lease) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Free decides whether a lease may be taken by holder at now: unheld, held by
// holder already, or expired (its holder died without releasing it).
func Free(spec coordinationv1.LeaseSpec, holder string, now time.Time) bool {
	if spec.HolderIdentity == nil || *spec.HolderIdentity == "" || *spec.HolderIdentity == holder {
		return true
	}
	if spec.RenewTime == nil || spec.LeaseDurationSeconds == nil {
		return true
	}
	expiry := spec.RenewTime.Add(time.Duration(*spec.LeaseDurationSeconds) * time.Second)
	return now.After(expiry)
}

// Acquire waits until the lease is this pod's, then keeps renewing it until
// the returned release function is called (with a fresh, bounded context:
// it must run even when the work's context has ended).
func (l *Lease) Acquire(ctx context.Context) (release func(context.Context) error, err error) {
	poll := l.Poll
	if poll <= 0 {
		poll = max(l.TTL/4, 100*time.Millisecond)
	}
	waiting, holder := false, ""
	for {
		ok, h, err := l.tryTake(ctx)
		if err != nil {
			if waiting && ctx.Err() != nil {
				// The deadline came during a look at a lease still held.
				return nil, fmt.Errorf("%w (%s): %w", ErrLeaseHeld, holder, ctx.Err())
			}
			return nil, err
		}
		if ok {
			break
		}
		holder = h
		if !waiting && l.Log != nil {
			l.Log.Info("Waiting for the start lease.", "lease", l.Name, "leaseHolder", holder)
		}
		waiting = true
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (%s): %w", ErrLeaseHeld, holder, ctx.Err())
		case <-t.C:
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go l.renew(stop, done)
	return func(ctx context.Context) error {
		close(stop)
		<-done
		return l.release(ctx)
	}, nil
}

func (l *Lease) get(ctx context.Context) (*coordinationv1.Lease, error) {
	var lease *coordinationv1.Lease
	err := call(ctx, l.Log, "get lease", func(ctx context.Context) (err error) {
		lease, err = l.Client.CoordinationV1().Leases(l.Namespace).Get(ctx, l.Name, metav1.GetOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%w: get lease %s/%s: %w", ErrNoLease, l.Namespace, l.Name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("get lease %s/%s: %w", l.Namespace, l.Name, err)
	}
	return lease, nil
}

func (l *Lease) update(ctx context.Context, lease *coordinationv1.Lease) error {
	return call(ctx, l.Log, "update lease", func(ctx context.Context) error {
		_, err := l.Client.CoordinationV1().Leases(l.Namespace).Update(ctx, lease, metav1.UpdateOptions{})
		return err
	})
}

// tryTake takes the lease if it is free. A conflict (someone else updated it
// first) is a normal "not now".
func (l *Lease) tryTake(ctx context.Context) (bool, string, error) {
	lease, err := l.get(ctx)
	if err != nil {
		return false, "", err
	}
	now := l.now()
	holder := ""
	if lease.Spec.HolderIdentity != nil {
		holder = *lease.Spec.HolderIdentity
	}
	if !Free(lease.Spec, l.Holder, now) {
		return false, holder, nil
	}
	secs := int32(max(l.TTL/time.Second, 1))
	mt := metav1.NewMicroTime(now)
	if holder != l.Holder {
		lease.Spec.AcquireTime = &mt
		if lease.Spec.LeaseTransitions == nil {
			lease.Spec.LeaseTransitions = new(int32)
		}
		*lease.Spec.LeaseTransitions++
	}
	lease.Spec.HolderIdentity = &l.Holder
	lease.Spec.LeaseDurationSeconds = &secs
	lease.Spec.RenewTime = &mt
	if err := l.update(ctx, lease); err != nil {
		if apierrors.IsConflict(err) {
			return false, holder, nil
		}
		return false, holder, fmt.Errorf("take lease %s/%s: %w", l.Namespace, l.Name, err)
	}
	return true, l.Holder, nil
}

func (l *Lease) renew(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	every := max(l.TTL/3, 50*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
			ok, holder, err := l.tryTake(ctx)
			cancel()
			if (err != nil || !ok) && l.Log != nil {
				l.Log.Warn("Could not renew the start lease.", "lease", l.Name, "leaseHolder", holder, "err", err)
			}
		}
	}
}

// release gives the lease up if this pod still holds it.
func (l *Lease) release(ctx context.Context) error {
	lease, err := l.get(ctx)
	if err != nil {
		return err
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != l.Holder {
		return nil
	}
	empty := ""
	lease.Spec.HolderIdentity = &empty
	lease.Spec.RenewTime = nil
	if err := l.update(ctx, lease); err != nil && !apierrors.IsConflict(err) {
		return fmt.Errorf("release lease %s/%s: %w", l.Namespace, l.Name, err)
	}
	return nil
}
