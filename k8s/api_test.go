package k8s

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/aku-k8s/aku/lifecycle"
)

func testSts(replicas, start int32) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns", UID: "sts-uid"},
		Spec:       appsv1.StatefulSetSpec{Replicas: &replicas},
	}
	if start > 0 {
		s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: start}
	}
	return s
}

func testPod(ordinal int, ip string, ready bool) *corev1.Pod {
	yes := true
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("db-%d", ordinal), Namespace: "ns",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db", UID: "sts-uid", Controller: &yes}},
		},
		Status: corev1.PodStatus{PodIP: ip},
	}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
	return p
}

func testAPI(objs ...runtime.Object) (*API, *fake.Clientset) {
	c := fake.NewClientset(objs...)
	return &API{Client: c, Namespace: "ns", PodName: "db-1", StsName: "db", SvcName: "svc", ServerCount: 4}, c
}

func TestAPISelfAndMembers(t *testing.T) {
	a, _ := testAPI(testSts(3, 0), testPod(0, "10.0.0.1", true), testPod(1, "10.0.0.2", false), testPod(2, "10.0.0.3", true))
	ctx := context.Background()
	self, err := a.Self(ctx)
	if err != nil || self.Position != 1 || self.Addr != "10.0.0.2" || self.Host != "db-1.svc" || self.Ready {
		t.Fatalf("Self = %+v, %v", self, err)
	}
	ms, err := a.Members(ctx)
	if err != nil || len(ms) != 4 {
		t.Fatalf("Members = %+v, %v", ms, err)
	}
	want := []lifecycle.Member{
		{Position: 0, Name: "db-0", Host: "db-0.svc", Addr: "10.0.0.1", Ready: true},
		{Position: 1, Name: "db-1", Host: "db-1.svc", Addr: "10.0.0.2"},
		{Position: 2, Name: "db-2", Host: "db-2.svc", Addr: "10.0.0.3", Ready: true},
		{Position: 3, Name: "db-3", Host: "db-3.svc", Absent: true, Gone: true},
	}
	for i := range want {
		if ms[i] != want[i] {
			t.Errorf("member %d = %+v, want %+v", i, ms[i], want[i])
		}
	}
}

// kubectl delete statefulset removes the object first and its pods after:
// their preStop hooks find no StatefulSet, and must still see their peers.
func TestAPIMembersAfterTheStatefulSetWasDeleted(t *testing.T) {
	a, _ := testAPI(testPod(0, "10.0.0.1", true), testPod(1, "10.0.0.2", true), testPod(2, "10.0.0.3", true))
	ctx := context.Background()
	self, err := a.Self(ctx)
	if err != nil || self.Position != 1 {
		t.Fatalf("Self = %+v, %v", self, err)
	}
	ms, err := a.Members(ctx)
	if err != nil || len(ms) != 4 {
		t.Fatalf("Members = %+v, %v", ms, err)
	}
	for i, m := range ms {
		if m.Gone || m.Absent != (i == 3) || (i < 3 && m.Addr == "") {
			t.Errorf("member %d = %+v", i, m)
		}
	}
	if why, reason := a.Intent(ctx); why != lifecycle.IntentDelete {
		t.Errorf("Intent = %v (%s), want IntentDelete", why, reason)
	}
}

func TestAPIOrdinalsStart(t *testing.T) {
	a, _ := testAPI(testSts(2, 5), testPod(4, "10.0.0.4", true), testPod(5, "10.0.0.5", true), testPod(6, "10.0.0.6", false))
	a.PodName = "db-6"
	self, err := a.Self(context.Background())
	if err != nil || self.Position != 1 || self.Name != "db-6" || self.Host != "db-6.svc" {
		t.Fatalf("Self = %+v, %v", self, err)
	}
	ms, _ := a.Members(context.Background())
	if ms[0].Name != "db-5" || ms[0].Addr != "10.0.0.5" || ms[2].Gone != true {
		t.Errorf("Members = %+v", ms)
	}
	a.PodName = "db-4"
	if _, err := a.Self(context.Background()); !errors.Is(err, ErrBeyondServerCount) {
		t.Errorf("a pod below ordinals.start: err = %v, want ErrBeyondServerCount", err)
	}
}

func TestAPISelfRefusesPodBeyondServerCount(t *testing.T) {
	a, _ := testAPI(testSts(5, 0), testPod(4, "10.0.0.5", true))
	a.PodName = "db-4"
	_, err := a.Self(context.Background())
	if !errors.Is(err, ErrBeyondServerCount) || err.Error() != "pod db-4 is position 4 of the StatefulSet (ordinals.start 0), but AKU_SERVER_COUNT is 4" {
		t.Fatalf("err = %v, want ErrBeyondServerCount", err)
	}
}

func TestAPISelfRefusesForeignPod(t *testing.T) {
	p := testPod(1, "10.0.0.2", true)
	p.OwnerReferences = nil
	a, _ := testAPI(testSts(3, 0), p)
	if _, err := a.Self(context.Background()); !errors.Is(err, ErrNotInStatefulSet) {
		t.Fatalf("a pod not controlled by the StatefulSet: err = %v, want ErrNotInStatefulSet", err)
	}
}

func TestAPIServerErrorsSurface(t *testing.T) {
	a, c := testAPI(testSts(3, 0), testPod(1, "10.0.0.2", true))
	c.PrependReactor("get", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "db-1", errors.New("rbac"))
	})
	if _, err := a.Self(context.Background()); !apierrors.IsForbidden(errors.Unwrap(err)) {
		t.Fatalf("err = %v, want Forbidden", err)
	}
	why, reason := a.Intent(context.Background())
	if why != lifecycle.IntentRestart {
		t.Errorf("Intent without the pod = %v (%s), want restart from the StatefulSet alone", why, reason)
	}
	c.PrependReactor("get", "statefulsets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServerTimeout(schema.GroupResource{Resource: "statefulsets"}, "get", 1)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if why, reason := a.Intent(ctx); why != lifecycle.IntentUnknown || reason == "" {
		t.Errorf("Intent with the API down = %v (%s), want unknown", why, reason)
	}
}

func TestAPIIntentScaleDown(t *testing.T) {
	a, _ := testAPI(testSts(1, 0), testPod(0, "10.0.0.1", true), testPod(1, "10.0.0.2", true))
	if why, _ := a.Intent(context.Background()); why != lifecycle.IntentScaleDown {
		t.Errorf("Intent = %v, want scale-down", why)
	}
}

func TestAPIWaitReadyByWatch(t *testing.T) {
	a, c := testAPI(testSts(3, 0), testPod(0, "10.0.0.1", false))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		time.Sleep(50 * time.Millisecond)
		c.CoreV1().Pods("ns").UpdateStatus(ctx, testPod(0, "10.0.0.1", true), metav1.UpdateOptions{})
	}()
	if err := a.WaitReady(ctx, 0); err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := a.WaitReady(short, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait for an absent pod: %v, want the deadline", err)
	}
}
