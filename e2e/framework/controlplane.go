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
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// The versions build.sh builds; they name the cache directory.
const (
	KubernetesVersion = "v1.37.2"
	EtcdVersion       = "v3.6.16"
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

type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// Skip skips t under -short: these tests start real servers.
func Skip(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real control plane (etcd, kube-apiserver); skipped under -short")
	}
}

// CacheDir is where build.sh puts the binaries:
// ${AKU_CACHE:-$HOME/.cache/aku}/controlplane/k8s-<v>-etcd-<v>/bin.
func CacheDir() string {
	cache := os.Getenv("AKU_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "aku")
	}
	return filepath.Join(cache, "controlplane", "k8s-"+KubernetesVersion+"-etcd-"+EtcdVersion, "bin")
}

// binaries are what build.sh builds: the control plane and the node's parts.
var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubelet", "kube-scheduler", "coredns"}

func missing(dir string) []string {
	var m []string
	for _, b := range binaries {
		if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.Mode()&0o111 == 0 {
			m = append(m, b)
		}
	}
	return m
}

var build struct {
	sync.Mutex
	dir string
}

// Binaries returns the directory with etcd, kube-apiserver,
// kube-controller-manager, kubelet, kube-scheduler and coredns:
// $AKU_CONTROLPLANE_BIN, else build.sh's cache
// directory, else it runs build.sh (progress on stderr; cold 11-25 minutes,
// about a minute when only the Go build cache is warm) for as long as the
// test's -timeout allows. If the build fails or runs out of time the test
// fails with a message to run `make controlplane`.
func Binaries(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("AKU_CONTROLPLANE_BIN"); dir != "" {
		if m := missing(dir); len(m) > 0 {
			t.Fatalf("AKU_CONTROLPLANE_BIN=%s lacks %v: unset it, or run `make controlplane` and point it at the directory printed last", dir, m)
		}
		return dir
	}
	build.Lock()
	defer build.Unlock()
	if build.dir != "" {
		return build.dir
	}
	if dir := CacheDir(); len(missing(dir)) == 0 {
		build.dir = dir
		return dir
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "controlplane", "build.sh")
	fmt.Fprintf(os.Stderr, "framework: building the control plane with %s (cold: 11-25 minutes; with a warm Go build cache about a minute)\n", script)
	var out, errb bytes.Buffer
	cmd := exec.Command("bash", script)
	cmd.Stdout, cmd.Stderr = &out, io.MultiWriter(&errb, os.Stderr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("run build.sh: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// The build gets what the test's -timeout leaves, less a minute for
	// the test itself; stopped, it keeps what it compiled for next time.
	var timeout <-chan time.Time
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			timeout = time.After(max(time.Until(dl)-time.Minute, 0))
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("building the control plane failed (%v): run `make controlplane` (bash e2e/controlplane/build.sh) and read its output\n%s", err, tail(errb.String(), 40))
		}
	case <-timeout:
		pgid := cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
		t.Fatalf("the control plane binaries (%s) are not built and the build did not finish within this test's -timeout: run `make controlplane` first (cold: 11-25 minutes), or go test -timeout 40m", CacheDir())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	dir := lines[len(lines)-1]
	if m := missing(dir); len(m) > 0 {
		t.Fatalf("build.sh printed %q, which lacks %v: run `make controlplane`", dir, m)
	}
	build.dir = dir
	return dir
}

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

// run starts a process in its own process group, logging to a file.
func (cp *ControlPlane) run(name, path string, args ...string) {
	cp.t.Helper()
	pr, err := startProc(cp.dir, name, path, args...)
	if err != nil {
		cp.t.Fatal(err)
	}
	cp.procs = append(cp.procs, pr)
}

// startProc starts path in its own process group with its output in
// dir/name.log.
func startProc(dir, name, path string, args ...string) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fmt.Fprintf(f, "# %s %s\n", path, strings.Join(args, " "))
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	// Setpgid: Stop kills the whole group. Pdeathsig: if the test binary
	// dies without cleanup (a -timeout panic, a kill), so do these.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	pr := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { pr.err = cmd.Wait(); close(pr.done) }()
	return pr, nil
}

// exited reports the first of procs that has stopped.
func exited(procs []*proc) error {
	for _, pr := range procs {
		select {
		case <-pr.done:
			return fmt.Errorf("%s exited: %v (log %s)", pr.name, pr.err, pr.log)
		default:
		}
	}
	return nil
}

