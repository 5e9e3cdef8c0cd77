package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aku-k8s/aku/k8s"
	"github.com/aku-k8s/aku/lifecycle"
	"github.com/aku-k8s/aku/lifecycle/config"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// run calls Run with an environment of exactly env.
func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = Run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestInfoGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		// The manual's sample with the password shown is TestInfoMatchesManual.
		{"info-manual-masked", []string{"--info", "--config", "testdata/manual-sample.conf"}},
		{"info-three-groups", []string{"-i", "--config=../../../lifecycle/config/testdata/valid-manual-three-groups.conf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, err := run(t, nil, tt.args...)
			if err != nil || errOut != "" {
				t.Fatalf("err %v, stderr %q", err, errOut)
			}
			golden(t, tt.name, out)
		})
	}
}

// The golden of the manual's sample is the manual's own "aku -i" output,
// byte for byte, so -update cannot drift from it.
func TestInfoMatchesManual(t *testing.T) {
	t.Parallel()
	manual, err := os.ReadFile("testdata/manual-aku-i.txt")
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, nil, "-i", "--show-password", "--config", "testdata/manual-sample.conf")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(manual) {
		t.Errorf("-i differs from the manual:\n got:\n%s\nwant:\n%s", out, manual)
	}
	masked, _, err := run(t, nil, "-i", "--config", "testdata/manual-sample.conf")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(masked, "manager") || masked != strings.Replace(string(manual), ": manager", ": ********", 1) {
		t.Errorf("masked -i:\n%s", masked)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile("testdata/manual-sample.conf")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "conf", "aku.conf"), sample, 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.conf")
	if err := os.WriteFile(other, bytes.Replace(sample, []byte("AKU_SERVER_COUNT              = 4"), []byte("AKU_SERVER_COUNT = 2"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(bad, bytes.Replace(sample, []byte("= 20300"), []byte("= 80"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(secret, []byte("from-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// One address check, and a host name that resolves nowhere.
	oneCheck := filepath.Join(t.TempDir(), "one-check.conf")
	if err := os.WriteFile(oneCheck, bytes.Replace(bytes.Replace(sample,
		[]byte("AKU_ADDRESS_CHECK_COUNT       = 30"), []byte("AKU_ADDRESS_CHECK_COUNT = 1"), 1),
		[]byte("AKUHOST-{ordinal}.{svc}"), []byte("AKUHOST-{ordinal}.{svc}.invalid"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	homeEnv := map[string]string{"ALTIBASE_HOME": home}
	marker := filepath.Join(t.TempDir(), "marker")
	done := filepath.Join(t.TempDir(), "done")
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	const notPod = `discover this pod: pod name is not <AKU_STS_NAME>-<ordinal>: POD_NAME (else the host name) "nope-0", AKU_STS_NAME "altibase-sts"`
	with := func(kv ...string) map[string]string {
		m := map[string]string{"ALTIBASE_HOME": home}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantOut    string // substring of stdout
		wantErrOut string // substring of stderr
		wantErr    string // exact error text; "" for success
		// wantErrPrefix: the error text starts so (for errors that end
		// with the system's words).
		wantErrPrefix string
		wantNoOut     string // not in stdout
		wantCode      int
	}{
		{name: "help_short", args: []string{"-h"}, wantOut: "Usage: aku"},
		{name: "help_long", args: []string{"--help"}, wantOut: "-p, --pod ACTION"},
		{name: "help_wins", args: []string{"-h", "-p", "start"}, wantOut: "Usage: aku"},
		{name: "version_short", args: []string{"-v"}, wantOut: "aku version "},
		{name: "version_long", args: []string{"--version"}, wantOut: " (commit "},
		{name: "no_action", env: homeEnv, wantErrOut: "Usage: aku", wantErr: "no action: give -i, -p ACTION, -v or -h", wantCode: 2},
		{name: "unknown_flag", args: []string{"-x"}, wantErrOut: "Usage: aku", wantErr: "flag provided but not defined: -x", wantCode: 2},
		{name: "unknown_long_flag", args: []string{"--stop"}, wantErrOut: "Usage: aku", wantErr: "flag provided but not defined: -stop", wantCode: 2},
		{name: "unknown_action", args: []string{"-p", "stop"}, wantErrOut: "Usage: aku",
			wantErr: `invalid value "stop" for flag -p: unknown action "stop" (want start, end, clean)`, wantCode: 2},
		{name: "action_missing", args: []string{"-p"}, wantErrOut: "Usage: aku", wantErr: "flag needs an argument: -p", wantCode: 2},
		{name: "action_twice", args: []string{"-p", "start", "--pod", "end"}, wantErrOut: "Usage: aku",
			wantErr: `invalid value "end" for flag -pod: action given twice`, wantCode: 2},
		{name: "positional", args: []string{"start"}, wantErrOut: "Usage: aku",
			wantErr: `unexpected argument "start" (did you mean -p start?)`, wantCode: 2},
		{name: "info_and_pod", env: homeEnv, args: []string{"-i", "-p", "start"}, wantErrOut: "Usage: aku", wantErr: "-i and -p do not go together", wantCode: 2},
		{name: "show_password_without_info", env: homeEnv, args: []string{"-p", "end", "--show-password"}, wantErrOut: "Usage: aku",
			wantErr: "--show-password applies only to -i", wantCode: 2},
		{name: "bad_log_format", args: []string{"-p", "start", "--log-format", "xml"}, wantErrOut: "Usage: aku",
			wantErr: `invalid value "xml" for flag -log-format: unknown log format "xml" (want text, json)`, wantCode: 2},
		{name: "no_config_location", args: []string{"-i"}, wantErr: ErrNoConfig.Error(), wantCode: 2},
		{name: "missing_config", args: []string{"-i", "--config", "/nonexistent/aku.conf"},
			wantErr: "/nonexistent/aku.conf: cannot open the configuration file: open /nonexistent/aku.conf: no such file or directory", wantCode: 2},
		{name: "invalid_config", args: []string{"-i", "--config", bad},
			wantErr: bad + ":19: AKU_PORT_NO: value 80 out of range 1024..65535", wantCode: 2},
		{name: "config_from_altibase_home", env: homeEnv, args: []string{"-i"}, wantOut: "Max Server Count : 4"},
		{name: "config_from_aku_conf", env: with("AKU_CONF", other), args: []string{"-i"}, wantOut: "Max Server Count : 2"},
		{name: "config_flag_wins", env: with("AKU_CONF", "/nonexistent"), args: []string{"-i", "--config", other}, wantOut: "Max Server Count : 2"},
		{name: "password_masked", env: homeEnv, args: []string{"-i"}, wantOut: "Password         : ********\n"},
		{name: "password_from_file", env: homeEnv, args: []string{"-i", "--show-password"}, wantOut: "Password         : manager\n"},
		{name: "password_env_over_file", env: with("AKU_SYS_PASSWORD", "from-env"), args: []string{"-i", "--show-password"},
			wantOut: "Password         : from-env\n"},
		{name: "password_secret_over_env", env: with("AKU_SYS_PASSWORD", "from-env", "AKU_SYS_PASSWORD_FILE", secret),
			args: []string{"-i", "--show-password"}, wantOut: "Password         : from-secret\n"},
		{name: "password_secret_unreadable", env: with("AKU_SYS_PASSWORD_FILE", "/nonexistent/pw"), args: []string{"-i"},
			wantErr: "/nonexistent/pw: AKU_SYS_PASSWORD: cannot read the password file named by $AKU_SYS_PASSWORD_FILE: open /nonexistent/pw: no such file or directory", wantCode: 2},
		{name: "host_format_env", env: with("AKU_HOST_FORMAT", "db-{ordinal}.{svc}.prod"), args: []string{"-i"},
			wantOut: "Host             : db-0.altibase-svc.prod\n"},
		{name: "bad_env_override", env: with("AKU_LOGIN_TIMEOUT", "0"), args: []string{"-i"},
			wantErr: "environment: AKU_LOGIN_TIMEOUT: value 0 out of range 1..3600", wantCode: 2},
		// A pod name that is not the StatefulSet's is a configuration
		// problem (exit 2) found at discovery, before anything changes,
		// after the original's framing lines.
		{name: "pod_start_outside_statefulset", env: with("POD_NAME", "nope-0", "AKU_MARKER_FILE", marker), args: []string{"-p", "start"},
			wantOut: "AKU started with START option.\n", wantCode: 2, wantErr: notPod},
		{name: "pod_long_equals", env: with("POD_NAME", "nope-0"), args: []string{"--pod=end"}, wantOut: "AKU failed to run.\n", wantCode: 2,
			wantErr: notPod},
		{name: "pod_long_space", env: with("POD_NAME", "nope-0"), args: []string{"--pod", "clean", "--log-format=json"},
			wantOut: `"level":"ERROR"`, wantCode: 2, wantErr: notPod},
		{name: "pod_ordinal_not_a_number", env: with("POD_NAME", "altibase-sts-x", "AKU_MARKER_FILE", marker), args: []string{"-p", "start"},
			wantCode: 2, wantErr: `discover this pod: pod name is not <AKU_STS_NAME>-<ordinal>: POD_NAME (else the host name) "altibase-sts-x", AKU_STS_NAME "altibase-sts"`},
		{name: "pod_beyond_server_count", env: with("POD_NAME", "altibase-sts-4", "AKU_MARKER_FILE", marker), args: []string{"-p", "start"},
			wantCode: 2, wantErr: "discover this pod: pod altibase-sts-4 has ordinal 4, but AKU_SERVER_COUNT is 4"},
		{name: "pod_validates_config_first", args: []string{"-p", "start", "--config", bad},
			wantErr: bad + ":19: AKU_PORT_NO: value 80 out of range 1024..65535", wantCode: 2, wantNoOut: "AKU started"},
		{name: "pod_password_file_missing", env: with("POD_NAME", "altibase-sts-1", "AKU_SYS_PASSWORD_FILE", "/nonexistent/pw"), args: []string{"-p", "start"},
			wantErr:  "/nonexistent/pw: AKU_SYS_PASSWORD: cannot read the password file named by $AKU_SYS_PASSWORD_FILE: open /nonexistent/pw: no such file or directory",
			wantCode: 2, wantNoOut: "AKU started"},
		{name: "pod_kubernetes_outside_a_pod", env: with("POD_NAME", "altibase-sts-1", "AKU_DISCOVERY", "kubernetes", "AKU_MARKER_FILE", marker),
			args: []string{"-p", "end"}, wantOut: "AKU failed to run.\n", wantCode: 2,
			wantErr: "AKU_DISCOVERY = kubernetes, but this is not a Kubernetes pod (KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT is not set) and AKU_KUBECONFIG is not set"},
		{name: "pod_kubernetes_half_a_pod", env: with("POD_NAME", "altibase-sts-1", "AKU_DISCOVERY", "kubernetes", "KUBERNETES_SERVICE_HOST", "10.0.0.1"),
			args: []string{"-p", "clean"}, wantCode: 2,
			wantErr: "AKU_DISCOVERY = kubernetes, but this is not a Kubernetes pod (KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT is not set) and AKU_KUBECONFIG is not set"},
		// With a kubeconfig, the API is tried; that it cannot be used is
		// found by build, which keeps only its text (exit 1).
		{name: "pod_kubernetes_bad_kubeconfig", env: with("POD_NAME", "altibase-sts-1", "AKU_DISCOVERY", "kubernetes", "AKU_KUBECONFIG", "/nonexistent/kubeconfig"),
			args: []string{"-p", "clean"}, wantCode: 1, wantErrPrefix: "AKU_DISCOVERY = kubernetes: AKU_KUBECONFIG /nonexistent/kubeconfig: "},
		// Start checks that the marker can be written before anything else.
		{name: "pod_start_marker_dir_missing", env: with("POD_NAME", "altibase-sts-1", "AKU_MARKER_FILE", "/nonexistent/dir/marker"),
			args: []string{"-p", "start"}, wantOut: "AKU failed to run.\n", wantCode: 2,
			wantErrPrefix: "the marker file cannot be written: /nonexistent/dir/marker (AKU_MARKER_FILE): "},
		// A start that already completed is refused by the action: exit 1.
		{name: "pod_start_twice", env: with("POD_NAME", "altibase-sts-1", "AKU_MARKER_FILE", done), args: []string{"-p", "start"},
			wantOut: "AKU failed to run.\n", wantCode: 1, wantErr: "aku -p start already completed on this pod"},
		// Discovery that fails for want of DNS is the action failing: exit 1.
		{name: "pod_own_name_unresolvable", env: with("POD_NAME", "altibase-sts-1", "AKU_DISCOVERY", "dns", "AKU_MARKER_FILE", marker),
			args: []string{"-p", "clean", "--config", oneCheck}, wantCode: 1,
			wantErrPrefix: "discover this pod: own address AKUHOST-1.altibase-svc.invalid did not resolve to this pod after 1 tries (AKU_ADDRESS_CHECK_COUNT): "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, err := run(t, tt.env, tt.args...)
			switch {
			case tt.wantErrPrefix != "":
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErrPrefix) {
					t.Fatalf("error %v, want it to start %q", err, tt.wantErrPrefix)
				}
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if tt.wantNoOut != "" && strings.Contains(out, tt.wantNoOut) {
				t.Errorf("stdout %q has %q", out, tt.wantNoOut)
			}
			if got := ExitCode(err); got != tt.wantCode {
				t.Errorf("exit code %d, want %d", got, tt.wantCode)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout %q lacks %q", out, tt.wantOut)
			}
			if !strings.Contains(errOut, tt.wantErrOut) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantErrOut)
			}
			if tt.wantErrOut == "" && errOut != "" {
				t.Errorf("unexpected stderr %q", errOut)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{&usageError{msg: "x"}, ExitUsage},
		{ErrNoConfig, ExitUsage},
		{&config.Error{File: "aku.conf", Msg: "m", Kind: config.ErrRange}, ExitUsage},
		{errors.Join(&config.Error{File: "a"}, &config.Error{File: "b"}), ExitUsage},
		{context.Canceled, ExitFailure},
		{errors.New("boom"), ExitFailure},
		// The pod and the configuration disagree, found by discovery
		// before anything changed; the Lease the manifests create is missing.
		{fmt.Errorf("discover this pod: %w", fmt.Errorf("%w: x", k8s.ErrNotInStatefulSet)), ExitUsage},
		{fmt.Errorf("discover this pod: %w", k8s.ErrBeyondServerCount), ExitUsage},
		{fmt.Errorf("take the start lock: %w", k8s.ErrNoLease), ExitUsage},
		{fmt.Errorf("%w: /m (AKU_MARKER_FILE): %w", lifecycle.ErrMarker, os.ErrPermission), ExitUsage},
		{fmt.Errorf("pod name: %w", &envError{errors.New("no host name")}), ExitUsage},
		// Refusals and failures of the action itself.
		{fmt.Errorf("take the start lock: %w", k8s.ErrLeaseHeld), ExitFailure},
		{lifecycle.ErrDuplicateStart, ExitFailure},
		{fmt.Errorf("connect altibase-sts-0: %w", lifecycle.ErrLoginRefused), ExitFailure},
		{fmt.Errorf("%w: AKU_REP_12 on altibase-sts-1 (not started)", lifecycle.ErrIncomplete), ExitFailure},
		{context.DeadlineExceeded, ExitFailure},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// Without POD_NAME the pod is the host name; not knowing it is an
// environment problem found before anything is done.
func TestRunPodNameUnknown(t *testing.T) {
	// Not parallel: it replaces osHostname.
	h := osHostname
	t.Cleanup(func() { osHostname = h })
	env := map[string]string{"AKU_DISCOVERY": "dns"}
	conf := "testdata/manual-sample.conf"
	tests := []struct {
		name     string
		hostname func() (string, error)
		wantErr  string
	}{
		{"hostname_fails", func() (string, error) { return "", errors.New("uname failed") },
			"pod name: POD_NAME is not set and the host name is unknown: uname failed"},
		{"hostname_empty", func() (string, error) { return "", nil },
			"pod name: POD_NAME is not set and the host name is unknown: the host name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			osHostname = tt.hostname
			for _, action := range []string{"start", "end", "clean"} {
				out, _, err := run(t, env, "-p", action, "--config", conf)
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("-p %s: error %v, want %q", action, err, tt.wantErr)
				}
				if got := ExitCode(err); got != ExitUsage {
					t.Errorf("-p %s: exit code %d, want %d", action, got, ExitUsage)
				}
				if !strings.Contains(out, "AKU failed to run.\n") {
					t.Errorf("-p %s: stdout %q", action, out)
				}
			}
		})
	}
}

func TestVersionStamp(t *testing.T) {
	// Not parallel: it changes the package variables.
	v, c := version, commit
	t.Cleanup(func() { version, commit = v, c })
	version, commit = "v1.2.3", "abc1234"
	got := versionString()
	if !strings.HasPrefix(got, "aku version v1.2.3 (commit abc1234, go") {
		t.Errorf("versionString() = %q", got)
	}
}
