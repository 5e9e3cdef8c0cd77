package k8s

import (
	"context"
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestEventsEmit(t *testing.T) {
	c := fake.NewClientset()
	e := &Events{Client: c, Namespace: "db", PodName: "sts-1", PodUID: "u1"}
	e.Emit(context.Background(), false, "SyncFinished", "sync from pod-0 finished")
	e.Emit(context.Background(), true, "StartFailed", "boom")
	list, err := c.CoreV1().Events("db").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(list.Items) != 2 {
		t.Fatalf("events = %v, %v", list, err)
	}
	got := list.Items[1]
	if got.InvolvedObject.Name != "sts-1" || got.Type != "Warning" || got.Reason != "StartFailed" || got.Source.Component != "aku" {
		t.Errorf("event = %+v", got)
	}
	// Refused posts never fail the hook.
	c.PrependReactor("create", "events", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "events"}, "", errors.New("no"))
	})
	e.Emit(context.Background(), false, "X", "y")
}
