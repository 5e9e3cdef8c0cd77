package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/aku-k8s/aku/e2e/framework"
)

// The images `make node-images` builds (dist/images), imported into the
// node's containerd.
const (
	akuImage      = "aku.local/aku:e2e"
	altibaseImage = "aku.local/altibase-sim:e2e"
	storageClass  = "aku-e2e-hostpath"
	// psqlODBC in the stand-in image (Debian 11's odbc-postgresql).
	imageDriver = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so"
)

// nodeImages are the archives of `make node-images`: $AKU_NODE_IMAGES, else
// dist/images of this checkout.
func nodeImages(t testing.TB) []string {
	t.Helper()
	dir := os.Getenv("AKU_NODE_IMAGES")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "dist", "images")
	}
	var paths []string
	for _, name := range []string{"pause.tar", "aku.tar", "altibase-sim.tar"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("image archive %s is missing: run `make node-images` (or set AKU_NODE_IMAGES)", p)
		}
		paths = append(paths, p)
	}
	return paths
}

// cluster is the shipped manifests running on a real node in namespace ns.
type cluster struct {
	t     testing.TB
	cp    *framework.ControlPlane
	node  *framework.Node
	admin kubernetes.Interface
	ns    string
	dir   string // the kustomize overlay
	quiet bool   // waitPods does not log the pods' states (the demo prints them)
}

// startCluster brings up a control plane and a node and applies the
// shipped manifests through an overlay with replicas 0.
func startCluster(t testing.TB, ns string) *cluster {
	t.Helper()
	framework.RequireNode(t)
	images := nodeImages(t)
	cp := framework.Start(t, framework.Options{ControllerManager: true, Controllers: framework.NodeControllers})
	node := framework.StartNode(t, cp, framework.NodeOptions{Images: images})
	c := &cluster{t: t, cp: cp, node: node, admin: cp.Admin(), ns: ns, dir: t.TempDir()}
	framework.Namespace(t, c.admin, ns)
	c.volumes(4)
	c.apply("OrderedReady")
	return c
}

// overlay is all the test changes in the shipped base: the images, the ODBC
// driver and dialect of the stand-in, the storage (hostPath volumes on the
// node), the namespace, the replica count to start from, and, for one
// scenario, the pod management policy. The init container, hooks, probe,
// RBAC, Lease and Service are the base's own.
const overlay = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: %s
resources:
  - %s
replicas:
  - name: altibase-sts
    count: 0
images:
  - name: aku
    newName: aku.local/aku
    newTag: e2e
  - name: altibase/altibase
    newName: aku.local/altibase-sim
    newTag: e2e
patches:
  - target: {kind: StatefulSet, name: altibase-sts}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: {name: AKU_ODBC_DIALECT, value: simulator}
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: {name: AKU_ODBC_DRIVER, value: %s}
      - op: add
        path: /spec/volumeClaimTemplates/0/spec/storageClassName
        value: %s
      - op: replace
        path: /spec/volumeClaimTemplates/0/spec/resources/requests/storage
        value: 1Gi
      - op: replace
        path: /spec/podManagementPolicy
        value: %s
