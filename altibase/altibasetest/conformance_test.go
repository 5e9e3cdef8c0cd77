package altibasetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// The conformance cases of docs/conformance.md (measured on real
// Altibase servers), each through the real ODBC stack against servers on
// loopback. Case numbers are the document's.

func TestConformance01FreshObject(t *testing.T) {
	t.Parallel()
	a, b := newNode(t, "A", Options{}), newNode(t, "B", Options{})
	a.createRepl("R", b)
	a.wantState("R", 0, true)
}

func TestConformance02StartPeerDown(t *testing.T) {
	t.Parallel()
	a, b := newNode(t, "A", Options{}), newNode(t, "B", Options{})
	a.createRepl("R", b)
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	err := a.exec("ALTER REPLICATION R START")
	wantCode(t, err, altibase.CodeHandshakeFailed, "")
	wantMessage(t, err, "(Handshake Process Error)")
	a.wantState("R", 0, true)
}

func TestConformance03StartPeerLacksObject(t *testing.T) {
	t.Parallel()
	a, b := newNode(t, "A", Options{}), newNode(t, "B", Options{})
	a.createRepl("R", b)
	a.wantErr("ALTER REPLICATION R START", altibase.CodeHandshakeFailed)
	a.wantState("R", 0, true)
}

func TestConformance04StartRetryPeerDown(t *testing.T) {
	t.Parallel()
	a, b := pair(t)
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	a.mustExec("ALTER REPLICATION R START RETRY")
	if s, _ := a.state("R"); s != 1 {
		t.Fatalf("IS_STARTED = %d, want 1", s)
	}
	eventually(t, "a retrying sender row", func() bool {
		status, netErr, ok := a.sender("R")
		return ok && status == 0 && netErr == 1
	})
}

func TestConformance05Start(t *testing.T) {
	t.Parallel()
	a, b := started(t)
	a.wantState("R", 1, false)
	eventually(t, "a running sender row", func() bool {
		status, netErr, ok := a.sender("R")
		return ok && status == 1 && netErr == 0
	})
	eventually(t, "a receiver row on B", func() bool { return b.receivers("R") == 1 })
}

func TestConformance06AlreadyStarted(t *testing.T) {
	t.Parallel()
	a, _ := started(t)
	for _, q := range []string{"START", "SYNC", "SYNC ONLY", "RESET"} {
		a.wantErr("ALTER REPLICATION R "+q, altibase.CodeSenderAlreadyStarted)
	}
}

func TestConformance07DropWhileStarted(t *testing.T) {
	t.Parallel()
	a, _ := started(t)
	a.wantErr("DROP REPLICATION R", altibase.CodeAlreadyStarted)
}

func TestConformance08To10StopNotStartedReset(t *testing.T) {
	t.Parallel()
	a, _ := started(t)
	_, xsn := a.state("R")
	a.mustExec("ALTER REPLICATION R STOP") // 8
	if s, x := a.state("R"); s != 0 || x != xsn || x == -1 {
		t.Fatalf("after STOP: IS_STARTED=%d XSN=%d; want 0 and %d kept", s, x, xsn)
	}
	for _, q := range []string{"STOP", "FLUSH", "FLUSH ALL"} { // 9
		a.wantErr("ALTER REPLICATION R "+q, altibase.CodeNotStarted)
	}
	a.mustExec("ALTER REPLICATION R RESET") // 10
	a.wantState("R", 0, true)
}

func TestConformance11RowsBeforeFirstStart(t *testing.T) {
	t.Parallel()
	a, b := pair(t)
	a.insert(1, 11)
	a.mustExec("ALTER REPLICATION R START")
	a.mustExec("ALTER REPLICATION R FLUSH ALL")
	if n := b.count(); n != 0 {
		t.Fatalf("B has %d rows, want 0 (rows before the first START are not sent)", n)
	}
}

func TestConformance12RowsWhileStopped(t *testing.T) {
	t.Parallel()
	a, b := started(t)
	a.mustExec("ALTER REPLICATION R STOP")
	a.insert(1, 11)
	a.mustExec("ALTER REPLICATION R START")
	a.mustExec("ALTER REPLICATION R FLUSH ALL")
	if n := b.count(); n != 10 {
		t.Fatalf("B has %d rows, want 10", n)
	}
}

