package sim

import (
	"fmt"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aku-k8s/aku/altibase"
)

// Writes during a (throttled) SYNC copy are shipped afterwards even when the
// log grows past the trimming threshold meanwhile.
func TestSyncWithConcurrentWritesLosesNothing(t *testing.T) {
	a := testNodeOpts(t, Options{Profile: Profile{SyncRowsPerSecond: 20000}})
	b := testNode(t, nil)
	sa, sb := linkR(t, a, b)
	insertRange(t, sa, "T", 0, 5000)
	writer := sys(t, a)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 40; i++ {
			sql := "INSERT INTO T VALUES "
			for j := 0; j < 300; j++ {
				if j > 0 {
					sql += ", "
				}
				id := 100000 + i*300 + j
				sql += fmt.Sprintf("(%d, 'w%d')", id, id)
			}
			if _, err := writer.Exec(t.Context(), sql); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	exec(t, sa, "ALTER REPLICATION R SYNC")
	wg.Wait()
	exec(t, sa, "ALTER REPLICATION R FLUSH ALL")
	ca, cb := contents(t, sa), contents(t, sb)
	if len(ca) != 5000+12000 || !reflect.DeepEqual(ca, cb) {
		t.Fatalf("A %d rows, B %d rows", len(ca), len(cb))
	}
}

// Realistic SYNC is bounded by SyncRowsPerSecond (a lower bound only).
func TestSyncThrottle(t *testing.T) {
	a := testNodeOpts(t, Options{Profile: Profile{SyncRowsPerSecond: 10000}})
	b := testNode(t, nil)
	sa, _ := linkR(t, a, b)
	insertRange(t, sa, "T", 0, 5000)
	begin := time.Now()
	exec(t, sa, "ALTER REPLICATION R SYNC ONLY")
	if d := time.Since(begin); d < 400*time.Millisecond {
		t.Fatalf("5,000 rows at 10,000 rows/s took %v", d)
	}
}

func TestSyncTableList(t *testing.T) {
	a, b := testNode(t, nil), testNode(t, nil)
	sa, sb := sys(t, a), sys(t, b)
	for _, s := range []*Session{sa, sb} {
		createT(t, s)
		exec(t, s, "CREATE TABLE U (ID INTEGER PRIMARY KEY, V VARCHAR(40))")
	}
	createRepl(t, sa, "R", b, "T", "U")
	createRepl(t, sb, "R", a, "T", "U")
	insertRange(t, sa, "T", 0, 10)
	insertRange(t, sa, "U", 0, 20)
	exec(t, sa, "ALTER REPLICATION R SYNC ONLY TABLE SYS.U")
	if ct, cu := count(t, sb, "T"), count(t, sb, "U"); ct != 0 || cu != 20 {
		t.Fatalf("B has T %d, U %d", ct, cu)
	}
	wantCode(t, sa, altibase.CodeReplTableNotFound, "ALTER REPLICATION R SYNC ONLY TABLE SYS.NOPE")
}

func TestSchemaMismatchFailsHandshake(t *testing.T) {
	a, b := testNode(t, nil), testNode(t, nil)
	sa, sb := sys(t, a), sys(t, b)
	createT(t, sa)
	exec(t, sb, "CREATE TABLE T (ID INTEGER PRIMARY KEY, V VARCHAR(20))")
	createRepl(t, sa, "R", b)
	createRepl(t, sb, "R", a)
	e := wantCode(t, sa, altibase.CodeHandshakeFailed, "ALTER REPLICATION R START")
	if e.Message != "[Sender] Failed to handshake with the peer server (Network error during receiving metadata ACK)" {
		t.Fatal(e.Message)
	}
}

// DROP on the receiving node ends its receiver; the sender retries.
func TestDropEndsReceiver(t *testing.T) {
	_, _, sa, sb := started(t)
	exec(t, sb, "DROP REPLICATION R")
	if c := count(t, sb, "V$REPRECEIVER"); c != 0 {
		t.Fatalf("%d receivers after DROP", c)
	}
	eventually(t, "sender sees the receiver gone", func() bool {
		st, ne, ok := senderRow(t, sa, "R")
		return ok && st == 0 && ne == 1
	})
}

func TestXSNAbove32Bits(t *testing.T) {
	_, _, sa, _ := started(t)
	if _, x := state(t, sa, "R"); x <= 1<<32 {
		t.Fatalf("XSN %d fits in 32 bits", x)
	}
}

// A peer that accepts TCP but never answers fails the handshake after
// REPLICATION_CONNECT_TIMEOUT; START RETRY keeps trying.
func TestSilentPeerHandshakeTimesOut(t *testing.T) {
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
			defer c.Close()
		}
	}()
	a := testNode(t, map[string]int64{"REPLICATION_CONNECT_TIMEOUT": 1})
	sa := sys(t, a)
	createT(t, sa)
	h, p, _ := net.SplitHostPort(ln.Addr().String())
	exec(t, sa, "CREATE REPLICATION R WITH '%s', %s FROM SYS.T TO SYS.T", h, p)
	wantCode(t, sa, altibase.CodeHandshakeFailed, "ALTER REPLICATION R START")
}

