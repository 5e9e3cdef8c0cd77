package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// testNode opens an in-memory node on 127.0.0.1:0 closed at cleanup.
func testNode(t testing.TB, props map[string]int64) *Node {
	t.Helper()
	return testNodeOpts(t, Options{Properties: props})
}

func testNodeOpts(t testing.TB, o Options) *Node {
	t.Helper()
	if o.ReplicationAddr == "" {
		o.ReplicationAddr = "127.0.0.1:0"
	}
	n, err := Open(o)
	if err != nil {
		t.Fatalf("open node: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// sys logs in as SYS (normal session).
func sys(t testing.TB, n *Node) *Session {
	t.Helper()
	s, err := n.Login(Login{User: "SYS", Password: "manager"})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	t.Cleanup(s.Close)
	// Bound every statement, so a hung FLUSH fails the test instead of
	// stalling it.
	if _, err := s.Exec(context.Background(), "ALTER SESSION SET QUERY_TIMEOUT = 60"); err != nil {
		t.Fatal(err)
	}
	return s
}

func exec(t testing.TB, s *Session, sql string, args ...any) *Result {
	t.Helper()
	res, err := s.Exec(context.Background(), fmt.Sprintf(sql, args...))
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(sql, args...), err)
	}
	return res
}

// wantCode runs sql and checks it fails with code.
func wantCode(t testing.TB, s *Session, code altibase.Code, sql string, args ...any) *Error {
	t.Helper()
	_, err := s.Exec(context.Background(), fmt.Sprintf(sql, args...))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: got %v, want code %v", fmt.Sprintf(sql, args...), err, code)
	}
	if e.Code != code {
		t.Fatalf("%s: got %v (%s), want %v", fmt.Sprintf(sql, args...), e.Code, e.Message, code)
	}
	return e
}

// scalar returns the single value of a one-row, one-column query as int64 or string.
func scalar(t testing.TB, s *Session, sql string, args ...any) any {
	t.Helper()
	res := exec(t, s, sql, args...)
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		t.Fatalf("%s: got %d rows", fmt.Sprintf(sql, args...), len(res.Rows))
	}
	switch v := res.Rows[0][0].(type) {
	case int32:
		return int64(v)
	default:
		return v
	}
}

func count(t testing.TB, s *Session, tbl string) int64 {
	t.Helper()
	return scalar(t, s, "SELECT COUNT(*) FROM %s", tbl).(int64)
}

// state is IS_STARTED, XSN of replication name.
func state(t testing.TB, s *Session, name string) (int64, int64) {
	t.Helper()
	res := exec(t, s, "SELECT IS_STARTED, XSN FROM SYSTEM_.SYS_REPLICATIONS_ WHERE REPLICATION_NAME = '%s'", name)
	if len(res.Rows) != 1 {
		t.Fatalf("replication %s: %d rows", name, len(res.Rows))
	}
	return int64(res.Rows[0][0].(int32)), res.Rows[0][1].(int64)
}

func hostPort(t testing.TB, n *Node) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(n.ReplicationAddr())
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(p)
	return h, port
}

// createT creates SYS.T (ID INTEGER PRIMARY KEY, V VARCHAR(40)).
func createT(t testing.TB, s *Session) {
	t.Helper()
	exec(t, s, "CREATE TABLE T (ID INTEGER PRIMARY KEY, V VARCHAR(40))")
}

// linkR opens a SYSDBA session on a and on b, creates T on both and the
// replication R on each toward the other: the usual two-node setup.
func linkR(t testing.TB, a, b *Node) (sa, sb *Session) {
	t.Helper()
	sa, sb = sys(t, a), sys(t, b)
	createT(t, sa)
	createT(t, sb)
	createRepl(t, sa, "R", b)
	createRepl(t, sb, "R", a)
	return sa, sb
}

// backlogTowardDeadPeer is a session on a node whose replication R retries
// toward a peer that is down, with one row it cannot send: FLUSH on it can
// never finish.
func backlogTowardDeadPeer(t *testing.T) *Session {
	t.Helper()
	a := testNode(t, nil)
	sa := sys(t, a)
	createT(t, sa)
	createRepl(t, sa, "R", deadPeer(t))
	exec(t, sa, "ALTER REPLICATION R START RETRY")
	exec(t, sa, "INSERT INTO T VALUES (1, 'x')")
	return sa
}

// createRepl creates replication name on from toward to with items T.
func createRepl(t testing.TB, s *Session, name string, to *Node, tables ...string) {
	t.Helper()
	if len(tables) == 0 {
		tables = []string{"T"}
	}
	h, p := hostPort(t, to)
	items := ""
	for i, tb := range tables {
		if i > 0 {
			items += ", "
		}
		items += fmt.Sprintf("FROM SYS.%s TO SYS.%s", tb, tb)
	}
	exec(t, s, "CREATE REPLICATION %s WITH '%s', %d %s", name, h, p, items)
}

func insertRange(t testing.TB, s *Session, tbl string, from, to int) {
	t.Helper()
	const chunk = 500
	for i := from; i < to; i += chunk {
		sql := "INSERT INTO " + tbl + " VALUES "
		for j := i; j < min(i+chunk, to); j++ {
			if j > i {
				sql += ", "
			}
			sql += fmt.Sprintf("(%d, 'v%d')", j, j)
		}
		exec(t, s, "%s", sql)
	}
}

// eventually polls cond every 10 ms until it holds or 10 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pair is two nodes A and B with T and R created on both, R pointing at each other.
func pair(t testing.TB) (a, b *Node, sa, sb *Session) {
	t.Helper()
	a, b = testNode(t, nil), testNode(t, nil)
	sa, sb = sys(t, a), sys(t, b)
	createT(t, sa)
	createT(t, sb)
	createRepl(t, sa, "R", b)
	createRepl(t, sb, "R", a)
	return a, b, sa, sb
}
