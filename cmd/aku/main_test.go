package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildTree builds the real aku with the version stamped as the Makefile
// does, into an install tree's bin/ with aku-start and aku-end as links to
// it (the multi-call layout of dist/aku).
func buildTree(t *testing.T) (tree, dir string) {
	t.Helper()
	tree = t.TempDir()
	dir = filepath.Join(tree, "bin")
	ldflags := "-X github.com/aku-k8s/aku/cmd/internal/cli.version=v0.0.0-test -X github.com/aku-k8s/aku/cmd/internal/cli.commit=feedbee"
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", filepath.Join(dir, "aku"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, l := range []string{"aku-start", "aku-end"} {
		if err := os.Symlink("aku", filepath.Join(dir, l)); err != nil {
			t.Fatal(err)
		}
	}
	return tree, dir
}

// TestBinary runs the real aku, and the same binary as aku-start and
// aku-end, and checks their output and exit codes.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	_, dir := buildTree(t)
	conf, err := filepath.Abs("../internal/cli/testdata/manual-sample.conf")
	if err != nil {
		t.Fatal(err)
	}
	// Outside a StatefulSet pod the lifecycle stops at discovery, before
	// anything changes: a configuration problem.
	const notPod = `aku: discover this pod: pod name is not <AKU_STS_NAME>-<ordinal>: POD_NAME (else the host name) "nope-0", AKU_STS_NAME "altibase-sts"` + "\n"
	tests := []struct {
		name     string
		bin      string
		args     []string
		env      []string // added to POD_NAME=nope-0
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"version", "aku", []string{"-v"}, nil, 0, "aku version v0.0.0-test (commit feedbee, go", ""},
		{"info", "aku", []string{"-i", "--config", conf}, nil, 0, "Host             : AKUHOST-0.altibase-svc\n", ""},
		{"usage", "aku", []string{"--bogus"}, nil, 2, "", "aku: flag provided but not defined: -bogus\n"},
		{"pod", "aku", []string{"-p", "clean", "--config", conf}, nil, 2, "AKU started with CLEAN option.\n", notPod},
		{"aku-start", "aku-start", []string{"--config", conf}, nil, 2, "AKU started with START option.\n", notPod},
		{"aku-end", "aku-end", []string{"--config", conf}, nil, 2, "AKU failed to run.\n", notPod},
		{"bad-config", "aku-end", []string{"--config", "/nonexistent.conf"}, nil, 2, "", "aku: /nonexistent.conf: cannot open the configuration file"},
		{"beyond-server-count", "aku-start", []string{"--config", conf}, []string{"POD_NAME=altibase-sts-4"}, 2, "AKU failed to run.\n",
			"aku: discover this pod: pod altibase-sts-4 has ordinal 4, but AKU_SERVER_COUNT is 4\n"},
		{"kubernetes-outside-a-pod", "aku-start", []string{"--config", conf}, []string{"POD_NAME=altibase-sts-1", "AKU_DISCOVERY=kubernetes"}, 2,
			"AKU failed to run.\n", "aku: AKU_DISCOVERY = kubernetes, but this is not a Kubernetes pod"},
		{"password-file-missing", "aku-end", []string{"--config", conf}, []string{"AKU_SYS_PASSWORD_FILE=/nonexistent/pw"}, 2, "",
			"aku: /nonexistent/pw: AKU_SYS_PASSWORD: cannot read the password file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			cmd := exec.Command(filepath.Join(dir, tt.bin), tt.args...)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "POD_NAME=nope-0", "AKU_MARKER_FILE=" + filepath.Join(dir, "marker")}, tt.env...)
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, errOut.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout %q lacks %q", out.String(), tt.wantOut)
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.wantErr)
			}
		})
	}
}

// TestInstallRealBinary is what the init container runs: the real aku
// installs its own tree into a directory, and the installed links work.
func TestInstallRealBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	_, dir := buildTree(t)
	dst := t.TempDir()
	for i := 0; i < 2; i++ { // idempotent
		out, err := exec.Command(filepath.Join(dir, "aku-start"), "--config", "/nonexistent.conf").CombinedOutput()
		if !strings.Contains(string(out), "AKU") && !strings.Contains(string(out), "nonexistent") {
			t.Fatalf("aku-start did not run as the hook: %v %s", err, out)
		}
		out, err = exec.Command(filepath.Join(dir, "aku"), "install", dst).CombinedOutput()
		if err != nil {
			t.Fatalf("aku install: %v\n%s", err, out)
		}
	}
	out, err := exec.Command(filepath.Join(dst, "bin", "aku-end"), "-v").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "aku version v0.0.0-test") {
		t.Fatalf("installed aku-end -v: %v %s", err, out)
	}
	if link, err := os.Readlink(filepath.Join(dst, "bin", "aku-start")); err != nil || link != "aku" {
		t.Errorf("installed aku-start = %q, %v; want a link to aku", link, err)
	}
}
