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
