package framework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The node's parts, each configured as docs/real-node.md explains.

// network creates the bridge with the host's addresses on it and the CNI
// configuration that attaches pods to it.
func (n *Node) network() error {
	for _, args := range [][]string{
		{"link", "add", bridgeName, "type", "bridge"},
		{"addr", "add", BridgeIP + "/24", "dev", bridgeName},
		{"addr", "add", APIServiceIP + "/32", "dev", bridgeName},
		{"addr", "add", DNSServiceIP + "/32", "dev", bridgeName},
		{"link", "set", bridgeName, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
		}
	}
	// isGateway false and ipMasq false: no default route in pods and no
	// NAT; the only route is the Service range through the host.
	conf := fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": %q,
  "plugins": [{
    "type": "bridge",
    "bridge": %q,
    "isGateway": false,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "dataDir": %q,
      "ranges": [[{"subnet": %q, "gateway": %q}]],
      "routes": [{"dst": %q, "gw": %q}]
    }
  }]
}
`, cniNetwork, bridgeName, filepath.Join(stateRoot, "cni-ipam"), PodCIDR, BridgeIP, ServiceCIDR, BridgeIP)
	dir := filepath.Join(stateRoot, "cni")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "10-aku-e2e.conflist"), []byte(conf), 0o644)
}

func (n *Node) containerdSocket() string { return filepath.Join(runRoot, "containerd.sock") }

func (n *Node) startContainerd() error {
	// The settings real-node.md found necessary on these machines.
	conf := fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[plugins."io.containerd.internal.v1.opt"]
  path = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
`, filepath.Join(stateRoot, "containerd"), filepath.Join(runRoot, "containerd"), n.containerdSocket(),
		filepath.Join(stateRoot, "opt"), PauseImage, filepath.Join(stateRoot, "cni"))
	path := filepath.Join(stateRoot, "containerd.toml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return err
	}
	if err := n.run("containerd", "containerd", "--config", path); err != nil {
		return err
	}
	return n.poll("containerd", func(ctx context.Context) error {
		_, err := n.Ctr("version")
		return err
	})
}

func (n *Node) startKubelet(bin string) error {
	p := func(name string) string { return filepath.Join(stateRoot, name) }
	cert, key, err := n.cp.ca.issue("system:node:"+RealNodeName, []string{"system:nodes"}, false, nil, nil)
	if err != nil {
		return err
	}
	serving, servingKey, err := n.cp.ca.issue(RealNodeName, nil, true, []net.IP{net.ParseIP("127.0.0.1")}, []string{RealNodeName})
	if err != nil {
		return err
	}
	if err := writeFiles(map[string][]byte{p("kubelet.crt"): serving, p("kubelet.key"): servingKey,
		p("ca.crt"): n.cp.ca.pem, p("resolv.conf"): nil}); err != nil {
		return err
	}
	kc := p("kubelet.kubeconfig")
	if err := n.cp.writeKubeconfigAuth(kc, "system:node:"+RealNodeName, "default", clientCert(cert, key)); err != nil {
		return err
	}
	conf := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://%s
address: 127.0.0.1
port: %d
readOnlyPort: 0
healthzPort: 0
tlsCertFile: %s
tlsPrivateKeyFile: %s
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: %s}
authorization:
  mode: AlwaysAllow
clusterDomain: %s
clusterDNS: [%s]
resolvConf: %s
volumePluginDir: %s
podLogsDir: %s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
failSwapOn: false
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "1%%"
  nodefs.inodesFree: "1%%"
  imagefs.available: "1%%"
serializeImagePulls: false
rotateCertificates: false
syncFrequency: 10s
`, n.containerdSocket(), kubeletPort, p("kubelet.crt"), p("kubelet.key"), p("ca.crt"), ClusterZone, DNSServiceIP,
		p("resolv.conf"), p("volume-plugins"), p("pod-logs"))
	if err := os.WriteFile(p("kubelet.yaml"), []byte(conf), 0o644); err != nil {
		return err
	}
	if err := n.run("kubelet", filepath.Join(bin, "kubelet"),
		"--config="+p("kubelet.yaml"), "--kubeconfig="+kc,
		"--root-dir="+p("kubelet"), "--cert-dir="+p("kubelet-pki"),
		"--hostname-override="+RealNodeName, "--v=2"); err != nil {
		return err
	}
	return n.poll("node "+RealNodeName+" Ready and schedulable", func(ctx context.Context) error {
		node, err := n.cp.Admin().CoreV1().Nodes().Get(ctx, RealNodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, taint := range node.Spec.Taints {
			if taint.Effect == corev1.TaintEffectNoSchedule || taint.Effect == corev1.TaintEffectNoExecute {
				return fmt.Errorf("tainted %s (NodeControllers has the controller that removes it)", taint.Key)
			}
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return errors.New("not Ready")
	})
}

// startDNS runs CoreDNS on DNSServiceIP:53 with the kubernetes plugin (no
// forwarding: names outside the cluster do not resolve).
func (n *Node) startDNS(bin string) error {
	ready := freePort(n.t)
	corefile := fmt.Sprintf(`.:53 {
    bind %s
    errors
    ready 127.0.0.1:%d
    kubernetes %s in-addr.arpa ip6.arpa {
        kubeconfig %s aku-test
        pods insecure
        ttl 1
        fallthrough in-addr.arpa ip6.arpa
    }
}
`, DNSServiceIP, ready, ClusterZone, n.cp.Kubeconfig())
	path := filepath.Join(stateRoot, "Corefile")
	if err := os.WriteFile(path, []byte(corefile), 0o644); err != nil {
		return err
	}
	if err := n.run("coredns", filepath.Join(bin, "coredns"), "-conf", path); err != nil {
		return err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(ready) + "/ready"
	return n.poll("CoreDNS ready", func(ctx context.Context) error {
		out, err := exec.CommandContext(ctx, "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/"+strconv.Itoa(ready)+
			"; printf 'GET /ready HTTP/1.0\\r\\n\\r\\n' >&3; head -1 <&3").CombinedOutput()
		if err != nil || !strings.Contains(string(out), " 200 ") {
			return fmt.Errorf("%s: %v %s", url, err, out)
		}
		return nil
	})
}

// startRelay serves APIServiceIP:443 by relaying to the API server.
func (n *Node) startRelay() error {
	l, err := net.Listen("tcp", net.JoinHostPort(APIServiceIP, "443"))
	if err != nil {
		return fmt.Errorf("listen on the kubernetes Service address: %w", err)
	}
	n.relay = l
	target := strings.TrimPrefix(n.cp.URL(), "https://")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.conns.Add(1)
			go func() {
				defer n.conns.Done()
				relay(c, target)
			}()
		}
	}()
	return nil
}

func relay(c net.Conn, target string) {
	defer c.Close()
	up, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}