func TestConformance13Sync(t *testing.T) {
	t.Parallel()
	a, b := pair(t)
	a.insert(1, 1001)
	a.mustExec("ALTER REPLICATION R SYNC PARALLEL 2")
	if n := b.count(); n != 1000 {
		t.Fatalf("B has %d rows, want 1000", n)
	}
	if s, _ := a.state("R"); s != 1 {
		t.Fatalf("IS_STARTED = %d after SYNC, want 1", s)
	}
}

func TestConformance14SyncOnly(t *testing.T) {
	t.Parallel()
	a, b := pair(t)
	a.insert(1, 1001)
	a.mustExec("ALTER REPLICATION R SYNC ONLY")
	if n := b.count(); n != 1000 {
		t.Fatalf("B has %d rows, want 1000", n)
	}
	a.wantState("R", 0, true)
	if _, _, ok := a.sender("R"); ok {
		t.Fatal("V$REPSENDER has a row after SYNC ONLY")
	}
}

func TestConformance15SyncOntoExistingKeys(t *testing.T) {
	t.Parallel()
	a, b := pair(t)
	a.insert(1, 101)
	for id := 1; id <= 10; id++ {
		b.mustExec("INSERT INTO T VALUES (" + itoa(id) + ", 'b')")
	}
	err := a.exec("ALTER REPLICATION R SYNC")
	if err != nil {
		wantCode(t, err, altibase.CodeSyncFailed, "")
	}
	if n := len(b.int64s("SELECT ID FROM T WHERE V = 'b'")); n != 10 {
		t.Fatalf("B keeps %d of its 10 conflicting rows (err %v); a SYNC never overwrites them", n, err)
	}
}

func TestConformance16FlushTimeout(t *testing.T) {
	t.Parallel()
	a, b := pair(t)
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	a.mustExec("ALTER REPLICATION R START RETRY")
	a.insert(1, 2)
	for _, q := range []string{"FLUSH ALL WAIT 3", "FLUSH WAIT 3"} {
		err := a.exec("ALTER REPLICATION R " + q)
		wantCode(t, err, altibase.CodeFlushTimeout, "")
		wantMessage(t, err, "Timeout exceed.")
	}
}

func TestConformance17FlushDrains(t *testing.T) {
	t.Parallel()
	a, b := started(t)
	a.insert(1, 20001)
	a.mustExec("ALTER REPLICATION R FLUSH ALL")
	if n := b.count(); n != 20000 {
		t.Fatalf("B has %d rows, want 20000", n)
	}
}

func TestConformance18And19Truncate(t *testing.T) {
	t.Parallel()
	a, _ := pair(t)
	a.wantErr("TRUNCATE TABLE T", altibase.CodeReplicationDDLDisable) // 18
	a.mustExec("ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")         // 19: applies to open sessions
	a.mustExec("TRUNCATE TABLE T")
}

func TestConformance20TruncateUnderStartedReplication(t *testing.T) {
	t.Parallel()
	a, b := started(t)
	a.mustExec("ALTER SYSTEM SET REPLICATION_DDL_ENABLE = 1")
	a.mustExec("TRUNCATE TABLE T")
	a.insert(1, 2)
	// The sender stalls for REPLICATION_SENDER_SLEEP_TIMEOUT (60 s): a short
	// FLUSH WAIT times out instead of draining.
	a.wantErr("ALTER REPLICATION R FLUSH ALL WAIT 2", altibase.CodeFlushTimeout)
	if n := b.count(); n != 0 {
		t.Fatalf("B has %d rows, want 0 while the sender stalls", n)
	}
}

func TestConformance21DuplicateHost(t *testing.T) {
	t.Parallel()
	a, b := pair(t)
	a.mustExec("CREATE TABLE T2 (ID INTEGER PRIMARY KEY)")
	q := "CREATE REPLICATION R2 WITH '" + b.s.Host() + "', " + itoa(b.s.ReplicationPort()) + " FROM SYS.T2 TO SYS.T2"
	a.wantErr(q, altibase.CodeDuplicateHost)
	a.mustExec("ALTER SYSTEM SET REPLICATION_ALLOW_DUPLICATE_HOSTS = 1")
	a.mustExec(q)
}

func TestConformance22UnknownName(t *testing.T) {
	t.Parallel()
	a := newNode(t, "A", Options{})
	a.wantErr("ALTER REPLICATION NOPE START", altibase.CodeUndefinedReplication)
	a.wantErr("DROP REPLICATION NOPE", altibase.CodeUndefinedReplication)
}

