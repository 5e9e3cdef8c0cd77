package altibasetest

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// Tests of the wire layer over a fake engine, through the real ODBC stack.

func TestWireConnectAndTypes(t *testing.T) {
	s, e := newFakeServer(t)
	for _, sysdba := range []bool{true, false} {
		c := connect(t, s.ConnString(sysdba))
		rows, err := c.QueryContext(ctxT(t), "SELECT TYPES")
		if err != nil {
			t.Fatal(err)
		}
		var got [][]any
		for rows.Next() {
			var i, xsn int64
			var v string
			var n sql.NullString
			var d sql.NullTime
			var long string
			if err := rows.Scan(&i, &xsn, &v, &n, &d, &long); err != nil {
				t.Fatal(err)
			}
			got = append(got, []any{i, xsn, v, n.Valid, d, len(long)})
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		_ = rows.Close()
		if len(got) != 2 {
			t.Fatalf("got %d rows, want 2", len(got))
		}
		if got[0][0] != int64(7) || got[0][1] != int64(-1) || got[0][2] != "héllo" || got[0][3] != false || got[0][5] != 1000 {
			t.Errorf("row 1 = %v", got[0])
		}
		if d := got[0][4].(sql.NullTime); !d.Valid || !d.Time.Equal(typesDate) {
			t.Errorf("date = %v, want %v", d, typesDate)
		}
		if got[1][1] != int64(1)<<40 || got[1][2] != "" || got[1][4].(sql.NullTime).Valid {
			t.Errorf("row 2 = %v", got[1])
		}
		// XSN -1 scanned into any arrives as int64.
		var xsn any
		if err := c.QueryRowContext(ctxT(t), "SELECT TYPES").Scan(new(any), &xsn, new(any), new(any), new(any), new(any)); err != nil {
			t.Fatal(err)
		}
		if xsn != int64(-1) {
			t.Errorf("XSN into any = %T %v, want int64 -1", xsn, xsn)
		}
		res, err := c.ExecContext(ctxT(t), "INSERT")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			t.Errorf("INSERT rows affected = %d, %v; want 1", n, err)
		}
		_ = c.Close()
	}
	// psqlODBC's own statements never reach the engine.
	for _, q := range e.executed() {
		if !slices.Contains([]string{"SELECT TYPES", "INSERT"}, q) {
			t.Errorf("engine saw %q", q)
		}
	}
	waitSessions(t, s, 0)
}

func TestWireErrorCarriesCode(t *testing.T) {
	s, _ := newFakeServer(t)
	c := connect(t, s.ConnString(true))
	_, err := c.ExecContext(ctxT(t), "SELEKT 1")
	wantCode(t, err, altibase.CodeSyntaxError, "42000")
	if !strings.Contains(err.Error(), "ERR-31001 : SQL syntax error") {
		t.Errorf("message %q lacks the Altibase text", err)
	}
	_, err = c.QueryContext(ctxT(t), "SELEKT 1")
	wantCode(t, err, altibase.CodeSyntaxError, "42000")
	// The session stays usable.
	if _, err := c.ExecContext(ctxT(t), "INSERT"); err != nil {
		t.Fatal(err)
	}
}

func TestWireLoginRefusals(t *testing.T) {
	s, _ := newFakeServer(t)
	t.Run("second_sysdba", func(t *testing.T) {
		first := connect(t, s.ConnString(true))
		_, err := tryConnect(t, s.ConnString(true))
		wantCode(t, err, altibase.CodeAnotherSYSDBA, "")
		// The slot frees as soon as the first session disconnects.
		_ = first.Close()
		waitSessions(t, s, 0)
		c := connect(t, s.ConnString(true))
		_ = c.Close()
	})
	t.Run("wrong_password", func(t *testing.T) {
		_, err := tryConnect(t, s.ConnStringAs("SYS", "wrong", false))
		// The server sends SQLSTATE 28000; psqlODBC reports every failed
		// connect as 08001, with the server's message.
		wantCode(t, err, altibase.CodeInvalidPassword, "08001")
	})
	t.Run("admin_mode", func(t *testing.T) {
		c := connect(t, s.ConnString(false))
		exec(t, c, "ADMIN ON")
		_, err := tryConnect(t, s.ConnString(false))
		wantCode(t, err, altibase.CodeAdminMode, "")
		exec(t, c, "ADMIN OFF")
		_ = connect(t, s.ConnString(false))
	})
}

func TestWireTransactions(t *testing.T) {
	s, e := newFakeServer(t)
	c := connect(t, s.ConnString(false))
	tx, err := c.BeginTx(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctxT(t), "INSERT"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctxT(t), "SELEKT"); err == nil {
		t.Fatal("syntax error inside a transaction succeeded")
	}
	_ = tx.Rollback()
	// Back to autocommit: statements work again.
	if _, err := c.ExecContext(ctxT(t), "INSERT"); err != nil {
		t.Fatal(err)
	}
	for _, q := range e.executed() {
		if q != "INSERT" && q != "SELEKT" {
			t.Errorf("engine saw %q", q)
		}
	}
}

