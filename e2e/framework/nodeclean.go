package framework

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func clientCert(cert, key []byte) *clientcmdapi.AuthInfo {
	return &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key}
}

// cleanNode removes everything a node leaves on the machine, also after a
// SIGKILL of the test (containerd's shims and the containers are daemons
// that outlive it): the node's processes and the containers' processes,
// the mounts under the node's directories, the kubepods cgroups, the
// bridge, and the node's files, including those at the fixed host paths
// the kubelet and containerd use. On a clean machine it changes nothing.
func cleanNode(logf func(string, ...any)) error {
	var errs []error
	if n := killNodeProcesses(); n > 0 {
		logf("framework: killed %d processes a node left", n)
	}
	if err := unmountUnder(stateRoot, runRoot); err != nil {
		errs = append(errs, err)
	}
	if err := removeKubepods(); err != nil {
		errs = append(errs, err)
	}
	if out, err := exec.Command("ip", "link", "del", bridgeName).CombinedOutput(); err != nil &&
		!strings.Contains(string(out), "Cannot find device") {
		errs = append(errs, fmt.Errorf("ip link del %s: %v: %s", bridgeName, err, out))
	}
	for _, d := range []string{stateRoot, runRoot} {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	// Fixed paths: the kubelet's container log links, its device plugin
	// socket, and the CNI results cache of containerd's CNI library.
	if links, err := os.ReadDir("/var/log/containers"); err == nil {
		for _, l := range links {
			p := filepath.Join("/var/log/containers", l.Name())
			if target, err := os.Readlink(p); err == nil && strings.HasPrefix(target, stateRoot) {
				_ = os.Remove(p)
			}
		}
	}
	if results, err := os.ReadDir("/var/lib/cni/results"); err == nil {
		for _, r := range results {
			if strings.HasPrefix(r.Name(), cniNetwork+"-") {
				_ = os.Remove(filepath.Join("/var/lib/cni/results", r.Name()))
			}
		}
	}
	_ = os.Remove("/var/lib/kubelet/device-plugins/kubelet.sock")
	for _, d := range []string{"/var/lib/kubelet/device-plugins", "/var/lib/kubelet/plugins_registry",
		"/var/lib/kubelet/plugins", "/var/lib/kubelet", "/var/log/containers", "/var/lib/cni/results", "/var/lib/cni"} {
		_ = os.Remove(d) // only when empty
	}
	return errors.Join(errs...)
}

// killNodeProcesses SIGKILLs the node's daemons (their command lines name
// the node's directories) and every process in a kubepods cgroup, and
// returns how many it signalled.
func killNodeProcesses() int {
	killed := 0
	for round := 0; round < 5; round++ {
		pids := map[int]bool{}
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err == nil && (strings.Contains(string(cmdline), stateRoot) || strings.Contains(string(cmdline), runRoot)) {
				pids[pid] = true
			}
		}
		for _, dir := range kubepodsDirs() {
			_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
					return nil
				}
				b, _ := os.ReadFile(p)
				for _, f := range strings.Fields(string(b)) {
					if pid, err := strconv.Atoi(f); err == nil {
						pids[pid] = true
					}
				}
				return nil
			})
		}
		if len(pids) == 0 {
			return killed
		}
		for pid := range pids {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	return killed
}

// kubepodsDirs are the kubelet's pod cgroups in every hierarchy (v1) or the
// unified one (v2).
func kubepodsDirs() []string {
	var dirs []string
	if _, err := os.Stat("/sys/fs/cgroup/kubepods"); err == nil {
		dirs = append(dirs, "/sys/fs/cgroup/kubepods")
	}
	hs, _ := filepath.Glob("/sys/fs/cgroup/*/kubepods")
	return append(dirs, hs...)
}

// removeKubepods removes the kubepods cgroup trees, deepest first.
func removeKubepods() error {
	var last error
	for attempt := 0; attempt < 20; attempt++ {
		last = nil
		for _, root := range kubepodsDirs() {
			var dirs []string
			_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					dirs = append(dirs, p)
				}
				return nil
			})
			for i := len(dirs) - 1; i >= 0; i-- {
				if err := syscall.Rmdir(dirs[i]); err != nil && !errors.Is(err, syscall.ENOENT) {
					last = fmt.Errorf("remove cgroup %s: %w", dirs[i], err)
				}
			}
		}
		if last == nil {
			return nil
		}
		killNodeProcesses()
		time.Sleep(250 * time.Millisecond)
	}
	return last
}

// unmountUnder lazily unmounts every mount point under the roots, deepest
// first, until none is left.
func unmountUnder(roots ...string) error {
	for round := 0; round < 10; round++ {
		points, err := mountsUnder(roots)
		if err != nil {
			return err
		}
		if len(points) == 0 {
			return nil
		}
		sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
		for _, p := range points {
			_ = syscall.Unmount(p, syscall.MNT_DETACH)
		}
	}
	points, _ := mountsUnder(roots)
	if len(points) > 0 {
		return fmt.Errorf("still mounted: %v", points)
	}
	return nil
}

func mountsUnder(roots []string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		p := unescapeMount(fields[4])
		for _, r := range roots {
			if p == r || strings.HasPrefix(p, r+"/") {
				points = append(points, p)
				break
			}
		}
	}
	return points, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
