package sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// The conformance cases of docs/conformance.md, replayed on the engine
// directly. Waits are bounded; none asserts a duration as an upper bound.

// deadPeer returns a host and port where nothing listens any more.
func deadPeer(t *testing.T) *Node {
	t.Helper()
	n, err := Open(Options{ReplicationAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

func senderRow(t *testing.T, s *Session, name string) (status, netErr int64, ok bool) {
	t.Helper()
	res := exec(t, s, "SELECT STATUS, NET_ERROR_FLAG FROM V$REPSENDER WHERE REP_NAME = '%s'", name)
	if len(res.Rows) == 0 {
		return 0, 0, false
	}
	return int64(res.Rows[0][0].(int32)), int64(res.Rows[0][1].(int32)), true
}

func TestCase01FreshObject(t *testing.T) {
	_, _, sa, _ := pair(t)
	if st, x := state(t, sa, "R"); st != 0 || x != -1 {
		t.Fatalf("state %d, %d; want 0, -1", st, x)
	}
}

func TestCase02StartPeerDown(t *testing.T) {
	a := testNode(t, nil)
	sa := sys(t, a)
	createT(t, sa)
	createRepl(t, sa, "R", deadPeer(t))
	e := wantCode(t, sa, altibase.CodeHandshakeFailed, "ALTER REPLICATION R START")
	if e.Message != "[Sender] Failed to handshake with the peer server (Handshake Process Error)" || e.SQLState != "HY000" {
		t.Fatalf("message %q state %s", e.Message, e.SQLState)
	}
	if st, x := state(t, sa, "R"); st != 0 || x != -1 {
		t.Fatalf("state %d, %d; want 0, -1", st, x)
	}
}

func TestCase03PeerLacksObject(t *testing.T) {
	a, b := testNode(t, nil), testNode(t, nil)
	sa := sys(t, a)
	createT(t, sa)
	createT(t, sys(t, b))
	createRepl(t, sa, "R", b)
	e := wantCode(t, sa, altibase.CodeHandshakeFailed, "ALTER REPLICATION R START")
	if e.Message != "[Sender] Failed to handshake with the peer server (Network error during receiving metadata ACK)" {
		t.Fatalf("message %q", e.Message)
	}
	if st, _ := state(t, sa, "R"); st != 0 {
		t.Fatalf("IS_STARTED %d", st)
	}
}

func TestCase04StartRetryPeerDown(t *testing.T) {
	a := testNode(t, nil)
	sa := sys(t, a)
	createT(t, sa)
	createRepl(t, sa, "R", deadPeer(t))
	exec(t, sa, "ALTER REPLICATION R START RETRY")
	if st, _ := state(t, sa, "R"); st != 1 {
		t.Fatalf("IS_STARTED %d", st)
	}
	status, netErr, ok := senderRow(t, sa, "R")
	if !ok || status != 0 || netErr != 1 {
		t.Fatalf("V$REPSENDER ok=%v STATUS %d NET_ERROR_FLAG %d", ok, status, netErr)
	}
	if x := scalar(t, sa, "SELECT XSN FROM V$REPSENDER WHERE REP_NAME = 'R'"); x != int64(-1) {
		t.Fatalf("V$REPSENDER XSN %v", x)
	}
}

func TestCase04RetryConnectsWhenPeerComesUp(t *testing.T) {
	a := testNode(t, nil)
	sa := sys(t, a)
	createT(t, sa)
	dead := deadPeer(t)
	createRepl(t, sa, "R", dead)
	exec(t, sa, "ALTER REPLICATION R START RETRY")
	b := testNodeOpts(t, Options{ReplicationAddr: dead.ReplicationAddr()})
	sb := sys(t, b)
	createT(t, sb)
	createRepl(t, sb, "R", a)
	eventually(t, "sender connected", func() bool {
		st, ne, ok := senderRow(t, sa, "R")
		return ok && st == 1 && ne == 0
	})
	exec(t, sa, "INSERT INTO T VALUES (1, 'x')")
	exec(t, sa, "ALTER REPLICATION R FLUSH")
	if c := count(t, sb, "T"); c != 1 {
		t.Fatalf("B has %d rows", c)
	}
}

// started is case 5's setup: R started on A toward B.
func started(t *testing.T) (a, b *Node, sa, sb *Session) {
	a, b, sa, sb = pair(t)
	exec(t, sa, "ALTER REPLICATION R START")
	return
}

func TestCase05Start(t *testing.T) {
	_, _, sa, sb := started(t)
	if st, x := state(t, sa, "R"); st != 1 || x == -1 {
		t.Fatalf("state %d, %d", st, x)
	}
	if status, ne, ok := senderRow(t, sa, "R"); !ok || status != 1 || ne != 0 {
		t.Fatalf("V$REPSENDER %v %d %d", ok, status, ne)
	}
	if c := count(t, sb, "V$REPRECEIVER"); c != 1 {
		t.Fatalf("B V$REPRECEIVER rows %d", c)
	}
	if c := count(t, sa, "V$REPRECEIVER"); c != 0 {
		t.Fatalf("A V$REPRECEIVER rows %d", c)
	}
}

func TestCase06AlreadyStarted(t *testing.T) {
	_, _, sa, _ := started(t)
	for _, sql := range []string{"ALTER REPLICATION R START", "ALTER REPLICATION R SYNC",
		"ALTER REPLICATION R SYNC ONLY", "ALTER REPLICATION R RESET", "ALTER REPLICATION R QUICKSTART",
		"ALTER REPLICATION R START RETRY"} {
		wantCode(t, sa, altibase.CodeSenderAlreadyStarted, "%s", sql)
	}
}

func TestCase07DropWhileStarted(t *testing.T) {
	_, _, sa, _ := started(t)
	wantCode(t, sa, altibase.CodeAlreadyStarted, "DROP REPLICATION R")
}

func TestCase08To10StopNotStartedReset(t *testing.T) {
	_, _, sa, _ := started(t)
	exec(t, sa, "INSERT INTO T VALUES (1, 'a')")
	exec(t, sa, "ALTER REPLICATION R FLUSH")
	_, before := state(t, sa, "R")
	exec(t, sa, "ALTER REPLICATION R STOP")
	if st, x := state(t, sa, "R"); st != 0 || x != before || x == -1 {
		t.Fatalf("after STOP: state %d, %d (XSN before %d)", st, x, before)
	}
	if _, _, ok := senderRow(t, sa, "R"); ok {
		t.Fatal("V$REPSENDER row after STOP")
	}
	for _, sql := range []string{"ALTER REPLICATION R STOP", "ALTER REPLICATION R FLUSH",
		"ALTER REPLICATION R FLUSH ALL", "ALTER REPLICATION R FLUSH WAIT 1"} {
		wantCode(t, sa, altibase.CodeNotStarted, "%s", sql)
	}
	exec(t, sa, "ALTER REPLICATION R RESET")
	if st, x := state(t, sa, "R"); st != 0 || x != -1 {
		t.Fatalf("after RESET: state %d, %d", st, x)
	}
	exec(t, sa, "DROP REPLICATION R")
	if c := count(t, sa, "SYSTEM_.SYS_REPLICATIONS_"); c != 0 {
		t.Fatalf("%d objects after DROP", c)
	}
}

func TestCase11RowsBeforeFirstStart(t *testing.T) {
	_, _, sa, sb := pair(t)
	insertRange(t, sa, "T", 0, 10)
	exec(t, sa, "ALTER REPLICATION R START")
	exec(t, sa, "ALTER REPLICATION R FLUSH ALL")
	if c := count(t, sb, "T"); c != 0 {
		t.Fatalf("B has %d rows, want 0", c)
	}
}

func TestCase12RowsWhileStopped(t *testing.T) {
	_, _, sa, sb := started(t)
	exec(t, sa, "ALTER REPLICATION R STOP")
	insertRange(t, sa, "T", 0, 10)
	exec(t, sa, "ALTER REPLICATION R START")
	exec(t, sa, "ALTER REPLICATION R FLUSH ALL")
	if c := count(t, sb, "T"); c != 10 {
		t.Fatalf("B has %d rows, want 10", c)
	}
}

func TestCase13Sync(t *testing.T) {
	_, _, sa, sb := pair(t)
	insertRange(t, sa, "T", 0, 1000)
	exec(t, sa, "ALTER REPLICATION R SYNC PARALLEL 2")
	if c := count(t, sb, "T"); c != 1000 {
		t.Fatalf("B has %d rows", c)
	}
	if st, x := state(t, sa, "R"); st != 1 || x == -1 {
		t.Fatalf("state %d, %d", st, x)
	}
	// The sender runs from the snapshot: later rows follow.
	insertRange(t, sa, "T", 1000, 1010)
	exec(t, sa, "ALTER REPLICATION R FLUSH ALL")
	if c := count(t, sb, "T"); c != 1010 {
		t.Fatalf("B has %d rows after sync + 10", c)
	}
	if c := scalar(t, sa, "SELECT SYNC_RECORD_COUNT FROM V$REPSYNC WHERE REP_NAME = 'R'"); c != int64(-1) {
		t.Fatalf("V$REPSYNC SYNC_RECORD_COUNT %v", c)
	}
}

func TestCase14SyncOnly(t *testing.T) {
	_, _, sa, sb := pair(t)
	insertRange(t, sa, "T", 0, 1000)
	exec(t, sa, "ALTER REPLICATION R SYNC ONLY")
	if c := count(t, sb, "T"); c != 1000 {
		t.Fatalf("B has %d rows", c)
	}
	if st, _ := state(t, sa, "R"); st != 0 {
		t.Fatalf("IS_STARTED %d", st)
	}
	if _, _, ok := senderRow(t, sa, "R"); ok {
		t.Fatal("V$REPSENDER row after SYNC ONLY")
	}
}

func TestCase15SyncOntoExistingKeys(t *testing.T) {
	for _, mode := range []int64{0, 1} {
		t.Run(map[int64]string{0: "keep_stale", 1: "fail_part_way"}[mode], func(t *testing.T) {
			_, _, sa, sb := pair(t)
			exec(t, sb, "ALTER SYSTEM SET SIM_SYNC_CONFLICT_MODE = %d", mode)
			insertRange(t, sa, "T", 0, 100)
			exec(t, sb, "INSERT INTO T VALUES (50, 'stale'), (51, 'stale')")
			if mode == 1 {
				wantCode(t, sa, altibase.CodeSyncFailed, "ALTER REPLICATION R SYNC")
				if c := count(t, sb, "T"); c == 0 || c >= 100 {
					t.Fatalf("B has %d rows, want partly filled", c)
				}
				if st, _ := state(t, sa, "R"); st != 0 {
					t.Fatal("SYNC failed but IS_STARTED 1")
				}
			} else {
				exec(t, sa, "ALTER REPLICATION R SYNC")
				if c := count(t, sb, "T"); c != 100 {
					t.Fatalf("B has %d rows", c)
				}
			}
			if v := scalar(t, sb, "SELECT V FROM T WHERE ID = 50"); v != "stale" {
				t.Fatalf("conflicting row overwritten: %v", v)
			}
		})
	}
}

func TestCase16FlushTimeout(t *testing.T) {
	sa := backlogTowardDeadPeer(t)
	for _, sql := range []string{"ALTER REPLICATION R FLUSH ALL WAIT 1", "ALTER REPLICATION R FLUSH WAIT 1"} {
		begin := time.Now()
		e := wantCode(t, sa, altibase.CodeFlushTimeout, "%s", sql)
		if e.Message != "Timeout exceed." || time.Since(begin) < 900*time.Millisecond {
			t.Fatalf("%s: %q after %v", sql, e.Message, time.Since(begin))
		}
	}
}

func TestCase17FlushDrains(t *testing.T) {
	_, _, sa, sb := started(t)
	insertRange(t, sa, "T", 0, 20000)
	exec(t, sa, "ALTER REPLICATION R FLUSH ALL")
	if c := count(t, sb, "T"); c != 20000 {
		t.Fatalf("B has %d rows", c)
	}
}

func TestCase18And19Truncate(t *testing.T) {
	_, _, sa, _ := pair(t)
	insertRange(t, sa, "T", 0, 10)
	wantCode(t, sa, altibase.CodeReplicationDDLDisable, "TRUNCATE TABLE T")
	other := sys(t, sa.n) // an open session sees the change at once
	exec(t, sa, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	exec(t, other, "TRUNCATE TABLE SYS.T")
	if c := count(t, sa, "T"); c != 0 {
		t.Fatalf("%d rows after TRUNCATE", c)
	}
	exec(t, sa, "CREATE TABLE U (ID INTEGER PRIMARY KEY)")
	exec(t, sa, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 0")
	exec(t, sa, "TRUNCATE TABLE U") // not replicated: always allowed
}

func TestCase20TruncateUnderStartedReplication(t *testing.T) {
	_, _, sa, sb := started(t)
	exec(t, sa, "ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	exec(t, sa, "ALTER SYSTEM SET REPLICATION_SENDER_SLEEP_TIMEOUT = 1")
	exec(t, sa, "TRUNCATE TABLE T")
	exec(t, sa, "INSERT INTO T VALUES (1, 'x')")
	wantCode(t, sa, altibase.CodeFlushTimeout, "ALTER REPLICATION R FLUSH ALL WAIT 0")
	begin := time.Now()
	exec(t, sa, "ALTER REPLICATION R FLUSH ALL")
	if d := time.Since(begin); d < 500*time.Millisecond {
		t.Fatalf("FLUSH returned after %v: the sender did not sleep", d)
	}
	if c := count(t, sb, "T"); c != 1 {
		t.Fatalf("B has %d rows", c)
	}
}

func TestCase21DuplicateHost(t *testing.T) {
	_, b, sa, _ := pair(t)
	h, p := hostPort(t, b)
	wantCode(t, sa, altibase.CodeDuplicateHost, "CREATE REPLICATION R2 WITH '%s', %d FROM SYS.T TO SYS.T", h, p)
	exec(t, sa, "ALTER SYSTEM SET REPLICATION_ALLOW_DUPLICATE_HOSTS = 1")
	exec(t, sa, "CREATE REPLICATION R2 WITH '%s', %d FROM SYS.T TO SYS.T", h, p)
}

func TestCase22UnknownName(t *testing.T) {
	_, _, sa, _ := pair(t)
	for _, sql := range []string{"ALTER REPLICATION NOPE START", "DROP REPLICATION NOPE",
		"ALTER REPLICATION NOPE FLUSH", "ALTER REPLICATION NOPE RESET"} {
		wantCode(t, sa, altibase.CodeUndefinedReplication, "%s", sql)
	}
}

func TestCase23To25Logins(t *testing.T) {
	n := testNode(t, nil)
	dba, err := n.Login(Login{User: "sys", Password: "manager", SYSDBA: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Login(Login{User: "SYS", Password: "manager", SYSDBA: true})
	wantLoginErr(t, err, altibase.CodeAnotherSYSDBA, "HY000")
	dba.Close()
	dba2, err := n.Login(Login{User: "SYS", Password: "manager", SYSDBA: true})
	if err != nil {
		t.Fatalf("SYSDBA after the first closed: %v", err)
	}
	defer dba2.Close()

	normal := sys(t, n)
	exec(t, normal, "ALTER SYSTEM SET ADMIN_MODE = 1")
	_, err = n.Login(Login{User: "SYS", Password: "manager"})
	wantLoginErr(t, err, altibase.CodeAdminMode, "HY000")
	exec(t, dba2, "ALTER SYSTEM SET ADMIN_MODE = 0")
	sys(t, n)

	_, err = n.Login(Login{User: "SYS", Password: "wrong"})
	wantLoginErr(t, err, altibase.CodeInvalidPassword, "28000")
}

func wantLoginErr(t *testing.T, err error, code altibase.Code, state string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code || e.SQLState != state {
		t.Fatalf("login: got %v, want %v/%s", err, code, state)
	}
}

func TestCase26QueryTimeout(t *testing.T) {
	a := testNode(t, nil)
	sa := sys(t, a)
	createT(t, sa)
	createRepl(t, sa, "R", deadPeer(t))
	exec(t, sa, "ALTER SESSION SET QUERY_TIMEOUT = 1")
	exec(t, sa, "ALTER REPLICATION R START RETRY")
	exec(t, sa, "INSERT INTO T VALUES (1, 'x')")
	e := wantCode(t, sa, altibase.CodeQueryTimeout, "ALTER REPLICATION R FLUSH ALL WAIT 10")
	if e.SQLState != "HYT00" || e.Message != "Client's query exceeded the execution time limit." {
		t.Fatalf("%s %q", e.SQLState, e.Message)
	}
	exec(t, sa, "SELECT 1 FROM DUAL") // still usable
	// Another session keeps the system default.
	if v := scalar(t, sys(t, a), "SELECT VALUE1 FROM V$PROPERTY WHERE NAME = 'QUERY_TIMEOUT'"); v != "600" {
		t.Fatalf("system QUERY_TIMEOUT %v", v)
	}
}

func TestCase27Cancel(t *testing.T) {
	sa := backlogTowardDeadPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := sa.Exec(ctx, "ALTER REPLICATION R FLUSH ALL WAIT 10")
	var e *Error
	if !errors.As(err, &e) || e.Code != altibase.CodeQueryCancelled || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	exec(t, sa, "SELECT 1 FROM DUAL")
}

func TestCase28Restart(t *testing.T) {
	dir := t.TempDir()
	b := testNode(t, nil)
	a := testNodeOpts(t, Options{DataDir: dir})
	sa, _ := linkR(t, a, b)
	exec(t, sa, "ALTER REPLICATION R START")
	insertRange(t, sa, "T", 0, 5)
	exec(t, sa, "ALTER REPLICATION R FLUSH")
	_, xsn := state(t, sa, "R")
	addr := a.ReplicationAddr()
	a.Kill()
	a2 := testNodeOpts(t, Options{DataDir: dir, ReplicationAddr: addr})
	sa2 := sys(t, a2)
	if st, x := state(t, sa2, "R"); st != 1 || x < xsn {
		t.Fatalf("after restart: state %d, %d (before %d)", st, x, xsn)
	}
	if _, _, ok := senderRow(t, sa2, "R"); !ok {
		t.Fatal("no V$REPSENDER row after restart")
	}
	if c := count(t, sa2, "T"); c != 5 {
		t.Fatalf("A has %d rows after restart", c)
	}
}

func TestCase29TickAlignment(t *testing.T) {
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		now  time.Time
		want time.Duration
	}{
		{"just_after_tick", base.Add(time.Millisecond), 999 * time.Millisecond},
		{"mid_second", base.Add(400 * time.Millisecond), 600 * time.Millisecond},
		{"on_tick", base, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tickWait(tc.now); got != tc.want {
				t.Fatalf("tickWait = %v, want %v", got, tc.want)
			}
		})
	}
	// With the real clock, START and STOP return in a later whole second
	// than they began; START RETRY does not wait for a tick.
	a := testNodeOpts(t, Options{Profile: Realistic()})
	b := testNode(t, nil)
	sa, _ := linkR(t, a, b)
	for _, sql := range []string{"ALTER REPLICATION R START", "ALTER REPLICATION R STOP"} {
		before := time.Now()
		exec(t, sa, "%s", sql)
		if !time.Now().Truncate(time.Second).After(before.Truncate(time.Second)) {
			t.Fatalf("%s returned before the next whole second", sql)
		}
	}
}

// fakeClockStart checks that the tick wait follows Options.Now.
func TestCase29FakeClock(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 995_000_000, time.UTC)
	a := testNodeOpts(t, Options{Profile: Realistic(), Now: func() time.Time { return now }})
	b := testNode(t, nil)
	sa, _ := linkR(t, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := sa.Exec(ctx, "ALTER REPLICATION R START"); err != nil {
		t.Fatal(err)
	}
	if _, err := sa.Exec(ctx, "ALTER REPLICATION R STOP"); err != nil {
		t.Fatal(err)
	}
}