// With several hosts the sender tries them in order and remembers the one
// that answered (LAST_USED_HOST_NO).
func TestSecondHostUsedWhenFirstIsDown(t *testing.T) {
	a, b := testNode(t, nil), testNode(t, nil)
	sa, sb := sys(t, a), sys(t, b)
	createT(t, sa)
	createT(t, sb)
	dh, dp := hostPort(t, deadPeer(t))
	bh, bp := hostPort(t, b)
	exec(t, sa, "CREATE REPLICATION R WITH '%s', %d '%s', %d FROM SYS.T TO SYS.T", dh, dp, bh, bp)
	createRepl(t, sb, "R", a)
	exec(t, sa, "ALTER REPLICATION R START")
	if p := scalar(t, sa, "SELECT PEER_PORT FROM V$REPSENDER"); p != int64(bp) {
		t.Fatalf("PEER_PORT %v, want %d", p, bp)
	}
	last := scalar(t, sa, "SELECT LAST_USED_HOST_NO FROM SYSTEM_.SYS_REPLICATIONS_")
	second := scalar(t, sa, "SELECT HOST_NO FROM SYSTEM_.SYS_REPL_HOSTS_ WHERE PORT_NO = %d", bp)
	if last != second {
		t.Fatalf("LAST_USED_HOST_NO %v, want %v", last, second)
	}
}

// threeTables is A and B with T, U and W on both and R replicating all three
// (in that order); A holds rows 0..n-1 in each table.
func threeTables(t *testing.T, bProps map[string]int64, n int) (sa, sb *Session) {
	t.Helper()
	a, b := testNode(t, nil), testNode(t, bProps)
	sa, sb = sys(t, a), sys(t, b)
	for _, s := range []*Session{sa, sb} {
		for _, tbl := range []string{"T", "U", "W"} {
			exec(t, s, "CREATE TABLE %s (ID INTEGER PRIMARY KEY, V VARCHAR(40))", tbl)
		}
	}
	createRepl(t, sa, "R", b, "T", "U", "W")
	createRepl(t, sb, "R", a, "T", "U", "W")
	for _, tbl := range []string{"T", "U", "W"} {
		insertRange(t, sa, tbl, 0, n)
	}
	return sa, sb
}

// syncProgress is V$REPSYNC's SYNC_RECORD_COUNT per table of R.
func syncProgress(t *testing.T, s *Session) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, row := range exec(t, s, "SELECT SYNC_TABLE, SYNC_RECORD_COUNT FROM V$REPSYNC WHERE REP_NAME = 'R'").Rows {
		out[row[0].(string)] = row[1].(int64)
	}
	return out
}

// By default a SYNC onto keys the receiver already holds succeeds and keeps
// the receiver's stale rows, as real servers usually did.
func TestSyncOntoExistingKeysKeepsStaleRowsByDefault(t *testing.T) {
	const rows = 12000
	sa, sb := threeTables(t, nil, rows)
	exec(t, sb, "INSERT INTO U VALUES (7000, 'stale')")
	exec(t, sa, "ALTER REPLICATION R SYNC")
	for _, tbl := range []string{"T", "U", "W"} {
		if c := count(t, sb, tbl); c != rows {
			t.Errorf("B's %s has %d rows, want %d", tbl, c, rows)
		}
	}
	if v := scalar(t, sb, "SELECT V FROM U WHERE ID = 7000"); v != "stale" {
		t.Errorf("B's conflicting row is %v, want its stale value kept", v)
	}
	if st, _ := state(t, sa, "R"); st != 1 {
		t.Errorf("IS_STARTED %d after a successful SYNC, want 1", st)
	}
	if p := syncProgress(t, sa); p["T"] != -1 || p["U"] != -1 || p["W"] != -1 {
		t.Errorf("V$REPSYNC %v, want every table done (-1)", p)
	}
}

// A SYNC that fails part-way (SIM_SYNC_CONFLICT_MODE = 1) is not undone and
// not all-or-nothing: the table copied before the failing one is complete,
// the failing one keeps the rows before the conflict (across batches), the
// later one is untouched, and V$REPSYNC shows each table's state.
func TestFailedSyncLeavesPerTableState(t *testing.T) {
	const rows = 12000 // three batches per table
	sa, sb := threeTables(t, map[string]int64{"SIM_SYNC_CONFLICT_MODE": 1}, rows)
	exec(t, sb, "INSERT INTO U VALUES (7000, 'stale')") // in U's second batch
	wantCode(t, sa, altibase.CodeSyncFailed, "ALTER REPLICATION R SYNC")
	if c := count(t, sb, "T"); c != rows {
		t.Errorf("B's T (copied before the failure) has %d rows, want all %d", c, rows)
	}
	if c := count(t, sb, "U WHERE ID < 7000"); c != 7000 {
		t.Errorf("B's U has %d of the 7,000 rows before the conflict", c)
	}
	if c := count(t, sb, "U WHERE ID > 7000"); c != 0 {
		t.Errorf("B's U has %d rows past the conflict, want none", c)
	}
	if v := scalar(t, sb, "SELECT V FROM U WHERE ID = 7000"); v != "stale" {
		t.Errorf("B's conflicting row is %v, want its stale value kept", v)
	}
	if c := count(t, sb, "W"); c != 0 {
		t.Errorf("B's W (after the failing table) has %d rows, want none", c)
	}
	if st, _ := state(t, sa, "R"); st != 0 {
		t.Errorf("IS_STARTED %d after a failed SYNC, want 0", st)
	}
	if p, want := syncProgress(t, sa), map[string]int64{"T": -1, "U": 7000, "W": 0}; !reflect.DeepEqual(p, want) {
		t.Errorf("V$REPSYNC %v, want %v", p, want)
	}
}
