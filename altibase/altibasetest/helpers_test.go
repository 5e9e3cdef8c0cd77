package altibasetest

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/alexbrainman/odbc"

	"github.com/aku-k8s/aku/altibase"
)

// testLogf logs through t until the test's cleanups have run; goroutines
// that outlive the test must not call t.Logf.
func testLogf(t testing.TB) func(string, ...any) {
	var mu sync.Mutex
	done := false
	t.Cleanup(func() {
		mu.Lock()
		done = true
		mu.Unlock()
	})
	return func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			t.Logf(format, args...)
		}
	}
}

// connect opens a dedicated connection through the real ODBC stack
// (database/sql, alexbrainman/odbc, unixODBC, psqlODBC). A dedicated
// *sql.Conn, because database/sql re-runs statements on other pooled
// connections after driver.ErrBadConn (docs/altibase.md section 9).
func connect(t testing.TB, dsn string) *sql.Conn {
	t.Helper()
	c, err := tryConnect(t, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return c
}

func tryConnect(t testing.TB, dsn string) (*sql.Conn, error) {
	t.Helper()
	RequireDriver(t)
	db, err := sql.Open("odbc", dsn)
	if err != nil {
		return nil, err
	}
	// No idle pool: closing the *sql.Conn closes the ODBC connection.
	db.SetMaxIdleConns(0)
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.PingContext(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, nil
}

// ctxT is a bounded context for one statement.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// exec runs a statement and fails the test on error.
func exec(t testing.TB, c *sql.Conn, query string) {
	t.Helper()
	if _, err := c.ExecContext(ctxT(t), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// wantCode asserts that err carries the Altibase code want (through
// psqlODBC: in the message) and, if state is not empty, the SQLSTATE.
func wantCode(t testing.TB, err error, want altibase.Code, state string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	var oe *odbc.Error
	if !errors.As(err, &oe) || len(oe.Diag) == 0 {
		t.Fatalf("got %T %v, want an *odbc.Error carrying %v", err, err, want)
	}
	got, ok := altibase.CodeFromMessage(oe.Diag[0].Message)
	if !ok || got != want {
		t.Fatalf("got %v (code %v, found %v), want %v", err, got, ok, want)
	}
	if state != "" && oe.Diag[0].State != state {
		t.Fatalf("got SQLSTATE %s, want %s (%v)", oe.Diag[0].State, state, err)
	}
}

// waitSessions waits, bounded, until the server has n open sessions.
func waitSessions(t testing.TB, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Sessions() != n {
		if time.Now().After(deadline) {
			t.Fatalf("server has %d open sessions, want %d", s.Sessions(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
