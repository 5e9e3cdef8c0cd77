package framework

import (
	"context"
	"fmt"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

func requestToken(c kubernetes.Interface, namespace, name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	exp := int64(3600)
	tr, err := c.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for %s/%s: %w", namespace, name, err)
	}
	return tr.Status.Token, nil
}

// NodeName is the Node that MarkPodRunning and MarkPodReady bind pods to (as
// the scheduler would) before setting their status: there is no scheduler,
// and the EndpointSlice controller skips pods whose node does not exist.
// The Node is created, Ready at 127.0.0.1, on first use.
const NodeName = "aku-e2e-node"

// MarkPodReady plays the scheduler and the kubelet: the pod is bound to
// NodeName and becomes Running with the given IP (use loopback addresses
// such as 127.0.1.x, which the test's processes can listen on; "" keeps the
// current one), its containers running and ready, and the Ready and
// ContainersReady conditions True. c must be allowed to create nodes, bind
// pods and update pods/status: pass the admin client.
func MarkPodReady(t testing.TB, c kubernetes.Interface, namespace, name, ip string) {
	t.Helper()
	setPodStatus(t, c, namespace, name, ip, true)
}

// MarkPodNotReady plays a failing readiness probe: the pod stays Running
// with its IP, its Ready condition False.
func MarkPodNotReady(t testing.TB, c kubernetes.Interface, namespace, name string) {
	t.Helper()
	setPodStatus(t, c, namespace, name, "", false)
}

func setPodStatus(t testing.TB, c kubernetes.Interface, namespace, name, ip string, ready bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		p, err := c.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get pod %s/%s: %v", namespace, name, err)
		}
		if p.Spec.NodeName == "" {
			ensureNode(ctx, t, c)
			err := c.CoreV1().Pods(namespace).Bind(ctx, &corev1.Binding{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, UID: p.UID},
				Target:     corev1.ObjectReference{Kind: "Node", Name: NodeName},
			}, metav1.CreateOptions{})
			if err != nil && !apierrors.IsConflict(err) {
				t.Fatalf("bind pod %s/%s to %s: %v", namespace, name, NodeName, err)
			}
			continue
		}
		status := corev1.ConditionFalse
		if ready {
			status = corev1.ConditionTrue
		}
		now := metav1.Now()
		p.Status.Phase = corev1.PodRunning
		if p.Status.StartTime == nil {
			p.Status.StartTime = &now
		}
		p.Status.HostIP = "127.0.0.1"
		p.Status.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
		if ip != "" {
			p.Status.PodIP = ip
			p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
		}
		started := true
		p.Status.ContainerStatuses = nil
		for _, ctr := range p.Spec.Containers {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
				Name: ctr.Name, Image: ctr.Image, ImageID: ctr.Image, ContainerID: "aku-e2e://" + name + "/" + ctr.Name,
				Ready: ready, Started: &started,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: *p.Status.StartTime}},
			})
		}
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: *p.Status.StartTime},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: *p.Status.StartTime},
			{Type: corev1.PodReady, Status: status, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: status, LastTransitionTime: now},
		}
		_, err = c.CoreV1().Pods(namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatalf("update pod %s/%s status: %v", namespace, name, err)
		}
		return
	}
}

// ensureNode creates NodeName, Ready, if it does not exist.
func ensureNode(ctx context.Context, t testing.TB, c kubernetes.Interface) {
	t.Helper()
	if _, err := c.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{}); err == nil {
		return
	}
	n, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: NodeName, Labels: map[string]string{"kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux"},
	}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return
	}
	if err != nil {
		t.Fatalf("create node %s: %v", NodeName, err)
	}
	now := metav1.Now()
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}, {Type: corev1.NodeHostName, Address: NodeName}}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		Message: "aku e2e: pods on this node are played by the test", LastHeartbeatTime: now, LastTransitionTime: now}}
	if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) {
		t.Fatalf("node %s status: %v", NodeName, err)
	}
}

// WaitPod waits (bounded) until the pod exists and cond holds.
func WaitPod(t testing.TB, c kubernetes.Interface, namespace, name string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		p, err := c.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		cancel()
		if err == nil && (cond == nil || cond(p)) {
			return p
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("pod %s/%s did not appear (or reach the condition) in time", namespace, name)
	return nil
}

// WaitGone waits (bounded) until the pod no longer exists.
func WaitGone(t testing.TB, c kubernetes.Interface, namespace, name string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := c.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		cancel()
		if apierrors.IsNotFound(err) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("pod %s/%s still exists", namespace, name)
}

// ForceDelete deletes a pod with grace period 0, as the kubelet's final
// delete does: without a kubelet a graceful delete (the default, or the
// controller's in a scale-down or rolling update) leaves the pod Terminating
// for ever. Call it on a Terminating pod to finish its deletion.
func ForceDelete(t testing.TB, c kubernetes.Interface, namespace, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	zero := int64(0)
	if err := c.CoreV1().Pods(namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("delete pod %s: %v", name, err)
	}
}

// Eventually polls cond every 100ms until it returns true, failing the test
// with what (and cond's last error) after timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ok, err := cond(ctx)
		cancel()
		if ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s (last error: %v)", what, timeout, last)
}

// Namespace creates a namespace for the test.
func Namespace(t testing.TB, c kubernetes.Interface, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

// MarkPodRunning plays the kubelet starting the containers: Running with
// ip, not Ready (the startup probe has not passed yet).
func MarkPodRunning(t testing.TB, c kubernetes.Interface, namespace, name, ip string) {
	t.Helper()
	setPodStatus(t, c, namespace, name, ip, false)
}