func TestWireCancel(t *testing.T) {
	s, _ := newFakeServer(t)
	c := connect(t, s.ConnString(true))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		rows, err := c.QueryContext(ctx, "SLOW")
		if err == nil {
			_ = rows.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("QueryContext did not return after its deadline")
	}
	// The connection stays usable.
	if _, err := c.ExecContext(ctxT(t), "INSERT"); err != nil {
		t.Fatal(err)
	}
}

func TestWireHookAndStatementCancel(t *testing.T) {
	s, _ := newFakeServer(t)
	s.SetStatementHook(func(ctx context.Context, sql string) error {
		if sql == "INSERT" {
			return &Error{Code: altibase.CodeFlushTimeout, SQLState: "HY000", Message: "Timeout exceed."}
		}
		return nil
	})
	c := connect(t, s.ConnString(true))
	_, err := c.ExecContext(ctxT(t), "INSERT")
	wantCode(t, err, altibase.CodeFlushTimeout, "HY000")
	s.SetStatementHook(nil)
	exec(t, c, "INSERT")
}

func TestWireConnectTimeout(t *testing.T) {
	RequireDriver(t)
	// A server that accepts TCP but never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	dsn := strings.Replace(ConnString("127.0.0.1", addr.Port, "SYS", "manager", true),
		"connect_timeout=5", "connect_timeout=1", 1)
	done := make(chan error, 1)
	go func() {
		_, err := tryConnect(t, dsn)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("connect to a silent server succeeded")
		}
		t.Logf("connect failed as expected: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("connect_timeout did not bound the connect")
	}
}

func TestServerCloseDropsSessions(t *testing.T) {
	s, _ := newFakeServer(t)
	c := connect(t, s.ConnString(true))
	exec(t, c, "INSERT")
	if s.Sessions() != 1 {
		t.Fatalf("Sessions() = %d, want 1", s.Sessions())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Sessions() != 0 {
		t.Fatalf("after Close, Sessions() = %d, want 0", s.Sessions())
	}
	if _, err := c.ExecContext(ctxT(t), "INSERT"); err == nil {
		t.Fatal("statement on a closed server succeeded")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	c2 := connect(t, s.ConnString(true))
	exec(t, c2, "INSERT")
}

func TestWireMultiStatementQuery(t *testing.T) {
	s, e := newFakeServer(t)
	c := connect(t, s.ConnString(true))
	exec(t, c, "INSERT INTO T VALUES (1, 'a;b');INSERT INTO T VALUES (2, 'c')")
	// The first error ends the query; later statements do not run.
	_, err := c.ExecContext(ctxT(t), "INSERT 3;SELEKT;INSERT 4")
	wantCode(t, err, altibase.CodeSyntaxError, "42000")
	want := []string{"INSERT INTO T VALUES (1, 'a;b')", "INSERT INTO T VALUES (2, 'c')", "INSERT 3", "SELEKT"}
	if got := e.executed(); !slices.Equal(got, want) {
		t.Fatalf("engine ran %q, want %q", got, want)
	}
}

func TestWireExtendedProtocol(t *testing.T) {
	s, e := newFakeServer(t)
	dsn := strings.Replace(s.ConnString(true), "UseServerSidePrepare=0", "UseServerSidePrepare=1", 1)
	c := connect(t, dsn)
	var i, xsn int64
	if err := c.QueryRowContext(ctxT(t), "SELECT TYPES").Scan(&i, &xsn, new(string), new(sql.NullString), new(sql.NullTime), new(string)); err != nil {
		t.Fatal(err)
	}
	if i != 7 || xsn != -1 {
		t.Fatalf("got %d, %d; want 7, -1", i, xsn)
	}
	_, err := c.ExecContext(ctxT(t), "SELEKT")
	wantCode(t, err, altibase.CodeSyntaxError, "42000")
	exec(t, c, "INSERT")
	_ = c.Close()
	waitSessions(t, s, 0)
	// psqlODBC's DEALLOCATEs are answered by the wire layer.
	if got, want := e.executed(), []string{"SELECT TYPES", "SELEKT", "INSERT"}; !slices.Equal(got, want) {
		t.Fatalf("engine ran %q, want %q", got, want)
	}
}

func TestServerKillDuringStatement(t *testing.T) {
	s, _ := newFakeServer(t)
	c := connect(t, s.ConnString(true))
	done := make(chan error, 1)
	go func() {
		_, err := c.ExecContext(context.Background(), "SLOW")
		done <- err
	}()
	waitBusy(t, s)
	s.Kill()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("statement on a killed server succeeded")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("statement did not end after Kill")
	}
	waitSessions(t, s, 0)
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	exec(t, connect(t, s.ConnString(true)), "INSERT")
}

// waitBusy waits, bounded, until a statement is running on s.
func waitBusy(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		busy := false
		s.mu.Lock()
		for c := range s.conns {
			c.mu.Lock()
			busy = busy || c.cancel != nil
			c.mu.Unlock()
		}
		s.mu.Unlock()
		if busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no statement started")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
