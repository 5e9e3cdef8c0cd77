// Package framework runs a real Kubernetes control plane for aku's tests:
// etcd, kube-apiserver (client-certificate and service account token
// authentication, RBAC) and, on request, kube-controller-manager, built from
// the Go module proxy by e2e/controlplane/build.sh and cached. Fake clientsets
// are for unit tests; objects and manifests checked here meet the real
// validation, admission, RBAC and controllers.
//
// Usage:
//
//	cp := framework.Start(t, framework.Options{ControllerManager: true})
//	admin := cp.Admin()                          // system:masters
//	alice := cp.ClientFor(t, "alice")            // only what RBAC grants alice
//	sa := cp.ServiceAccountClient(t, "db", "aku") // a TokenRequest token
//	out, err := cp.Kubectl("get", "ns")           // kubectl --kubeconfig cp.Kubeconfig()
//
// Everything listens on free loopback ports; certificates, keys, the etcd
// data and the processes' logs live in t.TempDir(). The processes run in their
// own process groups and are killed at t.Cleanup (also when the test fails or
// panics; if the test binary itself dies they get SIGKILL from the kernel).
// On failure the tail of every log is printed; with AKU_E2E_LOGS=dir the
// whole logs are kept in dir/<test name>/.
//
// There is no kubelet and no scheduler. The StatefulSet controller creates
// pods but nothing runs them, so tests play the kubelet:
//
//   - MarkPodReady sets a pod Running with an IP (pass 127.0.1.x style
//     loopback addresses) and the Ready condition; MarkPodNotReady clears it.
//   - MarkPodRunning and MarkPodReady first bind the pod to the Node
//     NodeName, as the scheduler would. That matters for deletion: a pod
//     bound to a node and deleted with a grace period (the default 30s, or
//     the controller deleting it in a scale-down or rolling update) gets a
//     deletionTimestamp and stays Terminating for ever, because only a
//     kubelet confirms the containers are gone. Tests that need it gone call
//     ForceDelete (grace period 0), which is what the kubelet's final delete
//     does; the StatefulSet controller then creates the next pod. A pod never
//     marked (so never bound) is deleted at once, like an unscheduled pod.
//   - Endpoints and EndpointSlices refuse loopback addresses, so a Service
//     never lists pods marked with 127.x IPs: peers are found from the pods
//     themselves (their status.podIP), as aku does, not from endpoints; and
//     there is no cluster DNS at all.
//   - Without the controller manager no "default" ServiceAccount is made, so
//     pods (whose admission needs their ServiceAccount) cannot be created
//     unless the test creates the ServiceAccount itself.
package framework

import (
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
)

// DefaultControllers are the kube-controller-manager controllers started
// with Options.ControllerManager: service accounts and their tokens (pods
// need their ServiceAccount to pass admission), the kube-root-ca.crt config
// map that service account volumes mount, StatefulSets, the garbage collector
// (a deleted StatefulSet's pods go) and namespace deletion. The endpoints
// controllers are left out: Endpoints and EndpointSlices refuse loopback
// addresses, which are the pod IPs tests can listen on (add
// "endpointslice-controller" to Controllers for pods given other IPs).
var DefaultControllers = []string{
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"root-ca-certificate-publisher-controller",
	"statefulset-controller",
	"garbage-collector-controller",
	"namespace-controller",
}

// Options select what runs.
type Options struct {
	// ControllerManager also runs kube-controller-manager with Controllers.
	ControllerManager bool
	// Controllers overrides DefaultControllers.
	Controllers []string
	// APIServerFlags are appended to kube-apiserver's flags (for a
	// single-valued flag the later value wins).
	APIServerFlags []string
	// StartTimeout bounds each wait of Start (default 2 minutes: the
	// machine may be busy compiling).
	StartTimeout time.Duration
}

// ControlPlane is a running etcd + kube-apiserver (+ controller manager).
type ControlPlane struct {
	t       testing.TB
	dir     string
	ca      *ca
	url     string
	procs   []*proc
	admin   string // admin kubeconfig path
	timeout time.Duration
	client  kubernetes.Interface
	stop    sync.Once
}

// Skip skips t under -short: these tests start real servers.
func Skip(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real control plane (etcd, kube-apiserver); skipped under -short")
	}
}

// Stop kills every process (SIGTERM to its process group, SIGKILL after
// 10s), newest first, and prints their logs' tails if the test failed. It is
// registered with t.Cleanup by Start; calling it again does nothing.
func (cp *ControlPlane) Stop() {
	cp.stop.Do(func() {
		if cp.t.Failed() {
			cp.dumpLogs()
		}
		cp.killAll()
		cp.keepLogs()
	})
}