`

func (c *cluster) apply(policy string) {
	c.t.Helper()
	base, err := filepath.Rel(c.dir, manifests())
	if err != nil {
		c.t.Fatal(err)
	}
	k := fmt.Sprintf(overlay, c.ns, base, imageDriver, storageClass, policy)
	if err := os.WriteFile(filepath.Join(c.dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.kubectl(time.Minute, "apply", "-k", c.dir)
}

// volumes makes a hostPath PersistentVolume for each pod's data claim,
// bound to that claim, kept (Retain) when the claim goes.
func (c *cluster) volumes(n int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	immediate := storagev1.VolumeBindingImmediate
	if _, err := c.admin.StorageV1().StorageClasses().Create(ctx, &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: storageClass},
		Provisioner:       "kubernetes.io/no-provisioner",
		VolumeBindingMode: &immediate,
	}, metav1.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	dirType := corev1.HostPathDirectoryOrCreate
	for i := 0; i < n; i++ {
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-data-%d", c.ns, i)},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				StorageClassName:              storageClass,
				ClaimRef:                      &corev1.ObjectReference{Namespace: c.ns, Name: fmt.Sprintf("data-%s-%d", sts, i)},
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
					Path: c.node.HostPath(fmt.Sprintf("data-%d", i)), Type: &dirType}},
			},
		}
		if _, err := c.admin.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
			c.t.Fatal(err)
		}
	}
}

// kubectl runs kubectl in the namespace, bounded by d, failing the test.
func (c *cluster) kubectl(d time.Duration, args ...string) string {
	c.t.Helper()
	out, err := c.kubectlErr(d, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

func (c *cluster) kubectlErr(d time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	full := append([]string{"--kubeconfig", c.cp.Kubeconfig(), "-n", c.ns}, args...)
	out, err := exec.CommandContext(ctx, "kubectl", full...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (c *cluster) scale(n int) {
	c.t.Helper()
	c.kubectl(time.Minute, "scale", "statefulset/"+sts, fmt.Sprintf("--replicas=%d", n))
}

// waitPods waits (up to d) until the StatefulSet's pods are exactly
// sts-0..sts-(n-1), all Ready and none terminating, and returns them.
func (c *cluster) waitPods(n int, d time.Duration) []corev1.Pod {
	c.t.Helper()
	deadline := time.Now().Add(d)
	var last string
	for {
		pods, state := c.pods()
		ok := len(pods) == n
		for i, p := range pods {
			if p.Name != fmt.Sprintf("%s-%d", sts, i) || p.DeletionTimestamp != nil || !podReady(p) {
				ok = false
			}
		}
		if ok {
			return pods
		}
		if state != last && !c.quiet {
			c.t.Logf("pods: %s", state)
			last = state
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("after %s the pods are %s, want %d Ready\n%s", d, state, n, c.diagnose())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// pods lists the StatefulSet's pods by ordinal and says how they are.
func (c *cluster) pods() ([]corev1.Pod, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := c.admin.CoreV1().Pods(c.ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + sts})
	if err != nil {
		return nil, err.Error()
	}
	pods := list.Items
	sort.Slice(pods, func(i, j int) bool { return ordinal(pods[i].Name) < ordinal(pods[j].Name) })
	var parts []string
	for _, p := range pods {
		s := string(p.Status.Phase)
		if podReady(p) {
			s = "Ready"
		}
		if p.DeletionTimestamp != nil {
			s = "Terminating"
		}
		if n := restarts(p); n > 0 {
			s += fmt.Sprintf("(restarts %d)", n)
		}
		parts = append(parts, p.Name+"="+s)
	}
	if len(parts) == 0 {
		return pods, "none"
	}
	return pods, strings.Join(parts, " ")
}

func ordinal(name string) int {
	var n int
	_, _ = fmt.Sscanf(name[strings.LastIndex(name, "-")+1:], "%d", &n)
	return n
}

func podReady(p corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// events lists the namespace's events with reason, for the pod named (any
// incarnation) or every pod when pod is "", since the given time.
func (c *cluster) events(reason, pod string, since time.Time) []corev1.Event {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := c.admin.CoreV1().Events(c.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		at := e.LastTimestamp.Time
		if at.IsZero() {
			at = e.EventTime.Time
		}
		if e.Reason == reason && (pod == "" || e.InvolvedObject.Name == pod) && !at.Before(since.Truncate(time.Second)) {
			out = append(out, e)
		}
	}
	return out
}

// diagnose gathers what explains a stuck step: the pods, their events and
// the hooks' logs.
func (c *cluster) diagnose() string {
	var b strings.Builder
	out, _ := c.kubectlErr(30*time.Second, "get", "pods,pvc", "-o", "wide")
	b.WriteString(out)
	out, _ = c.kubectlErr(30*time.Second, "get", "events", "--sort-by=.lastTimestamp")
	b.WriteString(tailLines(out, 40))
	pods, _ := c.pods()
	for _, p := range pods {
		out, _ = c.kubectlErr(30*time.Second, "logs", p.Name, "-c", "altibase", "--tail=30")
		fmt.Fprintf(&b, "--- logs of %s\n%s", p.Name, out)
	}
	return b.String()
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}
