package altibase_test

// Integration tests: the production client against the Altibase simulator
// through the real ODBC stack (database/sql, alexbrainman/odbc, unixODBC,
// Debian's psqlODBC), with the simulator dialect. External test package
// because altibasetest imports altibase.

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
	"github.com/aku-k8s/aku/altibase/altibasetest"
)

// tlog is an io.Writer into t.Log that goes quiet once the test is over
// (connect attempts abandoned on a deadline may log later).
type tlog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func newTLog(t testing.TB) *tlog {
	l := &tlog{t: t}
	t.Cleanup(func() { l.mu.Lock(); l.done = true; l.mu.Unlock() })
	return l
}

func (l *tlog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// options for the simulator: debug logging into the test log, no retries
// unless a test asks for them.
func options(t testing.TB, password string) altibase.Options {
	return altibase.Options{
		Dialect:      altibase.DialectSimulator,
		Driver:       altibasetest.PsqlODBCDriver,
		Password:     password,
		LoginTimeout: 5 * time.Second,
		QueryTimeout: 60 * time.Second,
		RetryDelay:   10 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(newTLog(t), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func endpoint(s *altibasetest.Server) altibase.Endpoint {
	return altibase.Endpoint{Host: s.Host(), Port: s.Port()}
}

// bounded is the context of one test step.
func bounded(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newServer(t testing.TB, name, password string) *altibasetest.Server {
	t.Helper()
	altibasetest.RequireDriver(t)
	return altibasetest.NewServer(t, altibasetest.Options{Name: name, SysPassword: password})
}

func connect(t testing.TB, s *altibasetest.Server, o altibase.Options) *altibase.Conn {
	t.Helper()
	c, err := altibase.Connect(bounded(t), endpoint(s), o)
	if err != nil {
		t.Fatalf("connect %s: %v", s.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// plain opens a normal (non-SYSDBA) SYS session for test set-up SQL, with the
// simulator's own connection string, outside the client under test.
func plain(t testing.TB, s *altibasetest.Server) *sql.Conn {
	t.Helper()
	db, err := sql.Open("odbc", s.ConnString(false))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxIdleConns(0)
	t.Cleanup(func() { db.Close() })
	c, err := db.Conn(bounded(t))
	if err != nil {
		t.Fatalf("plain connect %s: %v", s.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// plainTry opens and returns a normal SYS session, or the login error.
func plainTry(s *altibasetest.Server) (*sql.Conn, error) {
	db, err := sql.Open("odbc", s.ConnString(false))
	if err != nil {
		return nil, err
	}
	db.SetMaxIdleConns(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}

func run(t testing.TB, c *sql.Conn, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := c.ExecContext(bounded(t), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func count(t testing.TB, c *sql.Conn, table string) int {
	t.Helper()
	var n int
	if err := c.QueryRowContext(bounded(t), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// withTable creates SYS.T1 (with a primary key) holding rows rows.
func withTable(t testing.TB, s *altibasetest.Server, rows int) *sql.Conn {
	t.Helper()
	c := plain(t, s)
	run(t, c, "CREATE TABLE SYS.T1 (ID INTEGER PRIMARY KEY, V VARCHAR(20))")
	for i := 1; i <= rows; i++ {
		run(t, c, "INSERT INTO SYS.T1 VALUES ("+strconv.Itoa(i)+", 'v')")
	}
	return c
}

var items = []altibase.Item{{User: "SYS", Table: "T1"}}

// pair makes two servers with SYS.T1 and the replication R between them
// (created on both), and SYSDBA clients to both.
type pair struct {
	a, b   *altibasetest.Server
	ca, cb *altibase.Conn
	pa, pb *sql.Conn // plain sessions for data
}

func newPair(t *testing.T, rowsA int) *pair {
	t.Helper()
	p := &pair{a: newServer(t, "pod-0", ""), b: newServer(t, "pod-1", "")}
	p.pa, p.pb = withTable(t, p.a, rowsA), withTable(t, p.b, 0)
	p.ca, p.cb = connect(t, p.a, options(t, "manager")), connect(t, p.b, options(t, "manager"))
	ctx := bounded(t)
	if err := p.ca.CreateReplication(ctx, replTo(p.b, "R")); err != nil {
		t.Fatal(err)
	}
	if err := p.cb.CreateReplication(ctx, replTo(p.a, "R")); err != nil {
		t.Fatal(err)
	}
	return p
}

func replTo(peer *altibasetest.Server, name string) altibase.Replication {
	return altibase.Replication{Name: name, RemoteHost: peer.Host(), RemotePort: peer.ReplicationPort(), Items: items}
}

func state(t testing.TB, c *altibase.Conn, name string) altibase.ReplicationState {
	t.Helper()
	st, ok, err := c.Replication(bounded(t), name)
	if err != nil || !ok {
		t.Fatalf("replication %s: ok=%v err=%v", name, ok, err)
	}
	return st
}

func senderUp(t testing.TB, c *altibase.Conn, name string) bool {
	t.Helper()
	ss, err := c.Senders(bounded(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if s.Name == name {
			return s.Status == altibase.SenderRunning
		}
	}
	return false
}

func wantIs(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	var e *altibase.Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not an *altibase.Error", err)
	}
}

func TestIntegrationReplicationLifecycle(t *testing.T) {
	p := newPair(t, 3)
	ctx := bounded(t)

	if st := state(t, p.ca, "R"); st.IsStarted || !st.NeverStarted() {
		t.Fatalf("after CREATE: %+v, want stopped with XSN -1", st)
	}
	wantIs(t, p.ca.CreateReplication(ctx, replTo(p.b, "R")), altibase.ErrDuplicateReplication)
	wantIs(t, p.ca.CreateReplication(ctx, replTo(p.b, "R2")), altibase.ErrDuplicateHost)
	if err := p.ca.SetAllowDuplicateHosts(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := p.ca.CreateReplication(ctx, replTo(p.b, "R2")); err != nil {
		t.Fatalf("second replication with duplicate hosts allowed: %v", err)
	}
	if err := p.ca.Drop(ctx, "R2"); err != nil {
		t.Fatal(err)
	}
	wantIs(t, p.ca.Drop(ctx, "R2"), altibase.ErrUndefinedReplication)
	wantIs(t, p.ca.Start(ctx, "NOPE"), altibase.ErrUndefinedReplication)

	// Not started yet.
	wantIs(t, p.ca.Stop(ctx, "R"), altibase.ErrNotStarted)
	wantIs(t, p.ca.Flush(ctx, "R", altibase.FlushOptions{All: true}), altibase.ErrNotStarted)

	// New target: truncate, then SYNC from A (which starts A's sender).
	if err := p.cb.Truncate(ctx, items); err != nil {
		t.Fatal(err)
	}
	if err := p.ca.Sync(ctx, "R", 2); err != nil {
		t.Fatal(err)
	}
	if n := count(t, p.pb, "SYS.T1"); n != 3 {
		t.Errorf("after SYNC the target has %d rows, want 3", n)
	}
	if st := state(t, p.ca, "R"); !st.IsStarted {
		t.Errorf("after SYNC: %+v, want started", st)
	}
	if _, err := p.ca.Syncs(ctx); err != nil {
		t.Errorf("V$REPSYNC: %v", err)
	}

	// Running: the "already" classes.
	wantIs(t, p.ca.Start(ctx, "R"), altibase.ErrAlreadyStarted)
	wantIs(t, p.ca.Sync(ctx, "R", 1), altibase.ErrAlreadyStarted)
	wantIs(t, p.ca.Reset(ctx, "R"), altibase.ErrAlreadyStarted)
	wantIs(t, p.ca.Drop(ctx, "R"), altibase.ErrReplicationStarted)

	run(t, p.pa, "INSERT INTO SYS.T1 VALUES (4, 'v')")
	if err := p.ca.Flush(ctx, "R", altibase.FlushOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	if err := p.ca.Flush(ctx, "R", altibase.FlushOptions{Wait: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := p.ca.Flush(ctx, "R", altibase.FlushOptions{All: true, Wait: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, p.pb, "SYS.T1"); n != 4 {
		t.Errorf("after FLUSH the target has %d rows, want 4", n)
	}
	if _, err := p.ca.Gaps(ctx); err != nil {
		t.Errorf("V$REPGAP: %v", err)
	}
	st := state(t, p.ca, "R")
	if st.NeverStarted() {
		t.Errorf("started replication has XSN -1: %+v", st)
	}

	// Stop keeps the restart point; Reset clears it.
	if err := p.ca.Stop(ctx, "R"); err != nil {
		t.Fatal(err)
	}
	if st := state(t, p.ca, "R"); st.IsStarted || st.NeverStarted() {
		t.Errorf("after STOP: %+v, want stopped with a restart point", st)
	}
	if err := p.ca.Reset(ctx, "R"); err != nil {
		t.Fatal(err)
	}
	if st := state(t, p.ca, "R"); !st.NeverStarted() {
		t.Errorf("after RESET: %+v, want XSN -1", st)
	}

	// START, and START RETRY with its poll.
	if err := p.ca.Start(ctx, "R"); err != nil {
		t.Fatal(err)
	}
	if !senderUp(t, p.ca, "R") {
		t.Error("no running sender after START")
	}
	if err := p.ca.Stop(ctx, "R"); err != nil {
		t.Fatal(err)
	}
	if err := p.ca.StartRetry(ctx, "R", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if !senderUp(t, p.ca, "R") {
		t.Error("no running sender after START RETRY")
	}
	wantIs(t, p.ca.StartRetry(ctx, "R", time.Second), altibase.ErrAlreadyStarted)

	// SYNC ONLY leaves no sender.
	if err := p.ca.Stop(ctx, "R"); err != nil {
		t.Fatal(err)
	}
	if err := p.cb.Truncate(ctx, items); err != nil {
		t.Fatal(err)
	}
	if err := p.ca.SyncOnly(ctx, "R", 1); err != nil {
		t.Fatal(err)
	}
	if st := state(t, p.ca, "R"); st.IsStarted {
		t.Errorf("after SYNC ONLY: %+v, want stopped", st)
	}
	if n := count(t, p.pb, "SYS.T1"); n != 4 {
		t.Errorf("after SYNC ONLY the target has %d rows, want 4", n)
	}

	if err := p.ca.Drop(ctx, "R"); err != nil {
		t.Fatal(err)
	}
	if all, err := p.ca.Replications(ctx); err != nil || len(all) != 0 {
		t.Errorf("after DROP: %+v, %v", all, err)
	}
}

func TestIntegrationTruncate(t *testing.T) {
	p := newPair(t, 0)
	ctx := bounded(t)
	run(t, p.pb, "INSERT INTO SYS.T1 VALUES (1, 'x')", "INSERT INTO SYS.T1 VALUES (2, 'y')")
	if err := p.cb.Truncate(ctx, items); err != nil {
		t.Fatal(err)
	}
	if n := count(t, p.pb, "SYS.T1"); n != 0 {
		t.Errorf("after TRUNCATE: %d rows", n)
	}
	wantDDL(t, p.cb, "0")

	// A failing TRUNCATE still sets REPLICATION_DDL_ENABLE back to 0.
	if err := p.cb.Truncate(ctx, []altibase.Item{{User: "SYS", Table: "NO_SUCH_TABLE"}}); err == nil {
		t.Fatal("TRUNCATE of a missing table succeeded")
	}
	wantDDL(t, p.cb, "0")

	// Without the dance the server refuses (0x312C4), which is why it exists.
	if _, err := p.pb.ExecContext(ctx, "TRUNCATE TABLE SYS.T1"); err == nil || !strings.Contains(err.Error(), "312C4") {
		t.Errorf("TRUNCATE without REPLICATION_DDL_ENABLE: %v, want ERR-312C4", err)
	}
}

// missingValue1 recognises a server without V$PROPERTY.VALUE1. Real
// Altibase's V$PROPERTY has NAME, STOREDCOUNT, ATTR, MIN, MAX and
// VALUE1..VALUE8 (no VALUE column); the client reads VALUE1. A simulator
// that serves only NAME, VALUE cannot answer it.
func missingValue1(err error) bool {
	return err != nil && strings.Contains(err.Error(), "VALUE1 not found")
}

func wantDDL(t testing.TB, c *altibase.Conn, want string) {
	t.Helper()
	v, ok, err := c.Property(bounded(t), "REPLICATION_DDL_ENABLE")
	if missingValue1(err) {
		t.Logf("not checked: the simulator's V$PROPERTY lacks VALUE1 (real Altibase: VALUE1..VALUE8): %v", err)
		return
	}
	if err != nil || !ok || v != want {
		t.Errorf("REPLICATION_DDL_ENABLE = %q (ok=%v, err=%v), want %q", v, ok, err, want)
	}
}

func TestIntegrationProperties(t *testing.T) {
	s := newServer(t, "pod-0", "")
	c := connect(t, s, options(t, "manager"))
	ctx := bounded(t)
	if err := c.SetAdminMode(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// ADMIN_MODE=1 refuses a normal (non-SYSDBA) login with 0x4106E.
	if _, err := plainTry(s); err == nil || !strings.Contains(err.Error(), "4106E") {
		t.Errorf("normal login under ADMIN_MODE=1: %v, want ERR-4106E", err)
	}
	if _, _, err := c.Property(ctx, "ADMIN_MODE"); missingValue1(err) {
		if err := c.SetAdminMode(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if c, err := plainTry(s); err != nil {
			t.Errorf("normal login under ADMIN_MODE=0: %v", err)
		} else {
			c.Close()
		}
		t.Skipf("V$PROPERTY reads not checked: the simulator's V$PROPERTY lacks VALUE1 (real Altibase: VALUE1..VALUE8): %v", err)
	}
	if v, ok, err := c.Property(ctx, "ADMIN_MODE"); err != nil || !ok || v != "1" {
		t.Errorf("ADMIN_MODE = %q %v %v", v, ok, err)
	}
	if err := c.SetAdminMode(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := c.Property(ctx, "ADMIN_MODE"); err != nil || !ok || v != "0" {
		t.Errorf("ADMIN_MODE = %q %v %v", v, ok, err)
	}
	if _, ok, err := c.Property(ctx, "NO_SUCH_PROPERTY"); err != nil || ok {
		t.Errorf("missing property: ok=%v err=%v", ok, err)
	}
	if v, err := c.PropertyInt(ctx, "ADMIN_MODE"); err != nil || v != 0 {
		t.Errorf("PropertyInt(ADMIN_MODE) = %d, %v", v, err)
	}
	if _, err := c.PropertyInt(ctx, "NO_SUCH_PROPERTY"); !errors.Is(err, altibase.ErrNoProperty) {
		t.Errorf("PropertyInt of a missing property: %v", err)
	}
	if err := c.SetQueryTimeout(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Property(ctx, "X' OR '1'='1"); !errors.Is(err, altibase.ErrInvalidIdentifier) {
		t.Errorf("injection through a property name: %v", err)
	}
}

func TestIntegrationHandshake(t *testing.T) {
	a := newServer(t, "pod-0", "")
	b := newServer(t, "pod-1", "")
	withTable(t, a, 0)
	ca := connect(t, a, options(t, "manager"))
	ctx := bounded(t)
	// The peer exists but has no object named R: the handshake fails.
	if err := ca.CreateReplication(ctx, replTo(b, "R")); err != nil {
		t.Fatal(err)
	}
	wantIs(t, ca.Start(ctx, "R"), altibase.ErrHandshake)
	// START RETRY succeeds on its own; the poll gives up, and the plain
	// START of the fallback reports the real error.
	wantIs(t, ca.StartRetry(ctx, "R", 300*time.Millisecond), altibase.ErrHandshake)
	if st := state(t, ca, "R"); st.IsStarted {
		t.Errorf("after the fallback: %+v, want stopped", st)
	}
	// Peer down.
	b.Close()
	wantIs(t, ca.Start(ctx, "R"), altibase.ErrHandshake)
}

// TestIntegrationOneSession: the server admits one SYSDBA session; a
// second client is refused while the first is open and admitted after Close.
func TestIntegrationOneSession(t *testing.T) {
	s := newServer(t, "pod-0", "")
	o := options(t, "manager")
	c1 := connect(t, s, o)
	if _, err := c1.Replications(bounded(t)); err != nil {
		t.Fatal(err)
	}
	if n := s.Sessions(); n != 1 {
		t.Errorf("one Conn holds %d server sessions, want 1", n)
	}
	_, err := altibase.Connect(bounded(t), endpoint(s), o)
	wantIs(t, err, altibase.ErrAnotherSYSDBA)
	wantIs(t, err, altibase.ErrConnect)
	if !altibase.IsRetryable(err) {
		t.Errorf("another SYSDBA session should be retryable: %v", err)
	}
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	// The server frees the slot when it has processed the disconnect, which
	// can come after Close returns: the retry policy covers that window.
	o.RetryCount = 100
	c2 := connect(t, s, o)
	if _, err := c2.Replications(bounded(t)); err != nil {
		t.Fatal(err)
	}
	// A closed Conn does not reconnect behind the caller's back.
	if _, err := c1.Replications(bounded(t)); !errors.Is(err, altibase.ErrClosed) {
		t.Errorf("call on a closed Conn: %v", err)
	}
	// Close disconnects for real: no pooled session lingers.
	c2.Close()
	waitSessions(t, s, 0)
}

// waitSessions waits, bounded, until the server has n open sessions.
func waitSessions(t testing.TB, s *altibasetest.Server, n int) {
	t.Helper()
	ctx := bounded(t)
	for s.Sessions() != n {
		select {
		case <-ctx.Done():
			t.Fatalf("server has %d open sessions, want %d", s.Sessions(), n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestIntegrationPasswordEscaping: a SYS password holding ';{}=' gets
// through the connection string intact; a wrong one is refused, not retried.
func TestIntegrationPasswordEscaping(t *testing.T) {
	const pw = "p;w{x}=y}}"
	s := newServer(t, "pod-0", pw)
	var logged bytes.Buffer
	o := options(t, pw)
	o.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(&logged, newTLog(t)), &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := connect(t, s, o)
	if _, err := c.Replications(bounded(t)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if strings.Contains(logged.String(), "p;w") || !strings.Contains(logged.String(), "PWD=***") {
		t.Errorf("debug log shows the password or no redacted connection string:\n%s", logged.String())
	}
	o.Password = "p;w{x}=y}"
	o.RetryCount = 3
	_, err := altibase.Connect(bounded(t), endpoint(s), o)
	wantIs(t, err, altibase.ErrLoginRefused)
	if altibase.IsRetryable(err) {
		t.Errorf("wrong password retryable: %v", err)
	}
	if strings.Contains(err.Error(), "p;w") {
		t.Errorf("error shows the password: %v", err)
	}
}

// TestIntegrationConnectTimeout: a server that accepts TCP and never
// answers; the login timeout bounds the connect.
func TestIntegrationConnectTimeout(t *testing.T) {
	altibasetest.RequireDriver(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	o := options(t, "manager")
	o.LoginTimeout = time.Second
	_, err = altibase.Connect(bounded(t), altibase.Endpoint{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}, o)
	wantIs(t, err, altibase.ErrConnect)
	wantIs(t, err, altibase.ErrTimeout)

	// A context deadline shorter than the login timeout wins.
	o.LoginTimeout = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = altibase.Connect(ctx, altibase.Endpoint{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}, o)
	wantIs(t, err, altibase.ErrTimeout)
}

func TestIntegrationConnectRefused(t *testing.T) {
	altibasetest.RequireDriver(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	o := options(t, "manager")
	o.RetryCount = 2
	_, err = altibase.Connect(bounded(t), altibase.Endpoint{Host: "127.0.0.1", Port: port}, o)
	wantIs(t, err, altibase.ErrConnect)
	if !altibase.IsRetryable(err) {
		t.Errorf("refused connect should be retryable: %v", err)
	}
}

// TestIntegrationCancel: a statement blocked in the server is cancelled by
// the context deadline (QueryContext sends a cancel request), and the
// session stays usable.
func TestIntegrationCancel(t *testing.T) {
	s := newServer(t, "pod-0", "")
	s.SetStatementHook(func(ctx context.Context, q string) error {
		if strings.Contains(q, "FLUSH") {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})
	c := connect(t, s, options(t, "manager"))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := c.Flush(ctx, "R", altibase.FlushOptions{All: true})
	wantIs(t, err, altibase.ErrTimeout)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded underneath", err)
	}
	if _, err := c.Replications(bounded(t)); err != nil {
		t.Errorf("session unusable after a cancel: %v", err)
	}
}

// TestIntegrationQueryTimeoutCode: a 0x01044 from the server (injected by
// a statement hook) arrives through psqlODBC as ErrTimeout with its code.
func TestIntegrationQueryTimeoutCode(t *testing.T) {
	s := newServer(t, "pod-0", "")
	s.SetStatementHook(func(ctx context.Context, q string) error {
		if strings.Contains(q, "FLUSH") {
			return &altibasetest.Error{Code: altibase.CodeQueryTimeout, SQLState: "HYT00",
				Message: "Client's query exceeded the execution time limit."}
		}
		return nil
	})
	c := connect(t, s, options(t, "manager"))
	err := c.Flush(bounded(t), "R", altibase.FlushOptions{})
	wantIs(t, err, altibase.ErrTimeout)
	if e := (*altibase.Error)(nil); errors.As(err, &e) && e.Code != altibase.CodeQueryTimeout {
		t.Errorf("code %v, want %v", e.Code, altibase.CodeQueryTimeout)
	}
}

// TestIntegrationLinkLost: the server restarts under an open Conn; the
// next START fails on the dead link, the client reconnects, reads the
// sender's state and sends START once.
func TestIntegrationLinkLost(t *testing.T) {
	altibasetest.RequireDriver(t)
	dir := t.TempDir()
	a := altibasetest.NewServer(t, altibasetest.Options{Name: "pod-0", DataDir: dir})
	b := newServer(t, "pod-1", "")
	withTable(t, a, 0)
	withTable(t, b, 0)
	o := options(t, "manager")
	o.RetryCount = 3
	ca := connect(t, a, o)
	cb := connect(t, b, o)
	ctx := bounded(t)
	if err := ca.CreateReplication(ctx, replTo(b, "R")); err != nil {
		t.Fatal(err)
	}
	if err := cb.CreateReplication(ctx, replTo(a, "R")); err != nil {
		t.Fatal(err)
	}
	if err := a.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := ca.Start(ctx, "R"); err != nil {
		t.Fatalf("START after a restart, with retries: %v", err)
	}
	if !senderUp(t, ca, "R") {
		t.Error("no running sender")
	}
}

// stalledSender starts R from A to B, then kills B and writes a row on A,
// so A's sender has something it cannot send.
func stalledSender(t *testing.T, o altibase.Options) *altibase.Conn {
	t.Helper()
	a, b := newServer(t, "pod-0", ""), newServer(t, "pod-1", "")
	pa := withTable(t, a, 0)
	withTable(t, b, 0)
	ca, cb := connect(t, a, o), connect(t, b, o)
	ctx := bounded(t)
	if err := ca.CreateReplication(ctx, replTo(b, "R")); err != nil {
		t.Fatal(err)
	}
	if err := cb.CreateReplication(ctx, replTo(a, "R")); err != nil {
		t.Fatal(err)
	}
	if err := ca.Start(ctx, "R"); err != nil {
		t.Fatal(err)
	}
	b.Kill()
	run(t, pa, "INSERT INTO SYS.T1 VALUES (1, 'v')")
	return ca
}

// TestIntegrationFlushWaitTimeout: FLUSH ALL WAIT n with the peer down
// runs out (0x61075): ErrFlushTimeout, also ErrTimeout, not retryable.
func TestIntegrationFlushWaitTimeout(t *testing.T) {
	ca := stalledSender(t, options(t, "manager"))
	err := ca.Flush(bounded(t), "R", altibase.FlushOptions{All: true, Wait: time.Second})
	wantIs(t, err, altibase.ErrFlushTimeout)
	wantIs(t, err, altibase.ErrTimeout)
	if altibase.IsRetryable(err) {
		t.Errorf("flush timeout retryable: %v", err)
	}
}

// TestIntegrationServerQueryTimeout: the session QUERY_TIMEOUT the client
// sets at connect (Options.QueryTimeout) makes the server end an unbounded
// FLUSH with 0x01044; the session stays usable.
func TestIntegrationServerQueryTimeout(t *testing.T) {
	o := options(t, "manager")
	o.QueryTimeout = time.Second
	ca := stalledSender(t, o)
	err := ca.Flush(bounded(t), "R", altibase.FlushOptions{All: true})
	wantIs(t, err, altibase.ErrTimeout)
	if e := (*altibase.Error)(nil); errors.As(err, &e) && e.Code != altibase.CodeQueryTimeout {
		t.Errorf("code %v, want %v (%v)", e.Code, altibase.CodeQueryTimeout, err)
	}
	if _, err := ca.Replications(bounded(t)); err != nil {
		t.Errorf("session unusable after a query timeout: %v", err)
	}
}

// A sender that lost its peer sleeps REPLICATION_SENDER_SLEEP_TIMEOUT on a
// real server (the realistic profile here). START RETRY on it says 6100A,
// but the caller wants it running: StartRetry stops and starts it again.
func TestIntegrationStartRetryWakesAsleepSender(t *testing.T) {
	altibasetest.RequireDriver(t)
	a := altibasetest.NewServer(t, altibasetest.Options{Name: "pod-0",
		Profile:    altibasetest.Profile{SenderSleepsAfterLoss: true},
		Properties: map[string]int64{"REPLICATION_SENDER_SLEEP_TIMEOUT": 3600}})
	b := newServer(t, "pod-1", "")
	withTable(t, a, 0)
	pb := withTable(t, b, 0)
	ca, cb := connect(t, a, options(t, "manager")), connect(t, b, options(t, "manager"))
	ctx := bounded(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ca.CreateReplication(ctx, replTo(b, "R")))
	must(cb.CreateReplication(ctx, replTo(a, "R")))
	must(ca.StartRetry(ctx, "R", 10*time.Second))
	a.Node().CutLink(b.Host(), b.ReplicationPort())
	for deadline := time.Now().Add(10 * time.Second); senderUp(t, ca, "R"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sender did not notice the cut link")
		}
	}
	a.Node().HealLink(b.Host(), b.ReplicationPort())
	if err := ca.StartRetry(ctx, "R", 10*time.Second); err != nil {
		t.Fatalf("StartRetry of an asleep sender: %v", err)
	}
	if !senderUp(t, ca, "R") {
		t.Fatal("the sender still sleeps")
	}
	run(t, plain(t, a), "INSERT INTO SYS.T1 VALUES (1, 'v')")
	must(ca.Flush(ctx, "R", altibase.FlushOptions{All: true}))
	if n := count(t, pb, "SYS.T1"); n != 1 {
		t.Fatalf("pod-1 holds %d rows, want 1", n)
	}
	// A running sender is still ErrAlreadyStarted.
	wantIs(t, ca.StartRetry(ctx, "R", time.Second), altibase.ErrAlreadyStarted)
}

// Drop waits until the dropped object's receiver is gone (V$REPRECEIVER),
// so that nothing more lands once it returned; a server whose receiver
// outlives DROP fails it (ErrReceiverRunning) instead of letting aku
// truncate under a live receiver.
func TestIntegrationDropWaitsForTheReceiver(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("receiver kept=%v", keep), func(t *testing.T) {
			p := newPair(t, 0)
			ctx := bounded(t)
			if err := p.ca.StartRetry(ctx, "R", 10*time.Second); err != nil {
				t.Fatal(err)
			}
			p.b.Node().KeepReceiversOnDrop(keep)
			o := options(t, "manager")
			o.DropReceiverWait = 300 * time.Millisecond
			// The server frees the SYSDBA slot a moment after a close.
			o.RetryCount, o.RetryDelay = 40, 25*time.Millisecond
			p.cb.Close()
			cb := connect(t, p.b, o)
			err := cb.Drop(ctx, "R")
			if !keep {
				if err != nil {
					t.Fatalf("Drop: %v", err)
				}
				if names, err := cb.Receivers(ctx); err != nil || len(names) != 0 {
					t.Fatalf("receivers after Drop: %v, %v", names, err)
				}
				return
			}
			if !errors.Is(err, altibase.ErrReceiverRunning) {
				t.Fatalf("Drop with the receiver left running: %v, want ErrReceiverRunning", err)
			}
		})
	}
}
