package k8s

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aku-k8s/aku/lifecycle"
)

func sts(replicas, start int32, updateRev string, deleting bool) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: &replicas}}
	if start > 0 {
		s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: start}
	}
	s.Status.UpdateRevision = updateRev
	if deleting {
		now := metav1.Now()
		s.DeletionTimestamp = &now
	}
	return s
}

func podRev(rev string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: rev}}}
}

func TestClassifyIntent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sts     *appsv1.StatefulSet
		pod     *corev1.Pod
		ordinal int
		want    lifecycle.Intent
	}{
		{"sts gone", nil, nil, 1, lifecycle.IntentDelete},
		{"sts deleting", sts(3, 0, "", true), nil, 1, lifecycle.IntentDelete},
		{"scale 3 to 2, pod 2", sts(2, 0, "r1", false), podRev("r1"), 2, lifecycle.IntentScaleDown},
		{"scale to 0, pod 0", sts(0, 0, "r1", false), podRev("r1"), 0, lifecycle.IntentScaleDown},
		{"pod kept", sts(3, 0, "r1", false), podRev("r1"), 2, lifecycle.IntentRestart},
		{"rolling update", sts(3, 0, "r2", false), podRev("r1"), 1, lifecycle.IntentRestart},
		{"ordinals.start 5, pod 7 kept", sts(3, 5, "r1", false), podRev("r1"), 7, lifecycle.IntentRestart},
		{"ordinals.start 5, pod 8 removed", sts(3, 5, "r1", false), podRev("r1"), 8, lifecycle.IntentScaleDown},
		{"ordinals.start moved past pod", sts(3, 5, "r1", false), podRev("r1"), 4, lifecycle.IntentScaleDown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := ClassifyIntent(tc.sts, tc.pod, tc.ordinal)
			if got != tc.want || why == "" {
				t.Errorf("ClassifyIntent = %v (%q), want %v", got, why, tc.want)
			}
		})
	}
}

func TestEndDeadline(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	grace := int64(120)
	del := metav1.NewTime(now.Add(90 * time.Second))
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want time.Duration
	}{
		{"no pod: default 30 s grace", nil, 20 * time.Second},
		{"grace from spec", &corev1.Pod{Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace}}, 110 * time.Second},
		{"deletion timestamp wins", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &del}, Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace}}, 80 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := EndDeadline(now, tc.pod, 10*time.Second).Sub(now); got != tc.want {
				t.Errorf("budget = %v, want %v", got, tc.want)
			}
		})
	}
	short := metav1.NewTime(now.Add(4 * time.Second))
	if got := EndDeadline(now, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &short}}, 10*time.Second).Sub(now); got != 2*time.Second {
		t.Errorf("budget below reserve = %v, want half of what remains", got)
	}
}
