package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/aku-k8s/aku/cmd/internal/altibaselc"
	"github.com/aku-k8s/aku/k8s"
	"github.com/aku-k8s/aku/lifecycle"
	"github.com/aku-k8s/aku/lifecycle/config"
)

// lifecycleOptions hands aku.conf to the lifecycle: config produces
// lifecycle's types, so this is a field copy.
func lifecycleOptions(cfg *config.Config) lifecycle.Options {
	return lifecycle.Options{
		ServerCount:         cfg.ServerCount,
		ReplicationPort:     cfg.ReplicationPortNo,
		Groups:              cfg.Groups,
		FlushAtStart:        cfg.FlushAtStart,
		FlushTimeoutAtStart: cfg.FlushTimeoutAtStart,
		DelayStartComplete:  cfg.DelayStartComplete,
		FlushAtEnd:          cfg.FlushAtEnd,
		ResetAtEnd:          cfg.ReplicationResetAtEnd,
		MarkerFile:          cfg.MarkerFile,
	}
}

// processEnv is what the process environment provides to build.
type processEnv struct {
	Getenv   func(string) string
	Hostname func() (string, error)
	// Kubernetes returns a client for the API the pod runs in (in-cluster
	// configuration by default; tests point it elsewhere).
	Kubernetes func() (kubernetes.Interface, error)
	ReadFile   func(string) ([]byte, error)
	Now        func() time.Time
}

func (e processEnv) podName() (string, error) {
	if n := e.Getenv("POD_NAME"); n != "" {
		return n, nil
	}
	host := e.Hostname
	if host == nil {
		host = os.Hostname
	}
	n, err := host()
	if err != nil {
		return "", fmt.Errorf("pod name: POD_NAME is not set and the host name is unknown: %w", err)
	}
	return n, nil
}

func (e processEnv) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e processEnv) kubernetes() (kubernetes.Interface, error) {
	if e.Kubernetes != nil {
		return e.Kubernetes()
	}
	if path := e.Getenv("AKU_KUBECONFIG"); path != "" {
		// Outside a pod (an operator's shell, the e2e tests): a kubeconfig.
		rc, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("AKU_KUBECONFIG %s: %w", path, err)
		}
		rc.Timeout = k8s.CallTimeout
		return kubernetes.NewForConfig(rc)
	}
	if !k8s.InCluster(e.Getenv) {
		return nil, fmt.Errorf("not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is not set)")
	}
	rc, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("in-cluster configuration: %w", err)
	}
	rc.Timeout = k8s.CallTimeout
	return kubernetes.NewForConfig(rc)
}

func (e processEnv) namespace() string {
	if ns := e.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	read := e.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	return k8s.NamespaceFromServiceAccount(read)
}

// setup is a runner ready for one action, with the deadline that action
// must keep.
type setup struct {
	Runner *lifecycle.Runner
	Mode   config.DiscoveryMode // the discovery actually used
	// Deadline bounds the action (zero: none beyond each call's own bounds).
	Deadline time.Time
}

// build wires the lifecycle for this pod and action: the client through
// package altibaselc, discovery from the Kubernetes API or DNS
// (AKU_DISCOVERY), the start Lease, pod Events, the reason a pod stops, and
// the action's deadline. Only start and end have a deadline; aku plan
// passes the zero Action, as it keeps its own timeout.
func build(ctx context.Context, cfg *config.Config, env processEnv, log *slog.Logger, action lifecycle.Action) (*setup, error) {
	copts := altibaselc.ClientOptions(cfg, log)
	pod, err := env.podName()
	if err != nil {
		return nil, err
	}
	r := &lifecycle.Runner{
		Opts:   lifecycleOptions(cfg),
		Dialer: &altibaselc.Dialer{Port: cfg.PortNo, Opts: copts},
		Log:    log,
	}
	st := &setup{Runner: r, Mode: config.DiscoveryDNS}
	if action == lifecycle.ActionStart {
		st.Deadline = env.now().Add(cfg.StartTimeout)
	}
	api, self, why := kubernetesAPI(ctx, cfg, env, pod, log)
	if api == nil {
		if cfg.Discovery == config.DiscoveryKubernetes {
			return nil, fmt.Errorf("AKU_DISCOVERY = kubernetes: %s", why)
		}
		if cfg.Discovery == config.DiscoveryAuto {
			log.Info("Discovery through DNS.", "why", why)
		}
		r.Discovery = &k8s.DNS{
			PodName: pod, StsName: cfg.STSName, SvcName: cfg.SVCName, HostFormat: cfg.HostFormat,
			ServerCount: cfg.ServerCount, CheckCount: cfg.AddressCheckCount, Log: log,
		}
		return st, nil
	}
	log.Info("Discovery through the Kubernetes API.", "namespace", api.Namespace)
	st.Mode = config.DiscoveryKubernetes
	r.Discovery = api
	events := &k8s.Events{Client: api.Client, Namespace: api.Namespace, PodName: pod, Log: log,
		PodUID: string(self.UID), Host: self.Spec.NodeName}
	if action == lifecycle.ActionEnd {
		st.Deadline = k8s.EndDeadline(env.now(), self, cfg.EndReserve)
	}
	r.Event = events.Emit
	r.Intent = api.Intent
	if cfg.MasterReadyTimeout > 0 {
		r.WaitReady = func(ctx context.Context, index int) error {
			ctx, cancel := context.WithTimeout(ctx, cfg.MasterReadyTimeout)
			defer cancel()
			return api.WaitReady(ctx, index)
		}
	}
	if name := cfg.Lease(); name != "" {
		// The holder names the process too: a postStart hook can run twice
		// in one pod, and the two runs must not both hold the lease.
		holder := fmt.Sprintf("%s/%d", pod, os.Getpid())
		lease := &k8s.Lease{Client: api.Client, Namespace: api.Namespace, Name: name, Holder: holder, TTL: 30 * time.Second, Log: log}
		r.Lock = lease.Acquire
	}
	return st, nil
}

// kubernetesAPI returns the API discovery and this pod when the API is
// wanted and usable, or nil and why not.
func kubernetesAPI(ctx context.Context, cfg *config.Config, env processEnv, pod string, log *slog.Logger) (*k8s.API, *corev1.Pod, string) {
	if cfg.Discovery == config.DiscoveryDNS {
		return nil, nil, "AKU_DISCOVERY = dns"
	}
	client, err := env.kubernetes()
	if err != nil {
		return nil, nil, err.Error()
	}
	ns := env.namespace()
	if ns == "" {
		return nil, nil, "namespace unknown: set POD_NAMESPACE from the downward API"
	}
	api := &k8s.API{Client: client, Namespace: ns, PodName: pod, StsName: cfg.STSName, SvcName: cfg.SVCName,
		HostFormat: cfg.HostFormat, ServerCount: cfg.ServerCount, Log: log}
	// Permitted? Reading our own pod is the least discovery needs.
	// Bounded here: the action's deadline is not set yet, and in auto mode
	// an API that does not answer means DNS discovery, not a wait.
	pctx, cancel := context.WithTimeout(ctx, 2*k8s.CallTimeout)
	defer cancel()
	self, err := api.Pod(pctx)
	if err != nil {
		return nil, nil, "the API refused or failed: " + err.Error()
	}
	return api, self, ""
}
