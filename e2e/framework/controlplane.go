// Package framework runs a real Kubernetes control plane for aku's tests:
// etcd, kube-apiserver (client-certificate authentication, RBAC, service
// account tokens) and, on request, kube-controller-manager, built from the Go
// module proxy by e2e/controlplane/build.sh and cached. There is no kubelet:
// pods are created by the StatefulSet controller but never run, so tests
// play the kubelet (MarkPodReady) and force-delete pods (grace period 0) that
// would otherwise stay Terminating.
package framework

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Options select what runs.
type Options struct {
	// ControllerManager also runs kube-controller-manager with the
	// statefulset and service account controllers.
	ControllerManager bool
}

// ControlPlane is a running etcd + kube-apiserver (+ controller manager).
type ControlPlane struct {
	t      testing.TB
	dir    string
	ca     *ca
	url    string
	procs  []*exec.Cmd
	logs   []string
	admin  string // admin kubeconfig path
	saPriv string
}

// Skip skips t under -short: these tests start real servers.
func Skip(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real control plane; skipped under -short")
	}
}

// Binaries returns the directory with etcd, kube-apiserver and
// kube-controller-manager: $AKU_CONTROLPLANE_BIN, else the build script's
// cache (building on a cold cache, which takes a while).
func Binaries(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("AKU_CONTROLPLANE_BIN"); dir != "" {
		return dir
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "controlplane", "build.sh")
	var out, errb bytes.Buffer
	cmd := exec.Command("bash", script)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("build the control plane (make controlplane): %v\n%s", err, tail(errb.String(), 40))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1]
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs a control plane for the test and stops it at cleanup.
func Start(t testing.TB, opts Options) *ControlPlane {
	t.Helper()
	Skip(t)
	bin := Binaries(t)
	cp := &ControlPlane{t: t, dir: t.TempDir()}
	t.Cleanup(cp.Stop)
	var err error
	if cp.ca, err = newCA(); err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return filepath.Join(cp.dir, name) }
	serverCert, serverKey, err := cp.ca.issue("kube-apiserver", nil, true,
		[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")}, []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFiles(map[string][]byte{p("ca.crt"): cp.ca.pem, p("apiserver.crt"): serverCert, p("apiserver.key"): serverKey}); err != nil {
		t.Fatal(err)
	}
	saPriv, saPub, err := serviceAccountKey(cp.dir)
	if err != nil {
		t.Fatal(err)
	}
	cp.saPriv = saPriv

	etcdClient, etcdPeer := freePort(t), freePort(t)
	cp.run("etcd", filepath.Join(bin, "etcd"),
		"--name=default", "--data-dir="+p("etcd"),
		"--listen-client-urls=http://127.0.0.1:"+strconv.Itoa(etcdClient),
		"--advertise-client-urls=http://127.0.0.1:"+strconv.Itoa(etcdClient),
		"--listen-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-advertise-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-cluster=default=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--unsafe-no-fsync", "--log-level=error")

	port := freePort(t)
	cp.url = "https://127.0.0.1:" + strconv.Itoa(port)
	cp.run("kube-apiserver", filepath.Join(bin, "kube-apiserver"),
		"--etcd-servers=http://127.0.0.1:"+strconv.Itoa(etcdClient),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		"--tls-cert-file="+p("apiserver.crt"), "--tls-private-key-file="+p("apiserver.key"),
		"--client-ca-file="+p("ca.crt"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+saPub, "--service-account-signing-key-file="+saPriv,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--endpoint-reconciler-type=none", "--allow-privileged=true",
		"--v=1")

	cp.admin = p("admin.kubeconfig")
	if err := cp.writeKubeconfig(cp.admin, "admin", []string{"system:masters"}); err != nil {
		t.Fatal(err)
	}
	cp.waitReady()

	if opts.ControllerManager {
		cmConfig := p("controller-manager.kubeconfig")
		if err := cp.writeKubeconfig(cmConfig, "system:kube-controller-manager", nil); err != nil {
			t.Fatal(err)
		}
		cp.run("kube-controller-manager", filepath.Join(bin, "kube-controller-manager"),
			"--kubeconfig="+cmConfig,
			"--controllers=statefulset,serviceaccount,serviceaccount-token,garbage-collector",
			"--service-account-private-key-file="+saPriv, "--root-ca-file="+p("ca.crt"),
			"--use-service-account-credentials=false", "--leader-elect=false",
			"--bind-address=127.0.0.1", "--secure-port=0", "--v=1")
	}
	return cp
}

// run starts a process in its own process group, logging to a file.
func (cp *ControlPlane) run(name, path string, args ...string) {
	cp.t.Helper()
	logPath := filepath.Join(cp.dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		cp.t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		cp.t.Fatalf("start %s: %v", name, err)
	}
	f.Close()
	cp.procs = append(cp.procs, cmd)
	cp.logs = append(cp.logs, logPath)
}

// waitReady waits (bounded) for the API server's /readyz.
func (cp *ControlPlane) waitReady() {
	cp.t.Helper()
	client := cp.Admin()
	deadline := time.Now().Add(90 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		for _, c := range cp.procs {
			if c.ProcessState != nil {
				cp.t.Fatalf("%s exited", c.Path)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		cancel()
		if err == nil && string(body) == "ok" {
			return
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	cp.dumpLogs()
	cp.t.Fatalf("kube-apiserver not ready: %v", last)
}

// Stop kills every process (process groups) and prints their logs' tails if
// the test failed.
func (cp *ControlPlane) Stop() {
	if cp.t.Failed() {
		cp.dumpLogs()
	}
	for i := len(cp.procs) - 1; i >= 0; i-- {
		c := cp.procs[i]
		if c.Process == nil {
			continue
		}
		syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	cp.procs = nil
}

func (cp *ControlPlane) dumpLogs() {
	for _, l := range cp.logs {
		b, _ := os.ReadFile(l)
		cp.t.Logf("--- %s (tail)\n%s", filepath.Base(l), tail(string(b), 30))
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
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: cp.url, CertificateAuthorityData: cp.ca.pem}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: user}
	cfg.CurrentContext = "test"
	return clientcmd.WriteToFile(*cfg, path)
}

// Kubeconfig is an admin kubeconfig file (for kubectl --kubeconfig).
func (cp *ControlPlane) Kubeconfig() string { return cp.admin }

// AdminConfig is the admin's rest.Config (group system:masters).
func (cp *ControlPlane) AdminConfig() *rest.Config {
	rc, err := clientcmd.BuildConfigFromFlags("", cp.admin)
	if err != nil {
		cp.t.Fatal(err)
	}
	rc.Timeout = 15 * time.Second
	return rc
}

// Admin is a client with every permission.
func (cp *ControlPlane) Admin() kubernetes.Interface {
	c, err := kubernetes.NewForConfig(cp.AdminConfig())
	if err != nil {
		cp.t.Fatal(err)
	}
	return c
}

// ClientFor is a client authenticated as user (a client certificate) in
// groups: it has exactly the permissions RBAC grants them.
func (cp *ControlPlane) ClientFor(user string, groups ...string) kubernetes.Interface {
	cp.t.Helper()
	cert, key, err := cp.ca.issue(user, groups, false, nil, nil)
	if err != nil {
		cp.t.Fatal(err)
	}
	rc := &rest.Config{Host: cp.url, Timeout: 15 * time.Second,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.ca.pem, CertData: cert, KeyData: key}}
	c, err := kubernetes.NewForConfig(rc)
	if err != nil {
		cp.t.Fatal(err)
	}
	return c
}

// ServiceAccountClient is a client holding a token of the service account
// (obtained by TokenRequest), as a pod mounting it would.
func (cp *ControlPlane) ServiceAccountClient(namespace, name string) kubernetes.Interface {
	cp.t.Helper()
	token, err := requestToken(cp.Admin(), namespace, name)
	if err != nil {
		cp.t.Fatal(err)
	}
	rc := &rest.Config{Host: cp.url, BearerToken: token, Timeout: 15 * time.Second,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.ca.pem}}
	c, err := kubernetes.NewForConfig(rc)
	if err != nil {
		cp.t.Fatal(err)
	}
	return c
}

// Kubectl runs kubectl against the control plane as admin.
func (cp *ControlPlane) Kubectl(args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", cp.admin}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// ServiceAccountKubeconfig writes a kubeconfig holding a token of the
// service account, for processes (the hook binaries) that run as it.
func (cp *ControlPlane) ServiceAccountKubeconfig(namespace, name string) string {
	cp.t.Helper()
	token, err := requestToken(cp.Admin(), namespace, name)
	if err != nil {
		cp.t.Fatal(err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: cp.url, CertificateAuthorityData: cp.ca.pem}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: name, Namespace: namespace}
	cfg.CurrentContext = "test"
	path := filepath.Join(cp.t.TempDir(), name+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		cp.t.Fatal(err)
	}
	return path
}
