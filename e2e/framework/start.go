package framework

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// freePort returns a loopback port that was free a moment ago (a variable
// so a test can make it return a taken one).
var freePort = func(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs a control plane for the test and stops it at t.Cleanup. It
// skips the test under -short.
func Start(t testing.TB, opts Options) *ControlPlane {
	t.Helper()
	Skip(t)
	bin := Binaries(t)
	cp := &ControlPlane{t: t, dir: t.TempDir(), timeout: opts.StartTimeout}
	if cp.timeout <= 0 {
		cp.timeout = 2 * time.Minute
	}
	t.Cleanup(cp.Stop)
	var err error
	if cp.ca, err = newCA(); err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return filepath.Join(cp.dir, name) }
	serverCert, serverKey, err := cp.ca.issue("kube-apiserver", nil, true,
		[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"})
	if err != nil {
		t.Fatal(err)
	}
	// The API server's client certificate for a kubelet (logs, exec,
	// port-forward), when StartNode runs one.
	kubeletClientCert, kubeletClientKey, err := cp.ca.issue("kube-apiserver-kubelet-client", []string{"system:masters"}, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFiles(map[string][]byte{p("ca.crt"): cp.ca.pem, p("apiserver.crt"): serverCert, p("apiserver.key"): serverKey,
		p("kubelet-client.crt"): kubeletClientCert, p("kubelet-client.key"): kubeletClientKey}); err != nil {
		t.Fatal(err)
	}
	saPriv, saPub, err := serviceAccountKey(cp.dir)
	if err != nil {
		t.Fatal(err)
	}

	// Free ports are picked by listening and closing, so another process
	// may take one before etcd or kube-apiserver binds it: retry then.
	for attempt := 1; ; attempt++ {
		err := cp.startServers(bin, opts, saPub, saPriv)
		if err == nil {
			break
		}
		if attempt < 3 && cp.logsContain("address already in use") {
			t.Logf("framework: a port was taken (%v); starting again", err)
			cp.killAll()
			cp.procs = nil
			continue
		}
		cp.dumpLogs()
		t.Fatal(err)
	}
	admin := cp.client

	if opts.ControllerManager {
		controllers := opts.Controllers
		if len(controllers) == 0 {
			controllers = DefaultControllers
		}
		kc := p("controller-manager.kubeconfig")
		if err := cp.writeKubeconfig(kc, "system:kube-controller-manager", nil); err != nil {
			t.Fatal(err)
		}
		cp.run("kube-controller-manager", filepath.Join(bin, "kube-controller-manager"),
			"--kubeconfig="+kc,
			"--controllers="+strings.Join(controllers, ","),
			"--service-account-private-key-file="+saPriv, "--root-ca-file="+p("ca.crt"),
			// Each controller acts as its own service account, with the
			// bootstrap RBAC roles a real cluster gives it.
			"--use-service-account-credentials=true",
			"--leader-elect=false",
			"--bind-address=127.0.0.1", "--secure-port=0",
			"--concurrent-statefulset-syncs=5",
			"--v=2")
		// Ready when it has made the default namespace's ServiceAccount.
		cp.waitFor("the controller manager to create ServiceAccount default/default", func(ctx context.Context) error {
			_, err := admin.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
			return err
		})
	}
	return cp
}

// startServers starts etcd and kube-apiserver on free ports and waits until
// the API server is ready.
func (cp *ControlPlane) startServers(bin string, opts Options, saPub, saPriv string) error {
	t := cp.t
	p := func(name string) string { return filepath.Join(cp.dir, name) }
	if err := os.RemoveAll(p("etcd")); err != nil {
		return err
	}
	etcdClient, etcdPeer := freePort(t), freePort(t)
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	cp.run("etcd", filepath.Join(bin, "etcd"),
		"--name=aku-e2e", "--data-dir="+p("etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-advertise-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-cluster=aku-e2e=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--unsafe-no-fsync", "--log-level=warn")

	port := freePort(t)
	cp.url = "https://127.0.0.1:" + strconv.Itoa(port)
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + p("apiserver.crt"), "--tls-private-key-file=" + p("apiserver.key"),
		"--client-ca-file=" + p("ca.crt"),
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + saPub, "--service-account-signing-key-file=" + saPriv,
		"--service-cluster-ip-range=10.0.0.0/24",
		// The default reconciler would publish 127.0.0.1 in the kubernetes
		// Service's endpoints, which the API server refuses on loopback.
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		// A kubelet (StartNode) is reached by its node's name, localhost:
		// it refuses a loopback node IP.
		"--kubelet-preferred-address-types=Hostname",
		"--kubelet-client-certificate=" + p("kubelet-client.crt"), "--kubelet-client-key=" + p("kubelet-client.key"),
		"--kubelet-certificate-authority=" + p("ca.crt"),
		"--profiling=false",
		"--v=1",
	}
	cp.run("kube-apiserver", filepath.Join(bin, "kube-apiserver"), append(args, opts.APIServerFlags...)...)

	cp.admin = p("admin.kubeconfig")
	if err := cp.writeKubeconfig(cp.admin, "aku-test-admin", []string{"system:masters"}); err != nil {
		return err
	}
	admin, err := kubernetes.NewForConfig(cp.AdminConfig())
	if err != nil {
		return err
	}
	cp.client = admin
	return cp.waitReady()

}

// waitReady waits for the API server's /readyz (which includes the RBAC
// bootstrap roles) and the default namespace.
func (cp *ControlPlane) waitReady() error {
	err := cp.poll("kube-apiserver /readyz", func(ctx context.Context) error {
		body, err := cp.client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return err
		}
		if string(body) != "ok" {
			return fmt.Errorf("readyz: %s", body)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return cp.poll("namespace default", func(ctx context.Context) error {
		_, err := cp.client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}
