package k8s

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/aku-k8s/aku/lifecycle"
)

// CallTimeout bounds every single API call.
const CallTimeout = 10 * time.Second

// API is discovery through the Kubernetes API: the pod's ordinal from its
// owning StatefulSet (honouring spec.ordinals.start), peers with their pod
// IPs and readiness, and waits by watch. SQL connections go to pod IPs (no
// DNS wait); replication objects keep the stable DNS names.
type API struct {
	Client      kubernetes.Interface
	Namespace   string
	PodName     string
	StsName     string // AKU_STS_NAME; must match the owning StatefulSet
	SvcName     string
	HostFormat  string // AKU_HOST_FORMAT; "" is lifecycle.DefaultHostFormat
	ServerCount int
	Log         *slog.Logger
}

var _ lifecycle.Discovery = (*API)(nil)

func (a *API) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}

// Pod reads this pod.
func (a *API) Pod(ctx context.Context) (*corev1.Pod, error) {
	var p *corev1.Pod
	err := call(ctx, a.Log, "get pod", func(ctx context.Context) (err error) {
		p, err = a.Client.CoreV1().Pods(a.Namespace).Get(ctx, a.PodName, metav1.GetOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get pod %s/%s: %w", a.Namespace, a.PodName, err)
	}
	return p, nil
}

// StatefulSet reads the owning StatefulSet; (nil, nil) when it does not exist.
func (a *API) StatefulSet(ctx context.Context) (*appsv1.StatefulSet, error) {
	var s *appsv1.StatefulSet
	err := call(ctx, a.Log, "get statefulset", func(ctx context.Context) (err error) {
		s, err = a.Client.AppsV1().StatefulSets(a.Namespace).Get(ctx, a.StsName, metav1.GetOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get statefulset %s/%s: %w", a.Namespace, a.StsName, err)
	}
	return s, nil
}

// ownedBy checks the pod's controller is the configured StatefulSet.
func (a *API) ownedBy(p *corev1.Pod) error {
	ref := metav1.GetControllerOf(p)
	if ref == nil || ref.Kind != "StatefulSet" || ref.Name != a.StsName {
		return &podError{ErrNotInStatefulSet, fmt.Sprintf("pod %s is not controlled by StatefulSet %s (AKU_STS_NAME)", p.Name, a.StsName)}
	}
	return nil
}

// member describes the pod at position index (pod ordinal first+index).
// aku numbers pods by their position in the StatefulSet, so with
// spec.ordinals.start = s pod s is the master and replication names use
// positions; host names use the pods' real ordinals.
func (a *API) member(index, first int, p *corev1.Pod) lifecycle.Member {
	ordinal := first + index
	m := lifecycle.Member{
		Position: index,
		Name:     fmt.Sprintf("%s-%d", a.StsName, ordinal),
		Host:     lifecycle.HostName(a.HostFormat, a.StsName, a.SvcName, ordinal),
		Absent:   p == nil || p.DeletionTimestamp != nil && p.Status.PodIP == "",
	}
	if p != nil {
		m.Addr = p.Status.PodIP
		m.Ready = PodReady(p)
	}
	return m
}

// Self implements lifecycle.Discovery.
func (a *API) Self(ctx context.Context) (lifecycle.Member, error) {
	p, err := a.Pod(ctx)
	if err != nil {
		return lifecycle.Member{}, err
	}
	if err := a.ownedBy(p); err != nil {
		return lifecycle.Member{}, err
	}
	n, err := Ordinal(p.Name, a.StsName)
	if err != nil {
		return lifecycle.Member{}, err
	}
	s, err := a.StatefulSet(ctx)
	if err != nil {
		return lifecycle.Member{}, err
	}
	first := FirstOrdinal(s)
	if n < first || n-first >= a.ServerCount {
		return lifecycle.Member{}, &podError{ErrBeyondServerCount, fmt.Sprintf("pod %s is position %d of the StatefulSet (ordinals.start %d), but AKU_SERVER_COUNT is %d",
			p.Name, n-first, first, a.ServerCount)}
	}
	return a.member(n-first, first, p), nil
}

// Members implements lifecycle.Discovery: every position 0..AKU_SERVER_COUNT-1
// with the pod that holds it now, if any. Positions at or beyond the
// StatefulSet's replicas are Gone (their pods were scaled away).
func (a *API) Members(ctx context.Context) ([]lifecycle.Member, error) {
	s, err := a.StatefulSet(ctx)
	if err != nil {
		return nil, err
	}
	// s is nil when the StatefulSet was deleted before this hook asked
	// (kubectl delete statefulset: its pods end after the object is
	// gone). Its pods still exist while they terminate, and every one is
	// leaving; positions then count from ordinal 0, as Self assumes
	// (spec.ordinals.start went with the object).
	pods, err := a.pods(ctx)
	if err != nil {
		return nil, err
	}
	first := FirstOrdinal(s)
	out := make([]lifecycle.Member, a.ServerCount)
	for i := range out {
		out[i] = a.member(i, first, pods[first+i])
		// A StatefulSet being deleted takes every pod away; nothing is
		// "gone" for good from a start's point of view then.
		out[i].Gone = s != nil && s.DeletionTimestamp == nil && i >= Replicas(s)
	}
	return out, nil
}

// pods lists the StatefulSet's pods by ordinal.
func (a *API) pods(ctx context.Context) (map[int]*corev1.Pod, error) {
	var list *corev1.PodList
	err := call(ctx, a.Log, "list pods", func(ctx context.Context) (err error) {
		list, err = a.Client.CoreV1().Pods(a.Namespace).List(ctx, metav1.ListOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list pods in %s: %w", a.Namespace, err)
	}
	out := map[int]*corev1.Pod{}
	for i := range list.Items {
		p := &list.Items[i]
		if a.ownedBy(p) != nil {
			continue
		}
		if n, err := Ordinal(p.Name, a.StsName); err == nil {
			out[n] = p
		}
	}
	return out, nil
}

// PodReady reports the pod's Ready condition.
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// WaitReady waits, by watch, until the pod at the given position is Ready or
// ctx ends.
func (a *API) WaitReady(ctx context.Context, index int) error {
	s, err := a.StatefulSet(ctx)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%d", a.StsName, FirstOrdinal(s)+index)
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	for {
		var list *corev1.PodList
		err := call(ctx, a.Log, "read pod", func(ctx context.Context) (err error) {
			list, err = a.Client.CoreV1().Pods(a.Namespace).List(ctx, metav1.ListOptions{FieldSelector: sel})
			return err
		})
		if err != nil {
			return fmt.Errorf("read pod %s: %w", name, err)
		}
		for i := range list.Items {
			if list.Items[i].Name == name && PodReady(&list.Items[i]) {
				return nil
			}
		}
		a.log().Info("Waiting for the pod to be Ready.", "pod", name)
		w, err := a.Client.CoreV1().Pods(a.Namespace).Watch(ctx, metav1.ListOptions{
			FieldSelector: sel, ResourceVersion: list.ResourceVersion,
		})
		if err != nil {
			return fmt.Errorf("watch pod %s: %w", name, err)
		}
		ready, err := waitEvents(ctx, w, name)
		w.Stop()
		if ready {
			return nil
		}
		if err != nil {
			return fmt.Errorf("wait for pod %s: %w", name, err)
		}
		// The watch closed (timeout, compaction): list and watch again.
	}
}

func waitEvents(ctx context.Context, w watch.Interface, name string) (bool, error) {
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false, nil
			}
			switch ev.Type {
			case watch.Error:
				return false, apierrors.FromObject(ev.Object)
			case watch.Added, watch.Modified:
				if p, ok := ev.Object.(*corev1.Pod); ok && p.Name == name && PodReady(p) {
					return true, nil
				}
			}
		}
	}
}

// intentBudget bounds Intent's reads, retries included: the end's own work
// must keep its time when the API does not answer.
const intentBudget = 2 * CallTimeout

// Intent reads the StatefulSet and classifies why this pod stops. When the
// API cannot be reached (within intentBudget) the answer is IntentUnknown
// ("restart": flush only), with the reason.
func (a *API) Intent(ctx context.Context) (lifecycle.Intent, string) {
	ctx, cancel := context.WithTimeout(ctx, intentBudget)
	defer cancel()
	s, err := a.StatefulSet(ctx)
	if err != nil {
		return lifecycle.IntentUnknown, "API unreachable, treated as a restart: " + err.Error()
	}
	n, err := Ordinal(a.PodName, a.StsName)
	if err != nil {
		return lifecycle.IntentUnknown, err.Error()
	}
	p, err := a.Pod(ctx)
	if err != nil {
		a.log().Debug("Own pod not readable.", "err", err)
		p = nil
	}
	return ClassifyIntent(s, p, n)
}

// InCluster reports whether the process runs in a pod with a service account.
func InCluster(getenv func(string) string) bool {
	return getenv("KUBERNETES_SERVICE_HOST") != "" && getenv("KUBERNETES_SERVICE_PORT") != ""
}

// NamespaceFromServiceAccount reads the mounted service account namespace.
func NamespaceFromServiceAccount(read func(string) ([]byte, error)) string {
	b, err := read("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