// poll calls check until it returns nil, a process dies, or the start
// timeout passes.
func (cp *ControlPlane) poll(what string, check func(context.Context) error) error {
	return pollProcs(cp.procs, cp.timeout, what, check)
}

// pollProcs calls check (each call bounded by 10 s) until it returns nil,
// one of procs exits, or timeout passes.
func pollProcs(procs []*proc, timeout time.Duration, what string, check func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if err := exited(procs); err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		last = check(ctx)
		cancel()
		if last == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s did not happen within %s: %v", what, timeout, last)
}

// waitFor is poll failing the test, with the logs.
func (cp *ControlPlane) waitFor(what string, check func(context.Context) error) {
	cp.t.Helper()
	if err := cp.poll(what, check); err != nil {
		cp.dumpLogs()
		cp.t.Fatal(err)
	}
}

// logsContain reports whether a process's log contains s.
func (cp *ControlPlane) logsContain(s string) bool {
	for _, pr := range cp.procs {
		if b, err := os.ReadFile(pr.log); err == nil && bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
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

// killAll stops the processes (stopProcs).
func (cp *ControlPlane) killAll() { stopProcs(cp.t, cp.procs) }

// stopProcs stops procs newest first: SIGTERM to the process group, SIGKILL
// after 10s. A group is only signalled while its leader has not been
// reaped, so a reused process ID is never hit.
func stopProcs(t testing.TB, procs []*proc) {
	for i := len(procs) - 1; i >= 0; i-- {
		stopProc(t, procs[i])
	}
}

func stopProc(t testing.TB, pr *proc) {
	pgid := pr.cmd.Process.Pid
	signal := func(sig syscall.Signal) {
		select {
		case <-pr.done:
		default:
			_ = syscall.Kill(-pgid, sig)
		}
	}
	signal(syscall.SIGTERM)
	select {
	case <-pr.done:
	case <-time.After(10 * time.Second):
		signal(syscall.SIGKILL)
		select {
		case <-pr.done:
		case <-time.After(10 * time.Second):
			t.Logf("framework: %s (pid %d) did not exit after SIGKILL", pr.name, pgid)
		}
	}
}

// keepLogs copies the logs to $AKU_E2E_LOGS/<test name>/ when that is set
// (t.TempDir is removed after the test).
func (cp *ControlPlane) keepLogs() { keepProcLogs(cp.t, cp.procs, "") }

func (cp *ControlPlane) dumpLogs() { dumpProcLogs(cp.t, cp.procs) }

// keepProcLogs copies the processes' logs to
// $AKU_E2E_LOGS/<test name>/<sub>/ when that is set.
func keepProcLogs(t testing.TB, procs []*proc, sub string) {
	root := os.Getenv("AKU_E2E_LOGS")
	if root == "" {
		return
	}
	dir := filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "_"), sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("framework: keep logs: %v", err)
		return
	}
	for _, pr := range procs {
		if b, err := os.ReadFile(pr.log); err == nil {
			_ = os.WriteFile(filepath.Join(dir, filepath.Base(pr.log)), b, 0o644)
		}
	}
}

// dumpProcLogs prints the tail of each process's log.
func dumpProcLogs(t testing.TB, procs []*proc) {
	for _, pr := range procs {
		b, _ := os.ReadFile(pr.log)
		t.Logf("--- %s (last 40 lines of %s)\n%s", pr.name, pr.log, tail(string(b), 40))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// writeKubeconfig writes a kubeconfig authenticating with a client
// certificate for user in groups.
func (cp *ControlPlane) writeKubeconfig(path, user string, groups []string) error {
	cert, key, err := cp.ca.issue(user, groups, false, nil, nil)
	if err != nil {
		return err
	}
	return cp.writeKubeconfigAuth(path, user, "default", &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key})
}

func (cp *ControlPlane) writeKubeconfigAuth(path, user, namespace string, auth *clientcmdapi.AuthInfo) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["aku-test"] = &clientcmdapi.Cluster{Server: cp.url, CertificateAuthorityData: cp.ca.pem}
	cfg.AuthInfos[user] = auth
	cfg.Contexts["aku-test"] = &clientcmdapi.Context{Cluster: "aku-test", AuthInfo: user, Namespace: namespace}
	cfg.CurrentContext = "aku-test"
	return clientcmd.WriteToFile(*cfg, path)
}

// URL is the API server's address (https://127.0.0.1:port).
func (cp *ControlPlane) URL() string { return cp.url }

// CACert is the PEM of the CA that signed the API server's certificate.
func (cp *ControlPlane) CACert() []byte { return append([]byte(nil), cp.ca.pem...) }

