package k8s

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Events posts Kubernetes Events on the pod so `kubectl describe pod` shows
// each phase of a hook. Posting is best effort: a refused or failed post is
// logged at debug level and never fails the hook.
type Events struct {
	Client    kubernetes.Interface
	Namespace string
	PodName   string
	PodUID    string
	Host      string // reporting instance
	Log       *slog.Logger
	Now       func() time.Time
}

// Emit posts one Event; warning selects type Warning over Normal.
func (e *Events) Emit(ctx context.Context, warning bool, reason, message string) {
	now := time.Now()
	if e.Now != nil {
		now = e.Now()
	}
	typ := corev1.EventTypeNormal
	if warning {
		typ = corev1.EventTypeWarning
	}
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.aku.%x", e.PodName, now.UnixNano()),
			Namespace: e.Namespace,
		},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: e.Namespace, Name: e.PodName, UID: types.UID(e.PodUID),
		},
		Reason:              reason,
		Message:             message,
		Type:                typ,
		Source:              corev1.EventSource{Component: "aku", Host: e.Host},
		ReportingController: "aku-k8s.io/aku",
		ReportingInstance:   fmt.Sprintf("aku-%s", e.PodName),
		FirstTimestamp:      metav1.NewTime(now),
		LastTimestamp:       metav1.NewTime(now),
		Count:               1,
	}
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	if _, err := e.Client.CoreV1().Events(e.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil && e.Log != nil {
		e.Log.Debug("Could not post an event.", "reason", reason, "err", err)
	}
}
