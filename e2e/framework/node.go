package framework

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A real node beside the control plane: containerd and runc (Debian's
// packages), CNI bridge networking, a kubelet, kube-scheduler and CoreDNS
// (built by build.sh). What was measured on these machines, and why each
// setting below is needed: docs/real-node.md.
//
// The network is confined to the machine. Pods get addresses on the bridge
// aku0 (PodCIDR) with no default route; the host holds the bridge's first
// address, so the test reaches pods and pods reach the host, and nothing is
// forwarded or masqueraded. kube-proxy is not run: instead the two Service
// addresses pods use are host addresses on the bridge, reached through one
// pod route (ServiceCIDR via the bridge address). APIServiceIP:443 is a TCP
// relay (in the test process) to the API server, so pods use the in-cluster
// configuration unchanged; DNSServiceIP:53 is CoreDNS. That relay and those
// host addresses are the only difference from a real cluster's networking.
const (
	// RealNodeName is StartNode's node's name; the kubelet serves on
	// 127.0.0.1 with a certificate for it.
	RealNodeName = "localhost"
	PodCIDR      = "10.244.77.0/24"
	BridgeIP     = "10.244.77.1"
	ServiceCIDR  = "10.0.0.0/24" // as the control plane's --service-cluster-ip-range
	APIServiceIP = "10.0.0.1"    // the kubernetes Service's ClusterIP
	DNSServiceIP = "10.0.0.10"
	ClusterZone  = "cluster.local"

	bridgeName  = "aku0"
	cniNetwork  = "aku-e2e"
	kubeletPort = 10250
	// Fixed paths: the kubelet and containerd use some fixed host paths
	// anyway (see cleanNode), so one node runs per machine, under a lock,
	// and a killed run's leftovers are found at the same places.
	stateRoot = "/var/lib/aku-e2e-node"
	runRoot   = "/run/aku-e2e-node"
	nodeLock  = "/run/aku-e2e-node.lock"
	// PauseImage is the sandbox image containerd uses; it must be imported
	// (NodeOptions.Images).
	PauseImage = "aku.local/pause:e2e"
)

// NodeControllers are the controller-manager controllers a cluster with a
// node needs on top of DefaultControllers: EndpointSlices (which CoreDNS
// reads for the headless Service's names), binding PersistentVolumeClaims
// to PersistentVolumes, the claims' and volumes' protection finalizers, the
// PodDisruptionBudget status, the pod garbage collector and the node's
// taints.
var NodeControllers = append(append([]string(nil), DefaultControllers...),
	"endpointslice-controller",
	"persistentvolume-binder-controller",
	"persistentvolumeclaim-protection-controller",
	"persistentvolume-protection-controller",
	"disruption-controller",
	"pod-garbage-collector-controller",
	// The kubelet registers its node with the not-ready taint; this
	// controller removes it once the node is Ready.
	"node-lifecycle-controller",
)

// NodeOptions configure StartNode.
type NodeOptions struct {
	// Images are OCI image archives imported into containerd's k8s.io
	// namespace; one of them must be PauseImage.
	Images []string
	// StartTimeout bounds each wait (default 3 minutes).
	StartTimeout time.Duration
}

// Node is a running kubelet node with its runtime, scheduler and DNS.
type Node struct {
	t       testing.TB
	cp      *ControlPlane
	logs    string // process logs (a temporary directory)
	procs   []*proc
	relay   net.Listener
	conns   sync.WaitGroup
	lock    *os.File
	timeout time.Duration
	stop    sync.Once
}

// The host tools a node needs (make node-deps installs them).
var nodeTools = []string{"containerd", "runc", "ctr", "ip", "kubectl",
	"/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback"}

// RequireNode skips under -short and fails (naming what is missing) when
// the machine cannot run a node: not root, or a tool missing.
func RequireNode(t testing.TB) {
	t.Helper()
	Skip(t)
	if os.Geteuid() != 0 {
		t.Fatal("a real node needs root (containerd, runc, network namespaces)")
	}
	var missing []string
	for _, tool := range nodeTools {
		if strings.HasPrefix(tool, "/") {
			if _, err := os.Stat(tool); err != nil {
				missing = append(missing, tool)
			}
		} else if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("the machine lacks %v: run `make node-deps` (Debian packages containerd, runc, containernetworking-plugins)", missing)
	}
}

// StartNode starts a node for cp (which should run NodeControllers) and
// stops it at t.Cleanup, before cp stops. It takes the machine's node lock
// (waiting for another test's node), first removes what a killed earlier
// run left, and on stop deletes every pod through the API (so the network
// is torn down by CNI), stops the processes and removes every trace.
func StartNode(t testing.TB, cp *ControlPlane, opts NodeOptions) *Node {
	t.Helper()
	RequireNode(t)
	bin := Binaries(t)
	n := &Node{t: t, cp: cp, logs: t.TempDir(), timeout: opts.StartTimeout}
	if n.timeout <= 0 {
		n.timeout = 3 * time.Minute
	}
	n.takeLock()
	t.Cleanup(n.Stop)
	if err := cleanNode(t.Logf); err != nil {
		t.Fatalf("clean what an earlier run left: %v", err)
	}
	if err := n.setUp(bin, opts); err != nil {
		n.dumpLogs()
		t.Fatal(err)
	}
	return n
}

func (n *Node) takeLock() {
	f, err := os.OpenFile(nodeLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		n.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Minute)
	logged := false
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if !logged {
			n.t.Logf("framework: another node runs on this machine (%s); waiting for it", nodeLock)
			logged = true
		}
		if time.Now().After(deadline) {
			f.Close()
			n.t.Fatalf("the node lock %s was held for 30 minutes", nodeLock)
		}
		time.Sleep(time.Second)
	}
	n.lock = f
}

