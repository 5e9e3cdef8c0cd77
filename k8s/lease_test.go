package k8s

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
)

func leaseObj(holder string, renew time.Time, secs int32) *coordinationv1.Lease {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "aku-start", Namespace: "db"}}
	if holder != "" {
		mt := metav1.NewMicroTime(renew)
		l.Spec.HolderIdentity = &holder
		l.Spec.RenewTime = &mt
		l.Spec.LeaseDurationSeconds = &secs
	}
	return l
}

func TestFree(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	for _, tc := range []struct {
		name string
		l    *coordinationv1.Lease
		want bool
	}{
		{"unheld", leaseObj("", now, 0), true},
		{"mine", leaseObj("sts-1", now, 15), true},
		{"held, fresh", leaseObj("sts-2", now.Add(-5*time.Second), 15), false},
		{"held, expired", leaseObj("sts-2", now.Add(-20*time.Second), 15), true},
	} {
		if got := Free(tc.l.Spec, "sts-1", now); got != tc.want {
			t.Errorf("%s: Free = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLeaseSerialises(t *testing.T) {
	c := newOCCClientset(leaseObj("", time.Time{}, 0))
	var inside, maxInside int32
	var wg sync.WaitGroup
	for _, who := range []string{"sts-1", "sts-2", "sts-3"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &Lease{Client: c, Namespace: "db", Name: "aku-start", Holder: who, TTL: 2 * time.Second, Poll: 5 * time.Millisecond}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			release, err := l.Acquire(ctx)
			if err != nil {
				t.Errorf("%s: %v", who, err)
				return
			}
			n := atomic.AddInt32(&inside, 1)
			for {
				m := atomic.LoadInt32(&maxInside)
				if n <= m || atomic.CompareAndSwapInt32(&maxInside, m, n) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			atomic.AddInt32(&inside, -1)
			if err := release(context.Background()); err != nil {
				t.Errorf("%s release: %v", who, err)
			}
		}()
	}
	wg.Wait()
	if maxInside != 1 {
		t.Errorf("%d holders at once, want 1", maxInside)
	}
}

func TestLeaseExpiredHolderIsTakenOver(t *testing.T) {
	c := newOCCClientset(leaseObj("dead-pod", time.Now().Add(-time.Hour), 15))
	l := &Lease{Client: c, Namespace: "db", Name: "aku-start", Holder: "sts-1", TTL: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	release, err := l.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := release(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := c.CoordinationV1().Leases("db").Get(ctx, "aku-start", metav1.GetOptions{})
	if h := got.Spec.HolderIdentity; h == nil || *h != "" {
		t.Errorf("holder after release = %v, want empty", h)
	}
}

func TestLeaseHeldTimesOut(t *testing.T) {
	c := newOCCClientset(leaseObj("sts-2", time.Now(), 3600))
	l := &Lease{Client: c, Namespace: "db", Name: "aku-start", Holder: "sts-1", TTL: time.Second, Poll: 5 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(ctx); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("err = %v, want ErrLeaseHeld", err)
	}
}

func TestLeaseConflictRetriedAndServerErrorSurfaces(t *testing.T) {
	c := newOCCClientset(leaseObj("", time.Time{}, 0))
	var conflicts int32
	c.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if atomic.AddInt32(&conflicts, 1) <= 2 {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "leases"}, "aku-start", errors.New("changed"))
		}
		return false, nil, nil
	})
	l := &Lease{Client: c, Namespace: "db", Name: "aku-start", Holder: "sts-1", TTL: time.Second, Poll: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	release, err := l.Acquire(ctx)
	if err != nil {
		t.Fatalf("conflicts not retried: %v", err)
	}
	release(context.Background())

	bad := newOCCClientset()
	bad.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(errors.New("etcd down"))
	})
	l.Client = bad
	short, cancel2 := context.WithTimeout(ctx, time.Second)
	defer cancel2()
	if _, err := l.Acquire(short); !apierrors.IsInternalError(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("server error until the deadline: err = %v, want it with the deadline", err)
	}
}

