package k8s

import (
	"errors"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// optimisticLockMsg is the API server's message for a stale resourceVersion.
const optimisticLockMsg = "the object has been modified; please apply your changes to the latest version and try again"

// newOCCClientset is fake.NewClientset with the API server's optimistic
// concurrency, which the fake lacks: its Update stores whatever it is given,
// so two pods that read the same Lease could both take it.
//
// Every object carries a resourceVersion (the seeds and every create get a
// fresh one, every update a new one, from one counter as etcd's revision),
// and an Update whose resourceVersion is not the stored one is refused with
// a Conflict. As for the real Lease, an Update without a resourceVersion is
// invalid (coordination's strategy does not allow unconditional updates);
// for other resources it overwrites, as the API server does for them.
func newOCCClientset(objs ...runtime.Object) *fake.Clientset {
	occ := &occ{}
	seeds := make([]runtime.Object, len(objs))
	for i, o := range objs {
		o = o.DeepCopyObject()
		m, err := meta.Accessor(o)
		if err != nil {
			panic(err)
		}
		m.SetResourceVersion(occ.next())
		seeds[i] = o
	}
	c := fake.NewClientset(seeds...)
	occ.tracker = c.Tracker()
	c.PrependReactor("create", "*", occ.create)
	c.PrependReactor("update", "*", occ.update)
	return c
}

// occ keeps the resourceVersions. The fake runs one reaction at a time, but
// occ locks anyway so a read and the write that depends on it stay atomic.
type occ struct {
	mu      sync.Mutex
	last    int64
	tracker k8stesting.ObjectTracker
}

func (o *occ) next() string {
	o.last++
	return strconv.FormatInt(o.last, 10)
}

// conditionalOnly lists the resources whose Update must carry a
// resourceVersion (their strategy's AllowUnconditionalUpdate is false).
var conditionalOnly = map[string]bool{"leases": true}

func (o *occ) create(a k8stesting.Action) (bool, runtime.Object, error) {
	ca, ok := a.(k8stesting.CreateAction)
	if !ok || ca.GetSubresource() != "" {
		return false, nil, nil
	}
	obj := ca.GetObject().DeepCopyObject()
	m, err := meta.Accessor(obj)
	if err != nil {
		return true, nil, err
	}
	if m.GetResourceVersion() != "" {
		return true, nil, apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	m.SetResourceVersion(o.next())
	if err := o.tracker.Create(ca.GetResource(), obj, ca.GetNamespace()); err != nil {
		return true, nil, err
	}
	return true, obj.DeepCopyObject(), nil
}

func (o *occ) update(a k8stesting.Action) (bool, runtime.Object, error) {
	ua, ok := a.(k8stesting.UpdateAction)
	if !ok || ua.GetSubresource() != "" {
		return false, nil, nil
	}
	gvr, ns := ua.GetResource(), ua.GetNamespace()
	obj := ua.GetObject().DeepCopyObject()
	m, err := meta.Accessor(obj)
	if err != nil {
		return true, nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	stored, err := o.tracker.Get(gvr, ns, m.GetName(), metav1.GetOptions{})
	if err != nil {
		return true, nil, err
	}
	sm, err := meta.Accessor(stored)
	if err != nil {
		return true, nil, err
	}
	switch rv := m.GetResourceVersion(); {
	case rv == "" && conditionalOnly[gvr.Resource]:
		return true, nil, apierrors.NewInvalid(schema.GroupKind{Group: gvr.Group, Kind: gvr.Resource}, m.GetName(), field.ErrorList{
			field.Invalid(field.NewPath("metadata", "resourceVersion"), rv, "must be specified for an update"),
		})
	case rv != "" && rv != sm.GetResourceVersion():
		return true, nil, apierrors.NewConflict(gvr.GroupResource(), m.GetName(), errors.New(optimisticLockMsg))
	}
	m.SetResourceVersion(o.next())
	if err := o.tracker.Update(gvr, obj, ns); err != nil {
		return true, nil, err
	}
	return true, obj.DeepCopyObject(), nil
}
