package framework

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// run starts a process in its own process group, logging to a file.
func (cp *ControlPlane) run(name, path string, args ...string) {
	cp.t.Helper()
	pr, err := startProc(cp.dir, name, path, args...)
	if err != nil {
		cp.t.Fatal(err)
	}
	cp.procs = append(cp.procs, pr)
}

// startProc starts path in its own process group with its output in
// dir/name.log.
func startProc(dir, name, path string, args ...string) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fmt.Fprintf(f, "# %s %s\n", path, strings.Join(args, " "))
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	// Setpgid: Stop kills the whole group. Pdeathsig: if the test binary
	// dies without cleanup (a -timeout panic, a kill), so do these.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	pr := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { pr.err = cmd.Wait(); close(pr.done) }()
	return pr, nil
}

// exited reports the first of procs that has stopped.
func exited(procs []*proc) error {
	for _, pr := range procs {
		select {
		case <-pr.done:
			return fmt.Errorf("%s exited: %v (log %s)", pr.name, pr.err, pr.log)
		default:
		}
	}
	return nil
}

// poll calls check until it returns nil, a process dies, or the start
// timeout passes.
func (cp *ControlPlane) poll(what string, check func(context.Context) error) error {
	return pollProcs(cp.procs, cp.timeout, what, check)
}

// pollProcs calls check (each call bounded by 10 s) until it returns nil,
// one of procs exits, or timeout passes.
func pollProcs(procs []*proc, timeout time.Duration, what string, check func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if err := exited(procs); err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		last = check(ctx)
		cancel()
		if last == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s did not happen within %s: %v", what, timeout, last)
}

// waitFor is poll failing the test, with the logs.
func (cp *ControlPlane) waitFor(what string, check func(context.Context) error) {
	cp.t.Helper()
	if err := cp.poll(what, check); err != nil {
		cp.dumpLogs()
		cp.t.Fatal(err)
	}
}

// logsContain reports whether a process's log contains s.
func (cp *ControlPlane) logsContain(s string) bool {
	for _, pr := range cp.procs {
		if b, err := os.ReadFile(pr.log); err == nil && bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// killAll stops the processes (stopProcs).
func (cp *ControlPlane) killAll() { stopProcs(cp.t, cp.procs) }

// stopProcs stops procs newest first: SIGTERM to the process group, SIGKILL
// after 10s. A group is only signalled while its leader has not been
// reaped, so a reused process ID is never hit.
func stopProcs(t testing.TB, procs []*proc) {
	for i := len(procs) - 1; i >= 0; i-- {
		stopProc(t, procs[i])
	}
}

func stopProc(t testing.TB, pr *proc) {
	pgid := pr.cmd.Process.Pid
	signal := func(sig syscall.Signal) {
		select {
		case <-pr.done:
		default:
			_ = syscall.Kill(-pgid, sig)
		}
	}
	signal(syscall.SIGTERM)
	select {
	case <-pr.done:
	case <-time.After(10 * time.Second):
		signal(syscall.SIGKILL)
		select {
		case <-pr.done:
		case <-time.After(10 * time.Second):
			t.Logf("framework: %s (pid %d) did not exit after SIGKILL", pr.name, pgid)
		}
	}
}

// keepLogs copies the logs to $AKU_E2E_LOGS/<test name>/ when that is set
// (t.TempDir is removed after the test).
func (cp *ControlPlane) keepLogs() { keepProcLogs(cp.t, cp.procs, "") }

func (cp *ControlPlane) dumpLogs() { dumpProcLogs(cp.t, cp.procs) }

// keepProcLogs copies the processes' logs to
// $AKU_E2E_LOGS/<test name>/<sub>/ when that is set.
func keepProcLogs(t testing.TB, procs []*proc, sub string) {
	root := os.Getenv("AKU_E2E_LOGS")
	if root == "" {
		return
	}
	dir := filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "_"), sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("framework: keep logs: %v", err)
		return
	}
	for _, pr := range procs {
		if b, err := os.ReadFile(pr.log); err == nil {
			_ = os.WriteFile(filepath.Join(dir, filepath.Base(pr.log)), b, 0o644)
		}
	}
}

// dumpProcLogs prints the tail of each process's log.
func dumpProcLogs(t testing.TB, procs []*proc) {
	for _, pr := range procs {
		b, _ := os.ReadFile(pr.log)
		t.Logf("--- %s (last 40 lines of %s)\n%s", pr.name, pr.log, tail(string(b), 40))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
