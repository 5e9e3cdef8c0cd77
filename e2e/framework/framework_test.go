package framework_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/aku-k8s/aku/e2e/framework"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func statefulSet(ns string, replicas int32) *appsv1.StatefulSet {
	labels := map[string]string{"app": "smoke"}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke", Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         "smoke",
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "db", Image: "altibase/altibase:7.3", Ports: []corev1.ContainerPort{{ContainerPort: 20300}},
				}}},
			},
		},
	}
}

// The controller manager runs the StatefulSet controller against the real
// API server: pods are created in order, and the next one only once the
// previous is Ready (which the test, playing the kubelet, decides).
func TestStatefulSetOrderedReady(t *testing.T) {
	cp := framework.Start(t, framework.Options{ControllerManager: true})
	admin := cp.Admin()
	c := ctx(t)
	framework.Namespace(t, admin, "smoke")
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke", Namespace: "smoke"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "smoke"},
			Ports: []corev1.ServicePort{{Name: "db", Port: 20300}}},
	}
	if _, err := admin.CoreV1().Services("smoke").Create(c, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AppsV1().StatefulSets("smoke").Create(c, statefulSet("smoke", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod0 := framework.WaitPod(t, admin, "smoke", "smoke-0", nil)
	if pod0.Spec.ServiceAccountName != "default" || len(pod0.OwnerReferences) != 1 || pod0.OwnerReferences[0].Kind != "StatefulSet" {
		t.Errorf("pod-0: service account %q, owners %+v", pod0.Spec.ServiceAccountName, pod0.OwnerReferences)
	}
	// OrderedReady: pod-1 waits for pod-0 to be Ready.
	time.Sleep(2 * time.Second)
	if _, err := admin.CoreV1().Pods("smoke").Get(c, "smoke-1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("pod-1 before pod-0 is Ready: err = %v, want NotFound", err)
	}
	framework.MarkPodReady(t, admin, "smoke", "smoke-0", "127.0.1.10")
	framework.WaitPod(t, admin, "smoke", "smoke-1", nil)
	framework.Eventually(t, 30*time.Second, "the StatefulSet's status counts pod-0 Ready", func(c context.Context) (bool, error) {
		s, err := admin.AppsV1().StatefulSets("smoke").Get(c, "smoke", metav1.GetOptions{})
		return err == nil && s.Status.ReadyReplicas == 1, err
	})
	p0, err := admin.CoreV1().Pods("smoke").Get(c, "smoke-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p0.Status.PodIP != "127.0.1.10" || p0.Status.Phase != corev1.PodRunning || p0.Spec.NodeName != framework.NodeName {
		t.Errorf("pod-0: ip %q phase %q node %q", p0.Status.PodIP, p0.Status.Phase, p0.Spec.NodeName)
	}
	// The service account machinery works: the pods' namespace has its
	// default account and the root CA config map, and a TokenRequest token
	// authenticates as the account.
	framework.Eventually(t, 30*time.Second, "kube-root-ca.crt published", func(c context.Context) (bool, error) {
		_, err := admin.CoreV1().ConfigMaps("smoke").Get(c, "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil, err
	})
	sa := cp.ServiceAccountClient(t, "smoke", "default")
	if _, err := sa.CoreV1().Pods("smoke").List(c, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the default service account lists pods: err = %v, want Forbidden", err)
	}
	// Without a kubelet a graceful delete of a pod on a node leaves it
	// Terminating; a force delete finishes it and the controller recreates
	// it.
	framework.MarkPodRunning(t, admin, "smoke", "smoke-1", "127.0.1.11")
	if err := admin.CoreV1().Pods("smoke").Delete(c, "smoke-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	old := framework.WaitPod(t, admin, "smoke", "smoke-1", func(p *corev1.Pod) bool { return p.DeletionTimestamp != nil })
	time.Sleep(2 * time.Second)
	if p, err := admin.CoreV1().Pods("smoke").Get(c, "smoke-1", metav1.GetOptions{}); err != nil || p.UID != old.UID {
		t.Fatalf("the Terminating pod-1 went without a force delete: %v", err)
	}
	framework.ForceDelete(t, admin, "smoke", "smoke-1")
	framework.WaitPod(t, admin, "smoke", "smoke-1", func(p *corev1.Pod) bool { return p.UID != old.UID && p.DeletionTimestamp == nil })
	// A pod never bound to a node (never marked) goes at once.
	fresh, err := admin.CoreV1().Pods("smoke").Get(c, "smoke-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.CoreV1().Pods("smoke").Delete(c, "smoke-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.WaitPod(t, admin, "smoke", "smoke-1", func(p *corev1.Pod) bool { return p.UID != fresh.UID })
}

func podReader(ns, user string) (*rbacv1.Role, *rbacv1.RoleBinding) {
	return &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "pod-reader", Namespace: ns},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}},
		}, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "pod-reader", Namespace: ns},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "pod-reader"},
			Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: user}},
		}
}