func TestConformance23SecondSYSDBA(t *testing.T) {
	t.Parallel()
	a := newNode(t, "A", Options{}) // holds a SYSDBA connection
	_, err := tryConnect(t, a.s.ConnString(true))
	wantCode(t, err, altibase.CodeAnotherSYSDBA, "")
	wantMessage(t, err, "Another SYSDBA session is already running.")
}

func TestConformance24AdminMode(t *testing.T) {
	t.Parallel()
	a := newNode(t, "A", Options{})
	normal := connect(t, a.s.ConnString(false))
	if _, err := normal.ExecContext(ctxT(t), "ALTER SYSTEM SET ADMIN_MODE = 1"); err != nil {
		t.Fatalf("ADMIN_MODE from a normal SYS session: %v", err)
	}
	_, err := tryConnect(t, a.s.ConnString(false))
	wantCode(t, err, altibase.CodeAdminMode, "")
	_ = a.c.Close() // free the SYSDBA slot
	waitSessions(t, a.s, 1)
	a.reconnect() // a SYSDBA login is allowed
	a.mustExec("ALTER SYSTEM SET ADMIN_MODE = 0")
	_ = connect(t, a.s.ConnString(false))
}

func TestConformance25WrongPassword(t *testing.T) {
	t.Parallel()
	a := newNode(t, "A", Options{})
	_, err := tryConnect(t, a.s.ConnStringAs("SYS", "wrong", false))
	// The server sends SQLSTATE 28000; psqlODBC reports a failed connect as 08001.
	wantCode(t, err, altibase.CodeInvalidPassword, "08001")
}

func TestConformance26QueryTimeout(t *testing.T) {
	t.Parallel()
	a, b := pair(t)
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	a.mustExec("ALTER SESSION SET QUERY_TIMEOUT = 2")
	a.mustExec("ALTER REPLICATION R START RETRY")
	a.insert(1, 2)
	err := a.exec("ALTER REPLICATION R FLUSH ALL WAIT 10")
	wantCode(t, err, altibase.CodeQueryTimeout, "HYT00")
	if s, _ := a.state("R"); s != 1 { // the session is still usable
		t.Fatalf("IS_STARTED = %d, want 1", s)
	}
}

func TestConformance27Cancel(t *testing.T) {
	t.Parallel()
	a, b := pair(t)
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	a.mustExec("ALTER REPLICATION R START RETRY")
	a.insert(1, 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rows, err := a.c.QueryContext(ctx, "ALTER REPLICATION R FLUSH ALL WAIT 10")
	if err == nil {
		_ = rows.Close()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	// The connection stays usable.
	if s, _ := a.state("R"); s != 1 {
		t.Fatalf("IS_STARTED = %d, want 1", s)
	}
}

func TestConformance28Restart(t *testing.T) {
	t.Parallel()
	a := newNode(t, "A", Options{DataDir: t.TempDir()})
	b := newNode(t, "B", Options{})
	a.createRepl("R", b)
	b.createRepl("R", a)
	a.mustExec("ALTER REPLICATION R START")
	a.s.Kill()
	if err := a.s.Restart(); err != nil {
		t.Fatal(err)
	}
	a.reconnect()
	a.wantState("R", 1, false)
	if _, _, ok := a.sender("R"); !ok {
		t.Fatal("no V$REPSENDER row right after the restart")
	}
}

func TestConformance29LatencyProfile(t *testing.T) {
	t.Parallel()
	a := newNode(t, "A", Options{Profile: Realistic()})
	b := newNode(t, "B", Options{Profile: Realistic()})
	a.createRepl("R", b)
	b.createRepl("R", a)
	// START and STOP return on the server's next whole-second tick, so each
	// call spans a second boundary of the clock (the server's is this one).
	for _, q := range []string{"START", "STOP"} {
		before := time.Now()
		a.mustExec("ALTER REPLICATION R " + q)
		after := time.Now()
		if before.Truncate(time.Second).Equal(after.Truncate(time.Second)) {
			t.Errorf("%s returned within the second it was issued (%v .. %v)", q, before, after)
		}
	}
}

func wantMessage(t testing.TB, err error, sub string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), sub) {
		t.Fatalf("error %v lacks %q", err, sub)
	}
}
