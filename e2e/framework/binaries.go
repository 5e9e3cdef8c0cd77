package framework

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The versions build.sh builds; they name the cache directory.
const (
	KubernetesVersion = "v1.37.2"
	EtcdVersion       = "v3.6.16"
)

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