// Real authentication and RBAC: a user gets exactly what a Role grants.
// No controller manager: the API server alone suffices.
func TestRBAC(t *testing.T) {
	cp := framework.Start(t, framework.Options{})
	admin := cp.Admin()
	c := ctx(t)
	framework.Namespace(t, admin, "rbac")
	alice := cp.ClientFor(t, "alice")
	if _, err := alice.CoreV1().Pods("rbac").Get(c, "any", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("get pods without a Role: err = %v, want 403 Forbidden", err)
	}
	role, binding := podReader("rbac", "alice")
	if _, err := admin.RbacV1().Roles("rbac").Create(c, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings("rbac").Create(c, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// RBAC reads its informers' cache: the grant takes effect shortly.
	framework.Eventually(t, 30*time.Second, "alice allowed to get pods after the RoleBinding", func(c context.Context) (bool, error) {
		_, err := alice.CoreV1().Pods("rbac").Get(c, "any", metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
	if _, err := alice.CoreV1().Pods("rbac").List(c, metav1.ListOptions{}); err != nil {
		t.Errorf("list pods with the Role: %v", err)
	}
	// Only that: no writes, no other namespace, no other user.
	if err := alice.CoreV1().Pods("rbac").Delete(c, "any", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("delete pods: err = %v, want Forbidden", err)
	}
	if _, err := alice.CoreV1().Pods("default").List(c, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list pods in another namespace: err = %v, want Forbidden", err)
	}
	if _, err := cp.ClientFor(t, "bob", "some-group").CoreV1().Pods("rbac").List(c, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("bob lists pods: err = %v, want Forbidden", err)
	}
	// The same through kubectl with alice's kubeconfig.
	if out, err := cp.KubectlAs(cp.KubeconfigFor(t, "alice"), "auth", "can-i", "list", "pods", "-n", "rbac"); err != nil || strings.TrimSpace(out) != "yes" {
		t.Errorf("kubectl auth can-i as alice: %q, %v", out, err)
	}
	// A service account with a Role through its TokenRequest token.
	if _, err := admin.CoreV1().ServiceAccounts("rbac").Create(c, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "aku"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding.Name, binding.Subjects = "sa-pod-reader", []rbacv1.Subject{{Kind: "ServiceAccount", Name: "aku", Namespace: "rbac"}}
	if _, err := admin.RbacV1().RoleBindings("rbac").Create(c, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa := cp.ServiceAccountClient(t, "rbac", "aku")
	framework.Eventually(t, 30*time.Second, "the service account lists pods", func(c context.Context) (bool, error) {
		_, err := sa.CoreV1().Pods("rbac").List(c, metav1.ListOptions{})
		return err == nil, err
	})
	if _, err := sa.CoreV1().Secrets("rbac").List(c, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the service account lists secrets: err = %v, want Forbidden", err)
	}
	if out, err := cp.KubectlAs(cp.ServiceAccountKubeconfig("rbac", "aku"), "get", "pods"); err != nil {
		t.Errorf("kubectl get pods as the service account (namespace from its kubeconfig): %v\n%s", err, out)
	}
}

// kubectl works with the admin kubeconfig, and manifests can be checked
// against the API server with a server-side dry run.
func TestKubectl(t *testing.T) {
	cp := framework.Start(t, framework.Options{})
	out, err := cp.Kubectl("get", "ns", "-o", "name")
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"namespace/default", "namespace/kube-system"} {
		if !strings.Contains(out, ns) {
			t.Errorf("kubectl get ns lacks %s:\n%s", ns, out)
		}
	}
	manifest := filepath.Join(t.TempDir(), "cm.yaml")
	if err := os.WriteFile(manifest, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\n  namespace: default\ndata:\n  k: v\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = cp.Kubectl("apply", "--dry-run=server", "-f", manifest)
	if err != nil || !strings.Contains(out, "configmap/dry created (server dry run)") {
		t.Fatalf("kubectl apply --dry-run=server: %q, %v", out, err)
	}
	if _, err := cp.Admin().CoreV1().ConfigMaps("default").Get(ctx(t), "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the dry run created the config map: %v", err)
	}
	// A manifest the API server rejects fails the dry run.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: bad\n  namespace: default\nspec:\n  replicas: -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := cp.Kubectl("apply", "--dry-run=server", "-f", bad); err == nil {
		t.Errorf("an invalid StatefulSet passed the server-side dry run:\n%s", out)
	}
	// The framework's own config and client agree with kubectl.
	if cp.AdminConfig().Host != cp.URL() {
		t.Errorf("AdminConfig().Host = %s, URL() = %s", cp.AdminConfig().Host, cp.URL())
	}
	var _ kubernetes.Interface = cp.Admin()
}

// Stop kills the processes: the API server no longer answers, and a second
// Stop (the cleanup) is harmless.
func TestStop(t *testing.T) {
	cp := framework.Start(t, framework.Options{ControllerManager: true})
	cp.Stop()
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cp.Admin().CoreV1().Namespaces().List(c, metav1.ListOptions{}); err == nil {
		t.Fatal("the API server still answers after Stop")
	}
	for _, name := range []string{"etcd.log", "kube-apiserver.log", "kube-controller-manager.log"} {
		if _, err := os.Stat(filepath.Join(cp.Dir(), name)); err != nil {
			t.Errorf("log %s: %v", name, err)
		}
	}
}
