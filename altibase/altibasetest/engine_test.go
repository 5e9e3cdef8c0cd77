package altibasetest

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// The wire layer over the real engine, through the real ODBC stack.

func TestEngineConnectAndTypes(t *testing.T) {
	t.Parallel()
	a := newNode(t, "A", Options{}) // SYSDBA session
	normal := connect(t, a.s.ConnString(false))
	if _, err := normal.ExecContext(ctxT(t), "INSERT INTO T VALUES (1, NULL);INSERT INTO T VALUES (2, 'two')"); err != nil {
		t.Fatal(err)
	}
	rows, err := a.c.QueryContext(ctxT(t), "SELECT ID, V FROM T ORDER BY ID")
	if err != nil {
		t.Fatal(err)
	}
	var got []sql.NullString
	for rows.Next() {
		var id int64
		var v sql.NullString
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	_ = rows.Close()
	if len(got) != 2 || got[0].Valid || got[1].String != "two" {
		t.Fatalf("rows = %v, want NULL and 'two'", got)
	}
	// A fresh replication's XSN, a BIGINT, arrives as int64 -1.
	b := newNode(t, "B", Options{})
	a.createRepl("R", b)
	var started, xsn any
	q := "SELECT IS_STARTED, XSN FROM SYSTEM_.SYS_REPLICATIONS_ WHERE REPLICATION_NAME = 'R'"
	if err := normal.QueryRowContext(ctxT(t), q).Scan(&started, &xsn); err != nil {
		t.Fatal(err)
	}
	if xsn != int64(-1) {
		t.Fatalf("XSN = %T %v, want int64 -1", xsn, xsn)
	}
	// A syntax error carries ERR-31001 and its SQLSTATE.
	_, err = normal.ExecContext(ctxT(t), "SELEKT 1")
	wantCode(t, err, altibase.CodeSyntaxError, "42000")
	_ = normal.Close()
	waitSessions(t, a.s, 1) // only A's SYSDBA session is left: nothing leaked
}

func TestEngineFaultsThroughODBC(t *testing.T) {
	t.Parallel()
	a := newNode(t, "A", Options{})
	// A slow statement (the engine's fault hook) is cancelled by a
	// QueryContext deadline, and the connection stays usable.
	a.s.Node().SetDelay(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rows, err := a.c.QueryContext(ctx, "SELECT COUNT(*) FROM T")
	if err == nil {
		_ = rows.Close()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	a.s.Node().SetDelay(0)
	if n := a.count(); n != 0 {
		t.Fatalf("count = %d", n)
	}
	a.s.Node().FailNext(altibase.CodeNotStarted)
	a.wantErr("SELECT COUNT(*) FROM T", altibase.CodeNotStarted)
	a.mustExec("INSERT INTO T VALUES (1, 'x')")
}

// nonLoopbackIPv4 is an address of this machine off the loopback range, or
// "" if it has none.
func nonLoopbackIPv4() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			return ipn.IP.String()
		}
	}
	return ""
}

func TestEngineRemoteSYSDBA(t *testing.T) {
	t.Parallel()
	RequireDriver(t)
	host := nonLoopbackIPv4()
	if host == "" {
		t.Skip("no non-loopback IPv4 address to connect from")
	}
	// A connection to a non-loopback address comes from it: a remote client.
	s := NewServer(t, Options{Name: "remote", Host: host, Logf: testLogf(t),
		Properties: map[string]int64{"REMOTE_SYSDBA_ENABLE": 0}})
	_, err := tryConnect(t, s.ConnString(true))
	wantCode(t, err, altibase.CodeRemoteSYSDBA, "")
	c := connect(t, s.ConnString(false)) // a normal remote login is fine
	if _, err := c.ExecContext(ctxT(t), "ALTER SYSTEM SET REMOTE_SYSDBA_ENABLE = 1"); err != nil {
		t.Fatal(err)
	}
	_ = connect(t, s.ConnString(true))
}

// PostgreSQL statements an application sends are errors, as on a real
// Altibase server; psqlODBC's own statements (connect, manual-commit mode)
// keep working.
func TestEngineRejectsPostgreSQLStatements(t *testing.T) {
	t.Parallel()
	a := newNode(t, "A", Options{})
	c := connect(t, a.s.ConnString(false)) // a normal connect works
	for _, q := range []string{
		"SHOW foo", "show max_identifier_length", "SET x = 1", "SET DateStyle = 'SQL'",
		"BEGIN", "begin work", "START TRANSACTION", "SAVEPOINT a", "RELEASE a", "ROLLBACK TO SAVEPOINT a",
		"DEALLOCATE a", "END",
	} {
		_, err := c.ExecContext(ctxT(t), q)
		wantCode(t, err, altibase.CodeSyntaxError, "42000")
		rows, err := c.QueryContext(ctxT(t), q)
		if err == nil {
			_ = rows.Close()
		}
		wantCode(t, err, altibase.CodeSyntaxError, "42000")
	}
	// The session stays usable, and database/sql transactions (psqlODBC
	// sends "BEGIN;" before the first statement, then COMMIT) still work.
	exec(t, c, "INSERT INTO T VALUES (1, 'one')")
	tx, err := c.BeginTx(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctxT(t), "INSERT INTO T VALUES (2, 'two')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, err = c.BeginTx(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.ExecContext(ctxT(t), "SHOW foo")
	wantCode(t, err, altibase.CodeSyntaxError, "42000")
	_ = tx.Rollback()
	if n := a.count(); n != 2 {
		t.Fatalf("T has %d rows, want 2", n)
	}
	// COMMIT and ROLLBACK are Altibase statements (no-ops under autocommit).
	exec(t, c, "COMMIT")
	exec(t, c, "ROLLBACK")
}

// With UseServerSidePrepare=1 the application's statements come through the
// extended protocol: PostgreSQL statements there fail too, and psqlODBC's
// own BEGIN, savepoints and DEALLOCATEs keep working.
func TestEngineExtendedProtocolRejectsPostgreSQLStatements(t *testing.T) {
	t.Parallel()
	a := newNode(t, "A", Options{})
	c := connect(t, strings.Replace(a.s.ConnString(false), "UseServerSidePrepare=0", "UseServerSidePrepare=1", 1))
	exec(t, c, "INSERT INTO T VALUES (1, 'one')")
	for _, q := range []string{"SHOW foo", "SET x = 1", "BEGIN", "SAVEPOINT a"} {
		_, err := c.ExecContext(ctxT(t), q)
		wantCode(t, err, altibase.CodeSyntaxError, "42000")
	}
	tx, err := c.BeginTx(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctxT(t), "INSERT INTO T VALUES (2, 'two')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := a.count(); n != 2 {
		t.Fatalf("T has %d rows, want 2", n)
	}
}
