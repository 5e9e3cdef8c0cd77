package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/k8s"
	"github.com/aku-k8s/aku/lifecycle"
	"github.com/aku-k8s/aku/lifecycle/akulog"
	"github.com/aku-k8s/aku/lifecycle/config"
)

// Exit codes of Main.
const (
	ExitOK      = 0 // success
	ExitFailure = 1 // the action ran and failed
	ExitUsage   = 2 // bad command line, configuration or environment: nothing was done
)

// Sentinels returned by Run.
var (
	// ErrUsage marks a bad command line (unknown flag or action, flags
	// that do not go together). Run has printed the synopsis.
	ErrUsage = errors.New("usage error")
	// ErrNoConfig means no aku.conf location is known.
	ErrNoConfig = errors.New("cannot locate aku.conf: set ALTIBASE_HOME or AKU_CONF, or pass --config FILE")
	// ErrEnvironment marks a process environment -p cannot work in (no pod
	// name, AKU_DISCOVERY = kubernetes outside a pod), found before anything
	// was done.
	ErrEnvironment = errors.New("bad environment")
)

// envError is a problem with the process environment; it matches
// ErrEnvironment and keeps its cause.
type envError struct{ err error }

func (e *envError) Error() string        { return e.err.Error() }
func (e *envError) Unwrap() error        { return e.err }
func (e *envError) Is(target error) bool { return target == ErrEnvironment }

// usageError is a command-line problem; it matches ErrUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

// Main runs aku with the process's environment and standard streams and
// returns the exit code. Only the mains call it.
func Main(ctx context.Context, args []string) int {
	return mainWith(ctx, args, os.Stdout, os.Stderr)
}

func mainWith(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := Run(ctx, args, os.Getenv, stdout, stderr)
	altibase.Cleanup() // the private odbc.ini directory; every connection is closed by now
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, "aku: "+line)
		}
	}
	return ExitCode(err)
}

// ExitCode maps an error from Run to aku's exit code: ExitUsage for what
// must be fixed in the command line, aku.conf, the environment or the
// deployment and was found before anything changed; ExitFailure otherwise.
func ExitCode(err error) int {
	var ce *config.Error
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrUsage), errors.Is(err, ErrNoConfig), errors.As(err, &ce),
		errors.Is(err, ErrEnvironment),
		// Start checks the marker's directory first; discovery refuses a
		// pod aku.conf does not describe before it touches a server;
		// without the Lease, start waits for nothing.
		errors.Is(err, lifecycle.ErrMarker),
		errors.Is(err, k8s.ErrNotInStatefulSet), errors.Is(err, k8s.ErrBeyondServerCount),
		errors.Is(err, k8s.ErrNoLease):
		return ExitUsage
	default:
		return ExitFailure
	}
}

// Run is aku: it parses args, and prints help or the version, or loads the
// configuration and runs -i or -p. env replaces os.Getenv; Run calls
// neither os.Exit nor os.Getenv.
func Run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "install" || args[0] == "status" || args[0] == "plan") {
		var err error
		switch args[0] {
		case "install":
			err = runInstall(ctx, args[1:], stdout)
		case "status":
			err = runStatus(ctx, args[1:], env, stdout)
		default:
			err = runPlan(ctx, args[1:], env, stdout, stderr)
		}
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprint(stderr, synopsis+"Run 'aku -h' for details.\n")
		}
		return err
	}
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprint(stderr, synopsis+"Run 'aku -h' for details.\n")
		return err
	}
	switch {
	case o.help:
		_, err := fmt.Fprint(stdout, usage)
		return err
	case o.version:
		_, err := fmt.Fprintln(stdout, versionString())
		return err
	}
	cfg, err := loadConfig(o.config, env)
	if err != nil {
		return err
	}
	if o.info {
		return writeInfo(stdout, cfg, o.showPassword)
	}
	logger := newLogger(o.logFormat, env, stdout)
	return runPod(ctx, logger, cfg, lifecycle.Action(o.pod), env, stdout)
}