// A Lease read that times out (a loaded API server: seen failing a
// postStart on a real node) is tried again within the start's deadline;
// a refusal is not.
func TestLeaseTransientErrorsRetried(t *testing.T) {
	c := newOCCClientset(leaseObj("", time.Time{}, 0))
	var gets int32
	c.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		switch atomic.AddInt32(&gets, 1) {
		case 1:
			return true, nil, apierrors.NewServerTimeout(schema.GroupResource{Resource: "leases"}, "get", 1)
		case 2:
			return true, nil, fmt.Errorf("Get \"https://10.0.0.1:443/...\": %w", context.DeadlineExceeded)
		}
		return false, nil, nil
	})
	l := &Lease{Client: c, Namespace: "db", Name: "aku-start", Holder: "sts-1", TTL: time.Second, Poll: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	release, err := l.Acquire(ctx)
	if err != nil {
		t.Fatalf("transient errors not retried: %v", err)
	}
	release(context.Background())
	if n := atomic.LoadInt32(&gets); n < 3 {
		t.Errorf("%d reads, want the two failures and a success", n)
	}

	forbidden := newOCCClientset(leaseObj("", time.Time{}, 0))
	var refused int32
	forbidden.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		atomic.AddInt32(&refused, 1)
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "leases"}, "aku-start", errors.New("rbac"))
	})
	l.Client = forbidden
	if _, err := l.Acquire(ctx); !apierrors.IsForbidden(err) || atomic.LoadInt32(&refused) != 1 {
		t.Errorf("forbidden: err = %v after %d reads, want it after one", err, refused)
	}
}

// The Lease tests rely on the fake refusing a stale update, as the API
// server does; the plain fake stores it.
func TestFakeRefusesStaleUpdate(t *testing.T) {
	ctx := context.Background()
	c := newOCCClientset(leaseObj("", time.Time{}, 0))
	leases := c.CoordinationV1().Leases("db")
	a, err := leases.Get(ctx, "aku-start", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := leases.Get(ctx, "aku-start", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.ResourceVersion == "" {
		t.Error("no resourceVersion on a read lease")
	}
	one, two := "sts-1", "sts-2"
	a.Spec.HolderIdentity = &one
	got, err := leases.Update(ctx, a, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("first update: %v", err)
	}
	if got.ResourceVersion == a.ResourceVersion {
		t.Errorf("update kept resourceVersion %s", got.ResourceVersion)
	}
	b.Spec.HolderIdentity = &two
	if _, err := leases.Update(ctx, b, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("stale update: err = %v, want a Conflict", err)
	}
	now, err := leases.Get(ctx, "aku-start", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := now.Spec.HolderIdentity; h == nil || *h != one || now.ResourceVersion != got.ResourceVersion {
		t.Errorf("after the refused update: holder %v, resourceVersion %s; want %s, %s", h, now.ResourceVersion, one, got.ResourceVersion)
	}
	// Updating from the latest version works again.
	now.Spec.HolderIdentity = &two
	if _, err := leases.Update(ctx, now, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update from the latest version: %v", err)
	}
	// A Lease update must name the version it replaces.
	now.ResourceVersion = ""
	if _, err := leases.Update(ctx, now, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("update without resourceVersion: err = %v, want Invalid", err)
	}
	// Creates get a version too, and cannot choose it.
	other := leaseObj("", time.Time{}, 0)
	other.Name = "other"
	made, err := leases.Create(ctx, other, metav1.CreateOptions{})
	if err != nil || made.ResourceVersion == "" {
		t.Fatalf("create: %v, resourceVersion %q", err, made.GetResourceVersion())
	}
	other.Name, other.ResourceVersion = "third", "7"
	if _, err := leases.Create(ctx, other, metav1.CreateOptions{}); !apierrors.IsBadRequest(err) {
		t.Errorf("create with a resourceVersion: err = %v, want BadRequest", err)
	}
}

func TestLeaseMissing(t *testing.T) {
	l := &Lease{Client: newOCCClientset(), Namespace: "db", Name: "aku-start", Holder: "sts-1", TTL: time.Second}
	_, err := l.Acquire(context.Background())
	if !errors.Is(err, ErrNoLease) || !apierrors.IsNotFound(err) {
		t.Fatalf("err = %v, want ErrNoLease wrapping the API's NotFound", err)
	}
}