func (n *Node) setUp(bin string, opts NodeOptions) error {
	for _, d := range []string{stateRoot, runRoot} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := n.network(); err != nil {
		return err
	}
	if err := n.startContainerd(); err != nil {
		return err
	}
	for _, img := range opts.Images {
		start := time.Now()
		if out, err := n.Ctr("images", "import", img); err != nil {
			return fmt.Errorf("import %s: %w\n%s", img, err, out)
		}
		n.t.Logf("framework: imported %s in %s", filepath.Base(img), time.Since(start).Round(100*time.Millisecond))
	}
	if err := n.startKubelet(bin); err != nil {
		return err
	}
	kc := filepath.Join(n.logs, "scheduler.kubeconfig")
	if err := n.cp.writeKubeconfig(kc, "system:kube-scheduler", nil); err != nil {
		return err
	}
	if err := n.run("kube-scheduler", filepath.Join(bin, "kube-scheduler"),
		"--kubeconfig="+kc, "--leader-elect=false", "--secure-port=0", "--v=1"); err != nil {
		return err
	}
	if err := n.startDNS(bin); err != nil {
		return err
	}
	return n.startRelay()
}

func (n *Node) run(name, path string, args ...string) error {
	pr, err := startProc(n.logs, name, path, args...)
	if err != nil {
		return err
	}
	n.procs = append(n.procs, pr)
	return nil
}

func (n *Node) poll(what string, check func(context.Context) error) error {
	return pollProcs(n.procs, n.timeout, what, check)
}

// Ctr runs ctr against the node's containerd in the k8s.io namespace,
// bounded by two minutes.
func (n *Node) Ctr(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ctr", append([]string{"--address", n.containerdSocket(), "--namespace", "k8s.io"}, args...)...).CombinedOutput()
	return string(out), err
}

// HostPath is a directory on the node for hostPath PersistentVolumes,
// removed with the node.
func (n *Node) HostPath(name string) string { return filepath.Join(stateRoot, "volumes", name) }

// Stop deletes every pod (grace period 0, so the kubelet kills the
// containers and CNI releases their addresses), waits a bounded time for
// the sandboxes to go, stops the processes and removes every trace. It is
// registered with t.Cleanup by StartNode.
func (n *Node) Stop() {
	n.stop.Do(func() {
		if n.t.Failed() {
			n.dumpLogs()
		}
		n.deletePods()
		if n.relay != nil {
			_ = n.relay.Close()
		}
		stopProcs(n.t, n.procs)
		n.keepLogs()
		if err := cleanNode(n.t.Logf); err != nil {
			n.t.Errorf("framework: node teardown: %v", err)
		}
		if n.lock != nil {
			_ = n.lock.Close()
		}
	})
}

func (n *Node) deletePods() {
	admin := n.cp.Admin()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pods, err := admin.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		n.t.Logf("framework: list pods: %v", err)
		return
	}
	zero := int64(0)
	for _, p := range pods.Items {
		_ = admin.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	}
	// The kubelet stops the sandboxes of pods that are gone (CNI DEL);
	// their stopped tasks stay listed until its garbage collection.
	for ctx.Err() == nil {
		out, err := n.Ctr("tasks", "ls")
		if err == nil && !strings.Contains(out, "RUNNING") {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	n.t.Logf("framework: sandboxes still running after 90s; removing them by force")
}

func (n *Node) keepLogs() { keepProcLogs(n.t, n.procs, "node") }

func (n *Node) dumpLogs() { dumpProcLogs(n.t, n.procs) }
