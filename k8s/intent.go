package k8s

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/aku-k8s/aku/lifecycle"
)

// FirstOrdinal is the StatefulSet's spec.ordinals.start (0 if unset).
func FirstOrdinal(sts *appsv1.StatefulSet) int {
	if sts != nil && sts.Spec.Ordinals != nil {
		return int(sts.Spec.Ordinals.Start)
	}
	return 0
}

// Replicas is spec.replicas (1 if unset, as the API defaults it).
func Replicas(sts *appsv1.StatefulSet) int {
	if sts.Spec.Replicas == nil {
		return 1
	}
	return int(*sts.Spec.Replicas)
}

// ClassifyIntent tells why a pod is being stopped. Kubernetes never says so
// directly; what can be read is the StatefulSet as it is now:
//   - gone or being deleted: IntentDelete;
//   - the pod's ordinal outside start..start+replicas-1: IntentScaleDown;
//   - otherwise the pod will be recreated with its volume: IntentRestart
//     (rolling update, eviction, node drain, manual delete).
//
// sts is nil when the StatefulSet was not found. Callers that could not reach
// the API use IntentUnknown, which never resets.
func ClassifyIntent(sts *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) (lifecycle.Intent, string) {
	if sts == nil {
		return lifecycle.IntentDelete, "StatefulSet not found"
	}
	if sts.DeletionTimestamp != nil {
		return lifecycle.IntentDelete, "StatefulSet is being deleted"
	}
	first, n := FirstOrdinal(sts), Replicas(sts)
	if ordinal < first || ordinal >= first+n {
		return lifecycle.IntentScaleDown, fmt.Sprintf("ordinal %d outside %d..%d (replicas %d)", ordinal, first, first+n-1, n)
	}
	if pod != nil {
		rev := pod.Labels[appsv1.ControllerRevisionHashLabelKey]
		if rev != "" && sts.Status.UpdateRevision != "" && rev != sts.Status.UpdateRevision {
			return lifecycle.IntentRestart, fmt.Sprintf("rolling update from %s to %s", rev, sts.Status.UpdateRevision)
		}
	}
	return lifecycle.IntentRestart, fmt.Sprintf("ordinal %d stays in the StatefulSet (replicas %d)", ordinal, n)
}

// EndDeadline is when aku-end must be done: the pod's deletionTimestamp (the
// kubelet's kill time: deletion request plus grace period), or now plus the
// pod's terminationGracePeriodSeconds when the deletion time is not known,
// less a reserve for the server's own shutdown after the hook.
func EndDeadline(now time.Time, pod *corev1.Pod, reserve time.Duration) time.Time {
	kill := now.Add(30 * time.Second) // the API's default grace period
	if pod != nil {
		switch {
		case pod.DeletionTimestamp != nil:
			kill = pod.DeletionTimestamp.Time
		case pod.Spec.TerminationGracePeriodSeconds != nil:
			kill = now.Add(time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second)
		}
	}
	d := kill.Add(-reserve)
	if d.Before(now) {
		// Nothing left but the reserve: use half of what remains rather
		// than failing at once.
		d = now.Add(max(kill.Sub(now)/2, 0))
	}
	return d
}
