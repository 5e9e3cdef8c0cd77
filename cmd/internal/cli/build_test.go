package cli

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/aku-k8s/aku/k8s"
	"github.com/aku-k8s/aku/lifecycle"
	"github.com/aku-k8s/aku/lifecycle/config"
)

const conf = `AKU_STS_NAME = db
AKU_SVC_NAME = svc
AKU_SERVER_COUNT = 3
AKU_SYS_PASSWORD = manager
REPLICATIONS = ( REPLICATION_NAME_PREFIX = R ( SYS.T1 ) )
`

func load(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("aku.conf", strings.NewReader(conf), config.WithEnv(func(k string) string { return env[k] }))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func cluster() kubernetes.Interface {
	yes := true
	replicas := int32(3)
	grace := int64(120)
	del := metav1.NewTime(time.Date(2026, 1, 1, 0, 1, 30, 0, time.UTC))
	return fake.NewClientset(
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns"}, Spec: appsv1.StatefulSetSpec{Replicas: &replicas}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db-1", Namespace: "ns", DeletionTimestamp: &del,
			OwnerReferences: []metav1.OwnerReference{{Kind: "StatefulSet", Name: "db", Controller: &yes}}},
			Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace}},
	)
}

func TestBuildChoosesDiscovery(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	log := slog.New(slog.DiscardHandler)
	inCluster := func(env map[string]string) processEnv {
		return processEnv{Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return now },
			Kubernetes: func() (kubernetes.Interface, error) { return cluster(), nil }}
	}
	outside := processEnv{Getenv: func(k string) string { return map[string]string{"POD_NAME": "db-1"}[k] },
		Kubernetes: func() (kubernetes.Interface, error) { return nil, errors.New("not in a cluster") }}

	t.Run("auto_in_cluster", func(t *testing.T) {
		env := map[string]string{"POD_NAME": "db-1", "POD_NAMESPACE": "ns"}
		st, err := build(context.Background(), load(t, env), inCluster(env), log, lifecycle.ActionEnd)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode != config.DiscoveryKubernetes || st.Runner.Lock == nil || st.Runner.Event == nil || st.Runner.Intent == nil {
			t.Errorf("setup = %+v", st)
		}
		if _, ok := st.Runner.Discovery.(*k8s.API); !ok {
			t.Errorf("discovery %T, want the API", st.Runner.Discovery)
		}
		// deletionTimestamp 90 s away, 10 s reserve.
		if got := st.Deadline.Sub(now); got != 80*time.Second {
			t.Errorf("end budget = %v, want 80s", got)
		}
	})
	t.Run("auto_outside_falls_back_to_dns", func(t *testing.T) {
		st, err := build(context.Background(), load(t, nil), outside, log, lifecycle.ActionStart)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := st.Runner.Discovery.(*k8s.DNS); !ok || st.Mode != config.DiscoveryDNS || st.Runner.Lock != nil {
			t.Errorf("setup = %+v", st)
		}
		if st.Deadline.IsZero() {
			t.Error("start has no deadline")
		}
	})
	t.Run("kubernetes_required", func(t *testing.T) {
		env := map[string]string{"AKU_DISCOVERY": "kubernetes"}
		if _, err := build(context.Background(), load(t, env), outside, log, lifecycle.ActionStart); err == nil {
			t.Error("AKU_DISCOVERY=kubernetes outside a cluster accepted")
		}
	})
	t.Run("dns_forced", func(t *testing.T) {
		env := map[string]string{"POD_NAME": "db-1", "POD_NAMESPACE": "ns", "AKU_DISCOVERY": "dns"}
		st, err := build(context.Background(), load(t, env), inCluster(env), log, lifecycle.ActionStart)
		if err != nil || st.Mode != config.DiscoveryDNS {
			t.Errorf("setup = %+v, %v", st, err)
		}
	})
}
