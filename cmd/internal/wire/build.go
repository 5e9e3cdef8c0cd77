package wire

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/k8s"
	"github.com/aku-k8s/aku/lifecycle"
	"github.com/aku-k8s/aku/lifecycle/config"
)

// LifecycleOptions converts aku.conf into what the lifecycle acts on.
func LifecycleOptions(cfg *config.Config) lifecycle.Options {
	o := lifecycle.Options{
		ServerCount:         cfg.ServerCount,
		ReplicationPort:     cfg.ReplicationPortNo,
		FlushAtStart:        cfg.FlushAtStart,
		FlushTimeoutAtStart: cfg.FlushTimeoutAtStart,
		DelayStartComplete:  cfg.DelayStartComplete,
		FlushAtEnd:          cfg.FlushAtEnd,
		ResetAtEnd:          resetPolicy(cfg.ReplicationResetAtEnd),
		MarkerFile:          cfg.MarkerFile,
	}
	for _, g := range cfg.Groups {
		lg := lifecycle.Group{Prefix: g.Prefix, SyncParallel: g.SyncParallel}
		for _, t := range g.Targets {
			lg.Items = append(lg.Items, lifecycle.Item{User: t.User, Table: t.Table, Partition: t.Partition})
		}
		o.Groups = append(o.Groups, lg)
	}
	return o
}

func resetPolicy(m config.ResetMode) lifecycle.ResetPolicy {
	switch m {
	case config.ResetNever:
		return lifecycle.ResetNever
	case config.ResetAlways:
		return lifecycle.ResetAlways
	}
	return lifecycle.ResetAuto
}

// ClientOptions converts aku.conf into the client's connection options.
func ClientOptions(cfg *config.Config, log *slog.Logger) (altibase.Options, error) {
	d, err := altibase.ParseDialect(string(cfg.ODBCDialect))
	if err != nil {
		return altibase.Options{}, fmt.Errorf("AKU_ODBC_DIALECT: %w", err)
	}
	return altibase.Options{
		Dialect:      d,
		Driver:       cfg.ODBCDriver,
		Password:     cfg.SysPassword.Reveal(),
		LoginTimeout: cfg.LoginTimeout,
		QueryTimeout: cfg.QueryTimeout,
		NLSUse:       cfg.NLSUse,
		RetryCount:   cfg.QueryRetryCount,
		RetryDelay:   cfg.QueryRetryDelay,
		Logger:       log,
	}, nil
}

// Env is what the process environment provides.
type Env struct {
	Getenv   func(string) string
	Hostname func() (string, error)
}

func (e Env) podName() (string, error) {
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

// NewRunner builds the lifecycle runner for this pod with DNS discovery
// (the original's mode).
func NewRunner(cfg *config.Config, env Env, log *slog.Logger) (*lifecycle.Runner, error) {
	copts, err := ClientOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	pod, err := env.podName()
	if err != nil {
		return nil, err
	}
	disc := &k8s.DNS{
		PodName: pod, StsName: cfg.STSName, SvcName: cfg.SVCName, HostFormat: cfg.HostFormat,
		ServerCount: cfg.ServerCount, CheckCount: cfg.AddressCheckCount, Log: log,
	}
	return &lifecycle.Runner{
		Opts:      LifecycleOptions(cfg),
		Discovery: disc,
		Dialer:    &Dialer{Port: cfg.PortNo, Opts: copts},
		Log:       log,
	}, nil
}
