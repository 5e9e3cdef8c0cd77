package altibasetest

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// node is one simulated server in a conformance test, with its SYSDBA
// connection through the real ODBC stack.
type node struct {
	t    testing.TB
	name string
	s    *Server
	c    *sql.Conn
}

// hosts hands every test node its own loopback address, so that a port a
// stopped node freed, if another test's server binds it, is still not the
// stopped node's address (tests run in parallel).
var hosts atomic.Int32

func nextHost() string {
	n := hosts.Add(1)
	return fmt.Sprintf("127.0.%d.%d", 10+n/250, 1+n%250)
}

// newNode starts a server with table T (ID INTEGER PRIMARY KEY, V VARCHAR(40)).
func newNode(t testing.TB, name string, opts Options) *node {
	t.Helper()
	RequireDriver(t)
	opts.Name = name
	if opts.Host == "" {
		opts.Host = nextHost()
	}
	if opts.Logf == nil {
		opts.Logf = testLogf(t)
	}
	n := &node{t: t, name: name, s: NewServer(t, opts)}
	n.c = connect(t, n.s.ConnString(true))
	n.mustExec("CREATE TABLE T (ID INTEGER PRIMARY KEY, V VARCHAR(40))")
	return n
}

// reconnect replaces the SYSDBA connection (after a restart).
func (n *node) reconnect() {
	n.t.Helper()
	_ = n.c.Close()
	n.c = connect(n.t, n.s.ConnString(true))
}

func (n *node) exec(query string) error {
	_, err := n.c.ExecContext(ctxT(n.t), query)
	return err
}

func (n *node) mustExec(query string) {
	n.t.Helper()
	if err := n.exec(query); err != nil {
		n.t.Fatalf("%s: %s: %v", n.name, query, err)
	}
}

// wantErr runs query and asserts the Altibase code it fails with.
func (n *node) wantErr(query string, code altibase.Code) {
	n.t.Helper()
	err := n.exec(query)
	if err == nil {
		n.t.Fatalf("%s: %s: succeeded, want %v", n.name, query, code)
	}
	wantCode(n.t, err, code, "")
}

// createRepl creates replication name on n toward peer (table T).
func (n *node) createRepl(name string, peer *node) {
	n.t.Helper()
	n.mustExec(fmt.Sprintf("CREATE REPLICATION %s WITH '%s', %d FROM SYS.T TO SYS.T",
		name, peer.s.Host(), peer.s.ReplicationPort()))
}

func (n *node) int64s(query string) [][]int64 {
	n.t.Helper()
	rows, err := n.c.QueryContext(ctxT(n.t), query)
	if err != nil {
		n.t.Fatalf("%s: %s: %v", n.name, query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]int64
	for rows.Next() {
		vals := make([]int64, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			n.t.Fatalf("%s: %s: %v", n.name, query, err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		n.t.Fatalf("%s: %s: %v", n.name, query, err)
	}
	return out
}

// state is IS_STARTED and XSN of replication name.
func (n *node) state(name string) (started, xsn int64) {
	n.t.Helper()
	r := n.int64s("SELECT IS_STARTED, XSN FROM SYSTEM_.SYS_REPLICATIONS_ WHERE REPLICATION_NAME = '" + name + "'")
	if len(r) != 1 {
		n.t.Fatalf("%s: replication %s: %d meta rows", n.name, name, len(r))
	}
	return r[0][0], r[0][1]
}

func (n *node) wantState(name string, started int64, xsnFresh bool) {
	n.t.Helper()
	s, x := n.state(name)
	if s != started || (x == -1) != xsnFresh {
		n.t.Fatalf("%s: %s: IS_STARTED=%d XSN=%d; want IS_STARTED=%d, XSN -1: %v", n.name, name, s, x, started, xsnFresh)
	}
}

// sender is the V$REPSENDER row of name: ok false if there is none.
func (n *node) sender(name string) (status, netError int64, ok bool) {
	n.t.Helper()
	r := n.int64s("SELECT STATUS, NET_ERROR_FLAG FROM V$REPSENDER WHERE REP_NAME = '" + name + "'")
	if len(r) == 0 {
		return 0, 0, false
	}
	return r[0][0], r[0][1], true
}

func (n *node) receivers(name string) int {
	n.t.Helper()
	return len(n.int64s("SELECT 1 FROM V$REPRECEIVER WHERE REP_NAME = '" + name + "'"))
}

func (n *node) count() int64 {
	n.t.Helper()
	return n.int64s("SELECT COUNT(*) FROM T")[0][0]
}

// insert adds rows from..to-1 (V = 'v<id>'), 500 statements per query.
func (n *node) insert(from, to int) {
	n.t.Helper()
	for lo := from; lo < to; lo += 500 {
		var b strings.Builder
		for id := lo; id < min(lo+500, to); id++ {
			fmt.Fprintf(&b, "INSERT INTO T VALUES (%d, 'v%d');", id, id)
		}
		n.mustExec(b.String())
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// eventually polls cond, bounded.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pair starts A and B with replication R created on both sides.
func pair(t *testing.T) (a, b *node) {
	t.Helper()
	a, b = newNode(t, "A", Options{}), newNode(t, "B", Options{})
	a.createRepl("R", b)
	b.createRepl("R", a)
	return a, b
}

// started is pair with R started on A (case 5).
func started(t *testing.T) (a, b *node) {
	t.Helper()
	a, b = pair(t)
	a.mustExec("ALTER REPLICATION R START")
	return a, b
}
