package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	_ "github.com/alexbrainman/odbc"

	"github.com/aku-k8s/aku/altibase/altibasetest"
)

// TestProcess runs the real binary: two "pods" on 127.0.1.x addresses with
// data directories, a replication between them through ODBC, kill -9 of one,
// a restart on the same data and ports, and graceful stops.
func TestProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	altibasetest.RequireDriver(t)
	bin := buildSim(t)
	dataA, dataB := t.TempDir(), t.TempDir()
	a := startSim(t, bin, "pod-0", "--listen", "127.0.1.21:0", "--data", dataA)
	b := startSim(t, bin, "pod-1", "--listen", "127.0.1.22:0", "--data", dataB)

	ca, cb := sysdba(t, a.service), sysdba(t, b.service)
	for _, c := range []*sql.Conn{ca, cb} {
		mustExec(t, c, "CREATE TABLE T (ID INTEGER PRIMARY KEY, V VARCHAR(40))")
	}
	mustExec(t, ca, replicationTo("R", b.replication))
	mustExec(t, cb, replicationTo("R", a.replication))
	mustExec(t, ca, "ALTER REPLICATION R START")
	mustExec(t, ca, "INSERT INTO T VALUES (1, 'one')")
	mustExec(t, ca, "ALTER REPLICATION R FLUSH ALL")
	if n := queryInt(t, cb, "SELECT COUNT(*) FROM T"); n != 1 {
		t.Fatalf("pod-1 has %d rows, want 1", n)
	}
	_, xsn := replState(t, ca)

	// kill -9 pod-0 and start it again on the same data and ports.
	_ = ca.Close()
	a.kill(t)
	a = startSim(t, bin, "pod-0", "--listen", a.service, "--replication-listen", a.replication, "--data", dataA)
	ca = sysdba(t, a.service)
	started, xsn2 := replState(t, ca)
	if started != 1 || xsn2 == -1 || xsn2 < xsn {
		t.Fatalf("after restart: IS_STARTED=%d XSN=%d; want 1 and >= %d", started, xsn2, xsn)
	}
	if n := queryInt(t, ca, "SELECT COUNT(*) FROM T"); n != 1 {
		t.Fatalf("pod-0 has %d rows after the restart, want 1", n)
	}
	mustExec(t, ca, "INSERT INTO T VALUES (2, 'two')")
	mustExec(t, ca, "ALTER REPLICATION R FLUSH ALL")
	if n := queryInt(t, cb, "SELECT COUNT(*) FROM T"); n != 2 {
		t.Fatalf("pod-1 has %d rows, want 2 (replication resumed after the restart)", n)
	}

	_ = ca.Close()
	_ = cb.Close()
	a.stop(t)
	b.stop(t)
}

func buildSim(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "altibase-sim")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// simProcess is one running altibase-sim.
type simProcess struct {
	cmd                  *exec.Cmd
	exited               chan struct{} // closed when the process has exited
	err                  error         // its exit status, once exited
	service, replication string
}

var readyLine = regexp.MustCompile(`^altibase-sim \S+ listening service=(\S+) replication=(\S+)$`)

func startSim(t *testing.T, bin, name string, args ...string) *simProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--name", name}, args...)...)
	cmd.Stderr = testWriter{t, name}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &simProcess{cmd: cmd, exited: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
		}
	})
	select {
	case line := <-lines:
		m := readyLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s: unexpected first line %q", name, line)
		}
		p.service, p.replication = m[1], m[2]
	case <-p.exited:
		t.Fatalf("%s exited before it was ready: %v", name, p.err)
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: not ready after 20s", name)
	}
	return p
}

func (p *simProcess) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("process did not die after SIGKILL")
	}
}

func (p *simProcess) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("graceful stop: %v", p.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("process did not stop after SIGTERM")
	}
}

// testWriter sends a process's log to the test log.
type testWriter struct {
	t    *testing.T
	name string
}

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Logf("%s: %s", w.name, b)
	return len(b), nil
}

func sysdba(t *testing.T, service string) *sql.Conn {
	t.Helper()
	host, port, err := splitAddr(service)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("odbc", altibasetest.ConnString(host, port, "SYS", "manager", true))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxIdleConns(0)
	t.Cleanup(func() { _ = db.Close() })
	c, err := db.Conn(ctxT(t))
	if err != nil {
		t.Fatalf("connect %s: %v", service, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustExec(t *testing.T, c *sql.Conn, q string) {
	t.Helper()
	if _, err := c.ExecContext(ctxT(t), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func queryInt(t *testing.T, c *sql.Conn, q string) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRowContext(ctxT(t), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func replState(t *testing.T, c *sql.Conn) (started, xsn int64) {
	t.Helper()
	q := "SELECT IS_STARTED, XSN FROM SYSTEM_.SYS_REPLICATIONS_ WHERE REPLICATION_NAME = 'R'"
	if err := c.QueryRowContext(ctxT(t), q).Scan(&started, &xsn); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return started, xsn
}

func replicationTo(name, peerReplication string) string {
	host, port, _ := splitAddr(peerReplication)
	return fmt.Sprintf("CREATE REPLICATION %s WITH '%s', %d FROM SYS.T TO SYS.T", name, host, port)
}

// TestProcessInitSQL: --init-sql creates the schema on the first boot of a
// data directory only, also at ADMIN_MODE=1; a restart on the same data keeps the rows it holds
// (the statements are not run again, so CREATE TABLE does not fail).
func TestProcessInitSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	altibasetest.RequireDriver(t)
	bin := buildSim(t)
	data := t.TempDir()
	initSQL := filepath.Join(t.TempDir(), "init.sql")
	if err := os.WriteFile(initSQL, []byte("-- first-boot schema\nCREATE TABLE T1 (ID INTEGER,\n  V VARCHAR(40), PRIMARY KEY (ID));\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// At ADMIN_MODE=1, as a real server boots: the schema is still made.
	a := startSim(t, bin, "pod-0", "--listen", "127.0.1.23:0", "--data", data, "--init-sql", initSQL, "--property", "ADMIN_MODE=1")
	c := sysdba(t, a.service)
	mustExec(t, c, "INSERT INTO T1 VALUES (1, 'one')")
	_ = c.Close()
	a.kill(t)
	a = startSim(t, bin, "pod-0", "--listen", a.service, "--replication-listen", a.replication, "--data", data, "--init-sql", initSQL)
	c = sysdba(t, a.service)
	if n := queryInt(t, c, "SELECT COUNT(*) FROM T1"); n != 1 {
		t.Fatalf("after a restart T1 has %d rows, want 1", n)
	}
}