// loadConfig locates and loads aku.conf, with the environment's overrides.
func loadConfig(flagValue string, env func(string) string) (*config.Config, error) {
	path, err := configPath(flagValue, env)
	if err != nil {
		return nil, err
	}
	return config.Load(path, config.WithEnv(env))
}

// configPath locates aku.conf: --config, then $AKU_CONF, then
// $ALTIBASE_HOME/conf/aku.conf, as the original aku.
func configPath(flagValue string, env func(string) string) (string, error) {
	switch {
	case flagValue != "":
		return flagValue, nil
	case env("AKU_CONF") != "":
		return env("AKU_CONF"), nil
	case env(config.EnvAltibaseHome) != "":
		return filepath.Join(env(config.EnvAltibaseHome), "conf", "aku.conf"), nil
	}
	return "", ErrNoConfig
}

// newLogger prints the original aku's log lines (or JSON for log
// pipelines) at INFO, or at the level AKU_LOG_LEVEL names (debug shows every
// SQL statement, never the password).
func newLogger(format string, env func(string) string, w io.Writer) *slog.Logger {
	level := logLevel(env, slog.LevelInfo)
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(akulog.New(w, level))
}

// logLevel is AKU_LOG_LEVEL's level, or def when it names none.
func logLevel(env func(string) string, def slog.Level) slog.Level {
	var level slog.Level
	if err := level.UnmarshalText([]byte(env("AKU_LOG_LEVEL"))); err != nil {
		return def
	}
	return level
}

// runPod runs -p start|end|clean with the original's framing lines.
func runPod(ctx context.Context, log *slog.Logger, cfg *config.Config, action lifecycle.Action, env func(string) string, stdout io.Writer) error {
	fmt.Fprintf(stdout, "AKU started with %s option.\n", strings.ToUpper(string(action)))
	err := runAction(ctx, log, cfg, action, env)
	if err != nil {
		log.Error(err.Error())
		fmt.Fprintln(stdout, "AKU failed to run.")
		return err
	}
	fmt.Fprintln(stdout, "AKU run successfully.")
	return nil
}

// osHostname is os.Hostname; a test replaces it.
var osHostname = os.Hostname

// hostname is the pod name when POD_NAME is not set; not knowing it is an
// environment problem.
func hostname() (string, error) {
	n, err := osHostname()
	if err == nil && n == "" {
		err = errors.New("the host name is empty")
	}
	if err != nil {
		return "", &envError{err}
	}
	return n, nil
}

// checkEnvironment refuses, before anything is done, an environment the
// configuration cannot work in.
func checkEnvironment(cfg *config.Config, env func(string) string) error {
	if cfg.Discovery == config.DiscoveryKubernetes && env("AKU_KUBECONFIG") == "" && !k8s.InCluster(env) {
		return &envError{errors.New("AKU_DISCOVERY = kubernetes, but this is not a Kubernetes pod " +
			"(KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT is not set) and AKU_KUBECONFIG is not set")}
	}
	return nil
}

func runAction(ctx context.Context, log *slog.Logger, cfg *config.Config, action lifecycle.Action, env func(string) string) error {
	if err := checkEnvironment(cfg, env); err != nil {
		return err
	}
	st, err := build(ctx, cfg, processEnv{Getenv: env, Hostname: hostname}, log, action)
	if err != nil {
		return err
	}
	if !st.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, st.Deadline)
		defer cancel()
		log.Debug("Deadline set.", "action", action, "deadline", st.Deadline.Format(time.RFC3339))
	}
	r := st.Runner
	switch action {
	case lifecycle.ActionStart:
		return r.Start(ctx)
	case lifecycle.ActionEnd:
		return r.End(ctx)
	case lifecycle.ActionClean:
		return r.Clean(ctx)
	}
	return &usageError{msg: fmt.Sprintf("unknown action %q", action)}
}
