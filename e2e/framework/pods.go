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

// MarkPodReady plays the kubelet: the pod is Running with ip and Ready.
func MarkPodReady(t testing.TB, c kubernetes.Interface, namespace, name, ip string) {
	t.Helper()
	setPodStatus(t, c, namespace, name, ip, true)
}

// MarkPodNotReady clears the pod's Ready condition.
func MarkPodNotReady(t testing.TB, c kubernetes.Interface, namespace, name string) {
	t.Helper()
	setPodStatus(t, c, namespace, name, "", false)
}

func setPodStatus(t testing.TB, c kubernetes.Interface, namespace, name, ip string, ready bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		p, err := c.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get pod %s: %v", name, err)
		}
		status := corev1.ConditionFalse
		if ready {
			status = corev1.ConditionTrue
		}
		now := metav1.Now()
		p.Status.Phase = corev1.PodRunning
		if ip != "" {
			p.Status.PodIP = ip
			p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
		}
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodReady, Status: status, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: status, LastTransitionTime: now},
		}
		_, err = c.CoreV1().Pods(namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatalf("update pod %s status: %v", name, err)
		}
		return
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

// ForceDelete deletes a pod with grace period 0: without a kubelet a
// graceful delete would leave it Terminating for ever.
func ForceDelete(t testing.TB, c kubernetes.Interface, namespace, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	zero := int64(0)
	if err := c.CoreV1().Pods(namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("delete pod %s: %v", name, err)
	}
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