// Dir is the control plane's directory (certificates, logs, etcd data).
func (cp *ControlPlane) Dir() string { return cp.dir }

// Kubeconfig is the path of an admin kubeconfig file (for kubectl
// --kubeconfig, or KUBECONFIG of a process under test).
func (cp *ControlPlane) Kubeconfig() string { return cp.admin }

// AdminConfig is a fresh copy of the admin's rest.Config (group
// system:masters).
func (cp *ControlPlane) AdminConfig() *rest.Config {
	rc, err := clientcmd.BuildConfigFromFlags("", cp.admin)
	if err != nil {
		cp.t.Fatal(err)
	}
	return tune(rc)
}

func tune(rc *rest.Config) *rest.Config {
	rc.Timeout = 30 * time.Second
	rc.QPS, rc.Burst = 200, 400
	return rc
}

// Admin is a client with every permission.
func (cp *ControlPlane) Admin() kubernetes.Interface { return cp.client }

// UserConfig is a rest.Config authenticated as user in groups by a client
// certificate: it has exactly the permissions RBAC grants them (plus those
// of system:authenticated).
func (cp *ControlPlane) UserConfig(t testing.TB, user string, groups ...string) *rest.Config {
	t.Helper()
	cert, key, err := cp.ca.issue(user, groups, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tune(&rest.Config{Host: cp.url,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.ca.pem, CertData: cert, KeyData: key}})
}

// ClientFor is a client authenticated as user in groups (see UserConfig).
func (cp *ControlPlane) ClientFor(t testing.TB, user string, groups ...string) kubernetes.Interface {
	t.Helper()
	return newClient(t, cp.UserConfig(t, user, groups...))
}

// KubeconfigFor writes a kubeconfig for user in groups (a client
// certificate) into the test's temporary directory and returns its path.
func (cp *ControlPlane) KubeconfigFor(t testing.TB, user string, groups ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := cp.writeKubeconfig(path, user, groups); err != nil {
		t.Fatal(err)
	}
	return path
}

// ServiceAccountToken returns a token of the service account obtained by
// TokenRequest (valid for an hour), waiting (bounded) for the account to
// exist.
func (cp *ControlPlane) ServiceAccountToken(t testing.TB, namespace, name string) string {
	t.Helper()
	var token string
	deadline := time.Now().Add(60 * time.Second)
	for {
		var err error
		token, err = requestToken(cp.client, namespace, name)
		if err == nil {
			return token
		}
		if !apierrors.IsNotFound(err) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ServiceAccountConfig is a rest.Config holding a token of the service
// account, as a pod mounting it would (so it has exactly what RBAC grants the
// account).
func (cp *ControlPlane) ServiceAccountConfig(t testing.TB, namespace, name string) *rest.Config {
	t.Helper()
	return tune(&rest.Config{Host: cp.url, BearerToken: cp.ServiceAccountToken(t, namespace, name),
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.ca.pem}})
}

// ServiceAccountClient is a client acting as the service account (see
// ServiceAccountConfig).
func (cp *ControlPlane) ServiceAccountClient(t testing.TB, namespace, name string) kubernetes.Interface {
	t.Helper()
	return newClient(t, cp.ServiceAccountConfig(t, namespace, name))
}

// ServiceAccountKubeconfig writes a kubeconfig holding a token of the
// service account (its context's namespace is namespace) into the test's
// temporary directory, for processes (the hook binaries) that run as it.
func (cp *ControlPlane) ServiceAccountKubeconfig(namespace, name string) string {
	cp.t.Helper()
	path := filepath.Join(cp.t.TempDir(), name+".kubeconfig")
	user := "system:serviceaccount:" + namespace + ":" + name
	if err := cp.writeKubeconfigAuth(path, user, namespace, &clientcmdapi.AuthInfo{Token: cp.ServiceAccountToken(cp.t, namespace, name)}); err != nil {
		cp.t.Fatal(err)
	}
	return path
}

func newClient(t testing.TB, rc *rest.Config) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Kubectl runs /usr/bin/kubectl (or kubectl on PATH) against the control
// plane as admin, bounded by a minute, and returns its combined output.
func (cp *ControlPlane) Kubectl(args ...string) (string, error) {
	return cp.KubectlAs(cp.admin, args...)
}

// KubectlAs is Kubectl with another kubeconfig (KubeconfigFor,
// ServiceAccountKubeconfig).
func (cp *ControlPlane) KubectlAs(kubeconfig string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
