package framework

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

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
