package e2e_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/aku-k8s/aku/e2e/framework"
	"github.com/aku-k8s/aku/k8s"
	"github.com/aku-k8s/aku/lifecycle"
)

const sts = "altibase-sts"

func manifests() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "manifests", "base")
}

func bounded(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// deploy applies manifests/base into a new namespace and plays the kubelet
// until `ready` pods are Ready (pod i gets IP 127.0.3.(10+i)).
func deploy(t *testing.T, cp *framework.ControlPlane, ns string, ready int) {
	t.Helper()
	admin := cp.Admin()
	framework.Namespace(t, admin, ns)
	if out, err := cp.Kubectl("apply", "--dry-run=server", "-n", ns, "-k", manifests()); err != nil {
		t.Fatalf("server-side dry run of the manifests: %v", err)
	} else {
		t.Logf("dry run:\n%s", out)
	}
	if _, err := cp.Kubectl("apply", "-n", ns, "-k", manifests()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < ready; i++ {
		name := fmt.Sprintf("%s-%d", sts, i)
		framework.WaitPod(t, admin, ns, name, nil)
		framework.MarkPodReady(t, admin, ns, name, fmt.Sprintf("127.0.3.%d", 10+i))
	}
}

func api(c kubernetes.Interface, ns, pod string) *k8s.API {
	return &k8s.API{Client: c, Namespace: ns, PodName: pod, StsName: sts, SvcName: "altibase-svc", ServerCount: 4}
}

// The manifests apply to a real API server, the StatefulSet controller makes
// the pods, and with only the manifests' Role (through the service account's
// token) the hooks see their identity, their peers' addresses and readiness.
func TestIdentityAndPeersWithTheManifestsRole(t *testing.T) {
	cp := framework.Start(t, framework.Options{ControllerManager: true})
	deploy(t, cp, "db", 2)
	admin := cp.Admin()
	framework.WaitPod(t, admin, "db", sts+"-2", nil) // created, never Ready
	sa := cp.ServiceAccountClient(t, "db", "aku")

	self, err := api(sa, "db", sts+"-1").Self(bounded(t))
	if err != nil {
		t.Fatal(err)
	}
	if self.Position != 1 || self.Addr != "127.0.3.11" || self.Host != "altibase-sts-1.altibase-svc" || !self.Ready {
		t.Errorf("Self = %+v", self)
	}
	ms, err := api(sa, "db", sts+"-1").Members(bounded(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ ready, absent, gone bool }{{true, false, false}, {true, false, false}, {false, false, false}, {false, true, true}}
	for i, w := range want {
		m := ms[i]
		if m.Ready != w.ready || m.Absent != w.absent || m.Gone != w.gone {
			t.Errorf("member %d = %+v, want ready=%v absent=%v gone=%v", i, m, w.ready, w.absent, w.gone)
		}
	}
	// Readiness by watch: pod-2 becomes Ready while we wait.
	go func() {
		time.Sleep(200 * time.Millisecond)
		framework.MarkPodReady(t, admin, "db", sts+"-2", "127.0.3.12")
	}()
	if err := api(sa, "db", sts+"-1").WaitReady(bounded(t), 2); err != nil {
		t.Fatal(err)
	}
}

// The Role grants what the hooks use and nothing else.
func TestRBACRefusesWhatIsNotGranted(t *testing.T) {
	cp := framework.Start(t, framework.Options{ControllerManager: true})
	deploy(t, cp, "db", 1)
	sa := cp.ServiceAccountClient(t, "db", "aku")
	ctx := bounded(t)
	refused := map[string]error{}
	_, refused["list secrets"] = sa.CoreV1().Secrets("db").List(ctx, metav1.ListOptions{})
	_, refused["get another lease"] = sa.CoordinationV1().Leases("db").Get(ctx, "other", metav1.GetOptions{})
	_, refused["patch the statefulset"] = sa.AppsV1().StatefulSets("db").Patch(ctx, sts, types.MergePatchType, []byte(`{"spec":{"replicas":5}}`), metav1.PatchOptions{})
	refused["delete a pod"] = sa.CoreV1().Pods("db").Delete(ctx, sts+"-0", metav1.DeleteOptions{})
	_, refused["read another namespace"] = sa.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	for what, err := range refused {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: err = %v, want Forbidden", what, err)
		}
	}
	// What the hooks do is allowed.
	ev := &k8s.Events{Client: sa, Namespace: "db", PodName: sts + "-0"}
	ev.Emit(ctx, false, "AkuStarted", "e2e")
	list, err := cp.Admin().CoreV1().Events("db").List(ctx, metav1.ListOptions{FieldSelector: "reason=AkuStarted"})
	if err != nil || len(list.Items) != 1 {
		t.Errorf("event posted with the Role: %v, %v", list, err)
	}
	l := &k8s.Lease{Client: sa, Namespace: "db", Name: sts + "-aku-start", Holder: sts + "-0", TTL: 5 * time.Second}
	release, err := l.Acquire(ctx)
	if err != nil {
		t.Fatalf("take the Lease with the Role: %v", err)
	}
	if err := release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := api(sa, "db", sts+"-0").Self(ctx); err != nil {
		t.Errorf("discovery with the Role: %v", err)
	}
}

// Two starts contending for the Lease on the real API server never overlap.
func TestTwoStartsContendForTheLease(t *testing.T) {
	cp := framework.Start(t, framework.Options{ControllerManager: true})
	deploy(t, cp, "db", 0)
	sa := cp.ServiceAccountClient(t, "db", "aku")
	var inside, overlap int32
	var order []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, pod := range []string{sts + "-1", sts + "-2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &k8s.Lease{Client: sa, Namespace: "db", Name: sts + "-aku-start", Holder: pod, TTL: 3 * time.Second, Poll: 20 * time.Millisecond}
			release, err := l.Acquire(bounded(t))
			if err != nil {
				t.Errorf("%s: %v", pod, err)
				return
			}
			if atomic.AddInt32(&inside, 1) > 1 {
				atomic.StoreInt32(&overlap, 1)
			}
			mu.Lock()
			order = append(order, pod)
			mu.Unlock()
			time.Sleep(300 * time.Millisecond)
			atomic.AddInt32(&inside, -1)
			if err := release(context.Background()); err != nil {
				t.Errorf("%s release: %v", pod, err)
			}
		}()
	}
	wg.Wait()
	if overlap != 0 || len(order) != 2 {
		t.Errorf("overlap=%d order=%v", overlap, order)
	}
	// A dead holder's lease expires. (A k8s.Lease renews until released, so
	// the dead holder is written directly: renewed once, 2s, then silence.)
	ctx0 := bounded(t)
	lease, err := cp.Admin().CoordinationV1().Leases("db").Get(ctx0, sts+"-aku-start", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dead, secs, now := "dead-pod", int32(2), metav1.NewMicroTime(time.Now())
	lease.Spec.HolderIdentity, lease.Spec.LeaseDurationSeconds, lease.Spec.RenewTime, lease.Spec.AcquireTime = &dead, &secs, &now, &now
	if _, err := cp.Admin().CoordinationV1().Leases("db").Update(ctx0, lease, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	alive := &k8s.Lease{Client: sa, Namespace: "db", Name: sts + "-aku-start", Holder: sts + "-1", TTL: 2 * time.Second, Poll: 100 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	release, err := alive.Acquire(ctx)
	if err != nil {
		t.Fatalf("the expired lease was not taken over: %v", err)
	}
	release(context.Background())
}

// Why a pod stops, classified against a real StatefulSet that the real
// controller manager scales and rolls.
func TestIntentWithARealStatefulSet(t *testing.T) {
	cp := framework.Start(t, framework.Options{ControllerManager: true})
	deploy(t, cp, "db", 3)
	admin := cp.Admin()
	sa := cp.ServiceAccountClient(t, "db", "aku")
	ctx := bounded(t)

	intent := func(pod string) lifecycle.Intent {
		why, reason := api(sa, "db", pod).Intent(ctx)
		t.Logf("%s: %v (%s)", pod, why, reason)
		return why
	}
	if got := intent(sts + "-1"); got != lifecycle.IntentRestart {
		t.Errorf("pod kept: %v, want restart", got)
	}
	// Scale 3 to 2.
	if _, err := admin.AppsV1().StatefulSets("db").Patch(ctx, sts, types.MergePatchType, []byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := intent(sts + "-2"); got != lifecycle.IntentScaleDown {
		t.Errorf("pod-2 after scaling to 2: %v, want scale-down", got)
	}
	if got := intent(sts + "-1"); got != lifecycle.IntentRestart {
		t.Errorf("pod-1 after scaling to 2: %v, want restart", got)
	}
	// Play the kubelet finishing pod-2's termination: until it is gone the
	// controller (OrderedReady) does nothing else.
	framework.WaitPod(t, admin, "db", sts+"-2", func(p *corev1.Pod) bool { return p.DeletionTimestamp != nil })
	framework.ForceDelete(t, admin, "db", sts+"-2")
	framework.WaitGone(t, admin, "db", sts+"-2")
	// A rolling update: the template changes; the controller deletes pods
	// from the highest ordinal (they stay Terminating without a kubelet).
	if _, err := admin.AppsV1().StatefulSets("db").Patch(ctx, sts, types.MergePatchType,
		[]byte(`{"spec":{"template":{"metadata":{"annotations":{"rev":"2"}}}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.WaitPod(t, admin, "db", sts+"-1", func(p *corev1.Pod) bool { return p.DeletionTimestamp != nil })
	if got := intent(sts + "-1"); got != lifecycle.IntentRestart {
		t.Errorf("pod-1 in a rolling update: %v, want restart", got)
	}
	// The StatefulSet deleted.
	if err := admin.AppsV1().StatefulSets("db").Delete(ctx, sts, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := intent(sts + "-0"); got != lifecycle.IntentDelete {
		t.Errorf("after deleting the StatefulSet: %v, want delete", got)
	}
}

// ordinals.start: aku numbers pods by position, so the first pod is the
// master whatever its ordinal.
func TestOrdinalsStart(t *testing.T) {
	cp := framework.Start(t, framework.Options{ControllerManager: true})
	deploy(t, cp, "db", 0)
	admin := cp.Admin()
	ctx := bounded(t)
	if _, err := admin.AppsV1().StatefulSets("db").Patch(ctx, sts, types.MergePatchType,
		[]byte(`{"spec":{"replicas":1,"ordinals":{"start":5}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	// Pods below 5 go away (force them: no kubelet); pod 5 appears.
	for i := 0; i < 3; i++ {
		framework.ForceDelete(t, admin, "db", fmt.Sprintf("%s-%d", sts, i))
	}
	framework.WaitPod(t, admin, "db", sts+"-5", nil)
	framework.MarkPodReady(t, admin, "db", sts+"-5", "127.0.3.15")
	self, err := api(cp.ServiceAccountClient(t, "db", "aku"), "db", sts+"-5").Self(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if self.Position != 0 || self.Host != "altibase-sts-5.altibase-svc" || self.Addr != "127.0.3.15" {
		t.Errorf("Self = %+v, want position 0 (the master) on host altibase-sts-5", self)
	}
	if lifecycle.RoleOf(self.Position) != lifecycle.RoleMaster {
		t.Error("the first pod is not the master")
	}

}
